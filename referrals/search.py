"""The referral search, written once: the referral list and its CSV export
(through ReferralFilterForm) and the Django admin's referral list
(ReferralAdmin.get_search_results) all call referral_search().

What a term finds: the referrals whose prospect name, company or email, or
whose source's name, contain it, whatever the case. A term of two
characters finds the words that start with it ("li": Lisa, Lincoln Ltd); a
longer one finds it anywhere ("garc": García, McGarcey). Runs of spaces
count as one. A term needs two letters or digits (search_term_error).

On PostgreSQL accents are ignored too ("garcia" finds García, "garcía"
Garcia), and each side has a trigram index: the referral's name, company
and email as one text, folded (crm_unaccent of lower), stored in the row
as `search_text` (migrations 0026 and 0027), and the sources' names,
folded the same way (core.sql.Folded; migration 0020). The query is

    search_text LIKE '%garc%'
    OR source_id = ANY(ARRAY(SELECT id FROM partners WHERE <name> LIKE '%garc%'))

with the term folded by the same function in the database, so the text and
the term are folded alike and the index serves the LIKE; the sources' ids
are looked up first, in their index, then in the referrals' index on the
source, beside the trigram index's rows. A common word's newest matches
come from referral_received_search instead, which holds the text beside
the date. (Why this shape and not another, measured at a million
referrals: docs/operations.md, section "Search".)

On SQLite (development, the tests) the same rule is written with the ORM's
icontains/istartswith: no index, and accents are not folded (SQLite's LIKE
folds the case of ASCII letters only).
"""

from django.db.models import BooleanField, F, Func, Q, QuerySet, Value

from core.sql import AnyOf, Folded, is_postgres
from partners.models import Partner

MIN_CHARACTERS = 2  # letters or digits
TOO_SHORT = "Type at least 2 letters or digits to search."
# A term this short finds the words that start with it, not any part of a
# word: the trigram index cannot look up two characters anywhere in a word
# (a trigram is three), and two letters are in most referrals.
WORD_START_BELOW = 3


def search_term(term: str) -> str:
    """The term as it is searched: trimmed, runs of spaces as one."""
    return " ".join(term.split())


def search_term_error(term: str) -> str | None:
    """Why `term` cannot be searched (too short), or None."""
    if sum(character.isalnum() for character in term) < MIN_CHARACTERS:
        return TOO_SHORT
    return None


def referral_search(queryset: QuerySet, term: str) -> QuerySet:
    """The referrals of `queryset` that `term` finds (see the module's
    docstring). `queryset` is already what the user may see; the search
    only narrows it. A term search_term_error() refuses finds nothing."""
    term = search_term(term)
    if search_term_error(term):
        return queryset.none()
    if is_postgres():
        return queryset.filter(
            _Like(F("search_text"), term)
            | AnyOf(
                "source_id",
                Partner.objects.filter(_Like(Folded("name"), term))
                .order_by()
                .values("pk"),
            )
        )
    return queryset.filter(
        _contains("prospect_name", term)
        | _contains("prospect_company", term)
        | _contains("prospect_email", term)
        | Q(source__in=Partner.objects.filter(_contains("name", term)))
    )


# -- PostgreSQL ---------------------------------------------------------------


def _escaped(term: str) -> str:
    """`term` with LIKE's wildcards and escape character taken literally."""
    return term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


class _Like(Func):
    """`text` LIKE the term's pattern, the pattern folded by the function
    that folds the text. The database folds the pattern once, when it plans
    the query (crm_unaccent is IMMUTABLE), so the index sees a constant."""

    output_field = BooleanField()

    def __init__(self, text, term: str):
        # A short term: at the start of a word, i.e. after a space (Folded
        # puts one before each column).
        start = "% " if len(term) < WORD_START_BELOW else "%"
        super().__init__(text, Value(f"{start}{_escaped(term)}%"))

    def as_sql(self, compiler, connection, **extra_context):
        (text, text_params), (pattern, pattern_params) = (
            compiler.compile(part) for part in self.get_source_expressions()
        )
        return (
            f"{text} LIKE crm_unaccent(lower({pattern}))",
            (*text_params, *pattern_params),
        )


# -- SQLite -------------------------------------------------------------------


def _contains(field: str, term: str) -> Q:
    """The field contains the term (case of ASCII letters ignored); a short
    term, at the start of the field or after a space."""
    if len(term) < WORD_START_BELOW:
        return Q(**{f"{field}__istartswith": term}) | Q(
            **{f"{field}__icontains": f" {term}"}
        )
    return Q(**{f"{field}__icontains": term})

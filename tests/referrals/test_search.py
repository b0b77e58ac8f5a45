"""The referral search (referrals/search.py): what a term finds, on SQLite
and PostgreSQL alike; on PostgreSQL accents ignored and the trigram indexes
used, on SQLite accents taken as written and no index. The list, its export
and the admin call the same rule."""

import pytest
from django.db import connection, transaction
from django.db.migrations.recorder import MigrationRecorder

from referrals.models import Referral
from referrals.search import TOO_SHORT, referral_search, search_term_error
from tests.factories import PartnerFactory, ReferralFactory
from tests.helpers import csv_rows

POSTGRES = connection.vendor == "postgresql"


def found(term, queryset=None) -> list[str]:
    queryset = Referral.objects.all() if queryset is None else queryset
    return sorted(
        referral_search(queryset, term).values_list("prospect_name", flat=True)
    )


@pytest.fixture
def book(alice, alice_partner):
    """A few referrals of Alice's, each findable by one column."""
    other = PartnerFactory(owner=alice, name="Otto Björk", company="Nordic")
    rows = [
        ("Ana García", "Sol SL", "ana@sol.example", alice_partner),
        ("Jane Smith", "Initech", "jane.smith@initech.example", alice_partner),
        ("Julie Brown", "Lincoln Ltd", "jb@lincoln.example", alice_partner),
        ("Zoe Müller", "Umbrella", "z.mueller@umbrella.example", other),
        ("Sam Ng", "50% Off_Shop", "sam@wells4986.example", alice_partner),
    ]
    for name, company, email, source in rows:
        ReferralFactory(
            source=source,
            prospect_name=name,
            prospect_company=company,
            prospect_email=email,
        )


@pytest.mark.parametrize(
    ("term", "expected"),
    [
        ("garc", ["Ana García"]),  # part of a name
        ("SMITH", ["Jane Smith"]),  # case ignored
        ("jane smith", ["Jane Smith"]),
        ("  jane   smith ", ["Jane Smith"]),  # runs of spaces count as one
        ("initech", ["Jane Smith"]),  # the company
        ("wells49", ["Sam Ng"]),  # a piece of the email
        ("otto", ["Zoe Müller"]),  # the source's name
        ("Otto Bj", ["Zoe Müller"]),
        ("ncoln", ["Julie Brown"]),  # three letters or more: anywhere in a word
        ("nobody", []),
    ],
)
def test_what_a_term_finds(book, term, expected):
    assert found(term) == expected


@pytest.mark.parametrize(
    ("term", "expected"),
    [
        ("sm", ["Jane Smith"]),  # a word that starts with it
        ("Li", ["Julie Brown"]),  # Lincoln Ltd, not the "li" inside Julie
        ("jb", ["Julie Brown"]),  # the start of her email, jb@lincoln
        ("it", []),  # inside Smith and Initech: not the start of a word
        ("ot", ["Zoe Müller"]),  # the source, Otto
    ],
)
def test_two_letters_find_the_start_of_a_word(book, term, expected):
    assert found(term) == expected


def test_wildcards_in_a_term_are_plain_characters(book):
    assert found("50%") == ["Sam Ng"]
    assert found("off_shop") == ["Sam Ng"]
    assert found("ff%s") == []  # not "f, anything, s"
    assert found("Off_S") == ["Sam Ng"]
    ReferralFactory(prospect_name="Offxshop Ltd")
    assert found("off_shop") == ["Sam Ng"]  # _ is not "any character"


@pytest.mark.parametrize("term", ["", "a", " b ", "--", "é.", "%_"])
def test_a_term_needs_two_letters_or_digits(term):
    assert search_term_error(term) == TOO_SHORT


@pytest.mark.parametrize("term", ["ab", "é1", "o'b", " 42 "])
def test_two_letters_or_digits_are_enough(term):
    assert search_term_error(term) is None


def test_a_refused_term_finds_nothing(book):
    assert found("a") == []


@pytest.mark.parametrize(
    ("term", "on_postgresql", "on_sqlite"),
    [
        ("garcia", ["Ana García"], []),
        # SQLite's LIKE folds the case of ASCII letters only: Í is not í.
        ("GARCÍA", ["Ana García"], []),
        ("garcía", ["Ana García"], ["Ana García"]),  # as written
        ("muller", ["Zoe Müller"], []),
        ("bjork", ["Zoe Müller"], []),  # the source, Otto Björk
        ("björk", ["Zoe Müller"], ["Zoe Müller"]),
        ("zoé", ["Zoe Müller"], []),  # an accent typed where there is none
        ("ga", ["Ana García"], ["Ana García"]),
    ],
)
def test_postgresql_ignores_accents_and_sqlite_takes_them_as_written(
    book, term, on_postgresql, on_sqlite
):
    assert found(term) == (on_postgresql if POSTGRES else on_sqlite)


def test_the_trigram_indexes_serve_the_search_on_postgresql_only(book):
    """PostgreSQL: the texts the search compares are the ones migrations
    0020 (the sources' names) and 0027 (the referrals' stored search text)
    index, to the letter: written otherwise, no index would serve them.
    (Sequential scans are switched off: on a table this small they would
    win.) SQLite: the migrations ran and made no trigram index, and the
    search reads the referrals' table through."""
    for name in ("0020_search_indexes", "0027_search_text_trigram"):
        assert MigrationRecorder.Migration.objects.filter(
            app="referrals", name=name
        ).exists()
    query = referral_search(Referral.objects.all(), "garcia")
    with transaction.atomic(), connection.cursor() as cursor:
        sql, params = query.query.sql_with_params()
        if POSTGRES:
            cursor.execute("SET LOCAL enable_seqscan = off")
            cursor.execute(f"EXPLAIN {sql}", params)
            plan = "\n".join(row[0] for row in cursor.fetchall())
        else:
            cursor.execute(f"EXPLAIN QUERY PLAN {sql}", params)
            plan = "\n".join(row[-1] for row in cursor.fetchall())
            cursor.execute(
                "SELECT name FROM sqlite_master WHERE name IN (%s, %s)",
                ["referral_search_text", "partner_name_search"],
            )
            assert cursor.fetchall() == []
    if POSTGRES:
        assert "referral_search_text" in plan, plan
        assert "partner_name_search" in plan, plan
    else:
        assert "SCAN referrals_referral" in plan, plan
        assert "referral_search_text" not in plan, plan
        assert "partner_name_search" not in plan, plan
    assert found("García") == ["Ana García"]


def test_search_keeps_to_what_the_user_may_see(client, alice, bob, carol, dave, erin):
    """A rep finds their own referrals only, by any column; a manager their
    team's; an admin everyone's."""
    ReferralFactory(
        source=PartnerFactory(owner=alice, name="Shared Name"),
        prospect_name="Alices Garcia",
    )
    ReferralFactory(
        source=PartnerFactory(owner=bob, name="Shared Name"),
        prospect_name="Bobs Garcia",
        prospect_company="Garcia Bob Co",
        prospect_email="garcia@bob.example",
    )
    ReferralFactory(
        source=PartnerFactory(owner=dave, name="Shared Name"),
        prospect_name="Daves Garcia",
    )

    def listed(user, term):
        client.force_login(user)
        response = client.get("/referrals/", {"q": term})
        assert response.status_code == 200
        return sorted(r["prospect_name"] for r in response.context["page"])

    for term in ("garcia", "bob", "shared name"):
        assert "Bobs Garcia" not in listed(alice, term), term
    assert listed(alice, "garcia") == ["Alices Garcia"]
    assert listed(alice, "shared name") == ["Alices Garcia"]
    assert listed(carol, "garcia") == ["Alices Garcia", "Bobs Garcia"]
    assert listed(erin, "shared") == ["Daves Garcia"]
    client.force_login(alice)
    exported = csv_rows(client.get("/referrals/export.csv", {"q": "garcia"}))
    assert [row[0] for row in exported[1:]] == ["Alices Garcia"]


def test_the_list_export_and_admin_find_the_same(client, admin, book):
    client.force_login(admin)
    listed = client.get("/referrals/", {"q": "garc"})
    exported = csv_rows(client.get("/referrals/export.csv", {"q": "garc"}))
    in_admin = client.get("/admin/referrals/referral/", {"q": "garc"})
    assert [r["prospect_name"] for r in listed.context["page"]] == ["Ana García"]
    assert [row[0] for row in exported[1:]] == ["Ana García"]
    assert [r.prospect_name for r in in_admin.context["cl"].result_list] == [
        "Ana García"
    ]

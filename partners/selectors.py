from datetime import date, timedelta

from django.conf import settings
from django.core.paginator import Page
from django.db.models import (
    Case,
    Count,
    DecimalField,
    Exists,
    F,
    FloatField,
    Func,
    IntegerField,
    Max,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Cast, Coalesce, NullIf
from django.utils import timezone

from accounts.scoping import get_for_user_or_404, owner_ids_for_user, scope_for_user
from core.paginator import CountingPaginator
from partners.asking import ready_filter
from partners.fit import SOME_FROM, STRONG_FROM
from partners.models import Commitment, GivenReferral, Partner


def partners_for_user(*, user) -> QuerySet:
    return scope_for_user(Partner.objects.all(), user).select_related("owner")


def partners_matching(*, user, query: str) -> QuerySet:
    """The user's sources whose name, company or email contains the query."""
    query = query.strip()
    return (
        partners_for_user(user=user)
        .filter(
            Q(name__icontains=query)
            | Q(company__icontains=query)
            | Q(email__icontains=query)
        )
        .order_by("name", "pk")
    )


# The referral criteria's labels (referrals.models.Label's values: partners
# sits below referrals; tests/partners/test_source_labels.py holds them equal).
QUALIFIED, LUKEWARM, COLD, UNASSESSED = "qualified", "lukewarm", "cold", "unassessed"


def _given_count() -> Subquery:
    """How many referrals we gave the partner (a subquery: joined beside
    the referrals they sent, each would be counted once per referral)."""
    # COUNT without GROUP BY: always one row (0 when none), so no Coalesce,
    # and grouped by the partner's id, not by the subquery itself (wrapped
    # in a function, PostgreSQL ran it once per referral joined).
    return Subquery(
        GivenReferral.objects.filter(partner=OuterRef("pk"))
        .order_by()
        .annotate(n=Func(F("pk"), function="COUNT", output_field=IntegerField()))
        .values("n")
    )


def with_referral_stats(queryset: QuerySet) -> QuerySet:
    """Annotate what a source has sent us: count, won count and value, last
    date, how many of each label, and the share of those assessed that are
    qualified (None when none is); and how many referrals we gave them, and
    the balance (sent us less given them).

    One GROUP BY in the database, whatever the number of partners or referrals.
    """
    won = Q(referrals__stage__kind="won")
    # Counting a column the (source, received_on) index holds, not the id,
    # lets PostgreSQL answer from the index alone; the label counts read
    # the label, which keeps it there only while the index carries it too
    # (an admin's sort by a figure: 3x slower when it must read the table).
    return queryset.annotate(
        referral_count=Count("referrals__stage"),
        won_count=Count("referrals__stage", filter=won),
        won_value=Coalesce(
            Sum("referrals__estimated_value", filter=won),
            Value(0),
            output_field=DecimalField(max_digits=14, decimal_places=2),
        ),
        last_referral_on=Max("referrals__received_on"),
        **{
            f"{label}_count": Count(
                "referrals__stage", filter=Q(referrals__label=label)
            )
            for label in (QUALIFIED, LUKEWARM, COLD, UNASSESSED)
        },
        given_count=_given_count(),
    ).annotate(
        balance=F("referral_count") - F("given_count"),
        assessed_count=F("referral_count") - F("unassessed_count"),
        qualified_share=Cast("qualified_count", FloatField())
        / NullIf(F("referral_count") - F("unassessed_count"), 0),
    )


PARTNER_SORTS = {
    "name": ("name", "pk"),
    "-referrals": ("-referral_count", "name", "pk"),
    "-won_value": ("-won_value", "name", "pk"),
    "-last": (F("last_referral_on").desc(nulls_last=True), "name", "pk"),
    # The highest share first, then the most qualified among equal shares;
    # those with nothing assessed last.
    "-qualified": (
        F("qualified_share").desc(nulls_last=True),
        "-qualified_count",
        "name",
        "pk",
    ),
    # Referral partners by their stored fit, those not measured last.
    "-fit": (F("fit_score").desc(nulls_last=True), "name", "pk"),
    # Reciprocity: the most one-sided first, either way.
    "-balance": ("-balance", "-referral_count", "name", "pk"),
    "balance": ("balance", "-given_count", "name", "pk"),
}
# The sorts by a source's own columns: the page is picked before its
# figures are counted (partner_list_page).
OWN_COLUMN_SORTS = ("name", "-fit")

# The list's fit filter (partners.forms.FIT_FILTERS) as conditions on the
# stored figure (partners.fit's levels: a score under SOME_FROM is weak, or
# no overlap at all).
FIT_FILTERS = {
    "strong": Q(fit_score__gte=STRONG_FROM),
    "some": Q(fit_score__gte=SOME_FROM),
    "weak": Q(fit_score__lt=SOME_FROM),
    "unknown": Q(kind=Partner.Kind.PARTNER, fit_score__isnull=True),
}


def partners_listed(
    *,
    user,
    query: str = "",
    kind: str = "",
    ready: bool = False,
    fit: str = "",
    dormant: bool = False,
) -> QuerySet:
    """Which sources the partner list shows (without their stats: to count
    them). `ready`: only the customers ready to ask (partners.asking);
    `fit`: only the referral partners of that fit (FIT_FILTERS)."""
    partners = (
        partners_matching(user=user, query=query)
        if query
        else partners_for_user(user=user)
    )
    if ready:
        partners = partners.filter(ready_filter(now=timezone.now()))
    if fit in FIT_FILTERS:
        partners = partners.filter(FIT_FILTERS[fit])
    if dormant:
        partners = partners.filter(dormant_filter(today=timezone.localdate()))
    return partners.filter(kind=kind) if kind else partners


# The figures with_referral_stats() annotates.
REFERRAL_STATS = (
    "referral_count",
    "won_count",
    "won_value",
    "last_referral_on",
    "qualified_count",
    "lukewarm_count",
    "cold_count",
    "unassessed_count",
    "assessed_count",
    "qualified_share",
    "given_count",
    "balance",
)


def partner_list_page(
    *,
    user,
    query: str = "",
    kind: str = "",
    sort: str = "name",
    ready: bool = False,
    fit: str = "",
    dormant: bool = False,
    number=None,
) -> Page:
    """A page of the partner list: the user's sources, searched, sorted, with
    their referral figures.

    Sorted by name (the default) or by fit, the page is picked without the
    figures and only its sources are counted: counting every source first,
    to keep 50, was slow for a manager and slower for an admin at a million
    referrals (bench/RESULTS.md). A sort by a figure counts them all."""
    partners = partners_listed(
        user=user, query=query, kind=kind, ready=ready, fit=fit, dormant=dormant
    )
    sort = sort if sort in PARTNER_SORTS else "name"
    by_own_column = sort in OWN_COLUMN_SORTS
    ordered = (
        partners.order_by(*PARTNER_SORTS[sort])
        if by_own_column
        else with_referral_stats(partners).order_by(*PARTNER_SORTS[sort])
    )
    page = CountingPaginator(ordered, 50, count=partners.count).get_page(number)
    if by_own_column:
        page.object_list = referral_stats_attached(list(page.object_list))
    return page


def referral_stats_attached(partners: list[Partner]) -> list[Partner]:
    """`partners` with with_referral_stats()'s figures, in one query."""
    if not partners:
        return partners
    counted = with_referral_stats(
        Partner.objects.filter(pk__in=[partner.pk for partner in partners])
    ).order_by()
    figures = {row.pop("pk"): row for row in counted.values("pk", *REFERRAL_STATS)}
    # (A source deleted since the page was read: shown with nothing sent.)
    none_sent = {
        **dict.fromkeys(REFERRAL_STATS, 0),
        "last_referral_on": None,
        "qualified_share": None,
    }
    for partner in partners:
        for name, value in figures.get(partner.pk, none_sent).items():
            setattr(partner, name, value)
    return partners


def partner_for_user(*, user, pk) -> Partner:
    return get_for_user_or_404(Partner.objects.select_related("owner"), user, pk)


def source_referrals(*, user, partner: Partner) -> QuerySet:
    """The source's referrals that the user may see, through the one scoping
    rule, read through the foreign key (partners sits below referrals)."""
    return scope_for_user(partner.referrals.all(), user).select_related(
        "source", "owner", "stage"
    )


def _referrals() -> QuerySet:
    """Every referral (referrals.Referral, read through the source's
    reverse relation: partners sits below referrals)."""
    return Partner._meta.get_field("referrals").related_model.objects.all()


def dormant_since(today) -> date:
    """The day before which a referral partner with no referral either way
    since is dormant (settings.PARTNER_DORMANT_DAYS)."""
    return today - timedelta(days=settings.PARTNER_DORMANT_DAYS)


def dormant_filter(*, today) -> Q:
    """Referral partners with no referral received from them and none given
    to them for PARTNER_DORMANT_DAYS, known to us for at least that long (a
    new partner is not dormant). Each an index lookup per partner: the
    referrals' (source, received on), the given referrals' (partner, given
    on)."""
    since = dormant_since(today)
    return (
        Q(kind=Partner.Kind.PARTNER, created_at__date__lt=since)
        & ~Exists(_referrals().filter(source=OuterRef("pk"), received_on__gte=since))
        & ~Exists(
            GivenReferral.objects.filter(partner=OuterRef("pk"), given_on__gte=since)
        )
    )


def reciprocity(*, partner: Partner, stats: Partner) -> dict:
    """Given against received, for a partner's page: the referrals we gave
    them (how many, how many they won, the latest few) and those they sent
    us (`stats`: with_referral_stats), and the balance in words. Two
    queries."""
    given = list(partner.given_referrals.select_related("given_by")[:GIVEN_SHOWN])
    totals = partner.given_referrals.aggregate(
        count=Count("pk"),
        won=Count("pk", filter=Q(result=GivenReferral.Result.WON)),
        last=Max("given_on"),
    )
    balance = stats.referral_count - totals["count"]
    return {
        "given": given,
        "given_count": totals["count"],
        "given_won": totals["won"],
        "last_given_on": totals["last"],
        "received_count": stats.referral_count,
        "received_won_value": stats.won_value,
        "balance": balance,
        "words": balance_words(balance),
    }


GIVEN_SHOWN = 10


def balance_words(balance: int) -> str:
    """A balance (sent us less given them) as the pages say it."""
    if balance == 0:
        return "Even"
    plural = "s" if abs(balance) != 1 else ""
    if balance > 0:
        return f"They sent {balance} more referral{plural} than we gave"
    return f"We gave {-balance} more referral{plural} than they sent"


def partner_plan(*, partner: Partner) -> dict:
    """A partner's plan: its commitments, open ones first by due date, each
    with its owner and reminder email; and how many of those due were kept
    on time. One query."""
    commitments = list(
        partner.commitments.select_related("owner", "reminder").order_by(
            Case(When(status=Commitment.Status.OPEN, then=0), default=1),
            "due_on",
            "pk",
        )
    )
    today = timezone.localdate()
    for commitment in commitments:
        commitment.overdue = commitment.is_overdue(today)
    done = [c for c in commitments if c.status == Commitment.Status.DONE]
    return {
        "commitments": commitments,
        "done": len(done),
        "kept_on_time": sum(c.kept_on_time for c in done),
        "overdue": sum(c.overdue for c in commitments),
    }


COMMITMENTS_AHEAD_DAYS = 7  # Today lists the commitments due within a week
COMMITMENTS_SHOWN = 10


def commitments_due(*, user, today, team: list[int] | None = None) -> list[Commitment]:
    """`user`'s open commitments overdue or due within COMMITMENTS_AHEAD_DAYS
    (Today, the digest): the owner's own, whoever's partner it is; the
    oldest due first, with their partner. One query, on the open
    commitments' (owner, due date) index."""
    # Through the one scoping rule too, as owner ids (a manager's team as
    # `team`, when the page has read it): only partners the user sees (their
    # owners are people who see them: partners.forms.commitment_owners).
    commitments = Commitment.objects.all()
    owners = owner_ids_for_user(user, team=team)
    if owners is not None:
        commitments = commitments.filter(partner__owner__in=owners)
    return list(
        commitments.filter(
            owner=user,
            status=Commitment.Status.OPEN,
            due_on__lte=today + timedelta(days=COMMITMENTS_AHEAD_DAYS),
        )
        .select_related("partner")
        .order_by("due_on", "pk")[:COMMITMENTS_SHOWN]
    )


def partner_health(*, partner: Partner, stats, given: dict, plan: dict | None) -> dict:
    """A referral partner's health from what its page has read (no query):
    the last referral received and given, the last contact (the latest of
    those, a thank-you, an ask, a commitment done), commitments kept on
    time, and whether it is dormant (no referral either way for
    PARTNER_DORMANT_DAYS)."""
    today = timezone.localdate()
    since = dormant_since(today)
    received, given_on = stats.last_referral_on, given["last_given_on"]
    plan = plan or {}
    done = [c.done_on for c in plan.get("commitments", []) if c.done_on is not None]
    contacts = [
        timezone.localdate(moment)
        for moment in (partner.last_thanked_at, getattr(partner, "last_asked_at", None))
        if moment is not None
    ]
    known = [day for day in (received, given_on, *done, *contacts) if day is not None]
    dormant = (
        partner.kind == Partner.Kind.PARTNER
        and timezone.localdate(partner.created_at) < since
        and not (received and received >= since)
        and not (given_on and given_on >= since)
    )
    return {
        "last_received_on": received,
        "last_given_on": given_on,
        "last_contact_on": max(known) if known else None,
        "kept_on_time": plan.get("kept_on_time", 0),
        "done": plan.get("done", 0),
        "dormant": dormant,
        "dormant_days": settings.PARTNER_DORMANT_DAYS,
    }

"""Ready to ask: which customers to ask for referrals now, and why (or why not).

Customers whose promised outcomes were delivered give referrals readily;
oversold, under-delivered ones never will, and asking at every meeting is
what pushy vendors do (DOMAIN.md, section 5). The rule, in this one place:

A source is **ready to ask** when
1. it is a customer (kind customer): an open prospect is not a source at
   all, and a partner or colleague is thanked, not asked;
2. they did not ask not to be asked (Partner.do_not_ask);
3. they were not asked in the last WINDOW_DAYS days (any Ask, any channel);
4. an outcome was delivered as promised in the last WINDOW_DAYS days: on
   or before the date promised, all that was promised, on budget, and the
   customer's satisfaction SATISFIED_FROM or more;
5. and no outcome of those days went wrong: delivered late, short or over
   budget, a satisfaction under SATISFIED_FROM, or promised by a date gone
   by and not delivered.

An outcome recorded from a won referral counts only while that referral is
won: moved back out of Won, its prospect is a prospect again, and an open
prospect is never suggested.

`outcome_conditions` writes each part as a condition on an outcome,
`ready_filter` puts them together for a source; the pages read both from
here: which sources are ready (SQL, any number of them in one statement)
and why each is or is not (`explain`, from the same conditions evaluated
by the database on each outcome, so the words cannot disagree with the
list).
"""

from datetime import UTC, date, datetime, timedelta

from django.db.models import (
    BooleanField,
    Count,
    DateField,
    Exists,
    ExpressionWrapper,
    F,
    Func,
    IntegerField,
    Max,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
)
from django.db.models.functions import Coalesce
from django.utils import formats, timezone
from django.utils.dateparse import parse_date, parse_datetime

from accounts.scoping import owner_ids_for_user, scope_for_user
from core.urls_for_rows import url_maker
from partners import sql
from partners.models import Answer, Ask, Outcome, Partner
from partners.services import WON

WINDOW_DAYS = 90
SATISFIED_FROM = 4
# Today's Ready to ask lists show this many rows each.
TODAY_ROWS = 10


def window_start(today: date) -> date:
    return today - timedelta(days=WINDOW_DAYS)


def outcome_conditions(today: date) -> dict[str, Q]:
    """Each thing the rule asks of an outcome, as a condition on Outcome rows
    on the day `today`. `recent`: it counts for the rule at all (delivered
    in the window, or owed and overdue); the problems each stop an ask."""
    overdue = Q(delivered_on__isnull=True, promised_by__lt=today)
    # Recorded on the customer's page, or from a referral still won.
    won = Q(referral__isnull=True) | Q(referral__stage__kind=WON)
    return {
        "won": won,
        "recent": (Q(delivered_on__gte=window_start(today)) | overdue) & won,
        "as_promised": Q(
            delivered_on__isnull=False,
            delivered_on__lte=F("promised_by"),
            in_full=Answer.YES,
            on_budget=Answer.YES,
            satisfaction__gte=SATISFIED_FROM,
        ),
        # The problems: any one of them in the window, and no ask.
        "overdue": overdue,
        "late": Q(delivered_on__gt=F("promised_by")),
        "short": Q(in_full=Answer.NO),
        "over_budget": Q(on_budget=Answer.NO),
        "unhappy": Q(satisfaction__lt=SATISFIED_FROM),
    }


PROBLEMS = ("overdue", "late", "short", "over_budget", "unhappy")


def _problem(conditions: dict[str, Q]) -> Q:
    problem = Q()
    for name in PROBLEMS:
        problem |= conditions[name]
    return problem


def asked_since(now: datetime) -> datetime:
    return now - timedelta(days=WINDOW_DAYS)


def ready_filter(*, now: datetime) -> Q:
    """The rule, as a condition on Partner rows (steps 1 to 5 above)."""
    conditions = outcome_conditions(timezone.localdate(now))
    recent = Outcome.objects.filter(partner=OuterRef("pk")).filter(conditions["recent"])
    asked = Ask.objects.filter(partner=OuterRef("pk"), asked_at__gte=asked_since(now))
    return (
        Q(kind=Partner.Kind.CUSTOMER, do_not_ask=False)
        & ~Exists(asked)
        & Exists(recent.filter(conditions["as_promised"]))
        & ~Exists(recent.filter(_problem(conditions)))
    )


def recent_outcome_filter(*, now: datetime) -> Q:
    """Customers with an outcome the rule reads (delivered in the window, or
    overdue): those Today says something about, ready or not."""
    conditions = outcome_conditions(timezone.localdate(now))
    return Q(kind=Partner.Kind.CUSTOMER) & Exists(
        Outcome.objects.filter(partner=OuterRef("pk")).filter(conditions["recent"])
    )


# -- Reads, through the one scoping rule ------------------------------------------


def customers_for_user(*, user, team: list[int] | None = None) -> QuerySet:
    """The customer sources the user may see (rep: own; manager: team; admin:
    all). `team`: a manager's team as ids, read once for a page that scopes
    several statements (thanks.selectors.team_ids), the same rows."""
    customers = Partner.objects.filter(kind=Partner.Kind.CUSTOMER)
    if team is not None:
        return customers.filter(owner__in=team)
    return scope_for_user(customers, user)


def ready_customers(
    *, user, now: datetime | None = None, team: list[int] | None = None
) -> QuerySet:
    """The user's customers ready to ask."""
    now = now or timezone.now()
    return customers_for_user(user=user, team=team).filter(ready_filter(now=now))


def not_now_customers(
    *, user, now: datetime | None = None, team: list[int] | None = None
) -> QuerySet:
    """The user's customers with a recent outcome who are not ready to ask:
    each says why not (a late or short delivery, no satisfaction yet,
    asked lately, asked not to be asked)."""
    now = now or timezone.now()
    return (
        customers_for_user(user=user, team=team)
        .filter(recent_outcome_filter(now=now))
        .exclude(ready_filter(now=now))
    )


def _latest_outcome_on(now: datetime) -> Subquery:
    """The date of a source's latest outcome the rule reads (delivered, or
    promised for an overdue one): the lists show the freshest first."""
    recent = outcome_conditions(timezone.localdate(now))["recent"]
    return Subquery(
        Outcome.objects.filter(recent, partner=OuterRef("pk"))
        .annotate(on=Coalesce("delivered_on", "promised_by"))
        .order_by("-on")
        .values("on")[:1],
        output_field=DateField(),
    )


def with_readiness(partners: QuerySet, *, now: datetime) -> QuerySet:
    """`partners` with `ready` (the rule), their last ask (`last_asked_at`,
    `last_ask_channel`) and the date of their latest outcome the rule reads
    (`latest_outcome_on`): a source's row, in the same statement."""
    last_ask = Ask.objects.filter(partner=OuterRef("pk")).order_by("-asked_at", "-pk")
    return partners.annotate(
        ready=ExpressionWrapper(ready_filter(now=now), output_field=BooleanField()),
        last_asked_at=Subquery(last_ask.values("asked_at")[:1]),
        last_ask_channel=Subquery(last_ask.values("channel")[:1]),
        latest_outcome_on=_latest_outcome_on(now),
    )


def outcomes_with_flags(outcomes: QuerySet, *, today: date) -> QuerySet:
    """`outcomes`, each with a boolean per condition of the rule (`recent`,
    `as_promised`, `late`...), worked out by the database from the same
    conditions the lists are picked by."""
    return outcomes.annotate(
        **{
            name: ExpressionWrapper(condition, output_field=BooleanField())
            for name, condition in outcome_conditions(today).items()
        }
    )


def _day(value: date) -> str:
    return formats.date_format(value, "M j, Y")


def _what(outcome: Outcome) -> str:
    text = " ".join(outcome.promised.split())
    return f"“{text[:80]}…”" if len(text) > 80 else f"“{text}”"


def outcome_problems(outcome: Outcome) -> list[str]:
    """What went wrong with an outcome (flagged by outcomes_with_flags): each
    one stops an ask while the outcome is recent."""
    what = _what(outcome)
    problems = []
    if outcome.overdue:
        problems.append(
            f"{what} was promised by {_day(outcome.promised_by)} and is not "
            "delivered yet."
        )
    if outcome.late:
        problems.append(
            f"{what} was delivered late: on {_day(outcome.delivered_on)}, "
            f"promised by {_day(outcome.promised_by)}."
        )
    if outcome.short:
        problems.append(f"{what} was delivered short of what was promised.")
    if outcome.over_budget:
        problems.append(f"{what} went over budget.")
    if outcome.unhappy:
        problems.append(
            f"{what}: the customer's satisfaction is {outcome.satisfaction} of 5."
        )
    return problems


def outcome_unknowns(outcome: Outcome) -> list[str]:
    """What is still to record about a delivered outcome before it can count
    as delivered as promised (nothing for one with a problem)."""
    if outcome.delivered_on is None or outcome.as_promised:
        return []
    unknown = []
    if outcome.in_full == Answer.UNKNOWN:
        unknown.append("whether all that was promised was delivered")
    if outcome.on_budget == Answer.UNKNOWN:
        unknown.append("whether it was on budget")
    if outcome.satisfaction is None:
        unknown.append("the customer's satisfaction (1 to 5)")
    if not unknown:
        return []
    return [f"{_what(outcome)} is delivered: record {'; '.join(unknown)}."]


def explain(partner: Partner, outcomes: list[Outcome], *, now: datetime) -> dict:
    """Why `partner` (read through with_readiness) is ready to ask, or why
    not, from its outcomes (outcomes_with_flags): {"ready", "why",
    "why_not"}.

    `ready` is the database's (ready_filter); the words follow the same
    conditions, outcome by outcome, in the rule's order.
    """
    recent = [outcome for outcome in outcomes if outcome.recent]
    good = [outcome for outcome in recent if outcome.as_promised]
    why_not = []
    if partner.kind != Partner.Kind.CUSTOMER:
        why_not.append("Only customers are asked for referrals.")
    if partner.do_not_ask:
        why_not.append("They asked not to be asked for referrals.")
    asked_on = (
        timezone.localdate(partner.last_asked_at) if partner.last_asked_at else None
    )
    if partner.last_asked_at and partner.last_asked_at >= asked_since(now):
        channel = Ask.Channel(partner.last_ask_channel).label.lower()
        again = asked_on + timedelta(days=WINDOW_DAYS)
        why_not.append(
            f"Asked on {_day(asked_on)} ({channel}): not again before {_day(again)}."
        )
    for outcome in recent:
        why_not += outcome_problems(outcome)
    # Recorded from a referral moved out of Won since: not counted at all.
    not_won = [outcome for outcome in outcomes if not outcome.won]
    why_not += [
        f"{_what(outcome)} came from a referral that is no longer won."
        for outcome in not_won
    ]
    counted = [outcome for outcome in outcomes if outcome.won]
    if not good:
        unknowns = [text for outcome in recent for text in outcome_unknowns(outcome)]
        if unknowns or counted or not not_won:
            why_not += unknowns or [_nothing_delivered(counted)]
    why = ""
    if partner.ready and good:
        best = max(good, key=lambda outcome: (outcome.delivered_on, outcome.pk))
        why = (
            f"{_what(best)} delivered on {_day(best.delivered_on)}, on time "
            f"(promised by {_day(best.promised_by)}), in full and on budget; "
            f"satisfaction {best.satisfaction} of 5. "
            + (f"Last asked {_day(asked_on)}." if asked_on else "Never asked.")
        )
    return {
        "ready": bool(partner.ready),
        "why": why,
        "why_not": [] if partner.ready else why_not,
    }


def _nothing_delivered(outcomes: list[Outcome]) -> str:
    if not outcomes:
        return "No outcome recorded yet: record what was promised and delivered."
    coming = [outcome for outcome in outcomes if outcome.delivered_on is None]
    if coming:
        first = min(coming, key=lambda outcome: outcome.promised_by)
        return (
            f"{_what(first)} is promised by {_day(first.promised_by)}: ask once "
            "it is delivered as promised."
        )
    return f"No outcome delivered in the last {WINDOW_DAYS} days."


def customer_rows(partners: QuerySet, *, now: datetime) -> list[dict]:
    """Rows of Ready to ask for `partners` (a few, read through
    with_readiness): each customer with its readiness and its reasons, in
    one more query (their recent outcomes)."""
    partners = list(partners)
    if not partners:
        return []
    today = timezone.localdate(now)
    outcomes: dict[int, list[Outcome]] = {partner.pk: [] for partner in partners}
    flagged = outcomes_with_flags(
        Outcome.objects.filter(partner__in=[partner.pk for partner in partners]),
        today=today,
    ).filter(outcome_conditions(today)["recent"])
    for outcome in flagged.order_by("-delivered_on", "-promised_by", "-pk"):
        outcomes[outcome.partner_id].append(outcome)
    partner_url, ask_url = url_maker("partner_detail"), url_maker("ask_new")
    return [
        {
            "pk": partner.pk,
            "name": partner.name,
            "company": partner.company,
            "url": partner_url(partner.pk),
            "ask_url": ask_url(partner.pk),
            # today_lists reads the owner's name alone.
            "owner": getattr(partner, "owner_name", None) or partner.owner,
            "can_email": partner.can_email,
            **explain(partner, outcomes[partner.pk], now=now),
        }
        for partner in partners
    ]


def today_lists(*, user, now: datetime, team: list[int] | None = None) -> dict:
    """Today's Ready to ask lists: the TODAY_ROWS customers ready to ask
    (latest outcome first) and the TODAY_ROWS not now, with why, and how
    many there are of each (`ready_count`, `not_now_count`).

    Two queries: the customers with a recent outcome, ranked within each
    list and cut at TODAY_ROWS, with each list's size (partners.sql: the
    rule written out, as building it with the ORM cost three times its
    running); their recent outcomes."""
    today = timezone.localdate(now)
    shown = sql.today_ranked(
        owner_ids=owner_ids_for_user(user, team=team),
        today=today,
        window_start=window_start(today),
        asked_since=asked_since(now),
        satisfied_from=SATISFIED_FROM,
        rows=TODAY_ROWS,
    )
    sizes = {True: 0, False: 0}
    for partner in shown:
        # As with_readiness reads them (SQLite gives text for a raw column).
        partner.ready = bool(partner.ready)
        asked = partner.last_asked_at
        if isinstance(asked, str):
            asked = parse_datetime(asked)
        if asked is not None and timezone.is_naive(asked):  # UTC, without its zone
            asked = asked.replace(tzinfo=UTC)
        partner.last_asked_at = asked
        if isinstance(partner.latest_outcome_on, str):
            partner.latest_outcome_on = parse_date(partner.latest_outcome_on)
        sizes[partner.ready] = partner.in_list
    rows = customer_rows(shown, now=now)
    return {
        "ready": [row for row in rows if row["ready"]],
        "not_now": [row for row in rows if not row["ready"]],
        "ready_count": sizes[True],
        "not_now_count": sizes[False],
    }


def customer_asking(*, partner: Partner, now: datetime | None = None) -> dict:
    """A customer's page: readiness and its reasons, every outcome (newest
    promise first, each flagged) and the timeline of outcomes and asks.
    Two queries for a partner read through with_readiness, three for any
    other."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    read = (
        partner
        if hasattr(partner, "ready")
        else with_readiness(Partner.objects.filter(pk=partner.pk), now=now).get()
    )
    outcomes = list(
        outcomes_with_flags(partner.outcomes.select_related("recorded_by"), today=today)
    )
    asks = list(partner.asks.select_related("asked_by", "email"))
    return {
        **explain(read, outcomes, now=now),
        "outcomes": outcomes,
        "timeline": customer_timeline(outcomes, asks),
    }


def customer_timeline(outcomes: list[Outcome], asks: list[Ask]) -> list[dict]:
    """A customer's asks and outcomes, newest first."""
    entries = [
        {"at": ask.asked_at, "kind": "ask", "ask": ask, "who": ask.asked_by}
        for ask in asks
    ]
    entries += [
        {
            "at": outcome.created_at,
            "kind": "outcome",
            "outcome": outcome,
            "who": outcome.recorded_by,
        }
        for outcome in outcomes
    ]
    return sorted(entries, key=lambda entry: entry["at"], reverse=True)


# -- For the dashboard -------------------------------------------------------------

FOLLOWED_DAYS = WINDOW_DAYS


def asks_summary(
    *, owner_ids: list[int] | None, start: datetime, end: datetime
) -> dict[str, int]:
    """Asks made in [start, end) of the customers owned by `owner_ids` (None:
    everyone's) and the referrals that followed: sent by an asked customer
    and logged within FOLLOWED_DAYS days after an ask of the period (each
    referral counted once, however many asks it followed). One query.

    The referrals that followed are counted in a subquery of their own,
    over the asked customers' referrals logged in the window only: joined
    to the asks, every referral of each asked customer was read and
    multiplied by its asks before the count (a team's year: about 200 ms
    at a million referrals).

    {"asks", "email", "in_person", "phone", "customers", "referrals_followed"}
    """
    asks = Ask.objects.filter(asked_at__gte=start, asked_at__lt=end)
    if owner_ids is not None:
        asks = asks.filter(partner__owner__in=owner_ids)
    window = timedelta(days=FOLLOWED_DAYS)
    # The referral model, read off the relation (partners sits below the
    # referrals app and does not import it).
    referrals = Partner._meta.get_field("referrals").related_model.objects
    followed = (
        referrals.filter(
            source__in=asks.values("partner"),
            created_at__gte=start,
            created_at__lt=end + window,
        )
        .filter(
            Exists(
                asks.filter(
                    partner=OuterRef("source"),
                    asked_at__lte=OuterRef("created_at"),
                    asked_at__gt=OuterRef("created_at") - window,
                )
            )
        )
        .order_by()
        .values(n=Func(Value(1), function="COUNT"))
    )
    # Uncorrelated, so run once (an InitPlan), whatever the asks' number.
    summary = asks.aggregate(
        asks=Count("pk"),
        **{
            channel: Count("pk", filter=Q(channel=channel))
            for channel in Ask.Channel.values
        },
        customers=Count("partner", distinct=True),
        referrals_followed=Max(Subquery(followed, output_field=IntegerField())),
    )
    summary["referrals_followed"] = summary["referrals_followed"] or 0
    return summary

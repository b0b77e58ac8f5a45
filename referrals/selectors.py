from datetime import datetime, timedelta
from decimal import Decimal

from django.db.models import Count, OuterRef, Q, QuerySet, Subquery, Sum
from django.utils import formats, timezone

from accounts.scoping import (
    get_for_user_or_404,
    owner_ids_for_user,
    scope_for_user,
)
from core.urls_for_rows import url_maker
from partners import asking
from partners.selectors import COMMITMENTS_SHOWN, commitments_due
from referrals import sql
from referrals.criteria import DEFAULT_LUKEWARM_FROM, DEFAULT_QUALIFIED_FROM
from referrals.models import (
    CriteriaSettings,
    Criterion,
    Label,
    PipelineTotal,
    Referral,
    ReferralAnswer,
    Stage,
    StageChange,
    ValueStatement,
    is_stale,
)
from thanks.selectors import (
    failed_ask_emails,
    pending_thanks,
    team_ids,
    thank_you_rows,
    thank_yous_for_user,
)


def referrals_for_user(*, user) -> QuerySet:
    """Every referral the user may see, with what list rows display."""
    return scope_for_user(Referral.objects.all(), user).select_related(
        "source", "owner", "stage"
    )


def referral_for_user(*, user, pk) -> Referral:
    """One referral, or 404 when it does not exist or is not the user's to see."""
    return get_for_user_or_404(
        Referral.objects.select_related("source", "owner", "stage"), user, pk
    )


def stale_per_stage(now=None, stages=None) -> list[Q]:
    """What "stale" means, one condition per open stage with an SLA: in the
    stage longer than its SLA, with no activity logged since that limit (the
    board, the list, Today, the digest and the dashboard all use this).

    Written as stage_entered_at < now - sla_days so it can use an index on
    the date.
    """
    return [
        Q(stage=stage, stage_entered_at__lt=cutoff)
        & (Q(last_activity_at__isnull=True) | Q(last_activity_at__lt=cutoff))
        for stage, cutoff in stale_cutoffs(now, stages)
    ]


def stale_cutoffs(now=None, stages=None) -> list[tuple[Stage, datetime]]:
    """Each open stage with an SLA, and the time before which a referral in
    it, with no activity since, is stale. (The dashboard writes the same
    condition out in SQL: dashboard.queries.stale_referrals.)"""
    now = now or timezone.now()
    if stages is None:  # the caller may already hold the stages
        stages = Stage.objects.all()
    return [
        (stage, now - timedelta(days=stage.sla_days))
        for stage in stages
        if stage.kind == Stage.Kind.OPEN and stage.sla_days is not None
    ]


def stale_filter(now=None) -> Q:
    """Stale referrals, as one filter."""
    conditions = Q(pk__in=[])
    for condition in stale_per_stage(now):
        conditions |= condition
    return conditions


# What Today shows on load: the 25 most urgent of each list, the rest a
# click away (Next, or See all in the referral list). At 50 a manager's page
# rendered 150 rows, half its time on a busy server (issue 25).
TODAY_ROWS = 25  # per list of the Today page
TODAY_THANKS = 25  # thank-yous per page of Today


def referrals_needing_action(*, user, now=None, thanks_after=None) -> dict:
    """The Today page: thanks owed, new referrals not yet contacted, stale
    ones, and those not yet checked against the referral criteria a day
    after they were logged.

    Each list reads about as many rows as it shows, for a rep, a manager or
    an admin: one branch per stage, oldest first, as the board picks its
    cards (_first_of_each); those not yet contacted from their own index.
    At a million referrals a manager's page read most of their referrals
    for them, and an admin's, ordered by date in one query, every referral
    but the newest (the figures: bench/RESULTS.md).

    Each list's badge says how many there are in all (`counts`, one
    statement), not how many are shown: a manager's team can owe 300
    thank-yous. The thank-yous come TODAY_THANKS at a time: the next ones
    are those after the last one shown (`thanks_after`, its id), not an
    offset, so the ones acted on in place (htmx) leave nothing skipped. The
    referral lists show their oldest TODAY_ROWS and link to the rest.
    """
    now = now or timezone.now()
    team = team_ids(user)
    owners = owner_ids_for_user(user, team=team)
    stages = list(Stage.objects.all())
    open_ids = [stage.pk for stage in stages if stage.kind == Stage.Kind.OPEN]
    logged_before = sql.moment(now - ASSESS_WITHIN)
    # Each list a branch per open stage (each a range on its own index),
    # written out: as querysets, building them cost more than running them.
    waiting_branches = [(sql.NOT_CONTACTED_IN_STAGE, [pk]) for pk in open_ids]
    stale_branches = [
        (sql.STALE_IN_STAGE, [stage.pk, sql.moment(cutoff), sql.moment(cutoff)])
        for stage, cutoff in stale_cutoffs(now, stages)
    ]
    unassessed_branches = [
        (sql.UNASSESSED_IN_STAGE, [pk, Label.UNASSESSED, logged_before])
        for pk in open_ids
    ]
    owed = pending_thanks(user=user, team=team)
    shown, before = owed, []
    if thanks_after is not None:
        visible_thanks = thank_yous_for_user(user=user, team=team)
        after, up_to = _around(thanks_after, visible_thanks)
        shown, before = owed.filter(after), [owed.filter(up_to)]
    failed_asks = failed_ask_emails(user=user, team=team)
    counts = _counts(
        thanks=[owed],
        thanks_before=before,
        not_contacted=[
            sql.referrals_where(owners, *branch) for branch in waiting_branches
        ],
        stale=[sql.referrals_where(owners, *branch) for branch in stale_branches],
        unassessed=[
            sql.referrals_where(owners, *branch) for branch in unassessed_branches
        ],
        asks_failed=[failed_asks],
    )
    # Ready to ask (partners.asking: the rule), its lists and their sizes in
    # one statement of their own.
    asking_lists = asking.today_lists(user=user, now=now, team=team)
    counts["ready_to_ask"] = asking_lists["ready_count"]
    counts["not_now"] = asking_lists["not_now_count"]
    thanks = thank_you_rows(shown[:TODAY_THANKS], now=now)
    shown_to = counts["thanks_before"] + len(thanks)
    # The user's own commitments to partners, due within a week (one query).
    today = timezone.localdate(now)
    commitments = commitments_due(user=user, today=today, team=team)
    for commitment in commitments:
        commitment.overdue = commitment.is_overdue(today)
        commitment.due_today = commitment.due_on == today
    return {
        "commitments": commitments,
        "commitments_shown": COMMITMENTS_SHOWN,
        "thanks": thanks,
        "thanks_from": counts["thanks_before"] + 1,
        "thanks_to": shown_to,
        # The next ones start after the last shown (None: it was the last).
        "thanks_next": thanks[-1]["pk"]
        if thanks and shown_to < counts["thanks"]
        else None,
        "counts": counts,
        **{
            name: _today_rows(rows, now, stages)
            for name, rows in sql.oldest_of_lists(
                owners,
                {
                    "not_contacted": (waiting_branches, ("received_on", "id")),
                    "stale": (stale_branches, ("stage_entered_at", "id")),
                    "unassessed": (unassessed_branches, ("created_at", "id")),
                },
                TODAY_ROWS,
            ).items()
        },
        "asking": asking_lists,
        "failed_asks": list(failed_asks.select_related("source")[:TODAY_ROWS])
        if counts["asks_failed"]
        else [],
    }


# An open referral still Not assessed this long after it was logged is a
# nudge on Today (issue 26): a day to answer the criteria while the
# conversation with the source is fresh.
ASSESS_WITHIN = timedelta(days=1)


def _today_rows(referrals: list[Referral], now, stages: list[Stage]) -> list[dict]:
    """Today's rows of `referrals` (sql.oldest_of_lists), as plain dicts of
    what a row shows (a template finds a dict's keys at the first try).

    The day received is written once per date, as {{ day|date:"M j" }}
    writes it (formats.date_format): a hundred rows share a few days, and
    formatting each in the template was 40% of the lists' rendering.
    """
    by_pk = {stage.pk: stage for stage in stages}
    days: dict = {}
    rows = []
    for referral in referrals:
        stage, day = by_pk[referral.stage_id], referral.received_on
        if day not in days:
            days[day] = formats.date_format(day, "M j")
        rows.append(
            {
                "pk": referral.pk,
                "prospect_name": referral.prospect_name,
                "prospect_company": referral.prospect_company,
                "estimated_value": referral.estimated_value,
                "received_on": day,
                "stage_id": stage.pk,
                "stage_entered_at": referral.stage_entered_at,
                "source_name": referral.source_name,
                "stage_name": stage.name,
                "stage_kind": stage.kind,
                "days_in_stage": (now - referral.stage_entered_at).days,
                "received": days[day],
            }
        )
    return rows


def _around(pk: int, visible: QuerySet) -> tuple[Q, Q]:
    """The thank-yous after the one `pk` of `visible` in Today's order
    (deadline, then id), and those up to it. (None of either when it is not
    there: gone, or not the user's to see.)"""
    deadline = Subquery(visible.filter(pk=pk).values("deadline_at")[:1])
    return (
        Q(deadline_at__gt=deadline) | Q(deadline_at=deadline, pk__gt=pk),
        Q(deadline_at__lt=deadline) | Q(deadline_at=deadline, pk__lte=pk),
    )


def _counts(**lists: list) -> dict[str, int]:
    """How many rows each named list of querysets or written-out statements
    (sql.referrals_where) holds in all (a list's branches are disjoint: one
    per stage), in one statement: each branch counted on its own index, as
    its rows are picked."""
    return sql.union_counts(
        {
            name: [
                branch.order_by() if isinstance(branch, QuerySet) else branch
                for branch in branches
            ]
            for name, branches in lists.items()
        }
    )


def open_duplicates(*, user, email: str, company: str) -> list[Referral]:
    """Open referrals the user can see with the same prospect email or company
    (the first five, newest first).

    Asked on every referral logged and almost always none: the check reads
    ids alone, and the rows with what the warning shows only when there are
    some (building the four-table query took longer than running it).
    """
    same = Q(pk__in=[])
    if email.strip():
        same |= Q(prospect_email__iexact=email.strip())
    if company.strip():
        same |= Q(prospect_company__iexact=company.strip())
    visible = referrals_for_user(user=user)
    found = visible.filter(same, stage__kind=Stage.Kind.OPEN)
    ids = list(found.values_list("pk", flat=True)[:5])  # no select_related
    return list(visible.filter(pk__in=ids)) if ids else []


LABEL_NAMES = dict(Label.choices)

BOARD_OPEN_CARDS = 25  # per open column, oldest in stage first (the rest: "See all")
BOARD_CLOSED_CARDS = 10  # per Won/Lost column, most recent first
BOARD_CLOSED_DAYS = 30  # Won and Lost columns show the last 30 days


BOARD_CARD_FIELDS = [
    "pk",
    "prospect_name",
    "prospect_company",
    "estimated_value",
    "stage_entered_at",
    "last_activity_at",
    "closed_at",
    "stage_id",
    "source__name",
    "label",
]


# What a row of the referral list shows, read as plain values (no model
# instances): see list_rows().
LIST_ROW_FIELDS = [
    "pk",
    "prospect_name",
    "prospect_company",
    "estimated_value",
    "received_on",
    "stage_id",
    "stage_entered_at",
    "last_activity_at",
    "source_id",
    "source__name",
    "owner__display_name",
    "owner__email",
    "label",
    "score",
]


def list_rows(values, *, now=None, stages: list[Stage] | None = None) -> list[dict]:
    """A page of the referral list, or a list of Today (`values` of
    LIST_ROW_FIELDS) as the template shows it: links, stage, days in stage,
    stale. `stages`: every stage, when the caller has read them.

    Like the board's cards, plain dicts: the list's time went to building
    four model instances per row and resolving their methods in the template.
    """
    now = now or timezone.now()
    stages = Stage.objects.in_bulk() if stages is None else {s.pk: s for s in stages}
    referral_url, source_url = url_maker("referral_detail"), url_maker("partner_detail")
    rows = []
    for row in values:
        stage = stages[row["stage_id"]]
        rows.append(
            {
                **row,
                "url": referral_url(row["pk"]),
                "source_url": source_url(row["source_id"]),
                "source_name": row["source__name"],
                "owner_name": row["owner__display_name"] or row["owner__email"],
                "stage": stage,
                "label_name": LABEL_NAMES[row["label"]],
                "days_in_stage": (now - row["stage_entered_at"]).days,
                "is_stale": is_stale(
                    stage, row["stage_entered_at"], row["last_activity_at"], now
                ),
            }
        )
    return rows


def _first_of_each(branches: list[QuerySet]) -> QuerySet:
    """The referrals the `branches` pick (each a scoped, ordered, limited
    queryset of one stage's referrals), their ids glued with UNION ALL into
    one subquery. Each branch is a range on an index in its own order that
    stops at its limit; a window function over the same rows read every
    open referral in view (46,000 rows for an admin at a million referrals).
    """
    ids = sql.union_ids(branches)
    if ids is None:
        return Referral.objects.none()
    return Referral.objects.filter(pk__in=ids)


def board_columns(*, user, now=None) -> list[dict]:
    """The pipeline board: a column per open stage, then Won and Lost.

    Three queries however many referrals: the stages; each column's count
    and value (the open columns' from the PipelineTotal summary, the closed
    columns' from the referrals closed in the last BOARD_CLOSED_DAYS days, in
    one UNION ALL); then the cards, each column's first few picked by its own
    branch (_first_of_each).
    """
    now = now or timezone.now()
    since = now - timedelta(days=BOARD_CLOSED_DAYS)
    stages = list(Stage.objects.all())
    open_ids = [stage.pk for stage in stages if stage.kind == Stage.Kind.OPEN]
    closed_ids = [stage.pk for stage in stages if stage.kind != Stage.Kind.OPEN]
    visible = scope_for_user(Referral.objects.all(), user)
    recently_closed = visible.filter(stage__in=closed_ids, closed_at__gte=since)
    pipeline = scope_for_user(PipelineTotal.objects.all(), user).filter(
        stage__in=open_ids, count__gt=0
    )
    totals = {
        row["stage"]: row
        for row in pipeline.order_by()
        .values("stage")
        .annotate(n=Sum("count"), total=Sum("value"))
        .union(
            recently_closed.order_by()
            .values("stage")
            .annotate(n=Count("*"), total=Sum("estimated_value")),
            all=True,
        )
    }
    picked = _first_of_each(
        [
            visible.filter(stage=pk).order_by("stage_entered_at", "pk")[
                :BOARD_OPEN_CARDS
            ]
            for pk in open_ids
        ]
        + [
            recently_closed.filter(stage=pk).order_by("-closed_at", "-pk")[
                :BOARD_CLOSED_CARDS
            ]
            for pk in closed_ids
        ]
    )
    # Then the cards themselves, as plain dicts of what a card shows: no model
    # instances to build, and a template finds a dict's keys at the first try.
    by_pk = {stage.pk: stage for stage in stages}
    cards: dict[int, list] = {}
    for card in picked.order_by().values(*BOARD_CARD_FIELDS):
        stage = by_pk[card["stage_id"]]
        card["source_name"] = card.pop("source__name")
        card["label_name"] = LABEL_NAMES[card["label"]]
        card["days_in_stage"] = (now - card["stage_entered_at"]).days
        card["is_stale"] = is_stale(
            stage, card["stage_entered_at"], card["last_activity_at"], now
        )
        if not stage.is_closed:
            card["closed_at"] = None
        cards.setdefault(stage.pk, []).append(card)
    for stage_id, column in cards.items():
        if stage_id in open_ids:
            column.sort(key=lambda c: (c["stage_entered_at"], c["pk"]))
        else:
            column.sort(key=lambda c: (c["closed_at"], c["pk"]), reverse=True)
    columns = []
    for stage in stages:
        if stage.is_archived and stage.pk not in totals:
            continue  # an archived stage shows only while it still holds referrals
        row = totals.get(stage.pk, {})
        columns.append(
            {
                "stage": stage,
                "count": row.get("n", 0),
                "total": row.get("total") or Decimal(0),
                "cards": cards.get(stage.pk, []),
            }
        )
    return columns


def referral_timeline(*, referral: Referral) -> list[dict]:
    """Activities, stage changes and thank-yous of one referral, newest first."""
    items = [
        {"kind": "stage", "at": change.at, "change": change}
        for change in referral.stage_changes.select_related(
            "from_stage", "to_stage", "by"
        )
    ]
    items += [
        {"kind": "activity", "at": activity.at, "activity": activity}
        for activity in referral.activities.select_related("author")
    ]
    items += [
        {
            "kind": "thanks",
            "at": thank_you.finished_at or thank_you.due_at,
            "thank_you": thank_you,
        }
        for thank_you in referral.thank_yous.select_related("source", "completed_by")
    ]
    return sorted(items, key=lambda item: item["at"], reverse=True)


def reached_filter(stage: Stage) -> Q:
    """Referrals that ever entered `stage` or a later open or won stage."""
    return Q(
        pk__in=StageChange.objects.filter(to_stage__position__gte=stage.position)
        .exclude(to_stage__kind=Stage.Kind.LOST)
        .values("referral")
    )


def _the_teams_or_the_organisations(rows: list, team_id: int | None) -> list:
    """Of rows of a team's and the organisation's list, the team's when it
    has any, else the organisation's."""
    own = [row for row in rows if team_id is not None and row.team_id == team_id]
    return own or [row for row in rows if row.team_id is None]


def criteria_in_use(*, team_id: int | None) -> list[Criterion]:
    """The criteria a referral of team `team_id` is asked (not archived), in
    order: the team's own when it has any, else the organisation's (one
    query)."""
    rows = Criterion.objects.filter(
        Q(team=None) | Q(team=team_id) if team_id else Q(team=None),
        is_archived=False,
    ).order_by("position", "pk")
    return _the_teams_or_the_organisations(list(rows), team_id)


def value_statements(*, team_id: int | None) -> list[ValueStatement]:
    """Why the best customers value us: the team's own, else the organisation's."""
    rows = ValueStatement.objects.filter(
        Q(team=None) | Q(team=team_id) if team_id else Q(team=None)
    ).order_by("position", "pk")
    return _the_teams_or_the_organisations(list(rows), team_id)


def thresholds(*, team_id: int | None) -> dict[str, int]:
    """qualified_from and lukewarm_from for team `team_id`: its own, else
    the organisation's, else the defaults (one query)."""
    rows = list(
        CriteriaSettings.objects.filter(
            Q(team=None) | Q(team=team_id) if team_id else Q(team=None)
        )
    )
    chosen = _the_teams_or_the_organisations(rows, team_id)
    if not chosen:
        return {
            "qualified_from": DEFAULT_QUALIFIED_FROM,
            "lukewarm_from": DEFAULT_LUKEWARM_FROM,
        }
    return {
        "qualified_from": chosen[0].qualified_from,
        "lukewarm_from": chosen[0].lukewarm_from,
    }


def referral_assessment(*, referral: Referral) -> list[dict]:
    """The criteria of a referral's page, in order, each with its answer
    (True, False, None): those its owner's team asks now, and any other it
    answered (archived since, or another team's list). One query."""
    team_id = referral.owner.team_id
    answered = ReferralAnswer.objects.filter(referral=referral)
    asked = Q(team=None) | Q(team=team_id) if team_id else Q(team=None)
    rows = list(
        Criterion.objects.filter(
            (asked & Q(is_archived=False)) | Q(pk__in=answered.values("criterion"))
        )
        .annotate(
            answer=Subquery(answered.filter(criterion=OuterRef("pk")).values("yes"))
        )
        .order_by("position", "pk")
    )
    in_use = {
        c.pk
        for c in _the_teams_or_the_organisations(
            [c for c in rows if not c.is_archived], team_id
        )
    }
    return [
        {"criterion": c, "answer": c.answer}
        for c in rows
        if c.pk in in_use or c.answer is not None
    ]

"""The manager dashboard: every figure aggregated in the database.

One function per section, each taking the same DashboardFilters. Medians use
PostgreSQL's percentile_cont; SQLite (development only) has no such aggregate,
so there the median is taken over the few values one query returns.
"""

import statistics
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from functools import cached_property

from django.db import connection
from django.db.models import (
    Aggregate,
    Count,
    DecimalField,
    F,
    FloatField,
    Func,
    Q,
    QuerySet,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce, TruncMonth, TruncWeek
from django.utils import timezone

from accounts.models import Team, User
from accounts.scoping import scope_for_user, users_for_user
from partners.models import Partner
from referrals.models import Moment, PipelineTotal, Referral, Stage, Touchpoint
from referrals.selectors import stale_per_stage

PERIODS = {
    "this_month": "This month",
    "last_30": "Last 30 days",
    "last_90": "Last 90 days",
    "this_quarter": "This quarter",
    "this_year": "This year",
    "custom": "Custom",
}
DEFAULT_PERIOD = "last_90"
MONEY = DecimalField(max_digits=16, decimal_places=2)


@dataclass
class DashboardFilters:
    user: User
    period: str = DEFAULT_PERIOD
    start: date = None
    end: date = None
    team: Team | None = None
    rep: User | None = None
    source_kind: str = ""
    now: datetime = field(default_factory=timezone.now)

    @cached_property
    def stages(self) -> list[Stage]:
        """Every stage, in pipeline order: read once per dashboard."""
        return list(Stage.objects.order_by("position", "pk"))

    def stage_ids(self, kind: str) -> list[int]:
        """Stages of one kind, so the referrals' stage ids are compared
        without a join to the stages."""
        return [stage.pk for stage in self.stages if stage.kind == kind]

    @property
    def start_at(self) -> datetime:
        return timezone.make_aware(datetime.combine(self.start, time.min))

    @property
    def end_at(self) -> datetime:
        return timezone.make_aware(datetime.combine(self.end, time.max))

    def as_query(self) -> dict:
        """The referral list's filters for the same slice (for drill-down links)."""
        query = {
            "received_from": self.start.isoformat(),
            "received_to": self.end.isoformat(),
        }
        if self.rep:
            query["owner"] = self.rep.pk
        return query


def period_bounds(period: str, today: date, start=None, end=None) -> tuple[date, date]:
    if period == "this_month":
        return today.replace(day=1), today
    if period == "last_30":
        return today - timedelta(days=29), today
    if period == "this_quarter":
        first_month = 3 * ((today.month - 1) // 3) + 1
        return today.replace(month=first_month, day=1), today
    if period == "this_year":
        return today.replace(month=1, day=1), today
    if period == "custom" and start and end:
        return start, end
    return today - timedelta(days=89), today


def scoped(
    filters: DashboardFilters, queryset: QuerySet, owner: str = "owner"
) -> QuerySet:
    """The one scoping rule, then the dashboard's team, rep and source filters."""
    queryset = scope_for_user(queryset, filters.user, owner_field=owner)
    if filters.team:
        queryset = queryset.filter(**{f"{owner}__team": filters.team})
    if filters.rep:
        queryset = queryset.filter(**{owner: filters.rep})
    if filters.source_kind:
        source = "source" if owner == "owner" else owner.replace("owner", "source")
        queryset = queryset.filter(**{f"{source}__kind": filters.source_kind})
    return queryset


def referrals(filters: DashboardFilters) -> QuerySet:
    return scoped(filters, Referral.objects.all())


def received_in_period(filters: DashboardFilters) -> QuerySet:
    return referrals(filters).filter(received_on__range=(filters.start, filters.end))


# -- Medians ------------------------------------------------------------------


class PercentileCont(Aggregate):
    """percentile_cont(0.5) WITHIN GROUP (ORDER BY expr): PostgreSQL's median."""

    function = "percentile_cont"
    name = "Median"
    template = "%(function)s(0.5) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = FloatField()


def seconds(expression) -> Func:
    """An interval in seconds, as a float (PostgreSQL)."""
    return Func(
        expression,
        template="EXTRACT(EPOCH FROM %(expressions)s)",
        output_field=FloatField(),
    )


def medians(queryset: QuerySet, group: str, duration) -> dict:
    """{group value: median seconds} of `duration` per group (NULLs ignored)."""
    queryset = queryset.order_by()
    if connection.vendor == "postgresql":
        # No annotate() before values(): it would join the GROUP BY.
        rows = queryset.values(group).annotate(m=PercentileCont(seconds(duration)))
        return {row[group]: row["m"] for row in rows if row["m"] is not None}
    values: dict = {}
    pairs = (
        queryset.annotate(_d=duration).filter(_d__isnull=False).values_list(group, "_d")
    )
    for key, value in pairs:
        values.setdefault(key, []).append(value.total_seconds())
    return {key: statistics.median(v) for key, v in values.items()}


# -- Sections -------------------------------------------------------------------


def pipeline_totals(filters: DashboardFilters, group: str) -> QuerySet:
    """Referrals there now per `group` ("stage" or "owner"), as rows of
    {group, "n", "total"} (the count and the value).

    From the PipelineTotal summary (a few rows per rep) instead of counting
    every referral; it has no source kind, so that filter counts referrals.
    """
    if filters.source_kind:
        rows = referrals(filters).order_by().values(group)
        return rows.annotate(n=Count("*"), total=Sum("estimated_value"))
    rows = scoped(filters, PipelineTotal.objects.all()).order_by().values(group)
    return rows.annotate(n=Sum("count"), total=Sum("value"))


def pipeline_now(filters: DashboardFilters) -> dict:
    """Per stage: count, total and weighted value of the referrals there now."""
    totals = {row["stage"]: row for row in pipeline_totals(filters, "stage")}
    rows, forecast = [], Decimal(0)
    for stage in filters.stages:
        if stage.is_archived:
            continue
        row = totals.get(stage.pk, {})
        total = row.get("total") or Decimal(0)
        weighted = total * stage.probability / 100
        if stage.kind == Stage.Kind.OPEN:
            forecast += weighted
        rows.append(
            {
                "stage": stage,
                "count": row.get("n", 0),
                "total": total,
                "weighted": weighted,
            }
        )
    return {"rows": rows, "forecast": forecast}


def funnel(filters: DashboardFilters) -> dict:
    """Referrals received in the period, and how many reached each later step.

    A step is reached when the referral ever entered that stage or a later
    open or won one (Lost does not count as progress).
    """
    steps = [
        stage
        for stage in filters.stages
        if stage.kind != Stage.Kind.LOST and not stage.is_archived
    ]
    counts = received_in_period(filters).aggregate(
        received=Count("*"),
        **{
            f"s{stage.pk}": Count(
                "stage", filter=Q(furthest_position__gte=stage.position)
            )
            for stage in steps
        },
    )
    rows, previous = [], None
    for index, stage in enumerate(steps):
        count = counts["received"] if index == 0 else counts[f"s{stage.pk}"]
        rows.append(
            {"stage": stage, "count": count, "conversion": _share(count, previous)}
        )
        previous = count
    lost = list(
        received_in_period(filters)
        .filter(stage__in=filters.stage_ids(Stage.Kind.LOST))
        .order_by()
        .values("lost_reason")
        .annotate(count=Count("*"))
        .order_by("-count", "lost_reason")
    )
    return {"rows": rows, "lost_reasons": lost}


def _share(part, whole):
    return None if not whole else part / whole


def sources(filters: DashboardFilters, limit: int = 10) -> dict:
    """Best sources of the period, and those who sent referrals but were never thanked.

    Aggregated from the period's referrals (grouped by source), then the few
    partners shown are fetched by id: no scan of every partner.
    """
    period = received_in_period(filters).order_by()
    won = Q(stage__in=filters.stage_ids(Stage.Kind.WON))
    best_rows = list(
        period.values("source")
        .annotate(
            sent=Count("*"),
            won_count=Count("stage", filter=won),
            won_value=Coalesce(
                Sum("estimated_value", filter=won), Value(0), output_field=MONEY
            ),
        )
        .order_by("-sent", "-won_value", "source")[:limit]
    )
    neglected_rows = list(
        period.filter(source__last_thanked_at__isnull=True)
        .values("source")
        .annotate(sent=Count("*"))
        .order_by("-sent", "source")[:limit]
    )
    ids = {row["source"] for row in best_rows + neglected_rows}
    partners = Partner.objects.in_bulk(ids)
    close_seconds = medians(
        period.filter(won, source__in=[row["source"] for row in best_rows]),
        "source",
        F("closed_at") - F("created_at"),
    )
    best = []
    for row in best_rows:
        partner = partners[row["source"]]
        partner.sent, partner.won_count, partner.won_value = (
            row["sent"],
            row["won_count"],
            row["won_value"],
        )
        partner.conversion = _share(row["won_count"], row["sent"])
        median = close_seconds.get(partner.pk)
        partner.median_days_to_close = None if median is None else median / 86400
        best.append(partner)
    neglected = []
    for row in neglected_rows:
        partner = partners[row["source"]]
        partner.sent = row["sent"]
        neglected.append(partner)
    return {"best": best, "neglected": neglected}


def compliance_filter(filters: DashboardFilters) -> Q:
    """Thank-yous whose deadline fell in the period and has passed (or are done)."""
    in_period = Q(
        deadline_at__range=(filters.start_at, min(filters.end_at, filters.now))
    )
    return in_period & ~Q(status__in=[Touchpoint.Status.CANCELLED])


def _touchpoints(filters: DashboardFilters) -> QuerySet:
    return scoped(
        filters,
        Touchpoint.objects.filter(referral__isnull=False),
        owner="owner",  # the copied owner: an (owner, deadline) index, no join
    )


ON_TIME = Q(status__in=Touchpoint.FINISHED) & (
    Q(sent_at__lte=F("deadline_at")) | Q(completed_at__lte=F("deadline_at"))
)


def thank_you_compliance(filters: DashboardFilters) -> dict:
    """Share of thank-yous done on time, per moment and per rep, and what is overdue."""
    due = _touchpoints(filters).filter(compliance_filter(filters)).order_by()
    per_moment = {
        row["moment"]: row
        for row in due.values("moment").annotate(
            total=Count("*"),
            on_time=Count("moment", filter=ON_TIME),
            skipped=Count("moment", filter=Q(status=Touchpoint.Status.SKIPPED)),
        )
    }
    moments = []
    for value, label in Moment.choices:
        row = per_moment.get(value)
        if row:
            moments.append(
                {
                    "moment": value,
                    "label": label,
                    **row,
                    "share": _share(row["on_time"], row["total"]),
                }
            )
    # The totals are the sum of the moments: no second pass over the rows.
    overall = {
        "total": sum(row["total"] for row in per_moment.values()),
        "on_time": sum(row["on_time"] for row in per_moment.values()),
    }
    overdue = list(
        _touchpoints(filters)
        .filter(status__in=Touchpoint.PENDING, deadline_at__lt=filters.now)
        .select_related("referral__owner", "source")
        .order_by("deadline_at")[:50]
    )
    return {
        "moments": moments,
        "total": overall["total"],
        "on_time": overall["on_time"],
        "share": _share(overall["on_time"], overall["total"]),
        "overdue": overdue,
    }


def reps(filters: DashboardFilters) -> list[dict]:
    """Per rep: speed to first contact, open pipeline, won value, conversion, thanks on time."""
    visible_reps = users_for_user(filters.user)
    if filters.team:
        visible_reps = visible_reps.filter(team=filters.team)
    if filters.rep:
        visible_reps = visible_reps.filter(pk=filters.rep.pk)
    period = received_in_period(filters).order_by()
    per_rep = {
        row["owner"]: row
        for row in period.values("owner").annotate(
            received=Count("*"),
            won=Count("stage", filter=Q(stage__in=filters.stage_ids(Stage.Kind.WON))),
        )
    }
    won_value = {
        row["owner"]: row["value"]
        for row in referrals(filters)
        .filter(
            stage__in=filters.stage_ids(Stage.Kind.WON),
            closed_at__range=(filters.start_at, filters.end_at),
        )
        .order_by()
        .values("owner")
        .annotate(value=Sum("estimated_value"))
    }
    open_pipeline = {
        row["owner"]: row
        for row in pipeline_totals(filters, "owner").filter(
            stage__in=filters.stage_ids(Stage.Kind.OPEN)
        )
    }
    thanks = {
        row["owner"]: row
        for row in _touchpoints(filters)
        .filter(compliance_filter(filters))
        .order_by()
        .values("owner")
        .annotate(total=Count("*"), on_time=Count("moment", filter=ON_TIME))
    }
    speed = medians(
        period.filter(first_contacted_at__isnull=False),
        "owner",
        F("first_contacted_at") - F("created_at"),
    )
    rows = []
    for rep in visible_reps.order_by("display_name", "email"):
        counts = per_rep.get(rep.pk, {"received": 0, "won": 0})
        pipe = open_pipeline.get(rep.pk, {"n": 0, "total": None})
        done = thanks.get(rep.pk, {"total": 0, "on_time": 0})
        hours = speed.get(rep.pk)
        if not (
            counts["received"] or pipe["n"] or rep.pk in won_value or done["total"]
        ):
            continue  # a user with nothing in the pipeline (an admin, a new hire)
        rows.append(
            {
                "rep": rep,
                "received": counts["received"],
                "won": counts["won"],
                "conversion": _share(counts["won"], counts["received"]),
                "hours_to_contact": None if hours is None else hours / 3600,
                "open_count": pipe["n"],
                "open_value": pipe["total"] or Decimal(0),
                "won_value": won_value.get(rep.pk) or Decimal(0),
                "thanks_total": done["total"],
                "thanks_share": _share(done["on_time"], done["total"]),
            }
        )
    return rows


def stale_referrals(filters: DashboardFilters, limit: int = 25) -> dict:
    """Open referrals past their stage's SLA with no activity since: how many,
    and the oldest first.

    One branch per stage, glued with UNION ALL: each is a range on the
    (owner, stage, stage_entered_at) index, where an OR of the stages' cut-offs
    made PostgreSQL read every referral of the team. Then the page's few rows.
    """
    branches = [
        referrals(filters).filter(condition).order_by()
        for condition in stale_per_stage(filters.now, filters.stages)
    ]
    if not branches:
        return {"count": 0, "oldest": []}
    first, *rest = branches

    def union(*columns):
        return first.values_list(*columns).union(
            *(branch.values_list(*columns) for branch in rest), all=True
        )

    # The count reads only indexed columns (no id): the index alone answers it.
    count = union("stage_entered_at").count()
    ids = [
        pk
        for pk, _ in union("pk", "stage_entered_at").order_by("stage_entered_at")[
            :limit
        ]
    ]
    oldest = Referral.objects.filter(pk__in=ids).select_related(
        "stage", "owner", "source"
    )
    return {
        "count": count,
        "oldest": sorted(oldest, key=lambda r: (r.stage_entered_at, r.pk)),
    }


def trend(filters: DashboardFilters) -> dict:
    """Referrals received and value won per week (per month beyond 4 months)."""
    monthly = (filters.end - filters.start).days > 120
    trunc = TruncMonth if monthly else TruncWeek
    received = {
        row["bucket"]: row["count"]
        for row in received_in_period(filters)
        .order_by()
        .annotate(bucket=trunc("received_on"))
        .values("bucket")
        .annotate(count=Count("*"))
    }
    won = {
        (
            row["bucket"].date()
            if isinstance(row["bucket"], datetime)
            else row["bucket"]
        ): row["value"]
        for row in referrals(filters)
        .filter(
            stage__in=filters.stage_ids(Stage.Kind.WON),
            closed_at__range=(filters.start_at, filters.end_at),
        )
        .order_by()
        .annotate(bucket=trunc("closed_at"))
        .values("bucket")
        .annotate(value=Sum("estimated_value"))
    }
    buckets = []
    cursor = (
        filters.start.replace(day=1)
        if monthly
        else filters.start - timedelta(days=filters.start.weekday())
    )
    while cursor <= filters.end:
        buckets.append(
            {
                "start": cursor,
                "received": received.get(cursor, 0),
                "won_value": won.get(cursor) or Decimal(0),
            }
        )
        cursor = (
            (cursor.replace(day=28) + timedelta(days=4)).replace(day=1)
            if monthly
            else cursor + timedelta(days=7)
        )
    return {"unit": "month" if monthly else "week", "buckets": buckets}


def dashboard(filters: DashboardFilters) -> dict:
    return {
        "pipeline": pipeline_now(filters),
        "funnel": funnel(filters),
        "sources": sources(filters),
        "reps": reps(filters),
        "compliance": thank_you_compliance(filters),
        "stale": stale_referrals(filters),
        "trend": trend(filters),
    }

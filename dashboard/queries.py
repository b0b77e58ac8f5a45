"""The manager dashboard: every figure aggregated in the database.

One function per section, each taking the same DashboardFilters. The
section queries are written out in SQL that PostgreSQL and SQLite both run (with
Django's helpers for dates and time zones): for a team's view the ORM spent
longer building its twenty queries than the database took to answer them.
Every query filters on whose records the view shows through _scope_sql, from
DashboardFilters.owners (the one scoping rule).

A page is a few round trips, not one per figure: the grouped reads every
section adds up (the pipeline, the period's referrals, value won, thanks due,
speed to contact, the trend) are Parts, sent together as one statement
(_batched: UNION ALL) and kept on the filters for the sections to share; the
sources' two lists and their medians are one statement, the overdue
thank-yous' first rows carry their count. A table's CSV reads only the parts
its table needs. Medians use PostgreSQL's percentile_cont and a window over
the values on SQLite (core.sql.median_seconds_sql, where the two databases'
differences live).
"""

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from functools import cached_property
from operator import itemgetter

from django.conf import settings
from django.db import connection
from django.db.models import Exists, OuterRef
from django.http import QueryDict
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.text import slugify

from accounts.models import Team, User
from accounts.scoping import scope_for_user
from core.sql import median_seconds_sql
from partners.asking import FOLLOWED_DAYS, asks_summary
from partners.models import Ask, GivenReferral, Partner
from referrals.models import (
    ClosedTotal,
    Label,
    PipelineTotal,
    ReceivedTotal,
    Referral,
    Stage,
)
from referrals.rollups import month_of
from referrals.selectors import stale_cutoffs
from thanks.models import Moment, ThankYou

PERIODS = {
    "this_month": "This month",
    "last_30": "Last 30 days",
    "last_90": "Last 90 days",
    "this_quarter": "This quarter",
    "this_year": "This year",
    "custom": "Custom",
}
DEFAULT_PERIOD = "last_90"


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

    @property
    def source_kind_label(self) -> str:
        """The source kind picked, as the filter names it ("" for all)."""
        return Partner.Kind(self.source_kind).label if self.source_kind else ""

    @cached_property
    def owners(self) -> list[User] | None:
        """Whose records the dashboard counts: the one scoping rule, then the
        team and rep filters, read once (each query filters on their ids
        instead of repeating a subquery). None: everyone's."""
        users = scope_for_user(User.objects.all(), self.user, owner_field="pk")
        if self.team:
            users = users.filter(team=self.team)
        if self.rep:
            users = users.filter(pk=self.rep.pk)
        if not users.query.where:  # an admin, unfiltered
            return None
        return list(users.order_by("display_name", "email"))

    @cached_property
    def owner_ids(self) -> list[int] | None:
        return None if self.owners is None else [user.pk for user in self.owners]

    # The grouped reads made so far, by name (see read()).
    parts_read: dict = field(
        default_factory=dict, init=False, repr=False, compare=False
    )

    def read(self, *names: str) -> None:
        """Make the grouped reads `names` (PARTS) not made yet, together in
        one statement: a section asks for all it needs at once, the page for
        every section's."""
        wanted = [name for name in dict.fromkeys(names) if name not in self.parts_read]
        if wanted:
            built = [PARTS[name](self) for name in wanted]
            self.parts_read.update(zip(wanted, _batched(built), strict=True))

    def part(self, name: str) -> list[tuple]:
        """The rows of one grouped read (made now if it was not yet)."""
        self.read(name)
        return self.parts_read[name]

    @cached_property
    def pipeline(self) -> list[dict]:
        """Referrals there now per owner and stage (pipeline now, the reps)."""
        return [
            {"owner": owner, "stage": stage, "n": int(n), "total": _money(total)}
            for owner, stage, n, total in self.part("pipeline")
        ]

    @cached_property
    def stages(self) -> list[Stage]:
        """Every stage, in pipeline order: read once per dashboard."""
        return list(Stage.objects.order_by("position", "pk"))

    @cached_property
    def received(self) -> list[dict]:
        """The period's referrals per owner, stage, furthest stage reached,
        lost reason and label: the funnel, the reps' counts and the figures
        by label, from one read."""
        return _month_rows(self.part("received"), RECEIVED_GROUP)

    @cached_property
    def thanks_due(self) -> list[dict]:
        """Thank-yous due in the period per owner and moment: how many, on
        time and skipped (compliance per moment and per rep, one read)."""
        return [
            dict(zip(("owner", "moment", *THANKS_FIELDS), row, strict=True))
            for row in self.part("thanks_due")
        ]

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

    def as_view(self) -> str:
        """This view of the dashboard as its query string, in one spelling
        (whatever URL asked for it): its CSV links, and a snapshot's key."""
        query = {"period": self.period}
        if self.period == "custom":
            query.update(start=self.start.isoformat(), end=self.end.isoformat())
        return urlencode({**query, **self._whose(rep="rep")})

    def file_name(self, table: str) -> str:
        """A table's CSV file name, naming the view it comes from: two
        downloads of different views neither overwrite nor pass for each
        other ("dashboard-reps-2026-09-01-to-2026-11-30-north")."""
        parts = ["dashboard", table, self.start.isoformat(), "to", self.end.isoformat()]
        names = (
            str(picked).split("@")[0] for picked in (self.team, self.rep) if picked
        )
        slugs = (slugify(name, allow_unicode=True) for name in names)
        parts += [slug for slug in slugs if slug]  # "★★" has none
        return "-".join([*parts, self.source_kind] if self.source_kind else parts)

    def as_query(self, of: str = "received") -> dict:
        """The referral list's filters for the same slice (drill-down links):
        the referrals received in the period, those closed in it
        (of="closed": won value), or every referral of the view (of="now":
        the pipeline now, stale referrals)."""
        start, end = self.start.isoformat(), self.end.isoformat()
        dates = {
            "received": {"received_from": start, "received_to": end},
            "closed": {"closed_from": start, "closed_to": end},
            "now": {},
        }[of]
        return {**dates, **self._whose(rep="owner")}

    def _whose(self, *, rep: str) -> dict:
        """The team, rep (as the parameter `rep`) and source kind picked."""
        query = {}
        if self.team:
            query["team"] = self.team.pk
        if self.rep:
            query[rep] = self.rep.pk
        if self.source_kind:
            query["source_kind"] = self.source_kind
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


# -- Reading a view: the rules the filter form and the worker share ----------

# What a dashboard period may span: the dates beyond would overflow the
# month and week arithmetic (a typed year 9999 was a server error).
EARLIEST_DAY, LATEST_DAY = date(1900, 1, 1), date(2199, 12, 31)


def day_in_range(day: date) -> bool:
    return EARLIEST_DAY <= day <= LATEST_DAY


def view_period(query) -> str:
    """The period a query string asks for. None in it (a shared link with
    only a rep, say), or one not offered: the default; a link with dates and
    no period means those dates."""
    period = query.get("period", "")
    if period in PERIODS:
        return period
    dated = "period" not in query and (query.get("start") or query.get("end"))
    return "custom" if dated else DEFAULT_PERIOD


def dashboard_reps(user: User):
    """The reps whose figures `user` may pick: those in their scope who own a
    referral. A semi-join that stops at each rep's first one (a join with
    DISTINCT read every referral of the scope). Those who left too: their
    referrals still count, and wait to be handed on."""
    owners = scope_for_user(User.objects.all(), user, owner_field="pk")
    return owners.filter(Exists(Referral.objects.filter(owner=OuterRef("pk"))))


def rep_on_team(rep: User | None, team: Team | None) -> bool:
    """Whether a rep picked with a team leaves anybody's figures to show."""
    return not (team and rep and rep.team_id != team.pk)


def dashboard_filters(
    *,
    user: User,
    period: str,
    start=None,
    end=None,
    team=None,
    rep=None,
    source_kind: str = "",
) -> "DashboardFilters":
    """The filters of valid choices (a refused one is left out, None):
    a custom period without both dates, or with them the wrong way round,
    is the default period."""
    if period == "custom" and not (start and end and start <= end):
        period = DEFAULT_PERIOD
    start, end = period_bounds(period, timezone.localdate(), start, end)
    return DashboardFilters(
        user=user,
        period=period,
        start=start,
        end=end,
        team=team,
        rep=rep,
        source_kind=source_kind or "",
    )


def filters_from_view(view: str, user: User) -> "DashboardFilters":
    """A view's query string (DashboardFilters.as_view()) read back without a
    form, for the worker's counts ahead of visits: what the filter form would
    refuse is left out, as the form leaves it out."""
    query = QueryDict(view)
    start, end = (_day(query.get(name)) for name in ("start", "end"))
    team = _pk(query.get("team")) if user.is_admin else None
    team = Team.objects.filter(pk=team).first() if team else None
    rep = _pk(query.get("rep"))
    rep = dashboard_reps(user).filter(pk=rep).first() if rep else None
    kind = query.get("source_kind", "")
    return dashboard_filters(
        user=user,
        period=view_period(query),
        start=start,
        end=end,
        team=team,
        rep=rep if rep_on_team(rep, team) else None,
        source_kind=kind if kind in Partner.Kind.values else "",
    )


def _day(text: str | None) -> date | None:
    try:
        day = date.fromisoformat(text or "")
    except ValueError:
        return None
    return day if day_in_range(day) else None


def _pk(text: str | None) -> int | None:
    return int(text) if text and text.isdigit() else None


# -- Written-out SQL ---------------------------------------------------------


def _rows(sql: str, params: list) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


@dataclass(frozen=True)
class Part:
    """One grouped read of a batch (_batched): a SELECT, its parameters, and
    the kind of each of its columns in order, one letter each (KINDS)."""

    sql: str
    params: list
    kinds: str


# The kinds of column a part may have: a whole number (an id, a count), text,
# a date, a decimal (money, seconds), and the type of each in the batch.
KINDS = {"i": "BIGINT", "t": "TEXT", "d": "DATE", "x": "NUMERIC"}


def _batched(parts: list[Part | None]) -> list[list[tuple]]:
    """The rows of each part (None: a part with nothing to read), from one
    statement: each part a named subquery (WITH), glued with UNION ALL.

    A UNION's columns line up by position and type (PostgreSQL checks), so
    the statement's columns are the part's number then, for each kind, as
    many as the part with the most of that kind has; a part fills its own
    and the rest are NULLs of their type. Each row goes back to its part as
    the part's own columns, in their order. A single part runs as written.
    """
    live = [(number, part) for number, part in enumerate(parts) if part]
    found: list[list[tuple]] = [[] for _ in parts]
    if len(live) == 1:
        number, part = live[0]
        found[number] = _rows(part.sql, part.params)
    if len(live) < 2:
        return found
    widths = {kind: max(p.kinds.count(kind) for _, p in live) for kind in KINDS}
    columns = [f"{kind}{n}" for kind, width in widths.items() for n in range(width)]
    named, selects, params = [], [], []
    for number, part in live:
        own = _column_names(part.kinds)
        named.append(f"part{number}({', '.join(own)}) AS ({part.sql})")
        picked = [
            name if name in own else f"CAST(NULL AS {KINDS[name[0]]})"
            for name in columns
        ]
        selects.append(f"SELECT {number}, {', '.join(picked)} FROM part{number}")
        params += part.params
    statement = f"WITH {', '.join(named)} {' UNION ALL '.join(selects)}"
    # Where each part's own columns are in a row of the statement, worked
    # out once per part, not per row (a thousand rows on a team's page).
    # A row's first column is its part's number: the part's own columns are
    # picked from the row as it comes (itemgetter, not a tuple built per
    # value), each part's places one after that number.
    pick = {
        number: _picker([1 + columns.index(name) for name in _column_names(part.kinds)])
        for number, part in live
    }
    for row in _rows(statement, params):
        found[row[0]].append(pick[row[0]](row))
    return found


def _picker(places: list[int]):
    """A function from a row to the tuple of its values at `places`."""
    if len(places) == 1:
        place = places[0]
        return lambda row: (row[place],)
    return itemgetter(*places)


def _column_names(kinds: str) -> list[str]:
    """A part's columns as the batch names them: i0, i1, t0, x0 ..."""
    seen = Counter()
    names = []
    for kind in kinds:
        names.append(f"{kind}{seen[kind]}")
        seen[kind] += 1
    return names


def _moment(value: datetime):
    """A time as a query parameter (SQLite compares times as UTC text)."""
    return connection.ops.adapt_datetimefield_value(value)


def _table(model) -> str:
    return connection.ops.quote_name(model._meta.db_table)


def _scope_sql(filters: DashboardFilters, alias: str = "r") -> tuple[str, list]:
    """Whose records a query counts: the owners in view (the one scoping
    rule, then the team and rep filters: DashboardFilters.owners) and the
    source kind, as a WHERE condition on the rows `alias` (referrals, a
    summary, thank-yous: each has owner_id, and source_id where a source
    kind can be picked) and its parameters."""
    conditions, params = ["1 = 1"], []
    if filters.owner_ids is not None:
        if not filters.owner_ids:
            return "1 = 0", []
        conditions.append(_in_sql(f"{alias}.owner_id", filters.owner_ids))
        params += filters.owner_ids
    if filters.source_kind:
        conditions.append(
            f"{alias}.source_id IN (SELECT id FROM {_table(Partner)} WHERE kind = %s)"
        )
        params.append(filters.source_kind)
    return " AND ".join(conditions), params


def _in_sql(column: str, values: list) -> str:
    """`column` IN the values (their parameters follow), false when none."""
    if not values:
        return "1 = 0"
    return f"{column} IN ({', '.join(['%s'] * len(values))})"


def _branch(selected: list[str], sums: str, source: str, where: str, grouped) -> str:
    """SELECT `selected` and `sums` FROM `source` WHERE `where`, grouped."""
    sql = f"SELECT {', '.join([*selected, sums])} FROM {source} WHERE {where}"
    return sql + (f" GROUP BY {', '.join(grouped)}" if grouped else "")


CENT = Decimal("0.01")


def _money(value) -> Decimal:
    """A sum of values from a written-out query as the ORM gives it: SQLite
    adds up decimals as floats, PostgreSQL as numerics."""
    return Decimal(value or 0).quantize(CENT)


# A user as the pages name them (User.__str__): display name, else email.
OWNER_NAME = "COALESCE(NULLIF(u.display_name, ''), u.email) AS owner_name"


# -- Whole months from the summaries, the rest from the referrals ---------------


def next_month(day: date) -> date:
    return (day.replace(day=28) + timedelta(days=4)).replace(day=1)


def month_pieces(
    start: date, end: date, whole_months: bool = True
) -> tuple[tuple[date, date] | None, list[tuple[date, date, date]]]:
    """Split the days start..end into whole months and the pieces left.

    Returns (first, last) whole month (None when there is none) and the
    pieces as (from, to, month), each within one month.
    """
    whole, ranges = None, [(start, end)]
    if whole_months:
        first = start if start.day == 1 else next_month(start)
        stop = month_of(end + timedelta(days=1))  # the first month not whole
        if first < stop:
            whole = (first, month_of(stop - timedelta(days=1)))
            ranges = [(start, first - timedelta(days=1)), (stop, end)]
    pieces = []
    for day, last in ranges:
        while day <= last:
            to = min(last, next_month(day) - timedelta(days=1))
            pieces.append((day, to, month_of(day)))
            day = to + timedelta(days=1)
    return whole, pieces


# The referrals' date each summary's month is taken from.
MONTH_OF = {ReceivedTotal: "received_on", ClosedTotal: "closed_at"}


def month_part(
    filters: DashboardFilters,
    summary: type[ReceivedTotal] | type[ClosedTotal],
    group: list[str],
    stage_ids: list[int] | None = None,
) -> Part | None:
    """The period's referrals (received, or closed) grouped by `group` (which
    may name "month"), of the stages `stage_ids` if given: a part whose rows
    are the group's columns, then how many and their value (_month_rows
    reads them); None when there is nothing to read.

    Whole months are read from the summary and only the pieces of months
    at the period's edges from the referrals, in one UNION ALL query,
    written out and added up by the database. The summaries have no source
    kind, and closed months are in the site's time zone: with a source-kind
    filter, or for a user in another time zone, the whole period is counted
    from the referrals.
    """
    whole_months = not filters.source_kind and (
        summary is not ClosedTotal
        or timezone.get_current_timezone_name() == settings.TIME_ZONE
    )
    whole, pieces = month_pieces(filters.start, filters.end, whole_months)
    by_month = "month" in group
    keys = [GROUPED[name] for name in group if name != "month"]

    def stages(alias: str) -> str:
        return "1 = 1" if stage_ids is None else _in_sql(f"{alias}.stage_id", stage_ids)

    branches, params = [], []
    if whole is not None:  # the summary's rows for whole months
        where, scope = _scope_sql(filters, alias="s")
        month = ["s.month"] if by_month else []
        branches.append(
            _branch(
                [f"s.{key}" for key in keys] + [f"{m} AS m" for m in month],
                "SUM(s.count) AS n, SUM(s.value) AS total",
                f"{_table(summary)} s",
                f"{where} AND s.month BETWEEN %s AND %s AND {stages('s')}",
                [f"s.{key}" for key in keys] + month,
            )
        )
        params += [*scope, *whole, *(stage_ids or [])]
    if not by_month:
        pieces = _joined(pieces)
    field = MONTH_OF[summary]
    for day, last, month in pieces:  # each a range on an (owner, date) index
        first, final = day, last
        if field == "closed_at":
            first, final = (
                _moment(timezone.make_aware(datetime.combine(value, moment)))
                for value, moment in ((day, time.min), (last, time.max))
            )
        where, scope = _scope_sql(filters)
        branches.append(
            _branch(
                [f"r.{key}" for key in keys] + (["%s AS m"] if by_month else []),
                "COUNT(*) AS n, SUM(r.estimated_value) AS total",
                f"{_table(Referral)} r",
                f"{where} AND r.{field} BETWEEN %s AND %s AND {stages('r')}",
                [f"r.{key}" for key in keys],
            )
        )
        params += [*([month] if by_month else []), *scope, first, final]
        params += stage_ids or []
    if not branches:
        return None
    outer = keys + (["m"] if by_month else [])
    sql = _branch(
        outer,
        "CAST(SUM(n) AS BIGINT), SUM(total)",
        f"({' UNION ALL '.join(branches)}) parts",
        "1 = 1",
        outer,
    )
    kinds = "".join(GROUPED_KINDS[name] for name in group if name != "month")
    kinds += ("d" if by_month else "") + "ix"
    return Part(sql + " HAVING SUM(n) <> 0", params, kinds)


def _month_rows(found: list[tuple], group: list[str]) -> list[dict]:
    """A month_part's rows as {*group, "n", "total"} (how many, their value)."""
    by_month = "month" in group
    names = [name for name in group if name != "month"] + (
        ["month"] if by_month else []
    )
    rows = []
    for *key, count, total in found:
        row = dict(zip(names, key, strict=True))
        if by_month and isinstance(row["month"], str):  # SQLite gives text
            row["month"] = date.fromisoformat(row["month"])
        rows.append({**row, "n": int(count), "total": _money(total)})
    return rows


# The summaries' and the referrals' columns a month_part() group names, and
# their kinds (Part).
GROUPED = {
    "owner": "owner_id",
    "stage": "stage_id",
    "furthest_position": "furthest_position",
    "lost_reason": "lost_reason",
    "label": "label",
}
GROUPED_KINDS = {
    "owner": "i",
    "stage": "i",
    "furthest_position": "i",
    "lost_reason": "t",
    "label": "t",
}
# The period's referrals as the funnel, the reps and the labels count them.
RECEIVED_GROUP = ["owner", "stage", "furthest_position", "lost_reason", "label"]


def _joined(pieces: list[tuple[date, date, date]]) -> list[tuple[date, date, date]]:
    """Adjacent pieces as one range (when months need not be told apart)."""
    ranges: list[tuple[date, date, date]] = []
    for day, last, month in pieces:
        if ranges and ranges[-1][1] + timedelta(days=1) == day:
            day = ranges.pop()[0]
        ranges.append((day, last, month))
    return ranges


def _summed(rows, by: str, fields=("n", "total")) -> dict:
    """Rows added up per column `by`: {key: {field: sum}} for each of
    `fields` (None counts as 0)."""
    sums: dict = {}
    for row in rows:
        into = sums.setdefault(row[by], dict.fromkeys(fields, 0))
        for name in fields:
            into[name] += row[name] or 0
    return sums


# -- Medians ------------------------------------------------------------------


def medians(
    filters: DashboardFilters, group: str, end: str, where: str = "", params=()
) -> tuple[str, list]:
    """A statement of (group value, median seconds from logging to `end`)
    over the period's referrals that have `end` and match `where` (a
    condition on the referrals `r`, with its `params`), and its parameters.
    `group` and `end` are columns. To run alone or inside a larger statement
    (core.sql.median_seconds_sql: percentile_cont on PostgreSQL, a window on
    SQLite, which has no median aggregate).
    """
    scope_where, scope = _scope_sql(filters)
    rows = (
        f"FROM {_table(Referral)} r WHERE {scope_where} "
        f"AND r.received_on BETWEEN %s AND %s AND r.{end} IS NOT NULL{where}"
    )
    sql = median_seconds_sql(
        rows, key=f"r.{group}", start="r.created_at", end=f"r.{end}"
    )
    return sql, [*scope, filters.start, filters.end, *params]


# -- The grouped reads (Part) the sections share ----------------------------------


def pipeline_part(filters: DashboardFilters) -> Part:
    """Referrals there now per owner and stage: (owner, stage, how many,
    their value). Pipeline now sums them per stage, the reps' open pipeline
    per owner.

    From the PipelineTotal summary (a few rows per rep) instead of counting
    every referral; it has no source kind, so that filter counts referrals.
    """
    if filters.source_kind:
        where, params = _scope_sql(filters)
        sql = (
            "SELECT r.owner_id, r.stage_id, COUNT(*), SUM(r.estimated_value) "
            f"FROM {_table(Referral)} r WHERE {where} GROUP BY r.owner_id, r.stage_id"
        )
    else:
        where, params = _scope_sql(filters, alias="s")
        sql = (
            "SELECT s.owner_id, s.stage_id, SUM(s.count), SUM(s.value) "
            f"FROM {_table(PipelineTotal)} s WHERE {where} "
            "GROUP BY s.owner_id, s.stage_id"
        )
    return Part(sql, params, "iiix")


def thanks_due_part(filters: DashboardFilters) -> Part:
    """Thank-yous whose deadline fell in the period and has passed (or are
    done), not cancelled, per owner and moment: (owner, moment, how many, on
    time, skipped). On time: sent or done by the deadline, as
    ThankYou.was_on_time.

    Written out, on the copied owner: an (owner, deadline) index, no join.
    """
    where, scope = _scope_sql(filters, alias="t")
    finished = list(ThankYou.FINISHED)
    sql = (
        "SELECT t.owner_id, t.moment, COUNT(*), "
        f"COUNT(*) FILTER (WHERE {_in_sql('t.status', finished)} AND "
        "COALESCE(t.sent_at, t.completed_at) <= t.deadline_at), "
        "COUNT(*) FILTER (WHERE t.status = %s) "
        f"FROM {_table(ThankYou)} t WHERE t.referral_id IS NOT NULL "
        f"AND {where} AND t.deadline_at BETWEEN %s AND %s AND t.status <> %s "
        "GROUP BY t.owner_id, t.moment"
    )
    params = [
        *finished,
        ThankYou.Status.SKIPPED,
        *scope,
        _moment(filters.start_at),
        _moment(min(filters.end_at, filters.now)),
        ThankYou.Status.CANCELLED,
    ]
    return Part(sql, params, "itiii")


def speed_part(filters: DashboardFilters) -> Part:
    """Per owner, the median seconds from logging a referral of the period
    to its first contact: (owner, seconds)."""
    return Part(*medians(filters, "owner_id", "first_contacted_at"), "ix")


def won_by_owner_part(filters: DashboardFilters) -> Part | None:
    """Value won in the period per owner (month_part: owner, how many, value)."""
    return month_part(
        filters, ClosedTotal, ["owner"], filters.stage_ids(Stage.Kind.WON)
    )


def trend_days_part(filters: DashboardFilters) -> Part:
    """Per day of the period: (day, referrals received, None, None) and
    (None, None, day, value won that closed that day, in the viewer's time
    zone)."""
    where, scope = _scope_sql(filters)
    won_ids = filters.stage_ids(Stage.Kind.WON)
    closed_on, tz = connection.ops.datetime_cast_date_sql(
        "r.closed_at", (), timezone.get_current_timezone_name()
    )
    sql = (
        "SELECT r.received_on, COUNT(*), NULL, NULL "
        f"FROM {_table(Referral)} r WHERE {where} "
        "AND r.received_on BETWEEN %s AND %s GROUP BY r.received_on "
        f"UNION ALL SELECT NULL, NULL, {closed_on}, SUM(r.estimated_value) "
        f"FROM {_table(Referral)} r WHERE {where} AND "
        f"{_in_sql('r.stage_id', won_ids)} AND r.closed_at BETWEEN %s AND %s "
        "GROUP BY 3"
    )
    params = [
        *scope,
        filters.start,
        filters.end,
        *tz,
        *scope,
        *won_ids,
        _moment(filters.start_at),
        _moment(filters.end_at),
    ]
    return Part(sql, params, "didx")


def trend_months_received_part(filters: DashboardFilters) -> Part | None:
    return month_part(filters, ReceivedTotal, ["month"])


def trend_months_won_part(filters: DashboardFilters) -> Part | None:
    return month_part(
        filters, ClosedTotal, ["month"], filters.stage_ids(Stage.Kind.WON)
    )


# Each grouped read by name (DashboardFilters.read), and those of a whole page.
PARTS = {
    "pipeline": pipeline_part,
    "received": lambda filters: month_part(filters, ReceivedTotal, RECEIVED_GROUP),
    "thanks_due": thanks_due_part,
    "speed": speed_part,
    "won_by_owner": won_by_owner_part,
    "trend_days": trend_days_part,
    "trend_months_received": trend_months_received_part,
    "trend_months_won": trend_months_won_part,
}
TREND_PARTS = {
    "week": ["trend_days"],
    "month": ["trend_months_received", "trend_months_won"],
    "year": ["trend_months_received", "trend_months_won"],
}
PAGE_PARTS = ["pipeline", "received", "thanks_due", "speed", "won_by_owner"]


# -- Sections -------------------------------------------------------------------


def pipeline_now(filters: DashboardFilters) -> dict:
    """Per stage: count, total and weighted value of the referrals there now.

    An archived stage is listed only while referrals are still in it; they
    are open pipeline all the same, in the forecast and the reps' open counts.
    """
    totals = _summed(filters.pipeline, "stage")
    rows, forecast = [], Decimal(0)
    for stage in filters.stages:
        if stage.is_archived and not totals.get(stage.pk, {}).get("n"):
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
    received = filters.received
    rows, previous = [], None
    for index, stage in enumerate(steps):
        count = sum(
            row["n"]
            for row in received
            if index == 0 or row["furthest_position"] >= stage.position
        )
        rows.append(
            {"stage": stage, "count": count, "conversion": _share(count, previous)}
        )
        previous = count
    lost_ids = filters.stage_ids(Stage.Kind.LOST)
    reasons = Counter()
    for row in received:
        if row["stage"] in lost_ids:
            reasons[row["lost_reason"]] += row["n"]
    lost = [
        {"lost_reason": reason, "count": count}
        for reason, count in sorted(
            reasons.items(), key=lambda item: (-item[1], item[0])
        )
    ]
    return {"rows": rows, "lost_reasons": lost}


def _share(part, whole):
    return None if not whole else part / whole


# A source is listed by its qualified share once this many of the period's
# referrals from it were assessed: one lucky referral does not top the list.
QUALIFIED_SHARE_MIN_ASSESSED = 3
QUALIFIED_SHARE_SHOWN = 5
# Each list's order, written once for its LIMIT and its rows' places.
BEST_ORDER = "sent DESC, won_value DESC, source_id"
SHARE_ORDER = (
    "qualified * 1.0 / NULLIF(assessed, 0) DESC, qualified DESC, sent DESC, "
    "won_value DESC, source_id"
)
NEGLECTED_ORDER = "sent DESC, source_id"


def _top(rows: str, order: str) -> str:
    """The first rows of `rows` (a FROM clause) by `order`, as many as the
    parameter of its LIMIT says, each with its place (1, 2, ...): numbered
    after the LIMIT, over those few rows only."""
    return (
        f"SELECT first_rows.*, ROW_NUMBER() OVER (ORDER BY {order}) AS place "
        f"FROM (SELECT * FROM {rows} ORDER BY {order} LIMIT %s) first_rows"
    )


def sources(filters: DashboardFilters, limit: int = 10) -> dict:
    """Best sources of the period by volume and by qualified share, and those
    who sent referrals but were never thanked.

    One statement, written out: the period's referrals grouped by source
    once (sent, won, value won, qualified, assessed), the first few of each
    list (best: by referrals sent then value won; by qualified share: the
    qualified of the assessed, among sources with at least
    QUALIFIED_SHARE_MIN_ASSESSED assessed; never thanked: by referrals
    sent), the best ones' median days to close, and only the sources
    listed joined to their partner (no scan of every partner, no query per
    list).
    """
    won_ids = filters.stage_ids(Stage.Kind.WON)
    is_won = _in_sql("r.stage_id", won_ids)
    where, scope = _scope_sql(filters)
    period = (
        f"FROM {_table(Referral)} r WHERE {where} AND r.received_on BETWEEN %s AND %s"
    )
    in_period = [*scope, filters.start, filters.end]
    closing, closing_params = medians(
        filters,
        "source_id",
        "closed_at",
        f" AND {is_won} AND r.source_id IN (SELECT source_id FROM best)",
        won_ids,
    )
    figures = "sent, won_count, won_value, qualified, assessed"
    listed = list(
        Partner.objects.raw(
            "WITH per_source AS (SELECT r.source_id, COUNT(*) AS sent, "
            f"COUNT(*) FILTER (WHERE {is_won}) AS won_count, "
            f"COALESCE(SUM(r.estimated_value) FILTER (WHERE {is_won}), 0) AS won_value, "
            "COUNT(*) FILTER (WHERE r.label = %s) AS qualified, "
            "COUNT(*) FILTER (WHERE r.label <> %s) AS assessed "
            f"{period} GROUP BY r.source_id), "
            f"best AS ({_top('per_source', BEST_ORDER)}), "
            f"by_share AS ({_top('per_source WHERE assessed >= %s', SHARE_ORDER)}), "
            f"never_thanked AS (SELECT r.source_id, COUNT(*) AS sent {period} "
            f"AND r.source_id IN (SELECT id FROM {_table(Partner)} "
            "WHERE last_thanked_at IS NULL) GROUP BY r.source_id), "
            f"neglected AS ({_top('never_thanked', NEGLECTED_ORDER)}), "
            f"closing AS ({closing}) "
            "SELECT p.id, p.name, p.company, p.kind, p.last_thanked_at, "
            f"listed.which, listed.place, {figures}, "
            "closing.seconds AS close_seconds "
            f"FROM (SELECT 1 AS which, place, source_id, {figures} FROM best "
            f"UNION ALL SELECT 3, place, source_id, {figures} FROM by_share "
            "UNION ALL SELECT 2, place, source_id, sent, 0, 0, 0, 0 "
            "FROM neglected) listed "
            f"JOIN {_table(Partner)} p ON p.id = listed.source_id "
            "LEFT JOIN closing ON listed.which = 1 "
            "AND closing.median_of = listed.source_id "
            "ORDER BY listed.which, listed.place",
            [
                *won_ids,
                *won_ids,
                Label.QUALIFIED,
                Label.UNASSESSED,
                *in_period,
                limit,
                QUALIFIED_SHARE_MIN_ASSESSED,
                QUALIFIED_SHARE_SHOWN,
                *in_period,
                limit,
                *closing_params,
            ],
        )
    )
    for partner in listed:
        partner.won_value = _money(partner.won_value)
        partner.conversion = _share(partner.won_count, partner.sent)
        partner.qualified_share = _share(partner.qualified, partner.assessed)
        median = partner.close_seconds
        partner.median_days_to_close = None if median is None else float(median) / 86400
    return {
        "best": [partner for partner in listed if partner.which == 1],
        "by_share": [partner for partner in listed if partner.which == 3],
        "neglected": [partner for partner in listed if partner.which == 2],
        "min_assessed": QUALIFIED_SHARE_MIN_ASSESSED,
    }


# The labels as the dashboard lists them: the best first, not assessed last.
LABELS = [Label.QUALIFIED, Label.LUKEWARM, Label.COLD, Label.UNASSESSED]


def labels(filters: DashboardFilters) -> dict:
    """The period's referrals by label: how many were received, reached the
    first meeting (the stage marked "First meeting held", or a later open or
    won one, as the funnel counts a step; None without such a stage), are
    won now, are closed now (won or lost), the win rate (won of closed) and
    the value won.

    From the period's grouped read the funnel and the reps share: no query
    of its own (the summaries are kept by label).
    """
    meeting = next(
        (s for s in filters.stages if s.milestone == Stage.Milestone.MEETING), None
    )
    won_ids = set(filters.stage_ids(Stage.Kind.WON))
    closed_ids = won_ids | set(filters.stage_ids(Stage.Kind.LOST))
    rows = {
        label: {
            "label": label,
            "name": label.label,
            "received": 0,
            "meeting": 0 if meeting else None,
            "won": 0,
            "closed": 0,
            "won_value": Decimal(0),
        }
        for label in LABELS
    }
    for each in filters.received:
        row = rows[each["label"]]
        row["received"] += each["n"]
        if meeting and each["furthest_position"] >= meeting.position:
            row["meeting"] += each["n"]
        if each["stage"] in closed_ids:
            row["closed"] += each["n"]
        if each["stage"] in won_ids:
            row["won"] += each["n"]
            row["won_value"] += each["total"]
    for row in rows.values():
        row["win_rate"] = _share(row["won"], row["closed"])
    return {"rows": list(rows.values()), "meeting_stage": meeting}


THANKS_FIELDS = ("total", "on_time", "skipped")
OVERDUE_SHOWN = 10  # on the page; the Overdue CSV has every one


def thank_you_compliance(filters: DashboardFilters) -> dict:
    """Share of thank-yous done on time, per moment and per rep, and what is overdue."""
    per_moment = _summed(filters.thanks_due, "moment", THANKS_FIELDS)
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
    # The page's first few, each carrying how many there are in all: counted
    # once (a subquery apart from the rows), from the pending index alone. (A
    # window count would join every overdue row before the LIMIT.)
    first = list(overdue_thanks(filters, limit=OVERDUE_SHOWN, counted=True))
    return {
        "moments": moments,
        "total": overall["total"],
        "on_time": overall["on_time"],
        "share": _share(overall["on_time"], overall["total"]),
        "overdue_first": first,
        "overdue_count": first[0].overdue_count if first else 0,
        "overdue_shown": OVERDUE_SHOWN,
    }


def overdue_thanks(
    filters: DashboardFilters, limit: int | None = None, counted: bool = False
):
    """Thank-yous past their deadline and not done, most overdue first (the
    first `limit`), with what the page and the Overdue CSV show of each:
    source_name, prospect_name and owner_name besides their own fields, and
    when `counted`, overdue_count: how many there are in all."""
    where, params = _overdue_sql(filters, alias="t")
    count, count_params = "", []
    if counted:
        count_where, count_params = _overdue_sql(filters, alias="c")
        count = (
            f", (SELECT COUNT(*) FROM {_table(ThankYou)} c WHERE {count_where}) "
            "AS overdue_count"
        )
    return ThankYou.objects.raw(
        "SELECT t.id, t.moment, t.channel, t.status, t.deadline_at, t.referral_id, "
        f"p.name AS source_name, r.prospect_name, {OWNER_NAME}{count} "
        f"FROM {_table(ThankYou)} t "
        f"JOIN {_table(Referral)} r ON r.id = t.referral_id "
        f"JOIN {_table(User)} u ON u.id = r.owner_id "
        f"JOIN {_table(Partner)} p ON p.id = t.source_id "
        f"WHERE {where} ORDER BY t.deadline_at, t.id" + (" LIMIT %s" if limit else ""),
        [*count_params, *params, *([limit] if limit else [])],
    )


def _overdue_sql(filters: DashboardFilters, alias: str) -> tuple[str, list]:
    """Overdue: pending, deadline passed; on the copied owner (an index)."""
    where, scope = _scope_sql(filters, alias=alias)
    pending = list(ThankYou.PENDING)
    return (
        f"{alias}.referral_id IS NOT NULL AND {where} AND "
        f"{_in_sql(f'{alias}.status', pending)} AND {alias}.deadline_at < %s",
        [*scope, *pending, _moment(filters.now)],
    )


def reps(filters: DashboardFilters) -> list[dict]:
    """Per rep: speed to first contact, open pipeline, won value, conversion, thanks on time."""
    # Reps who left are listed too while they have figures here: their
    # referrals count in every total above, and are waiting to be handed on.
    if filters.owners is None:  # everyone's
        visible_reps = User.objects.order_by("display_name", "email")
    else:
        visible_reps = filters.owners
    filters.read("received", "won_by_owner", "pipeline", "thanks_due", "speed")
    won_ids = filters.stage_ids(Stage.Kind.WON)
    per_rep: dict[int, dict] = {}
    for row in filters.received:
        counts = per_rep.setdefault(row["owner"], {"received": 0, "won": 0})
        counts["received"] += row["n"]
        if row["stage"] in won_ids:
            counts["won"] += row["n"]
    won_value = {
        row["owner"]: row["total"]
        for row in _month_rows(filters.part("won_by_owner"), ["owner"])
    }
    open_ids = filters.stage_ids(Stage.Kind.OPEN)
    open_pipeline = _summed(
        (row for row in filters.pipeline if row["stage"] in open_ids), "owner"
    )
    thanks = _summed(filters.thanks_due, "owner", THANKS_FIELDS)
    speed = {owner: float(seconds) for owner, seconds in filters.part("speed")}
    rows = []
    for rep in visible_reps:
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


def stale_referrals(filters: DashboardFilters, limit: int | None = 25) -> dict:
    """Open referrals past their stage's SLA with no activity since: how many,
    and the oldest first, with what the page and the CSV show of each.

    One query, written out (the ORM spent more time building it than the
    database running it): one branch per stage glued with UNION ALL, each a
    range on the (owner, stage, stage_entered_at) index, where an OR of the
    stages' cut-offs made PostgreSQL read every referral of the team; a
    window count over them (the index alone answers each branch); then only
    the first rows joined to their stage, owner and source.
    """
    branches, params = [], []
    where, scope = _scope_sql(filters)
    for stage, cutoff in stale_cutoffs(filters.now, filters.stages):
        # As referrals.selectors.stale_per_stage.
        cutoff = _moment(cutoff)
        branches.append(
            "SELECT r.id AS pk, r.stage_entered_at AS entered "
            f"FROM {_table(Referral)} r WHERE {where} AND r.stage_id = %s "
            "AND r.stage_entered_at < %s "
            "AND (r.last_activity_at IS NULL OR r.last_activity_at < %s)"
        )
        params += [*scope, stage.pk, cutoff, cutoff]
    if not branches:
        return {"count": 0, "oldest": []}
    union = " UNION ALL ".join(branches)
    rows = Referral.objects.raw(
        "SELECT r.id, r.prospect_name, r.prospect_company, r.stage_entered_at, "
        f"s.name AS stage_name, {OWNER_NAME}, p.name AS source_name, "
        "stale.n AS stale_count "
        "FROM (SELECT pk, entered, COUNT(*) OVER () AS n "
        f"FROM ({union}) branches ORDER BY entered, pk"
        f"{'' if limit is None else ' LIMIT %s'}) stale "
        f"JOIN {_table(Referral)} r ON r.id = stale.pk "
        f"JOIN {_table(Stage)} s ON s.id = r.stage_id "
        f"JOIN {_table(User)} u ON u.id = r.owner_id "
        f"JOIN {_table(Partner)} p ON p.id = r.source_id "
        "ORDER BY stale.entered, stale.pk",
        [*params, *([] if limit is None else [limit])],
    )
    oldest = list(rows)
    return {"count": oldest[0].stale_count if oldest else 0, "oldest": oldest}


TREND_MONTHS_AFTER_DAYS = 120  # weeks up to 4 months, then months
TREND_YEARS_AFTER_DAYS = 3 * 366  # then years: 40 bars at most of each


def trend(filters: DashboardFilters) -> dict:
    """Referrals received and value won per week, per month beyond 4
    months, per year beyond 3 years."""
    unit = trend_unit(filters)
    filters.read(*TREND_PARTS[unit])
    received, won = Counter(), Counter()
    if unit == "week":
        # Counted per day and added up per week here: grouping the dates as
        # they are is half the database's work of truncating each to its week.
        for received_on, count, closed_on, value in filters.part("trend_days"):
            if received_on:
                received[_week_of(received_on)] += count
            else:
                won[_week_of(closed_on)] += _money(value)
    else:  # each month's row into its bucket (itself, or its year)
        for row in _month_rows(filters.part("trend_months_received"), ["month"]):
            received[_bucket_start(row["month"], unit)] += row["n"]
        for row in _month_rows(filters.part("trend_months_won"), ["month"]):
            won[_bucket_start(row["month"], unit)] += row["total"] or 0
    buckets = []
    cursor = _bucket_start(filters.start, unit)
    while cursor <= filters.end:
        following = _next_bucket(cursor, unit)
        buckets.append(
            {
                "start": cursor,
                # The bucket's days within the period (its drill-down).
                "first": max(cursor, filters.start),
                "last": min(following - timedelta(days=1), filters.end),
                "received": received.get(cursor, 0),
                "won_value": won.get(cursor) or Decimal(0),
            }
        )
        cursor = following
    return {"unit": unit, "buckets": buckets}


def trend_unit(filters: DashboardFilters) -> str:
    """The trend's bars: weeks, months beyond 4 months, years beyond 3 years."""
    days = (filters.end - filters.start).days
    if days > TREND_YEARS_AFTER_DAYS:
        return "year"
    return "month" if days > TREND_MONTHS_AFTER_DAYS else "week"


def _bucket_start(day: date, unit: str) -> date:
    """The first day of the trend's week (a Monday), month or year of `day`."""
    if unit == "year":
        return day.replace(month=1, day=1)
    if unit == "month":
        return day.replace(day=1)
    return _week_of(day)


def _next_bucket(start: date, unit: str) -> date:
    if unit == "year":
        return start.replace(year=start.year + 1)
    if unit == "month":
        return next_month(start)
    return start + timedelta(days=7)


def _week_of(day) -> date:
    """The Monday of a day's week (SQLite gives a day as text)."""
    day = date.fromisoformat(day) if isinstance(day, str) else day
    return day - timedelta(days=day.weekday())


def asks(filters: DashboardFilters) -> dict:
    """Customers asked for referrals in the period (partners.asking's
    asks_summary: the customers of the owners in view, the one scoping rule),
    per channel, and the referrals that followed within FOLLOWED_DAYS days,
    with how many followed per ask.

    One query of its own, not a part of the grouped reads' statement: what
    "followed" means is written once, in partners.asking, and a Part would
    restate it in SQL here.

    Every team's view keeps it in its snapshot with the other figures (this
    section is rendered with them), rather than counting it live on each
    visit: the count joins every asked customer's referrals, all of them,
    and at the bench's million referrals a year of every team's asks took
    longer than the rest of that view's count (measured: this section's
    commit message); a live figure would also be the one newer than the
    page's "as of".

    Only customers are asked: a view of another source kind has no asks
    (`kind_asked` False), and no query is made for it.
    """
    kind_asked = filters.source_kind in ("", Partner.Kind.CUSTOMER)
    summary = dict.fromkeys(
        ("asks", *Ask.Channel.values, "customers", "referrals_followed"), 0
    )
    if kind_asked:
        day_after = timezone.make_aware(
            datetime.combine(filters.end + timedelta(days=1), time.min)
        )
        summary = asks_summary(
            owner_ids=filters.owner_ids, start=filters.start_at, end=day_after
        )
    by_channel = [
        {"channel": value, "label": label, "count": summary[value]}
        for value, label in Ask.Channel.choices
    ]
    return {
        **summary,
        "by_channel": by_channel,
        "followed_per_ask": _share(summary["referrals_followed"], summary["asks"]),
        "followed_days": FOLLOWED_DAYS,
        "kind_asked": kind_asked,
    }


ONE_SIDED_SHOWN = 5


def one_sided(filters: DashboardFilters, limit: int | None = ONE_SIDED_SHOWN) -> dict:
    """The most one-sided relationships with referral partners in the
    period, both ways: those who sent us referrals we did not return
    ("they_send": received less given, the largest first) and those we gave
    referrals who sent few back ("we_give"), `limit` of each (None: all).

    One statement: the period's referrals per partner (on the owner and
    date index) and the referrals given per partner, added up per partner,
    then only the first rows of each list joined to the partner. Only
    referral partners are counted: a view of another source kind has none
    (`kind_counted` False) and makes no query.
    """
    kind_counted = filters.source_kind in ("", Partner.Kind.PARTNER)
    empty = {"they_send": [], "we_give": [], "kind_counted": kind_counted}
    if not kind_counted or filters.owner_ids == []:
        return empty
    owners, owner_params = "1 = 1", []
    if filters.owner_ids is not None:
        owners = _in_sql("owner_id", filters.owner_ids)
        owner_params = list(filters.owner_ids)
    partners = "SELECT id FROM team_partners"
    where, scope = _scope_sql(filters)
    per_partner = (
        "SELECT pid, SUM(received) AS received, SUM(given) AS given FROM ("
        "SELECT r.source_id AS pid, COUNT(*) AS received, 0 AS given "
        f"FROM {_table(Referral)} r WHERE {where} "
        "AND r.received_on BETWEEN %s AND %s "
        f"AND r.source_id IN ({partners}) GROUP BY r.source_id "
        "UNION ALL SELECT g.partner_id, 0, COUNT(*) "
        f"FROM {_table(GivenReferral)} g WHERE g.given_on BETWEEN %s AND %s "
        f"AND g.partner_id IN ({partners}) GROUP BY g.partner_id"
        ") sides GROUP BY pid"
    )
    params = [
        Partner.Kind.PARTNER,
        *owner_params,
        *scope,
        filters.start,
        filters.end,
        filters.start,
        filters.end,
    ]
    cap = "" if limit is None else " LIMIT %s"
    caps = [] if limit is None else [limit]
    rows = Partner.objects.raw(
        # The view's referral partners, read once for both sides.
        f"WITH team_partners AS (SELECT id FROM {_table(Partner)} "
        f"WHERE kind = %s AND {owners}), per_partner AS ({per_partner}) "
        "SELECT p.id, p.name, p.company, listed.which, listed.received, "
        "listed.given FROM ("
        "SELECT * FROM (SELECT 1 AS which, pid, received, given FROM per_partner "
        f"WHERE received > given ORDER BY received - given DESC, pid{cap}) first "
        "UNION ALL "
        "SELECT * FROM (SELECT 2, pid, received, given FROM per_partner "
        f"WHERE given > received ORDER BY given - received DESC, pid{cap}) second"
        f") listed JOIN {_table(Partner)} p ON p.id = listed.pid "
        "ORDER BY listed.which, ABS(listed.received - listed.given) DESC, p.id",
        [*params, *caps, *caps],
    )
    listed = list(rows)
    for partner in listed:
        partner.received, partner.given = int(partner.received), int(partner.given)
        partner.balance = partner.received - partner.given
    return {
        "they_send": [p for p in listed if p.which == 1],
        "we_give": [p for p in listed if p.which == 2],
        "kind_counted": kind_counted,
    }


def dashboard(filters: DashboardFilters) -> dict:
    """Every section of the page. Their grouped reads go first, together (one
    statement); then the sources, the overdue thank-yous and the stale
    referrals, one statement each, the asks (partners.asking) and the
    one-sided partnerships."""
    filters.read(*PAGE_PARTS, *TREND_PARTS[trend_unit(filters)])
    return {
        "pipeline": pipeline_now(filters),
        "funnel": funnel(filters),
        "labels": labels(filters),
        "sources": sources(filters),
        "reps": reps(filters),
        "compliance": thank_you_compliance(filters),
        "stale": stale_referrals(filters),
        "trend": trend(filters),
        "asks": asks(filters),
        "one_sided": one_sided(filters),
    }

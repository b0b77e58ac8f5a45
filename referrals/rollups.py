"""Summary tables kept current by the code that changes referrals.

Each change to a referral (logged, moved, edited, deleted) takes away what
the referral counted for before and adds what it counts for now, in the same
transaction, with one upsert per table: concurrent changes add up (each row is
updated under its lock) instead of overwriting each other. `rollups_rebuild()`
recomputes everything from the referrals, for imports and repairs.

- PipelineTotal: per owner and stage, the referrals there now.
- ReceivedTotal: per owner and month received, by stage, furthest stage
  reached and lost reason.
- ClosedTotal: per owner and month closed, by stage.

Each is by label too (qualified, lukewarm, cold, not assessed): a referral
assessed again moves from its old label's rows to its new label's
(referral_assess), so the dashboard splits its figures by label without
reading the referrals.
"""

from datetime import date, datetime
from decimal import Decimal
from typing import NamedTuple

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import OperationalError, transaction
from django.db.models import Count, Exists, F, Max, OuterRef, Q, Subquery, Sum
from django.db.models.functions import Coalesce, Greatest, TruncMonth
from django.utils import timezone

from referrals import sql
from referrals.models import (
    ClosedTotal,
    PipelineTotal,
    ReceivedTotal,
    Referral,
    Stage,
    StageChange,
)

# Each summary and the columns that identify one of its rows.
KEYS = {
    PipelineTotal: ("owner_id", "stage_id", "label"),
    ReceivedTotal: (
        "owner_id",
        "month",
        "stage_id",
        "furthest_position",
        "lost_reason",
        "label",
    ),
    ClosedTotal: ("owner_id", "month", "stage_id", "label"),
}


class Snapshot(NamedTuple):
    """What one referral counts for."""

    owner: int
    stage: int
    value: Decimal
    received_month: date
    furthest_position: int
    lost_reason: str
    closed_month: date | None
    label: str

    def rows(self):
        """(summary, row key) of each summary row the referral counts in."""
        yield PipelineTotal, (self.owner, self.stage, self.label)
        yield (
            ReceivedTotal,
            (
                self.owner,
                self.received_month,
                self.stage,
                self.furthest_position,
                self.lost_reason,
                self.label,
            ),
        )
        if self.closed_month:
            yield ClosedTotal, (self.owner, self.closed_month, self.stage, self.label)


def month_of(day: date) -> date:
    return day.replace(day=1)


def snapshot(referral: Referral) -> Snapshot:
    closed_at = referral.closed_at
    return Snapshot(
        owner=referral.owner_id,
        stage=referral.stage_id,
        value=referral.estimated_value or Decimal(0),
        received_month=month_of(referral.received_on),
        furthest_position=referral.furthest_position,
        lost_reason=referral.lost_reason,
        # The site's time zone, not the user's: the month a referral closed in
        # must not depend on who moved it.
        closed_month=month_of(
            timezone.localdate(closed_at, timezone.get_default_timezone())
        )
        if closed_at
        else None,
        label=referral.label,
    )


def referral_counted(
    *, before: Snapshot | None, after: Snapshot | None, recorded: tuple = ()
) -> None:
    """Move a referral's contribution from `before` to `after` (None: absent).

    `recorded`: new rows of the change itself (its StageChange), inserted
    first in the same round trip as the summaries' (sql.writes_together).
    """
    deltas: Deltas = {}
    if before != after:
        for state, sign in ((before, -1), (after, 1)):
            if state is None:
                continue
            for summary, key in state.rows():
                _count(deltas, summary, key, sign, sign * state.value)
    _apply(deltas, first=[sql.inserted([row]) for row in recorded])


# {(summary, row key): [count, value]} to add to the summaries.
Deltas = dict[tuple, list]


def _count(deltas: Deltas, summary, key: tuple, count: int, value: Decimal) -> None:
    delta = deltas.setdefault((summary, key), [0, Decimal(0)])
    delta[0] += count
    delta[1] += value


def _apply(deltas: Deltas, first: list[tuple[str, list]] = ()) -> None:
    """Add the deltas to their summaries' rows (those that change anything),
    with the writes `first`, in one round trip where the database allows.

    Each summary's rows in one upsert: an added count and value, so changes
    at once add up (each row is updated under its lock) instead of
    overwriting each other. The tables are always given in one order (KEYS,
    the order rollups_rebuild locks them in) and rows sorted, so two
    transactions touching the same rows lock them in the same order and
    cannot deadlock (core.sql.execute_together keeps an order too).
    """
    statements = list(first)
    for summary in KEYS:
        rows = sorted(
            (*key, count, value)
            for (table, key), (count, value) in deltas.items()
            if table is summary and (count or value)
        )
        if rows:
            statements.append(sql.summary_add(summary, KEYS[summary], rows))
    if statements:
        sql.writes_together(statements)


def _month(value) -> date:
    """A TruncMonth result as a date (it is a datetime on some databases)."""
    return value.date() if isinstance(value, datetime) else value


def _rebuilt(summary, row: dict):
    """A summary row from a grouped row of referrals."""
    fields = dict(row, value=row["value"] or Decimal(0))
    fields["owner_id"] = fields.pop("owner")
    fields["stage_id"] = fields.pop("stage")
    if "month" in fields:
        fields["month"] = _month(fields["month"])
    return summary(**fields)


def rollups_rebuild(*, owner_ids=None) -> int:
    """Recompute the summaries from the referrals (all owners, or some).

    Returns the number of summary rows written.
    """
    referrals = Referral.objects.order_by()
    if owner_ids is not None:
        referrals = referrals.filter(owner__in=owner_ids)
    groups = {
        PipelineTotal: referrals.values("owner", "stage", "label"),
        ReceivedTotal: referrals.annotate(month=TruncMonth("received_on")).values(
            "owner", "month", "stage", "furthest_position", "lost_reason", "label"
        ),
        ClosedTotal: referrals.filter(closed_at__isnull=False)
        .annotate(month=TruncMonth("closed_at", tzinfo=timezone.get_default_timezone()))
        .values("owner", "month", "stage", "label"),
    }
    written = 0
    with transaction.atomic():
        _lock_out_writers()
        for summary, rows in groups.items():
            existing = summary.objects.all()
            if owner_ids is not None:
                existing = existing.filter(owner__in=owner_ids)
            existing.delete()
            rows = rows.annotate(count=Count("*"), value=Sum("estimated_value"))
            created = summary.objects.bulk_create(
                (_rebuilt(summary, row) for row in rows.iterator(chunk_size=5000)),
                batch_size=5000,
            )
            written += len(created)
    return written


def _lock_out_writers() -> None:
    """Hold back changes to the summaries until the rebuild commits.

    A referral logged during a rebuild would otherwise add its row between the
    delete and the re-insert (a duplicate key), or be counted twice. Readers
    are not blocked; writers wait, then add their change to the rebuilt rows.
    SQLite's transactions already take the write lock when they begin.
    """
    sql.summaries_lock(list(KEYS))


def ever_in(stage: Stage) -> Q:
    """Referrals that ever entered `stage`: by their history, or being in it."""
    history = StageChange.objects.filter(referral=OuterRef("pk"), to_stage=stage)
    return Q(stage=stage) | Q(Exists(history))


def entered(stage: Stage) -> Q:
    """Referrals that entered `stage` as progress: a Lost stage never is."""
    return Q(pk__in=[]) if stage.kind == Stage.Kind.LOST else ever_in(stage)


def positions_swapped(*, moved_up: Stage, moved_down: Stage) -> int:
    """Keep each referral's furthest position reached (and the received
    summary, keyed by it) true after two neighbouring stages swapped places.

    The furthest position is the highest position among the stages a
    referral entered (its history, and the stage it is in), Lost aside.
    `moved_up` now holds the lower position `moved_down` had, and the other
    way round; no stage stands between them, so only referrals whose furthest
    was one of the two positions can change:
    - at the lower one, having entered `moved_down`: now its new position;
    - at the higher one, without having entered `moved_down`: now the lower.
    The caller holds lock_for_reorder(). Returns the referrals changed.
    """
    low, high = moved_up.position, moved_down.position
    passed_down = entered(moved_down)
    changed = Referral.objects.filter(
        (Q(furthest_position=low) & passed_down)
        | (Q(furthest_position=high) & ~passed_down)
    ).order_by()
    deltas: Deltas = {}
    grouped = (
        changed.annotate(month=TruncMonth("received_on"))
        .values("owner", "month", "stage", "furthest_position", "lost_reason", "label")
        .annotate(n=Count("*"), total=Sum("estimated_value"))
    )
    for row in grouped:
        was_at = row["furthest_position"]
        for furthest, sign in ((was_at, -1), (low + high - was_at, 1)):
            key = (
                row["owner"],
                _month(row["month"]),
                row["stage"],
                furthest,
                row["lost_reason"],
                row["label"],
            )
            value = row["total"] or Decimal(0)
            _count(deltas, ReceivedTotal, key, sign * row["n"], sign * value)
    updated = changed.update(furthest_position=low + high - F("furthest_position"))
    _apply(deltas)
    return updated


def furthest_recompute(referrals=None) -> int:
    """The furthest position reached of every referral (or of `referrals`),
    worked out again from its history under the current order, and their
    owners' summaries rebuilt. For positions or kinds changed in a way a swap
    does not describe. Returns the summary rows written."""
    highest = (
        StageChange.objects.filter(referral=OuterRef("pk"))
        .exclude(to_stage__kind=Stage.Kind.LOST)
        .order_by()
        .values("referral")
        .annotate(top=Max("to_stage__position"))
        .values("top")
    )
    # The stage it is in counts too (a history may have been imported short).
    current = Stage.objects.filter(pk=OuterRef("stage")).exclude(kind=Stage.Kind.LOST)
    computed = Greatest(
        Coalesce(Subquery(highest), 0),
        Coalesce(Subquery(current.values("position")), 0),
    )
    if referrals is None:
        Referral.objects.update(furthest_position=computed)
        return rollups_rebuild()
    owner_ids = set(referrals.values_list("owner", flat=True))
    Referral.objects.filter(pk__in=referrals.values("pk")).update(
        furthest_position=computed
    )
    return rollups_rebuild(owner_ids=owner_ids)


def lock_for_reorder() -> None:
    """Hold back every change to referrals until this transaction commits (a
    stage reorder: positions change under them). Reads go on. PostgreSQL
    only: SQLite's transactions already take the write lock when they begin."""
    sql.referrals_lock()


REORDER_IN_PROGRESS = (
    "The pipeline's stages are being reordered right now, so nothing was "
    "saved. Try again in a minute: what you entered is still here."
)


def wait_for_reorder() -> None:
    """Wait for a stage reorder in progress to commit before reading stage
    positions to write into a referral (the lock every insert or update of a
    referral takes anyway, taken before the positions are read).

    A reorder at a million referrals holds its lock for tens of seconds
    (bench/RESULTS.md): after
    REORDER_WAIT_SECONDS the change is refused with a message instead of
    outlasting the web server's timeout. (PostgreSQL only, like the lock.)
    """
    try:
        sql.referrals_lock_wait(int(settings.REORDER_WAIT_SECONDS * 1000))
    except OperationalError as error:
        raise ValidationError(REORDER_IN_PROGRESS) from error

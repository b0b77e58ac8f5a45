"""Every team's dashboard, shown from a snapshot of its figures.

A team's or a rep's dashboard is counted live on each visit. Every team's
(an admin's view, unfiltered by team or rep) means counting a company's whole
period: half a second to a second for a year at a million referrals, which a
room of admins would queue behind. Like the dashboards of the big CRMs, that
view shows figures "as of" a time: the rendered figures are kept
(DashboardSnapshot), a visit after DASHBOARD_SNAPSHOT_SECONDS counts them
again, and Refresh counts them now.

One visit counts a view at a time. The others are shown the previous figures
(their "as of" says so) or, when there are none yet, wait on the snapshot's
row lock for the first count instead of all counting at once. The row is the
truth: a recount's claim is a conditional update, a first count holds the row
locked, and older figures never replace newer ones.
Every `migrate` (each deploy) deletes the snapshots (referrals.apps), so
figures rendered by an older version are not shown after an upgrade.

The worker counts ahead of visits (snapshots_warm, every minute): a view an
admin has open in the last hour again once half its age has passed, and a
view opened in the last day for each new day's dates, so a visit finds
figures ready instead of waiting for a count.

A snapshot keeps HTML, not data: the figures hold model rows (stages,
sources, overdue thank-yous) with their drill-down links, which JSON would
have to spell out again field by field, a second copy of what the fragment
shows. The HTML is rendered by dashboard.tables.figures_html from the
figures fragment alone (no page template, no request: no user, no CSRF
token), so the worker renders exactly what a visit would.
"""

import hashlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial

from django.db import IntegrityError, transaction
from django.db.models import Max, Q
from django.utils import timezone
from django.utils.safestring import SafeString, mark_safe

from accounts.backends import users_with_role
from accounts.models import ADMIN
from dashboard.models import DashboardSnapshot
from dashboard.queries import DashboardFilters, filters_from_view
from dashboard.tables import figures_html

log = logging.getLogger(__name__)

# A count that has not finished in this long died: another visit may claim it.
CLAIM_EXPIRES = timedelta(minutes=2)
# Figures this young are not counted again on Refresh (two admins pressing
# it together, or a press right after a visit counted them).
REFRESH_AFTER = timedelta(seconds=10)
# Snapshots not counted for this long (a past day's view, a custom period
# nobody looks at any more) are deleted when a snapshot is saved.
KEPT_FOR = timedelta(days=2)
# The worker counts ahead of visits (snapshots_warm, every minute): a view
# in use (opened in the last RECOUNT_FOR) again once half its age has passed;
# a view opened in the last NEW_DAY_FOR once for each new day's dates. A
# visit records that it looked at most every VIEWED_EVERY (not one write per
# visit). A run starts no count after WARM_BUDGET seconds, so it never holds
# a worker process the thank-you emails need for long; the next run goes on.
RECOUNT_FOR = timedelta(hours=1)
NEW_DAY_FOR = timedelta(days=1)
VIEWED_EVERY = timedelta(minutes=10)
WARM_BUDGET = 20.0


@dataclass(frozen=True)
class Figures:
    """A dashboard's rendered figures; computed_at is None when counted live."""

    html: SafeString
    computed_at: datetime | None = None
    took_ms: int | None = None
    # When a visit last recorded that it looked, as the snapshot read says.
    viewed_at: datetime | None = None

    @property
    def took_seconds(self) -> float | None:
        return None if self.took_ms is None else self.took_ms / 1000


def is_snapshot_view(filters: DashboardFilters) -> bool:
    """Every team's figures (nobody's owners singled out) come from a snapshot."""
    return filters.owner_ids is None and DashboardSnapshot.max_age() > timedelta(0)


def snapshot_key(filters: DashboardFilters, view: str) -> str:
    """The view (its query string), its days and the time zone they are in:
    the same URL seen on another day, or from another zone, is counted anew."""
    parts = [
        view,
        filters.start.isoformat(),
        filters.end.isoformat(),
        timezone.get_current_timezone_name(),
    ]
    return hashlib.sha256("|".join(parts).encode()).hexdigest()


def snapshot_figures(
    *,
    filters: DashboardFilters,
    view: str,
    render: Callable[[], SafeString] | None = None,
    refresh: bool = False,
) -> Figures:
    """The figures of `view` (DashboardFilters.as_view()), rendered by
    `render` (the dashboard's figures unless told): live, or from the
    snapshot, counted again when stale or on refresh by one visit at a time."""
    render = render or partial(figures_html, filters, view)
    if not is_snapshot_view(filters):
        return Figures(render())
    key, now = snapshot_key(filters, view), filters.now
    fresh_for = REFRESH_AFTER if refresh else DashboardSnapshot.max_age()
    figures = _snapshot(key, view, now, render, fresh_for)
    # Recorded at most every VIEWED_EVERY: no write when the snapshot read
    # says a visit looked lately.
    if figures.viewed_at is None or figures.viewed_at < now - VIEWED_EVERY:
        unseen = Q(viewed_at__isnull=True) | Q(viewed_at__lt=now - VIEWED_EVERY)
        DashboardSnapshot.objects.filter(unseen, key=key).update(viewed_at=now)
    return figures


def snapshots_warm() -> int:
    """Count views of every team's dashboard ahead of their visits (see
    RECOUNT_FOR, NEW_DAY_FOR), the most recently opened first. Returns how
    many it counted."""
    max_age = DashboardSnapshot.max_age()
    admin = users_with_role().filter(role=ADMIN, is_active=True).order_by("pk")
    admin = admin.first()
    if max_age <= timedelta(0) or admin is None:
        return 0
    now = timezone.now()
    opened = (
        DashboardSnapshot.objects.filter(viewed_at__gte=now - NEW_DAY_FOR)
        .values_list("view", "time_zone")
        .annotate(last=Max("viewed_at"))
        .order_by("-last", "view", "time_zone")
    )
    stop, counted = time.monotonic() + WARM_BUDGET, 0
    for view, zone, last in opened:
        if time.monotonic() > stop:
            break
        in_use = last >= now - RECOUNT_FOR
        try:
            counted += _warmed(admin, view, zone, max_age / 2 if in_use else None)
        except Exception:  # the next view still gets its turn
            log.exception("Could not count the dashboard view %r (%s)", view, zone)
    return counted


def _warmed(admin, view: str, zone: str, fresh_for: timedelta | None) -> bool:
    """Count the view if its figures are older than `fresh_for` (None: only
    when there are none for today's dates yet); whether it was counted."""
    with timezone.override(zone or None):
        filters = filters_from_view(view, admin)
        if not is_snapshot_view(filters) or filters.as_view() != view:
            return False  # not a view a visit would ask for any more
        key = snapshot_key(filters, view)
        if DashboardSnapshot.objects.filter(key=key, html="").exists():
            return False  # a visit is making its first count: no waiting for it
        figures = _snapshot(
            key,
            view,
            filters.now,
            partial(figures_html, filters, view),
            timedelta.max if fresh_for is None else fresh_for,
            wait=False,
        )
        return figures is not None and figures.computed_at == filters.now


def _snapshot(
    key: str, view: str, now: datetime, render, fresh_for, wait: bool = True
) -> Figures | None:
    """The view's figures from its snapshot, counted (by this caller, or
    another) when there is none or it is older than `fresh_for`; None when
    not `wait`ing and another is making the first count."""
    snapshot = DashboardSnapshot.objects.filter(key=key).first()
    if snapshot is None or not snapshot.html:
        return _first_count(key, view, now, render, wait)
    if now - snapshot.computed_at <= fresh_for:
        return _figures(snapshot)
    if not _claimed(snapshot, now):  # another visit is counting it again
        return _figures(snapshot)
    return _count(key, view, now, render)


def _figures(snapshot: DashboardSnapshot) -> Figures:
    # The html is this application's own rendering of the figures.
    return Figures(
        mark_safe(snapshot.html),
        snapshot.computed_at,
        snapshot.took_ms,
        snapshot.viewed_at,
    )


def _first_claimed(key: str, view: str, now: datetime) -> bool:
    """Whether this visit inserted the view's empty snapshot (no figures
    yet): the row the first count locks."""
    try:
        with transaction.atomic():
            _row(key, view, now).save(force_insert=True)
    except IntegrityError:
        return False
    return True


def _first_count(
    key: str, view: str, now: datetime, render, wait: bool = True
) -> Figures | None:
    """A view's first figures, counted by one visit while the others at once
    wait for them in the database (a row lock), not in a sleep-and-look loop:

    1. Insert the view's empty snapshot, committed (the unique key lets one
       insert in; the others find it there).
    2. Lock it in a transaction held through the count, reading it again:
       SELECT ... FOR UPDATE takes the row lock on PostgreSQL; on SQLite
       (development) the transaction takes the database's write lock when
       it begins (transaction_mode IMMEDIATE). The other visits queue on
       that lock.
    3. Figures counted while this visit waited are shown; otherwise count
       them and save them before letting go.
    4. A count that fails rolls back and its empty snapshot is deleted, so the
       next visit counts it; a visit that was waiting then counts it itself.

    The worker (wait=False) skips a view another is counting (None); on
    SQLite, which has no row locks, it waits like a visit.
    """
    _first_claimed(key, view, now)
    try:
        with transaction.atomic():
            if not wait and not _unlocked(key):
                return None  # a visit is counting it: the worker does not wait
            snapshot = _first_locked(key)
            if snapshot is not None and snapshot.html:
                return _figures(snapshot)
            return _counted(key, view, now, render)
    except Exception:
        DashboardSnapshot.objects.filter(key=key, html="").delete()
        raise


def _unlocked(key: str) -> bool:
    """Whether no other transaction holds the view's snapshot (PostgreSQL)."""
    rows = DashboardSnapshot.objects.select_for_update(skip_locked=True)
    return rows.filter(key=key).exists()


def _first_locked(key: str) -> DashboardSnapshot | None:
    """The view's snapshot, locked until the transaction ends; None if a
    failed first count deleted it meanwhile."""
    return DashboardSnapshot.objects.select_for_update().filter(key=key).first()


def _claimed(snapshot: DashboardSnapshot, now: datetime) -> bool:
    """Whether this visit counts a stale snapshot again: one at a time."""
    unclaimed = Q(refreshing_since__isnull=True) | Q(
        refreshing_since__lt=now - CLAIM_EXPIRES
    )
    claimed = DashboardSnapshot.objects.filter(
        unclaimed, pk=snapshot.pk, computed_at=snapshot.computed_at
    ).update(refreshing_since=now)
    return claimed == 1


def _count(key: str, view: str, now: datetime, render) -> Figures:
    """Count a stale snapshot again (claimed by _claimed)."""
    try:
        return _counted(key, view, now, render)
    except Exception:
        # Let the next visit try: this visit's claim is lifted (a claim of
        # another visit stays).
        mine = DashboardSnapshot.objects.filter(key=key, refreshing_since=now)
        mine.update(refreshing_since=None)
        raise


def _counted(key: str, view: str, now: datetime, render) -> Figures:
    started = time.perf_counter()
    html = render()
    took_ms = round((time.perf_counter() - started) * 1000)
    counted = _row(key, view, now, html=html, took_ms=took_ms)
    _save(counted)
    return _figures(counted)


def _row(key: str, view: str, now: datetime, **figures) -> DashboardSnapshot:
    """A view's snapshot row (not saved), in the current time zone: the one
    place a snapshot is built (an empty one, or one with its figures)."""
    return DashboardSnapshot(
        key=key,
        view=view[:500],
        time_zone=timezone.get_current_timezone_name(),
        computed_at=now,
        **figures,
    )


def _save(counted: DashboardSnapshot) -> None:
    """Keep the newly counted figures, unless newer ones were saved meanwhile."""
    fields = {
        "view": counted.view,
        "time_zone": counted.time_zone,
        "html": counted.html,
        "computed_at": counted.computed_at,
        "took_ms": counted.took_ms,
        "refreshing_since": None,
    }
    older = Q(computed_at__lt=counted.computed_at) | Q(html="")
    if not DashboardSnapshot.objects.filter(older, key=counted.key).update(**fields):
        try:
            with transaction.atomic():
                DashboardSnapshot.objects.create(key=counted.key, **fields)
        except IntegrityError:
            pass  # a snapshot at least as new is there: it stays
    DashboardSnapshot.objects.filter(
        computed_at__lt=counted.computed_at - KEPT_FOR
    ).delete()

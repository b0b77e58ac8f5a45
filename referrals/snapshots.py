"""Every team's dashboard, shown from a snapshot of its figures.

A team's or a rep's dashboard is counted live on each visit. Every team's
(an admin's view, unfiltered by team or rep) means counting a company's whole
year: a second or more at a million referrals, which a room of admins would
queue behind. Like the dashboards of the big CRMs, that view shows figures
"as of" a time: the rendered figures are kept (DashboardSnapshot), a visit
after DASHBOARD_SNAPSHOT_SECONDS recounts them, and Refresh recounts now.

While one visit recounts a stale snapshot, the others are shown the stale one
(its "as of" says so) instead of all counting at once. The row is the truth:
the claim is a conditional update, and older figures never replace newer ones.
"""

import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.safestring import SafeString, mark_safe

from referrals.dashboard import DashboardFilters
from referrals.models import DashboardSnapshot

# A recount that has not finished in this long died: another visit may claim it.
CLAIM_EXPIRES = timedelta(minutes=2)
# Snapshots not recounted for this long (a past day's view, a custom period
# nobody looks at any more) are deleted when a snapshot is saved.
KEPT_FOR = timedelta(days=2)


@dataclass(frozen=True)
class Figures:
    """A dashboard's rendered figures; computed_at is None when counted live."""

    html: SafeString
    computed_at: datetime | None = None
    took_ms: int | None = None

    @property
    def took_seconds(self) -> float | None:
        return None if self.took_ms is None else self.took_ms / 1000


def is_snapshot_view(filters: DashboardFilters) -> bool:
    """Every team's figures (nobody's owners singled out) come from a snapshot."""
    return settings.DASHBOARD_SNAPSHOT_SECONDS > 0 and filters.owner_ids is None


def snapshot_key(filters: DashboardFilters, view: str) -> str:
    """The view (its query string), its days and the time zone they are in:
    the same URL seen on another day, or from another zone, counts anew."""
    parts = [
        view,
        filters.start.isoformat(),
        filters.end.isoformat(),
        timezone.get_current_timezone_name(),
    ]
    return hashlib.sha256("|".join(parts).encode()).hexdigest()


def dashboard_figures(
    filters: DashboardFilters,
    view: str,
    render: Callable[[], str],
    *,
    refresh: bool = False,
) -> Figures:
    """The figures of `view` (the dashboard's query string), rendered by
    `render`: live, or from the snapshot, recounted when stale or on refresh."""
    if not is_snapshot_view(filters):
        return Figures(mark_safe(render()))
    key = snapshot_key(filters, view)
    snapshot = DashboardSnapshot.objects.filter(key=key).first()
    if snapshot and not refresh:
        age = filters.now - snapshot.computed_at
        fresh = age <= timedelta(seconds=settings.DASHBOARD_SNAPSHOT_SECONDS)
        if fresh or not _claimed(snapshot, filters.now):
            return _figures(snapshot)
    started = time.perf_counter()
    try:
        html = render()
    except Exception:
        if snapshot:  # let the next visit try
            DashboardSnapshot.objects.filter(pk=snapshot.pk).update(
                refreshing_since=None
            )
        raise
    counted = DashboardSnapshot(
        key=key,
        view=view[:500],
        html=html,
        computed_at=filters.now,
        took_ms=round((time.perf_counter() - started) * 1000),
    )
    _save(counted)
    return _figures(counted)


def _figures(snapshot: DashboardSnapshot) -> Figures:
    # The html is this application's own rendering of the figures.
    return Figures(mark_safe(snapshot.html), snapshot.computed_at, snapshot.took_ms)


def _claimed(snapshot: DashboardSnapshot, now: datetime) -> bool:
    """Whether this visit recounts the stale snapshot: only one does at a time."""
    unclaimed = Q(refreshing_since__isnull=True) | Q(
        refreshing_since__lt=now - CLAIM_EXPIRES
    )
    claimed = DashboardSnapshot.objects.filter(
        unclaimed, pk=snapshot.pk, computed_at=snapshot.computed_at
    ).update(refreshing_since=now)
    return claimed == 1


def _save(counted: DashboardSnapshot) -> None:
    """Keep the newly counted figures, unless newer ones were saved meanwhile."""
    fields = {
        "view": counted.view,
        "html": counted.html,
        "computed_at": counted.computed_at,
        "took_ms": counted.took_ms,
        "refreshing_since": None,
    }
    updated = DashboardSnapshot.objects.filter(
        key=counted.key, computed_at__lt=counted.computed_at
    ).update(**fields)
    if not updated:
        try:
            with transaction.atomic():
                DashboardSnapshot.objects.create(key=counted.key, **fields)
        except IntegrityError:
            pass  # a snapshot at least as new is there: it stays
    DashboardSnapshot.objects.filter(
        computed_at__lt=counted.computed_at - KEPT_FOR
    ).delete()

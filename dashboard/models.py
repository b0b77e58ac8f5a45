"""The dashboard's own rows: snapshots of the all-teams figures.

The table keeps its first name (referrals_dashboardsnapshot): the model moved
here from the referrals app without touching the database.
"""

from datetime import timedelta

from django.conf import settings
from django.db import models
from django.utils import timezone


class DashboardSnapshot(models.Model):
    """Every team's dashboard figures for one view, as rendered at `computed_at`.

    Counting a whole company's year is slow at scale (bench/RESULTS.md), so the all-teams view is shown from here, marked "as of", and
    counted again when older than DASHBOARD_SNAPSHOT_SECONDS or on Refresh
    (dashboard.snapshots). A team's or a rep's view is always counted live.
    An empty `html` is a view's first count, still running (the row is
    locked while it runs; dashboard.snapshots._first_count).
    """

    key = models.CharField(max_length=64, unique=True)
    view = models.CharField(max_length=500, help_text="The view's query string.")
    html = models.TextField(blank=True, default="")
    computed_at = models.DateTimeField(help_text="When the figures were counted.")
    took_ms = models.PositiveIntegerField(
        null=True, blank=True, help_text="How long counting them took."
    )
    refreshing_since = models.DateTimeField(
        null=True, blank=True, help_text="Set while one visit counts them again."
    )
    time_zone = models.CharField(
        max_length=64, blank=True, default="", help_text="The view's time zone."
    )
    viewed_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="When an admin last opened it (to the hour): the worker keeps "
        "the views opened in the last day counted ahead of visits.",
    )

    class Meta:
        db_table = "referrals_dashboardsnapshot"
        # Old snapshots are deleted by their age (dashboard.snapshots._save).
        indexes = [models.Index(fields=["computed_at"])]

    def __str__(self):
        at = timezone.localtime(self.computed_at)
        return f"{self.view or 'dashboard'} as of {at:%Y-%m-%d %H:%M}"

    @staticmethod
    def max_age() -> timedelta:
        """How old the figures may get before a visit counts them again."""
        return timedelta(seconds=settings.DASHBOARD_SNAPSHOT_SECONDS)

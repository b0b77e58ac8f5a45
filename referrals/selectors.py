from datetime import timedelta
from decimal import Decimal

from django.db.models import Count, Q, QuerySet, Sum
from django.utils import timezone

from accounts.scoping import get_for_user_or_404, scope_for_user
from referrals.models import Referral, Stage


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


def stale_filter(now=None) -> Q:
    """Open referrals that sat in their stage longer than the stage's SLA.

    Computed in the database: stage_entered_at + sla_days < now, written as
    stage_entered_at < now - sla_days so it can use an index on the date.
    """
    now = now or timezone.now()
    conditions = Q(pk__in=[])
    for stage in Stage.objects.filter(kind=Stage.Kind.OPEN, sla_days__isnull=False):
        conditions |= Q(
            stage=stage, stage_entered_at__lt=now - timedelta(days=stage.sla_days)
        )
    return conditions


def referrals_needing_action(*, user, now=None) -> dict:
    """The Today page: new referrals not yet contacted, and stale ones."""
    mine = referrals_for_user(user=user).filter(stage__kind=Stage.Kind.OPEN)
    return {
        "not_contacted": mine.filter(first_contacted_at__isnull=True).order_by(
            "received_on", "pk"
        )[:50],
        "stale": mine.filter(stale_filter(now)).order_by("stage_entered_at")[:50],
    }


def pipeline_summary(*, user) -> list[dict]:
    """Per stage: count, total and probability-weighted value of visible referrals.

    Two queries however many referrals: the stages, and one GROUP BY.
    """
    totals = {
        row["stage"]: row
        for row in scope_for_user(Referral.objects.all(), user)
        .order_by()
        .values("stage")
        .annotate(count=Count("pk"), total=Sum("estimated_value"))
    }
    summary = []
    for stage in Stage.objects.filter(is_archived=False):
        row = totals.get(stage.pk, {})
        total = row.get("total") or Decimal(0)
        summary.append(
            {
                "stage": stage,
                "count": row.get("count", 0),
                "total": total,
                "weighted": total * stage.probability / 100,
            }
        )
    return summary

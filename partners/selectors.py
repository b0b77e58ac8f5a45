from django.db.models import Count, Max, QuerySet

from accounts.scoping import get_for_user_or_404, scope_for_user
from partners.models import Partner


def partners_for_user(*, user) -> QuerySet:
    return scope_for_user(Partner.objects.all(), user).select_related("owner")


def partner_list_for_user(*, user) -> QuerySet:
    """Partners with how many referrals they sent and when the last came."""
    return (
        partners_for_user(user=user)
        .annotate(
            referral_count=Count("referrals"),
            last_referral_on=Max("referrals__received_on"),
        )
        .order_by("name", "pk")
    )  # Meta.ordering does not apply to GROUP BY queries


def partner_for_user(*, user, pk) -> Partner:
    return get_for_user_or_404(Partner.objects.select_related("owner"), user, pk)

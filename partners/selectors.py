from django.db.models import Count, DecimalField, F, Max, Q, QuerySet, Sum, Value
from django.db.models.functions import Coalesce

from accounts.scoping import get_for_user_or_404, scope_for_user
from partners.models import Partner


def partners_for_user(*, user) -> QuerySet:
    return scope_for_user(Partner.objects.all(), user).select_related("owner")


def partners_matching(*, user, query: str) -> QuerySet:
    """The user's sources whose name, company or email contains the query."""
    query = query.strip()
    return (
        partners_for_user(user=user)
        .filter(
            Q(name__icontains=query)
            | Q(company__icontains=query)
            | Q(email__icontains=query)
        )
        .order_by("name", "pk")
    )


def with_referral_stats(queryset: QuerySet) -> QuerySet:
    """Annotate what a source has sent us: count, won count and value, last date.

    One GROUP BY in the database, whatever the number of partners or referrals.
    """
    won = Q(referrals__stage__kind="won")
    # Counting a column the (source, received_on) index holds, not the id,
    # lets PostgreSQL answer from the index alone.
    return queryset.annotate(
        referral_count=Count("referrals__stage"),
        won_count=Count("referrals__stage", filter=won),
        won_value=Coalesce(
            Sum("referrals__estimated_value", filter=won),
            Value(0),
            output_field=DecimalField(max_digits=14, decimal_places=2),
        ),
        last_referral_on=Max("referrals__received_on"),
    )


PARTNER_SORTS = {
    "name": ("name", "pk"),
    "-referrals": ("-referral_count", "name", "pk"),
    "-won_value": ("-won_value", "name", "pk"),
    "-last": (F("last_referral_on").desc(nulls_last=True), "name", "pk"),
}


def partners_listed(*, user, query: str = "", kind: str = "") -> QuerySet:
    """Which sources the partner list shows (without their stats: to count them)."""
    partners = (
        partners_matching(user=user, query=query)
        if query
        else partners_for_user(user=user)
    )
    return partners.filter(kind=kind) if kind else partners


def partner_list_for_user(*, user, query: str = "", kind: str = "", sort: str = "name"):
    """The partner list: the user's sources with their stats, searched and sorted."""
    partners = partners_listed(user=user, query=query, kind=kind)
    # Meta.ordering does not apply to GROUP BY queries: order explicitly.
    return with_referral_stats(partners).order_by(
        *PARTNER_SORTS.get(sort, PARTNER_SORTS["name"])
    )


def partner_for_user(*, user, pk) -> Partner:
    return get_for_user_or_404(Partner.objects.select_related("owner"), user, pk)

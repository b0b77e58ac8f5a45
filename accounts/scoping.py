"""The one rule that decides who sees which referrals and partners.

A rep sees the records they own; a manager sees their own and those owned by
members of the teams they manage; an admin sees everything. Every view, form
choice list and export goes through ``scope_for_user``; detail pages go
through ``get_for_user_or_404`` so an outsider gets 404, never 403.
"""

from django.db.models import Q, QuerySet
from django.shortcuts import get_object_or_404

from accounts.models import User


def scope_for_user(queryset: QuerySet, user, *, owner_field: str = "owner") -> QuerySet:
    if not user.is_authenticated or not user.is_active:
        return queryset.none()
    if user.is_admin:
        return queryset
    if user.is_manager:
        # owner IN (a small subquery) lets the database use the owner index;
        # an OR across a join to teams would scan every row.
        team = User.objects.filter(Q(pk=user.pk) | Q(team__manager=user)).values("pk")
        return queryset.filter(**{f"{owner_field}__in": team})
    return queryset.filter(**{owner_field: user})


def get_for_user_or_404(queryset: QuerySet, user, pk, *, owner_field: str = "owner"):
    return get_object_or_404(
        scope_for_user(queryset, user, owner_field=owner_field), pk=pk
    )


def users_for_user(user) -> QuerySet:
    """The owners a user may assign records to: themselves, their team, or all."""
    active = User.objects.filter(is_active=True)
    if user.is_admin:
        return active
    if user.is_manager:
        return active.filter(Q(pk=user.pk) | Q(team__manager=user))
    return active.filter(pk=user.pk)


def owner_ids_for_user(user, *, team: list[int] | None = None) -> list[int] | None:
    """The same rule as the owners whose records the user sees, for a
    statement written out in SQL: None for an admin (every owner's), a
    manager's team as ids (`team`, when the page has read it already), the
    rep's own id, and no one for a signed-out or inactive user."""
    if not user.is_authenticated or not user.is_active:
        return []
    if user.is_admin:
        return None
    if user.is_manager:
        if team is None:
            team = list(
                User.objects.filter(Q(pk=user.pk) | Q(team__manager=user))
                .order_by()
                .values_list("pk", flat=True)
            )
        return team
    return [user.pk]

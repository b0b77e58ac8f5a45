"""Signing in and loading the signed-in user on each request."""

from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Group
from django.db.models import Case, Exists, OuterRef, Value, When

from accounts.models import ADMIN, MANAGER, REP, User


def role_expression() -> Case:
    """User.role computed by the database: a superuser or an Admin group
    member is an admin, then a Manager group member is a manager."""

    def member_of(name):
        return Exists(Group.objects.filter(user=OuterRef("pk"), name=name))

    return Case(
        When(is_superuser=True, then=Value(ADMIN)),
        When(member_of(ADMIN), then=Value(ADMIN)),
        When(member_of(MANAGER), then=Value(MANAGER)),
        default=Value(REP),
    )


class UserBackend(ModelBackend):
    """Django's ModelBackend, loading the user of each request with what every
    page shows (their team, in the navigation; their role, which decides what
    they see) in one query instead of three."""

    def get_user(self, user_id):
        try:
            user = (
                User._default_manager.select_related("team")
                .annotate(role=role_expression())
                .get(pk=user_id)
            )
        except User.DoesNotExist:
            return None
        return user if self.user_can_authenticate(user) else None

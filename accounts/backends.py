"""Signing in and loading the signed-in user on each request."""

from functools import cache

from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Group
from django.db import connection
from django.db.models import Case, Exists, OuterRef, QuerySet, Value, When

from accounts.models import ADMIN, GROUP_ROLES, REP, Team, User


def role_expression() -> Case:
    """User.role, the same rule computed by the database: a superuser is an
    admin, then the strongest of GROUP_ROLES the user's groups give."""

    def member_of(name):
        return Exists(Group.objects.filter(user=OuterRef("pk"), name=name))

    return Case(
        When(is_superuser=True, then=Value(ADMIN)),
        *(When(member_of(role), then=Value(role)) for role in GROUP_ROLES),
        default=Value(REP),
    )


@cache
def users_with_role() -> QuerySet:
    """Users with their team and role, built once per process (resolving the
    role's expressions takes longer than running the query), for queries
    that pick users by role: each filters a clone. The user of each request
    is loaded by request_user_sql(), the same rule written out."""
    return User._default_manager.select_related("team").annotate(role=role_expression())


TEAM_PREFIX = "team__"  # the team's columns in request_user_sql()


@cache
def request_user_sql() -> tuple[str, list]:
    """The query that loads the user of each request, written out once per
    process, and its parameters but the user's id: users_with_role() built
    the same query again on every request, most of the cost of loading the
    user (the figures: bench/RESULTS.md, the eighth session's reading). The user's columns, their
    team's as team__<column>, and their role by the rule of role_expression():
    a superuser is an admin, then the strongest of GROUP_ROLES their groups
    give, else a rep."""
    quote = connection.ops.quote_name
    groups = User.groups.through._meta
    name = f"g.{quote('name')}"
    team_columns = ", ".join(
        f"t.{quote(field.column)} AS {quote(TEAM_PREFIX + field.column)}"
        for field in Team._meta.concrete_fields
    )
    sql = (
        f"SELECT u.*, {team_columns}, "
        f"CASE WHEN u.{quote('is_superuser')} THEN %s ELSE COALESCE("
        f"(SELECT {name} FROM {quote(groups.db_table)} ug "
        f"JOIN {quote(Group._meta.db_table)} g "
        f"ON g.{quote('id')} = ug.{quote(groups.get_field('group').column)} "
        f"WHERE ug.{quote(groups.get_field('user').column)} = u.{quote('id')} "
        f"AND {name} IN ({', '.join(['%s'] * len(GROUP_ROLES))}) "
        f"ORDER BY CASE {' '.join([f'WHEN {name} = %s THEN %s'] * len(GROUP_ROLES))}"
        f" END LIMIT 1), %s) END AS role "
        f"FROM {quote(User._meta.db_table)} u LEFT JOIN {quote(Team._meta.db_table)} t "
        f"ON t.{quote('id')} = u.{quote(User._meta.get_field('team').column)} "
        f"WHERE u.{quote('id')} = %s"
    )
    ranks = [value for rank, role in enumerate(GROUP_ROLES) for value in (role, rank)]
    return sql, [ADMIN, *GROUP_ROLES, *ranks, REP]


class UserBackend(ModelBackend):
    """Django's ModelBackend, loading the user of each request with what every
    page shows (their team, in the navigation; their role, which decides what
    they see) in one query instead of three."""

    def get_user(self, user_id):
        sql, params = request_user_sql()
        found = list(User.objects.raw(sql, [*params, user_id]))
        if not found:
            return None
        user = found[0]
        # The team as select_related("team") gives it, with no query of its own.
        values = {
            field.attname: user.__dict__.pop(TEAM_PREFIX + field.column)
            for field in Team._meta.concrete_fields
        }
        team = None
        if values[Team._meta.pk.attname] is not None:  # the user has a team
            team = Team.from_db(user._state.db, list(values), list(values.values()))
        User._meta.get_field("team").set_cached_value(user, team)
        return user if self.user_can_authenticate(user) else None

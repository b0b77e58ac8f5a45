"""The scoping rule has a second form, owner ids for statements written out
in SQL (owner_ids_for_user, used by Today's lists). For every kind of user
it picks exactly the referrals scope_for_user picks."""

import pytest
from django.contrib.auth.models import AnonymousUser

from accounts.scoping import owner_ids_for_user, scope_for_user
from referrals.models import Referral
from referrals.sql import owned_by, quote_table
from tests.factories import ReferralFactory, UserFactory
from thanks.selectors import team_ids


def _written_out(user, team=None) -> set[int]:
    from django.db import connection

    condition, params = owned_by(owner_ids_for_user(user, team=team))
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT r.id FROM {quote_table(Referral)} r WHERE {condition}", params
        )
        return {row[0] for row in cursor.fetchall()}


@pytest.mark.parametrize(
    "who", ["alice", "bob", "carol", "dave", "erin", "admin", "inactive", "anonymous"]
)
def test_owner_ids_pick_what_the_rule_picks(
    who, request, alice, bob, carol, dave, erin, admin
):
    owners = [alice, bob, carol, dave, erin, admin]
    for owner in owners:
        ReferralFactory.create_batch(2, owner=owner)
    if who == "inactive":
        user = UserFactory(team=alice.team, is_active=False)
        ReferralFactory(owner=user)
    elif who == "anonymous":
        user = AnonymousUser()
    else:
        user = request.getfixturevalue(who)
    expected = set(
        scope_for_user(Referral.objects.all(), user).values_list("pk", flat=True)
    )

    assert _written_out(user) == expected
    if getattr(user, "is_authenticated", False):  # a page that read the team
        assert _written_out(user, team=team_ids(user)) == expected
    # Not vacuous: each kind sees something but the admin everything.
    if who in ("inactive", "anonymous"):
        assert expected == set()
    elif who == "admin":
        assert len(expected) == Referral.objects.count()
    else:
        assert 0 < len(expected) < Referral.objects.count()


def test_a_manager_sees_the_referrals_of_an_inactive_member_of_the_team(carol, alice):
    gone = UserFactory(team=alice.team, is_active=False)
    kept = ReferralFactory(owner=gone)

    assert kept.pk in _written_out(carol)

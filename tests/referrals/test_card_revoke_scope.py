"""Revoking a team's "How to refer us" link follows the project's rule for
records outside one's scope: 404, not 403 (issue 26). Only an admin, or the
manager of that team, renews it."""

import pytest

from accounts.models import Team
from referrals.views import CARD_RENEWED

RENEW = "/referrals/card/renew/"


def token(team: Team) -> str:
    team.refresh_from_db()
    return team.card_token


@pytest.mark.parametrize("who", ["alice", "bob", "dave", "erin"])
def test_a_rep_or_another_teams_manager_gets_404_and_the_link_stays(
    client, request, north, carol, who
):
    old = token(north)
    client.force_login(request.getfixturevalue(who))
    response = client.post(RENEW, {"team": north.pk})
    assert response.status_code == 404
    assert token(north) == old
    client.logout()
    assert client.get(f"/refer/{old}/").status_code == 200


def test_an_outsider_cannot_tell_a_team_from_no_team(client, north, erin):
    """The same answer for North (not hers) and a team that does not exist."""
    client.force_login(erin)
    mine = client.post(RENEW, {"team": north.pk})
    none = client.post(RENEW, {"team": 99999})
    assert mine.status_code == none.status_code == 404


@pytest.mark.parametrize("who", ["carol", "admin"])
def test_the_teams_manager_and_an_admin_renew_it(client, request, north, carol, who):
    old = token(north)
    client.force_login(request.getfixturevalue(who))
    response = client.post(RENEW, {"team": north.pk}, follow=True)
    assert response.redirect_chain[-1][0] == f"/referrals/card/?team={north.pk}"
    assert CARD_RENEWED in response.content.decode()
    assert token(north) != old
    client.logout()
    assert client.get(f"/refer/{old}/").status_code == 404

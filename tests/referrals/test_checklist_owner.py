"""The Log referral checklist follows the referral's owner (issue 26): a
manager logging a referral for a rep of another team they manage is asked
that team's criteria, not their own team's. With htmx the owner select swaps
the checklist in place (/referrals/new/checklist/?owner=); without it, answers
to another list come back with the owner's list and a message beside it."""

import pytest
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.html import escape

from accounts.models import Team
from referrals.forms import CRITERIA_NONE_FOR_OWNER, CRITERIA_OF_ANOTHER_LIST
from referrals.models import Label, Referral
from referrals.services import CRITERION_NOT_ASKED, criterion_create, referral_log
from tests.factories import PartnerFactory
from tests.helpers import form_data

NEW = "/referrals/new/"
CHECKLIST = "/referrals/new/checklist/"


@pytest.fixture
def lists(north, south, carol, erin, dave):
    """Carol (in North) manages North and South; each team has its own list,
    and the organisation a third one (which neither team uses)."""
    carol.team = north
    carol.save()
    Team.objects.filter(pk=south.pk).update(manager=carol)
    return {
        "org": criterion_create(
            team=None, question="Organisation: 50+ people", weight=1
        ),
        "north": criterion_create(
            team=north, question="North: decision maker?", weight=1
        ),
        "south": criterion_create(
            team=south, question="South: budget this year?", weight=3
        ),
        "south_2": criterion_create(
            team=south, question="South: in our region?", weight=1
        ),
    }


@pytest.fixture
def dave_partner(dave):
    return PartnerFactory(owner=dave, name="Sol Source", company="Southern Co")


def html(response) -> str:
    return response.content.decode()


def checklist(response) -> str:
    """The checklist's part of the page (or the fragment): up to the button."""
    page = html(response)
    return page[page.index('id="log-checklist"') :].split('type="submit"', 1)[0]


# The service: the owner's team's list is the one asked --------------------------


def test_the_service_takes_the_owners_teams_answers(lists, carol, dave, dave_partner):
    referral = referral_log(
        user=carol,
        source=dave_partner,
        owner=dave,
        prospect_name="Paula",
        answers={lists["south"].pk: True, lists["south_2"].pk: False},
    )
    referral.refresh_from_db()
    assert (referral.score, referral.label) == (75, Label.QUALIFIED)


def test_the_service_refuses_the_loggers_teams_answers(
    lists, carol, dave, dave_partner
):
    # A savepoint of the test's own: referral_log takes none (savepoint=False).
    with pytest.raises(ValidationError) as error, transaction.atomic():
        referral_log(
            user=carol,
            source=dave_partner,
            owner=dave,
            prospect_name="Paula",
            answers={lists["north"].pk: True},
        )
    assert error.value.messages == [CRITERION_NOT_ASKED]
    assert not Referral.objects.exists()


# The form as first shown ---------------------------------------------------------


def test_a_manager_first_sees_their_own_teams_list_and_an_owner_select_wired_to_swap_it(
    client, lists, carol
):
    client.force_login(carol)
    response = client.get(NEW)
    shown = checklist(response)
    assert "North: decision maker?" in shown
    assert "South:" not in shown
    page = html(response)
    select = page[page.index('<select name="owner"') :].split(">", 1)[0]
    assert f'hx-get="{CHECKLIST}"' in select
    assert 'hx-target="#log-checklist"' in select


def test_a_rep_sees_their_teams_list_and_no_owner_to_choose(client, lists, dave):
    client.force_login(dave)
    response = client.get(NEW)
    assert "South: budget this year?" in checklist(response)
    assert 'name="owner"' not in html(response)


# The fragment the owner select swaps in (htmx) ------------------------------------


def test_choosing_another_teams_rep_gives_that_teams_list(
    client, lists, carol, dave, django_assert_num_queries
):
    client.force_login(carol)
    # the session, the user, the owner, the criteria
    with django_assert_num_queries(4):
        response = client.get(CHECKLIST, {"owner": dave.pk}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    shown = checklist(response)
    assert "South: budget this year?" in shown
    assert "South: in our region?" in shown
    assert "North:" not in shown and "Organisation:" not in shown
    assert "<html" not in html(response)  # the fragment alone


def test_answers_to_criteria_still_asked_stay_when_the_owner_changes(
    client, lists, carol, dave, erin
):
    erin.team = Team.objects.get(name="South")
    erin.save()  # a second owner in South: the same list
    client.force_login(carol)
    south = lists["south"].pk
    response = client.get(
        CHECKLIST,
        {
            "owner": erin.pk,
            f"criterion_{south}": "yes",
            f"criterion_{lists['north'].pk}": "no",
        },
    )
    shown = checklist(response)
    assert (
        f'name="criterion_{south}" id="log-{south}-yes" value="yes" autocomplete="off" checked'
        in shown
    )


def test_an_owner_without_a_team_gets_the_organisations_list(
    client, lists, carol, admin
):
    client.force_login(admin)
    shown = checklist(client.get(CHECKLIST, {"owner": admin.pk}))
    assert "Organisation: 50+ people" in shown
    assert "North:" not in shown and "South:" not in shown


def test_no_criteria_anywhere_gives_an_empty_checklist_to_swap(client, carol):
    client.force_login(carol)
    response = client.get(CHECKLIST, {"owner": carol.pk})
    assert response.status_code == 200
    assert 'id="log-checklist"' in html(response)
    assert "Referral criteria" not in html(response)


@pytest.mark.parametrize(
    ("who", "owner", "status"),
    [
        ("carol", "dave", 200),  # a team she manages
        ("admin", "dave", 200),
        ("erin", "dave", 404),  # South is Carol's now
        ("erin", "erin", 200),
        ("alice", "bob", 404),  # a rep assigns to no one else
        ("alice", "alice", 200),
        ("dave", "alice", 404),
    ],
)
def test_the_checklist_follows_the_one_scoping_rule(
    client, request, lists, alice, bob, who, owner, status
):
    client.force_login(request.getfixturevalue(who))
    owner_pk = request.getfixturevalue(owner).pk
    assert client.get(CHECKLIST, {"owner": owner_pk}).status_code == status


def test_the_checklist_needs_a_login_and_an_owner(client, lists, carol):
    assert client.get(CHECKLIST, {"owner": carol.pk}).status_code == 302
    client.force_login(carol)
    assert client.get(CHECKLIST).status_code == 404
    assert client.get(CHECKLIST, {"owner": "x"}).status_code == 404
    assert client.get(CHECKLIST, {"owner": 99999}).status_code == 404


# Without JavaScript: the POST ----------------------------------------------------


def test_a_manager_logs_for_another_teams_rep_with_that_teams_criteria(
    client, lists, carol, dave, dave_partner
):
    client.force_login(carol)
    response = client.post(
        NEW,
        form_data(
            source=dave_partner.pk,
            owner=dave.pk,
            **{
                f"criterion_{lists['south'].pk}": "yes",
                f"criterion_{lists['south_2'].pk}": "no",
            },
        ),
    )
    assert response.status_code == 302
    referral = Referral.objects.get()
    assert (referral.owner, referral.label) == (dave, Label.QUALIFIED)
    assert set(referral.answers.values_list("criterion", "yes")) == {
        (lists["south"].pk, True),
        (lists["south_2"].pk, False),
    }


def test_answers_to_another_list_come_back_with_the_owners_list_and_nothing_lost(
    client, lists, carol, dave, dave_partner
):
    client.force_login(carol)
    response = client.post(
        NEW,
        form_data(
            source=dave_partner.pk,
            owner=dave.pk,
            prospect_title="Head of People",
            **{f"criterion_{lists['north'].pk}": "yes"},
        ),
    )
    assert response.status_code == 200
    assert not Referral.objects.exists()
    shown = checklist(response)
    # The message beside the checklist, not at the top of the form.
    assert escape(CRITERIA_OF_ANOTHER_LIST.format(owner="Dave Rep")) in shown
    assert CRITERION_NOT_ASKED not in html(response)
    assert 'class="alert' not in html(response)
    assert "South: budget this year?" in shown and "North:" not in shown
    page = html(response)
    for typed in (
        "Nora Newman",
        "Initech",
        "nora@initech.example",
        "Head of People",
        "Looking for a new payroll provider by March.",
    ):
        assert typed in page
    assert f'value="{dave.pk}" selected' in page
    assert f'value="{dave_partner.pk}"' in page and "checked" in page


def test_after_an_error_elsewhere_the_checklist_is_still_the_chosen_owners(
    client, lists, carol, dave, dave_partner
):
    client.force_login(carol)
    south = lists["south"].pk
    response = client.post(
        NEW,
        form_data(
            source=dave_partner.pk,
            owner=dave.pk,
            prospect_name="",
            **{f"criterion_{south}": "yes"},
        ),
    )
    assert response.status_code == 200
    shown = checklist(response)
    assert "South: budget this year?" in shown and "North:" not in shown
    assert f'id="log-{south}-yes" value="yes" autocomplete="off" checked' in shown
    assert escape(CRITERIA_OF_ANOTHER_LIST.format(owner="Dave Rep")) not in shown


def test_the_checklist_says_whose_list_it_is_when_the_owner_is_someone_else(
    client, lists, carol, dave
):
    client.force_login(carol)
    shown = checklist(client.get(CHECKLIST, {"owner": dave.pk}))
    assert "team South" in shown
    assert f"/referrals/criteria/?team={dave.team_id}" in shown


def test_answers_for_an_owner_asked_no_criteria_are_left_out_and_said(
    client, north, south, carol, dave, dave_partner
):
    """South has no list and the organisation none either."""
    Team.objects.filter(pk=south.pk).update(manager=carol)
    theirs = criterion_create(team=north, question="North: decision maker?", weight=1)
    client.force_login(carol)
    data = form_data(source=dave_partner.pk, owner=dave.pk)
    response = client.post(NEW, {**data, f"criterion_{theirs.pk}": "yes"})
    assert response.status_code == 200
    shown = checklist(response)
    assert escape(CRITERIA_NONE_FOR_OWNER.format(owner="Dave Rep")) in shown
    assert "North:" not in shown
    # Saved again (no checklist to answer now): logged, not assessed.
    assert client.post(NEW, data).status_code == 302
    assert Referral.objects.get().label == Label.UNASSESSED

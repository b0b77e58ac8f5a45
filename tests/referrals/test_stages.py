import pytest

from referrals.models import Stage
from referrals.services import STAGE_HOLDS_REFERRALS
from tests.factories import stage

URL = "/referrals/stages/"


def names():
    return list(Stage.objects.values_list("name", flat=True))


def test_admins_see_the_stages_in_pipeline_order(client, admin, alice_referral):
    client.force_login(admin)
    rows = client.get(URL).context["rows"]
    listed = [(stage.name, stage.referral_count) for stage, _ in rows]
    assert listed == [
        ("Received", 1),
        ("Contacted", 0),
        ("Meeting held", 0),
        ("Proposal sent", 0),
        ("Won", 0),
        ("Lost", 0),
    ]


@pytest.mark.parametrize("persona", ["alice", "carol"])
def test_reps_and_managers_may_not_edit_stages(client, db, request, persona):
    client.force_login(request.getfixturevalue(persona))
    assert client.get(URL).status_code == 403
    assert client.post(f"{URL}add/", {"new-name": "X"}).status_code == 403


def test_an_admin_renames_a_stage(client, admin):
    received = stage("Received")
    client.force_login(admin)
    prefix = f"stage-{received.pk}"
    response = client.post(
        f"{URL}{received.pk}/",
        {
            f"{prefix}-name": "New",
            f"{prefix}-kind": "open",
            f"{prefix}-probability": 10,
            f"{prefix}-sla_days": 1,
            f"{prefix}-milestone": "",
        },
    )
    assert response.status_code == 302
    assert names()[0] == "New"


def test_an_invalid_stage_edit_shows_the_error_in_place(client, admin):
    received = stage("Received")
    client.force_login(admin)
    prefix = f"stage-{received.pk}"
    response = client.post(
        f"{URL}{received.pk}/",
        {
            f"{prefix}-name": "Typed",
            f"{prefix}-kind": "open",
            f"{prefix}-probability": 150,
            f"{prefix}-milestone": "",
        },
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert "Ensure this value is less than or equal to 100." in page
    assert 'value="Typed"' in page


def test_an_admin_adds_a_stage_at_the_end(client, admin):
    client.force_login(admin)
    client.post(
        f"{URL}add/",
        {
            "new-name": "Negotiation",
            "new-kind": "open",
            "new-probability": 70,
            "new-milestone": "",
        },
    )
    assert names()[-1] == "Negotiation"


def test_two_stages_cannot_mark_the_same_milestone(client, admin):
    client.force_login(admin)
    response = client.post(
        f"{URL}add/",
        {
            "new-name": "Second meeting",
            "new-kind": "open",
            "new-probability": 50,
            "new-milestone": "meeting",
        },
    )
    assert response.status_code == 400
    assert "Second meeting" not in names()


def test_an_admin_reorders_stages(client, admin):
    client.force_login(admin)
    client.post(f"{URL}{stage('Contacted').pk}/reorder/", {"direction": "up"})
    assert names()[:2] == ["Contacted", "Received"]
    client.post(f"{URL}{stage('Contacted').pk}/reorder/", {"direction": "down"})
    assert names()[:2] == ["Received", "Contacted"]


def test_a_stage_with_referrals_cannot_be_deleted_only_archived(
    client, admin, alice_referral
):
    client.force_login(admin)
    response = client.post(f"{URL}{stage('Received').pk}/delete/", follow=True)
    expected = STAGE_HOLDS_REFERRALS.format(stage="Received", count=1)
    assert expected in response.content.decode()
    assert "Received" in names()


def test_an_empty_stage_can_be_deleted(client, admin):
    client.force_login(admin)
    client.post(f"{URL}{stage('Proposal sent').pk}/delete/")
    assert "Proposal sent" not in names()


def test_stage_changes_require_post(client, admin):
    client.force_login(admin)
    assert client.get(f"{URL}{stage('Received').pk}/delete/").status_code == 405

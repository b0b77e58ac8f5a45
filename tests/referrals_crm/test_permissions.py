"""The permission matrix: every record URL × every persona → expected status.

One scoping rule decides: a rep sees their own records, a manager their team's,
an admin everything; outsiders get 404 so nothing leaks.
"""

import pytest

from tests.factories import PartnerFactory, ReferralFactory, stage
from tests.helpers import PERSONAS, SEES_ALICES

RECORD_URLS = {
    "referral_detail": lambda referral: f"/referrals/{referral.pk}/",
    "referral_edit": lambda referral: f"/referrals/{referral.pk}/edit/",
    "partner_detail": lambda referral: f"/partners/{referral.source_id}/",
    "partner_edit": lambda referral: f"/partners/{referral.source_id}/edit/",
}
# State changes: an outsider's POST is 404 and changes nothing; an allowed
# one is handled (302 after a move or an activity).
POST_URLS = {
    "referral_move": (lambda r: f"/referrals/{r.pk}/move/", {"stage": "contacted"}),
    "activity_add": (
        lambda r: f"/referrals/{r.pk}/activities/",
        {"kind": "note", "text": "x"},
    ),
}


@pytest.fixture
def everyone(alice, bob, carol, dave, erin, admin):
    return {
        "alice": alice,
        "bob": bob,
        "carol": carol,
        "dave": dave,
        "erin": erin,
        "admin": admin,
    }


@pytest.mark.parametrize("url_name", RECORD_URLS)
@pytest.mark.parametrize("persona", PERSONAS)
def test_record_pages_follow_the_scoping_rule(
    client, everyone, alice_referral, url_name, persona
):
    if persona != "anonymous":
        client.force_login(everyone[persona])
    response = client.get(RECORD_URLS[url_name](alice_referral))
    assert response.status_code == SEES_ALICES[persona]


@pytest.mark.parametrize("url_name", POST_URLS)
@pytest.mark.parametrize("persona", PERSONAS)
def test_state_changes_follow_the_scoping_rule(
    client, everyone, alice_referral, url_name, persona
):
    if persona != "anonymous":
        client.force_login(everyone[persona])
    make_url, data = POST_URLS[url_name]
    if data.get("stage") == "contacted":
        data = {"stage": stage("Contacted").pk}
    response = client.post(make_url(alice_referral), data)
    expected = {200: 302, 302: 302, 404: 404}[SEES_ALICES[persona]]
    assert response.status_code == expected
    alice_referral.refresh_from_db()
    changed = (
        alice_referral.stage.name == "Contacted" or alice_referral.activities.exists()
    )
    assert changed == (SEES_ALICES[persona] == 200)


def test_a_missing_record_is_404_like_a_hidden_one(client, alice):
    client.force_login(alice)
    assert client.get("/referrals/999999/").status_code == 404
    assert client.get("/partners/999999/").status_code == 404


@pytest.mark.parametrize(
    ("persona", "visible"),
    [
        ("alice", {"alice"}),
        ("bob", {"bob"}),
        ("carol", {"alice", "bob", "carol"}),
        ("dave", {"dave"}),
        ("erin", {"dave"}),
        ("admin", {"alice", "bob", "carol", "dave"}),
    ],
)
def test_lists_show_only_what_the_rule_allows(client, everyone, persona, visible):
    for owner in ("alice", "bob", "carol", "dave"):
        partner = PartnerFactory(owner=everyone[owner], name=f"Source of {owner}")
        ReferralFactory(source=partner, prospect_name=f"Prospect of {owner}")
    client.force_login(everyone[persona])
    referrals = client.get("/referrals/").content.decode()
    partners = client.get("/partners/").content.decode()
    for owner in ("alice", "bob", "carol", "dave"):
        assert (f"Prospect of {owner}" in referrals) == (owner in visible), owner
        assert (f"Source of {owner}" in partners) == (owner in visible), owner


def test_a_partner_page_lists_only_referrals_the_viewer_may_see(
    client, alice, bob, alice_partner
):
    ReferralFactory(source=alice_partner, prospect_name="Alice's prospect")
    ReferralFactory(source=alice_partner, owner=bob, prospect_name="Bob's prospect")
    client.force_login(alice)
    page = client.get(f"/partners/{alice_partner.pk}/").content.decode()
    assert "Alice&#x27;s prospect" in page
    assert "Bob&#x27;s prospect" not in page


@pytest.mark.parametrize(
    ("persona", "status"),
    [("alice", 403), ("carol", 200), ("admin", 200)],
)
def test_the_dashboard_is_for_managers_and_admins(client, everyone, persona, status):
    client.force_login(everyone[persona])
    assert client.get("/dashboard/").status_code == status


def test_reps_do_not_see_the_dashboard_link(client, alice, carol):
    client.force_login(alice)
    assert 'href="/dashboard/"' not in client.get("/").content.decode()
    client.force_login(carol)
    assert 'href="/dashboard/"' in client.get("/").content.decode()

from datetime import timedelta

import pytest
from django.utils import timezone

from referrals.forms import FUTURE_DATE
from referrals.models import Activity
from referrals.services import referral_log, referral_move
from tests.factories import PartnerFactory, ReferralFactory, stage


def url(referral, suffix=""):
    return f"/referrals/{referral.pk}/{suffix}"


def test_the_timeline_merges_activities_and_stage_changes_newest_first(
    client, alice, alice_referral
):
    Activity.objects.create(
        referral=alice_referral,
        kind="call",
        text="First call",
        author=alice,
        at=timezone.now() - timedelta(hours=2),
    )
    referral_move(referral=alice_referral, to_stage=stage("Contacted"), user=alice)
    client.force_login(alice)
    timeline = client.get(url(alice_referral)).context["timeline"]
    assert [item["kind"] for item in timeline] == ["stage", "activity"]
    page = client.get(url(alice_referral)).content.decode()
    assert page.index(
        "Moved from <strong>Received</strong> to <strong>Contacted</strong>"
    ) < page.index("First call")


def test_adding_an_activity_with_htmx_returns_the_panel(client, alice, alice_referral):
    client.force_login(alice)
    response = client.post(
        url(alice_referral, "activities/"),
        {"kind": "call", "text": "Spoke to Paula, meeting Tuesday"},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    assert response.templates[0].name == "referrals/_activity_panel.html"
    assert "Spoke to Paula, meeting Tuesday" in response.content.decode()
    assert alice_referral.activities.get().author == alice


def test_adding_an_activity_without_javascript_redirects(client, alice, alice_referral):
    client.force_login(alice)
    response = client.post(
        url(alice_referral, "activities/"), {"kind": "note", "text": "Hi"}
    )
    assert response.status_code == 302
    assert alice_referral.activities.count() == 1


def test_an_empty_activity_is_refused_and_the_type_kept(client, alice, alice_referral):
    client.force_login(alice)
    response = client.post(
        url(alice_referral, "activities/"), {"kind": "meeting", "text": ""}
    )
    assert response.status_code == 400
    assert "This field is required." in response.content.decode()
    assert '<option value="meeting" selected>' in response.content.decode()
    assert not alice_referral.activities.exists()


def test_adding_an_activity_requires_post(client, alice, alice_referral):
    client.force_login(alice)
    assert client.get(url(alice_referral, "activities/")).status_code == 405


def test_editing_a_referral(client, alice, alice_referral):
    client.force_login(alice)
    data = {
        "prospect_name": "Paula P. Prospect",
        "prospect_company": "Globex",
        "prospect_email": "",
        "prospect_phone": "",
        "prospect_title": "COO",
        "source": alice_referral.source_id,
        "owner": alice.pk,
        "estimated_value": "5000",
        "received_on": alice_referral.received_on.isoformat(),
        "notes": "",
    }
    response = client.post(url(alice_referral, "edit/"), data)
    assert response.status_code == 302
    alice_referral.refresh_from_db()
    assert (alice_referral.prospect_name, alice_referral.prospect_title) == (
        "Paula P. Prospect",
        "COO",
    )


def test_an_invalid_edit_keeps_what_was_typed(client, alice, alice_referral):
    client.force_login(alice)
    tomorrow = (timezone.localdate() + timedelta(days=1)).isoformat()
    response = client.post(
        url(alice_referral, "edit/"),
        {
            "prospect_name": "Typed Name",
            "source": alice_referral.source_id,
            "received_on": tomorrow,
        },
    )
    assert FUTURE_DATE in response.content.decode()
    assert 'value="Typed Name"' in response.content.decode()


def test_a_rep_cannot_hand_a_referral_to_someone_else(
    client, alice, bob, alice_referral
):
    client.force_login(alice)
    data = {
        "prospect_name": "Paula",
        "source": alice_referral.source_id,
        "owner": bob.pk,
        "received_on": alice_referral.received_on.isoformat(),
    }
    client.post(url(alice_referral, "edit/"), data)
    alice_referral.refresh_from_db()
    assert alice_referral.owner == alice  # the owner field is disabled for reps


@pytest.mark.parametrize(
    ("suffix", "queries"),
    # The page: 1 the session, 2 the user with role and team, 3 the referral,
    # 4 its stage changes, 5 its activities and 6 its thank-yous (the
    # timeline), 7-8 the move menu's stages (its select reads them twice),
    # 9 the referral criteria with its answers (issue 26: its label's card).
    # The edit page: 1 the session, 2 the user, 3 the referral, 4 the source
    # choices, 5 the owner choices.
    [("", 9), ("edit/", 5)],
    ids=["detail", "edit"],
)
@pytest.mark.parametrize("rows", [10, 200])
def test_the_referral_page_runs_a_constant_number_of_queries(
    client, alice, alice_referral, django_assert_num_queries, suffix, queries, rows
):
    for i in range(rows):
        Activity.objects.create(
            referral=alice_referral, kind="note", text=f"note {i}", author=alice
        )
    ReferralFactory.create_batch(3, source=alice_referral.source)
    client.force_login(alice)
    with django_assert_num_queries(queries):
        response = client.get(url(alice_referral, suffix))
    assert response.status_code == 200


def test_a_rep_edits_a_referral_whose_source_a_manager_owns(client, alice, carol):
    carols = PartnerFactory(owner=carol, name="Carol's source")
    referral = ReferralFactory(source=carols, owner=alice)
    client.force_login(alice)
    response = client.post(
        f"/referrals/{referral.pk}/edit/",
        {
            "prospect_name": "Renamed",
            "source": carols.pk,
            "received_on": referral.received_on.isoformat(),
        },
    )
    assert response.status_code == 302
    referral.refresh_from_db()
    assert referral.prospect_name == "Renamed"


def test_changing_the_source_moves_the_thanks_owed(client, alice, alice_partner):
    referral = referral_log(user=alice, source=alice_partner, prospect_name="P")
    other = PartnerFactory(owner=alice, name="Real Referrer", email_consent="out")
    client.force_login(alice)
    client.post(
        f"/referrals/{referral.pk}/edit/",
        {
            "prospect_name": "P",
            "source": other.pk,
            "received_on": referral.received_on.isoformat(),
        },
    )
    thank_you = referral.thank_yous.get()
    assert (thank_you.source, thank_you.channel) == (other, "call")


def test_a_reassigned_referral_takes_its_thanks_along(
    client, carol, alice, bob, alice_partner
):
    referral = referral_log(user=alice, source=alice_partner, prospect_name="P")
    client.force_login(carol)
    client.post(
        f"/referrals/{referral.pk}/edit/",
        {
            "prospect_name": "P",
            "source": alice_partner.pk,
            "owner": bob.pk,
            "received_on": referral.received_on.isoformat(),
        },
    )
    assert referral.thank_yous.get().owner == bob

"""What people write has a sensible length, said next to the field (issue 22,
item 11), and a name that reaches an email header stays on one line (item 7)."""

import pytest
from django.utils import timezone

from accounts.models import SIGNATURE_MAX
from core.validators import ACTIVITY_MAX, LINE_BREAK, NOTES_MAX
from partners.models import Partner
from referrals.models import Activity, Referral

CLIENT_FOCUS_MAX = 2000


def too_long(limit: int) -> str:
    """Django's max-length message for a value one over `limit`."""
    return f"Ensure this value has at most {limit} characters (it has {limit + 1})."


def over_and_at(limit: int) -> tuple[str, str]:
    return "x" * (limit + 1), "x" * limit


def referral_data(referral, **overrides):
    data = {
        "prospect_name": referral.prospect_name,
        "prospect_company": referral.prospect_company,
        "prospect_email": referral.prospect_email,
        "source": referral.source_id,
        "received_on": referral.received_on.isoformat(),
        "notes": "",
    }
    data.update(overrides)
    return data


def test_referral_notes_are_limited(client, alice, alice_referral):
    client.force_login(alice)
    url = f"/referrals/{alice_referral.pk}/edit/"
    over, at = over_and_at(NOTES_MAX)

    response = client.post(url, referral_data(alice_referral, notes=over))
    assert response.status_code == 200
    assert response.context["form"].errors["notes"] == [too_long(NOTES_MAX)]
    assert Referral.objects.get(pk=alice_referral.pk).notes == ""

    response = client.post(url, referral_data(alice_referral, notes=at))
    assert response.status_code == 302
    assert Referral.objects.get(pk=alice_referral.pk).notes == at


def test_an_activity_is_limited(client, alice, alice_referral):
    client.force_login(alice)
    url = f"/referrals/{alice_referral.pk}/activities/"
    over, at = over_and_at(ACTIVITY_MAX)

    response = client.post(url, {"kind": "call", "text": over})
    assert response.status_code == 400
    assert response.context["activity_form"].errors["text"] == [too_long(ACTIVITY_MAX)]
    assert not Activity.objects.exists()

    response = client.post(url, {"kind": "call", "text": at})
    assert response.status_code == 302
    assert Activity.objects.get().text == at


def test_the_first_note_of_log_referral_is_limited(client, alice, alice_partner):
    client.force_login(alice)
    over, at = over_and_at(ACTIVITY_MAX)
    data = {
        "source": alice_partner.pk,
        "prospect_name": "Nora Newman",
        "received_on": timezone.localdate().isoformat(),
        "new_source_kind": "customer",
    }

    response = client.post("/referrals/new/", {**data, "note": over})
    assert response.status_code == 200
    assert response.context["form"].errors["note"] == [too_long(ACTIVITY_MAX)]
    assert not Referral.objects.exists()

    response = client.post("/referrals/new/", {**data, "note": at})
    assert response.status_code == 302
    assert Activity.objects.get().text == at


@pytest.mark.parametrize(
    "field, limit", [("notes", NOTES_MAX), ("client_focus", CLIENT_FOCUS_MAX)]
)
def test_partner_texts_are_limited(client, alice, alice_partner, field, limit):
    client.force_login(alice)
    url = f"/partners/{alice_partner.pk}/edit/"
    data = {"name": alice_partner.name, "kind": "customer", "email_consent": "in"}
    over, at = over_and_at(limit)

    response = client.post(url, {**data, field: over})
    assert response.status_code == 200
    assert response.context["form"].errors[field] == [too_long(limit)]
    assert getattr(Partner.objects.get(pk=alice_partner.pk), field) == ""

    response = client.post(url, {**data, field: at})
    assert response.status_code == 302
    assert getattr(Partner.objects.get(pk=alice_partner.pk), field) == at


def profile_data(**overrides):
    return {
        "display_name": "Alice Rep",
        "time_zone": "UTC",
        "signature": "",
        **overrides,
    }


def test_the_signature_is_limited(client, alice):
    client.force_login(alice)
    over, at = over_and_at(SIGNATURE_MAX)

    response = client.post("/accounts/profile/", profile_data(signature=over))
    assert response.status_code == 200
    assert response.context["form"].errors["signature"] == [too_long(SIGNATURE_MAX)]
    alice.refresh_from_db()
    assert alice.signature == ""

    response = client.post("/accounts/profile/", profile_data(signature=at))
    assert response.status_code == 302
    alice.refresh_from_db()
    assert alice.signature == at


@pytest.mark.parametrize("name", ["Alice\nRep", "Alice\r\nRep", "Alice\u2028Rep"])
def test_a_display_name_on_two_lines_is_refused(client, alice, name):
    client.force_login(alice)
    response = client.post("/accounts/profile/", profile_data(display_name=name))
    assert response.status_code == 200
    assert response.context["form"].errors["display_name"] == [LINE_BREAK]
    alice.refresh_from_db()
    assert alice.display_name == "Alice Rep"

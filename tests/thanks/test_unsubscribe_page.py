"""The unsubscribe page, for a source still emailed and for one who already
opted out (issue 22, item 5)."""

import re

from django.conf import settings

from partners.models import Partner
from tests.factories import PartnerFactory
from thanks.services import unsubscribe_url


def path(partner) -> str:
    return unsubscribe_url(partner).removeprefix(settings.SITE_URL)


def card(response) -> str:
    """The page's main card (the layout around it may hold its own forms)."""
    page = response.content.decode()
    found = re.search(r'<div class="card-body[^"]*">(.*?)</div></div>', page, re.S)
    assert found, "no card on the page"
    return found.group(1)


def test_a_source_who_opted_out_is_told_so_and_asked_nothing(
    client, alice, alice_partner
):
    opted_out = PartnerFactory(owner=alice, email_consent=Partner.Consent.OPTED_OUT)
    response = client.get(path(opted_out))
    assert response.status_code == 200
    shown = card(response)
    assert "already unsubscribed" in shown
    assert "Stop our emails?" not in shown
    assert "<form" not in shown
    assert "<button" not in shown

    # A source still emailed is asked, with the one button.
    shown = card(client.get(path(alice_partner)))
    assert "Stop our emails?" in shown
    assert "<button" in shown
    assert "already unsubscribed" not in shown

"""With the Content-Security-Policy enforced, as in production, Chromium
refuses nothing on the pages people use: no inline script or style left,
htmx included."""

import pytest

from tests.browser import log_in
from tests.factories import PartnerFactory, ReferralFactory

pytestmark = pytest.mark.browser


@pytest.fixture
def enforced(settings):
    settings.CONTENT_SECURITY_POLICY_REPORT_ONLY = False


def refusals(page) -> list[str]:
    found = []
    page.on(
        "console",
        lambda message: (
            found.append(message.text)
            if "Content Security Policy" in message.text
            else None
        ),
    )
    return found


def test_no_page_breaks_the_policy(live_server, page, enforced, alice, admin):
    partner = PartnerFactory(owner=alice, notes="Met at the fair.\nLikes golf.")
    referral = ReferralFactory(source=partner, notes="Two lines\nof notes")
    refused = refusals(page)
    page.goto(live_server.url + "/accounts/login/")
    log_in(page, live_server.url, "alice@example.com")
    for path in [
        "/",
        "/referrals/board/",
        "/referrals/",
        f"/referrals/{referral.pk}/",
        "/referrals/new/",
        "/partners/",
        f"/partners/{partner.pk}/",
    ]:
        page.goto(live_server.url + path)
    # Notes keep their line breaks (a class now, not a refused inline style).
    page.goto(live_server.url + f"/partners/{partner.pk}/")
    notes = page.get_by_text("Met at the fair.")
    assert notes.evaluate("e => getComputedStyle(e).whiteSpace") == "pre-wrap"
    # htmx still works: the live source search answers as you type.
    page.goto(live_server.url + "/referrals/new/")
    page.get_by_label("Referred by").fill(partner.name[:4])
    page.get_by_text(partner.name).wait_for()
    assert refused == []

"""After logging a referral, Today shows the thank-you the source is owed."""

from pathlib import Path

import pytest
from django.conf import settings
from playwright.sync_api import expect

from tests.browser import log_in
from tests.factories import PartnerFactory
from thanks.models import ThankYou

SCREENSHOTS = Path(settings.VAR_DIR) / "screenshots"


@pytest.mark.browser
def test_today_shows_the_thanks_due_after_logging(live_server, page, alice):
    PartnerFactory(
        owner=alice, name="Olga Optout", company="Quiet Co", email_consent="out"
    )
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.set_viewport_size({"width": 1280, "height": 900})
    log_in(page, live_server.url, "alice@example.com")

    page.get_by_role("link", name="Log referral").click()
    page.get_by_label("Referred by").fill("Olga")
    page.get_by_text("Olga Optout").click()
    page.get_by_label("Prospect name").fill("Quentin Quest")
    page.get_by_role("button", name="Log referral").click()
    expect(page.get_by_text("Referral logged.")).to_be_visible()

    page.get_by_role("link", name="Today").click()
    row = page.locator(".thanks-row", has_text="Olga Optout")
    expect(row).to_contain_text("Referral received")
    expect(row).to_contain_text("Call (task for the rep)")
    expect(row).to_contain_text("Due by")
    page.screenshot(path=SCREENSHOTS / "today-thanks.png", full_page=True)

    # Mark the call done, in place.
    row.get_by_label("Note for the thank-you to Olga Optout").fill(
        "Called her, she was delighted"
    )
    row.get_by_role("button", name="Mark done").click()
    expect(page.locator(".thanks-row", has_text="Olga Optout")).to_contain_text(
        "Marked as thanked."
    )
    thank_you = ThankYou.objects.get(source__name="Olga Optout")
    assert (thank_you.status, thank_you.note) == (
        "done",
        "Called her, she was delighted",
    )

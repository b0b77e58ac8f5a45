"""A rep's day in the browser: log a referral for a new source, move it on the
board, and find the move on the referral's timeline."""

from pathlib import Path

import pytest
from django.conf import settings
from playwright.sync_api import expect

from referrals.models import Referral
from tests.browser import log_in

SCREENSHOTS = Path(settings.VAR_DIR) / "screenshots"


@pytest.mark.browser
def test_a_rep_logs_a_referral_and_moves_it_on_the_board(
    live_server, page, alice, alice_partner
):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.set_viewport_size({"width": 1400, "height": 900})
    log_in(page, live_server.url, "alice@example.com")

    # Log a referral; the source search finds existing sources as you type.
    page.get_by_role("link", name="Log referral").click()
    page.get_by_label("Referred by").fill("Pri")
    expect(page.get_by_text("Priya Source")).to_be_visible()
    # This one comes from someone new: add them inline.
    page.get_by_label("Referred by").fill("")
    page.get_by_text("Not in the list? Add a new source").click()
    page.locator("#id_new_source_name").fill("Sam Sender")
    page.locator("#id_new_source_email").fill("sam@sender.example")
    page.locator("#id_new_source_company").fill("Sender & Co")
    page.get_by_label("Prospect name").fill("Nora Newman")
    page.locator("#id_prospect_company").fill("Initech")
    page.locator("#id_prospect_email").fill("nora@initech.example")
    page.get_by_label("Estimated value").fill("18000")
    page.get_by_label("First note").fill(
        "Sam says Nora's team outgrew their payroll tool."
    )
    page.screenshot(path=SCREENSHOTS / "referral-new.png", full_page=True)
    page.get_by_role("button", name="Log referral").click()

    expect(page.get_by_text("Referral logged.")).to_be_visible()
    expect(page.get_by_role("heading", name="Nora Newman")).to_be_visible()
    referral = Referral.objects.get(prospect_name="Nora Newman")
    assert referral.source.name == "Sam Sender"

    # Move it to Meeting held on the board, with htmx (no full reload).
    page.get_by_role("link", name="Pipeline").click()
    card = page.locator(f"#card-{referral.pk}")
    expect(card).to_be_visible()
    page.evaluate("window.__sameDocument = true")
    card.get_by_role("link", name="Move Nora Newman").click()  # the form, in place
    card.get_by_label("Move to").select_option(label="Meeting held")
    card.get_by_role("button", name="Move").click()
    expect(page.get_by_text("Nora Newman moved to Meeting held.")).to_be_visible()
    meeting_column = page.locator(
        "section", has=page.get_by_role("heading", name="Meeting held")
    )
    expect(meeting_column.locator(f"#card-{referral.pk}")).to_be_visible()
    assert page.evaluate("window.__sameDocument") is True  # no page load happened
    page.screenshot(path=SCREENSHOTS / "board.png", full_page=True)

    # Won asks for the final value on the card itself.
    card = page.locator(f"#card-{referral.pk}")
    card.get_by_role("link", name="Move Nora Newman").click()
    card.get_by_label("Move to").select_option(label="Won")
    card.get_by_role("button", name="Move").click()
    expect(card.get_by_text("Enter the final value of the sale")).to_be_visible()

    # The referral page's timeline shows the move.
    page.goto(live_server.url + referral.get_absolute_url())
    expect(page.get_by_text("Moved from Received to Meeting held")).to_be_visible()
    page.screenshot(path=SCREENSHOTS / "referral-detail.png", full_page=True)

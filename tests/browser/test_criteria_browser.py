"""A rep logs a referral with the criteria checklist, sees its label on the
board, and revises the answers on the referral's page in place (htmx)."""

from pathlib import Path

import pytest
from django.conf import settings
from playwright.sync_api import expect

from referrals.models import Label, Referral
from referrals.services import criterion_create
from tests.browser import log_in

SCREENSHOTS = Path(settings.VAR_DIR) / "screenshots"


@pytest.mark.browser
def test_a_rep_logs_a_referral_with_the_checklist_and_sees_its_label(
    live_server, page, alice, alice_partner
):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    criterion_create(
        team=None,
        question="Speaks to the decision maker or their direct report",
        weight=3,
    )
    criterion_create(team=None, question="Has a need this year", weight=3)
    criterion_create(team=None, question="Company of 50 to 2,000 people", weight=2)
    page.set_viewport_size({"width": 1366, "height": 900})
    log_in(page, live_server.url, "alice@example.com")

    page.get_by_role("link", name="Log referral").click()
    page.get_by_label("Referred by").fill("Priya")
    page.get_by_label("Priya Source").check()
    page.get_by_label("Prospect name").fill("Nora Newman")
    decision = page.get_by_role("group", name="Speaks to the decision maker")
    decision.get_by_text("Yes").click()
    page.get_by_role("group", name="Has a need this year").get_by_text("Yes").click()
    page.get_by_role("group", name="Company of 50").get_by_text("No").click()
    page.screenshot(path=SCREENSHOTS / "criteria-log-form.png", full_page=True)
    page.get_by_role("button", name="Log referral").click()

    expect(page.get_by_text("Referral logged.")).to_be_visible()
    referral = Referral.objects.get(prospect_name="Nora Newman")
    assert referral.label == Label.QUALIFIED  # 6 of 8: 75%
    expect(page.locator("#referral-label")).to_have_text("Qualified")

    page.get_by_role("link", name="Pipeline").click()
    card = page.locator(f"#card-{referral.pk}")
    expect(card.locator("i.lb-qualified")).to_have_text("Qualified")

    # Revised on its page, in place: the label and the timeline follow.
    page.goto(live_server.url + referral.get_absolute_url())
    page.evaluate("window.__sameDocument = true")
    panel = page.locator("#assessment-panel")
    panel.get_by_role("group", name="Has a need this year").get_by_text("No").click()
    panel.get_by_role("button", name="Save answers").click()
    expect(page.locator("#referral-label")).to_have_text("Cold")  # 3 of 8
    expect(page.get_by_text("Label: Qualified → Cold (1 of 3 yes)")).to_be_visible()
    assert page.evaluate("window.__sameDocument") is True
    page.screenshot(path=SCREENSHOTS / "criteria-referral.png", full_page=True)

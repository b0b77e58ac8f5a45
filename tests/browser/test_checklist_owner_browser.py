"""A manager logs a referral for a rep of the other team they manage: picking
the owner swaps the checklist for that team's criteria in place (htmx), and
the referral is labelled by them."""

from pathlib import Path

import pytest
from django.conf import settings
from playwright.sync_api import expect

from accounts.models import Team
from referrals.models import Label, Referral
from referrals.services import criterion_create
from tests.browser import log_in
from tests.factories import PartnerFactory

SCREENSHOTS = Path(settings.VAR_DIR) / "screenshots"


@pytest.mark.browser
def test_a_manager_picks_another_teams_rep_and_answers_that_teams_criteria(
    live_server, page, north, south, carol, dave
):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    carol.team = north
    carol.save()
    Team.objects.filter(pk=south.pk).update(manager=carol)
    criterion_create(team=north, question="North: talks to the boss", weight=1)
    criterion_create(team=south, question="South: has a budget this year", weight=3)
    criterion_create(team=south, question="South: within our region", weight=1)
    PartnerFactory(owner=dave, name="Sol Source", company="Southern Co")
    page.set_viewport_size({"width": 1366, "height": 900})
    log_in(page, live_server.url, "carol@example.com")

    page.get_by_role("link", name="Log referral").click()
    checklist = page.locator("#log-checklist")
    expect(checklist).to_contain_text("North: talks to the boss")
    page.get_by_label("Referred by").fill("Sol")
    page.get_by_label("Sol Source").check()
    page.get_by_label("Prospect name").fill("Nora Newman")
    page.evaluate("window.__sameDocument = true")
    page.get_by_label("Owner", exact=True).select_option(label="Dave Rep")

    expect(checklist).to_contain_text("South: has a budget this year")
    expect(checklist).not_to_contain_text("North:")
    expect(checklist).to_contain_text("team South's criteria")
    assert page.evaluate("window.__sameDocument") is True  # swapped in place
    checklist.get_by_role("group", name="South: has a budget").get_by_text(
        "Yes"
    ).click()
    checklist.get_by_role("group", name="South: within our region").get_by_text(
        "No"
    ).click()
    page.screenshot(path=SCREENSHOTS / "checklist-owner.png", full_page=True)
    page.get_by_role("button", name="Log referral").click()

    expect(page.get_by_text("Referral logged.")).to_be_visible()
    referral = Referral.objects.get(prospect_name="Nora Newman")
    assert (referral.owner, referral.label) == (dave, Label.QUALIFIED)  # 3 of 4
    expect(page.locator("#referral-label")).to_have_text("Qualified")

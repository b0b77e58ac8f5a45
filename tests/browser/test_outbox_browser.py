from pathlib import Path

import pytest
from django.conf import settings
from django.core import mail
from playwright.sync_api import expect

SCREENSHOTS = Path(settings.VAR_DIR) / "screenshots"


@pytest.mark.browser
def test_a_rep_reads_her_own_mail_in_the_outbox(
    live_server, page, alice, dave, settings
):
    settings.EMAIL_BACKEND = settings.OUTBOX_BACKEND
    mail.EmailMessage(
        "Thank you for introducing Paula",
        "Thank you",
        None,
        ["source@example.org"],
        reply_to=["alice@example.com"],
    ).send()
    mail.EmailMessage(
        "Thank you for introducing Sam",
        "Thank you",
        None,
        ["other@example.org"],
        reply_to=["dave@example.com"],
    ).send()
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.goto(live_server.url + "/accounts/login/?next=/outbox/")
    page.get_by_label("Email").fill("alice@example.com")
    page.get_by_label("Password").fill("secret-pass-123")
    page.get_by_role("button", name="Log in").click()

    expect(page.get_by_role("heading", name="Outbox")).to_be_visible()
    expect(
        page.get_by_role("link", name="Thank you for introducing Paula")
    ).to_be_visible()
    expect(page.get_by_text("Thank you for introducing Sam")).to_have_count(0)
    page.screenshot(path=SCREENSHOTS / "outbox.png", full_page=True)

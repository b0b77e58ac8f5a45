from pathlib import Path

import pytest
from django.conf import settings
from playwright.sync_api import expect

SCREENSHOTS = Path(settings.VAR_DIR) / "screenshots"


@pytest.mark.browser
def test_a_rep_logs_in_and_sees_today(live_server, page, alice, alice_referral):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.goto(live_server.url + "/")
    expect(page).to_have_url(live_server.url + "/accounts/login/?next=/")
    page.screenshot(path=SCREENSHOTS / "login.png", full_page=True)

    page.get_by_label("Email").fill("alice@example.com")
    page.get_by_label("Password").fill("secret-pass-123")
    page.get_by_role("button", name="Log in").click()

    expect(page.get_by_role("heading", name="Today")).to_be_visible()
    expect(page.get_by_role("link", name="Paula Prospect")).to_be_visible()
    page.screenshot(path=SCREENSHOTS / "today.png", full_page=True)

    page.set_viewport_size({"width": 390, "height": 844})  # a phone
    expect(page.get_by_role("button", name="Toggle navigation")).to_be_visible()
    page.screenshot(path=SCREENSHOTS / "today-phone.png", full_page=True)

"""A rep asks a customer ready to ask, from Today, and a real Celery worker
sends the email to a real SMTP server: it carries the team's card link and
the one-click unsubscribe, and the customer's page shows it sent.

`make test` runs this on SQLite and the filesystem broker; CI runs it again
on PostgreSQL and Redis.
"""

from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import timezone
from playwright.sync_api import expect

from partners.models import Outcome
from tests.browser import log_in
from tests.factories import PartnerFactory
from tests.helpers import wait_for
from tests.smtp import SinkServer

SCREENSHOTS = Path(settings.VAR_DIR) / "screenshots"
pytestmark = [pytest.mark.browser, pytest.mark.worker]


@pytest.fixture
def sink():
    with SinkServer() as server:
        yield server


def test_a_rep_asks_a_ready_customer_and_the_worker_sends_it(
    live_server, page, alice, sink, celery_processes
):
    celery_processes("worker", EMAIL_URL=f"smtp://127.0.0.1:{sink.port}")
    today = timezone.localdate()
    customer = PartnerFactory(
        owner=alice,
        name="Zoë O'Hara",
        company="Hara & Sons",
        email="zoe@hara.example",
        kind="customer",
    )
    Outcome.objects.create(
        partner=customer,
        promised="Move the books to the new ledger",
        promised_by=today - timedelta(days=3),
        delivered="Books moved",
        delivered_on=today - timedelta(days=5),
        in_full="yes",
        on_budget="yes",
        satisfaction=5,
    )
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.set_viewport_size({"width": 1366, "height": 900})
    log_in(page, live_server.url, "alice@example.com")

    section = page.locator(
        "section", has=page.get_by_role("heading", name="Ready to ask")
    )
    row = section.locator(".ask-row", has_text="Zoë O'Hara")
    expect(row).to_contain_text("“Move the books to the new ledger” delivered on")
    row.get_by_role("link", name="Ask Zoë O'Hara").click()

    expect(
        page.get_by_role("heading", name="Ask Zoë O'Hara for referrals")
    ).to_be_visible()
    expect(page.get_by_text("Ready to ask.")).to_be_visible()
    expect(page.get_by_label("Send the email below, as you")).to_be_checked()
    page.screenshot(path=SCREENSHOTS / "ask-page.png", full_page=True)
    page.get_by_role("button", name="Ask", exact=True).click()
    expect(page.get_by_text("Asked Zoë O'Hara by email")).to_be_visible()

    def arrived():
        """the ask email at the SMTP sink"""
        return sink.sink.parsed()

    [message] = wait_for(arrived, timeout=60)
    assert message["To"] == "zoe@hara.example"
    assert message["From"] == "Alice Rep <crm@example.com>"
    assert message["Reply-To"] == "alice@example.com"
    assert message["Subject"] == "A small favour, Zoë?"
    text = message.get_body(("plain",)).get_content()
    assert settings.SITE_URL + alice.team.card_path() in text
    assert "/u/ask/" in "".join(str(message["List-Unsubscribe"]).split())

    # The customer's timeline says it was sent; Today no longer suggests them.
    def sent():
        """the ask email recorded as sent"""
        return customer.ask_emails.filter(status="sent").exists()

    wait_for(sent, timeout=30)
    page.reload()
    expect(
        page.get_by_text("Asked for referrals by email by Alice Rep")
    ).to_be_visible()
    expect(page.locator(".badge", has_text="Sent")).to_be_visible()
    page.goto(live_server.url + "/")
    expect(section.locator(".ask-row")).to_have_count(0)
    expect(page.locator(".not-now-row", has_text="Zoë O'Hara")).to_contain_text(
        "(email): not again before"
    )

"""A rep adds a commitment due yesterday (overdue: its reminder goes now,
whatever the hour; one due today waits for 8:00) to a partner's plan in the browser, and
its reminder reaches the owner once: a real Celery worker sends it, two
beats sweeping every second at once send it no second time (issue 27).

`make test` runs this on SQLite and the filesystem broker; CI runs it again
on PostgreSQL and Redis.
"""

import time
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import timezone
from playwright.sync_api import expect

from partners.models import Commitment
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


def test_an_overdue_commitment_is_reminded_once_by_the_worker(
    live_server, page, alice, sink, celery_processes
):
    email = {"EMAIL_URL": f"smtp://127.0.0.1:{sink.port}"}
    celery_processes("worker", **email)
    hana = PartnerFactory(
        owner=alice, name="Hana O'Neil", company="Payroll & Co", kind="partner"
    )
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.set_viewport_size({"width": 1366, "height": 900})
    log_in(page, live_server.url, "alice@example.com")
    page.goto(f"{live_server.url}/partners/{hana.pk}/")
    plan = page.locator(
        "section", has=page.get_by_role("heading", name="Partnership plan")
    )
    plan.get_by_role("link", name="Add a commitment").click()
    page.get_by_label("Commitment").fill("Introduce two HR directors")
    page.get_by_label("Who owes it").select_option("them")
    yesterday = timezone.localdate() - timedelta(days=1)
    page.get_by_label("Due on").fill(yesterday.isoformat())
    page.get_by_role("button", name="Save the commitment").click()
    expect(
        page.get_by_text("Commitment saved: Introduce two HR directors.")
    ).to_be_visible()

    def arrived():
        """the reminder at the SMTP sink"""
        return sink.sink.parsed()

    [message] = wait_for(arrived, timeout=60)
    assert message["To"] == "alice@example.com"
    assert message["Subject"] == "Overdue: Introduce two HR directors (Hana O'Neil)"
    assert "Owed by: Hana O'Neil" in message.get_body(("plain",)).get_content()

    # Two beats at once, sweeping every second: nothing is sent again.
    celery_processes("beat", TOUCHPOINT_SWEEP_SECONDS=1, **email)
    celery_processes("beat", TOUCHPOINT_SWEEP_SECONDS=1, **email)
    time.sleep(4)
    assert len(sink.sink.parsed()) == 1
    reminder = Commitment.objects.get().reminder
    assert reminder.status == "sent"
    page.reload()
    expect(plan).to_contain_text("reminder sent")
    page.screenshot(path=SCREENSHOTS / "partner-plan.png", full_page=True)

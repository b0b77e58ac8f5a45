"""Thank-yous end to end: the web app, the broker, real Celery worker and beat
processes, and a real SMTP server on 127.0.0.1.

`make test` runs these on SQLite and the filesystem broker; CI runs them again
on PostgreSQL and Redis.
"""

import os
import signal
import time
from datetime import timedelta

import pytest
from django.utils import timezone

from partners.models import Partner
from referrals.models import Referral
from tests.factories import ReferralFactory, stage
from tests.helpers import broker_unreachable, wait_for
from tests.smtp import SinkServer
from thanks.models import ThankYou
from thanks.services import thank_you_dispatch, thank_yous_sweep

pytestmark = pytest.mark.worker


@pytest.fixture
def sink():
    with SinkServer() as server:
        yield server


@pytest.fixture
def start_worker(celery_processes, sink):
    def start(**env):
        return celery_processes(
            "worker", EMAIL_URL=f"smtp://127.0.0.1:{sink.port}", **env
        )

    return start


def log_referral(client, source):
    response = client.post(
        "/referrals/new/",
        {
            "source": source.pk,
            "prospect_name": "Paula Prospect",
            "prospect_company": "Globex",
            "received_on": timezone.localdate().isoformat(),
            "new_source_kind": "customer",
        },
    )
    assert response.status_code == 302, response.content.decode()[:500]
    return Referral.objects.get(prospect_name="Paula Prospect")


def move(client, referral, stage_name, **data):
    response = client.post(
        f"/referrals/{referral.pk}/move/", {"stage": stage(stage_name).pk, **data}
    )
    assert response.status_code == 302


def arrived(sink, count, timeout=60):
    def enough():
        """emails at the SMTP sink"""
        return len(sink.sink.messages) >= count

    wait_for(enough, timeout=timeout)
    return sink.sink.parsed()


def test_three_moments_three_emails_in_order(
    client, alice, alice_partner, sink, start_worker
):
    start_worker()
    client.force_login(alice)
    referral = log_referral(client, alice_partner)
    arrived(sink, 1)
    move(client, referral, "Meeting held")
    arrived(sink, 2)
    move(client, referral, "Won", final_value="30000")
    messages = arrived(sink, 3)
    time.sleep(1)  # nothing more may come
    assert len(sink.sink.messages) == 3
    assert [m["Subject"] for m in messages] == [
        "Thank you for introducing Paula Prospect",
        "An update on Paula Prospect",
        "Good news about Paula Prospect",
    ]
    ids = [t.message_id for t in referral.thank_yous.order_by("pk")]
    for message, message_id in zip(messages, ids, strict=True):
        assert message["To"] == alice_partner.email
        assert message["From"] == "Alice Rep <crm@example.com>"
        assert message["Reply-To"] == "alice@example.com"
        assert message["Message-ID"] == message_id
        assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    # The unsubscribe link works, with one click and no login.
    link = (
        messages[0]["List-Unsubscribe"]
        .strip(" <>")
        .removeprefix("http://127.0.0.1:8000")
    )
    client.logout()
    assert client.post(link).status_code == 200
    alice_partner.refresh_from_db()
    assert alice_partner.email_consent == Partner.Consent.OPTED_OUT


def test_broker_down_while_won_loses_nothing(
    client, alice, alice_partner, sink, start_worker, settings
):
    start_worker()
    client.force_login(alice)
    referral = log_referral(client, alice_partner)
    arrived(sink, 1)
    with broker_unreachable():
        move(client, referral, "Won", final_value="30000")  # the sale is saved
    referral.refresh_from_db()
    assert referral.stage.name == "Won"
    won = referral.thank_yous.get(moment="won")
    assert won.status == "scheduled"  # owed, waiting in the database
    time.sleep(1)
    assert len(sink.sink.messages) == 1
    # The broker is back: the sweep (what beat runs every minute) sends it.
    assert thank_yous_sweep() == 1
    messages = arrived(sink, 2)
    assert messages[1]["Subject"] == "Good news about Paula Prospect"
    wait_for(lambda: ThankYou.objects.get(pk=won.pk).status == "sent", timeout=10)


def test_a_worker_killed_mid_send_is_replaced_and_the_email_goes_once(
    client, alice, alice_partner, sink, start_worker, settings
):
    settings.TOUCHPOINT_STUCK_SECONDS = 5
    sink.sink.stall_rcpt_seconds = 30  # the first worker hangs inside SMTP...
    first = start_worker()
    client.force_login(alice)
    referral = log_referral(client, alice_partner)
    thank_you = referral.thank_yous.get()
    wait_for(lambda: sink.sink.rcpt_seen >= 1, timeout=60)
    claimed = ThankYou.objects.get(pk=thank_you.pk)
    assert claimed.status == "sending"
    os.kill(first.pid, signal.SIGKILL)  # ...and dies there
    first.wait()
    sink.sink.stall_rcpt_seconds = 0

    start_worker()
    if timezone.now() - claimed.claimed_at < timedelta(seconds=4):
        assert thank_yous_sweep() == 0  # claimed moments ago: maybe still sending
    revived_at = claimed.claimed_at + timedelta(seconds=5.5)
    time.sleep(max(0.0, (revived_at - timezone.now()).total_seconds()))
    assert thank_yous_sweep() == 1  # claimed too long ago: its worker is gone
    arrived(sink, 1)
    wait_for(lambda: ThankYou.objects.get(pk=thank_you.pk).status == "sent", timeout=10)
    time.sleep(1)
    assert len(sink.sink.messages) == 1
    assert ThankYou.objects.get(pk=thank_you.pk).attempts == 2


def test_smtp_refusing_is_retried_then_failed_and_shown(
    client, alice, alice_partner, sink, start_worker, settings
):
    sink.sink.refuse_data = "451 4.3.0 Temporary failure, try later"
    start_worker()
    client.force_login(alice)
    referral = log_referral(client, alice_partner)
    thank_you = referral.thank_yous.get()

    def retried():
        """the worker's first attempt recorded"""
        return ThankYou.objects.filter(
            pk=thank_you.pk, attempts=1, status="scheduled"
        ).first()

    first = wait_for(retried, timeout=60)
    assert "451" in first.last_error
    assert first.next_attempt_at > timezone.now() + timedelta(minutes=1)
    # The later attempts, as the sweep would make them over the next hour.
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", sink.port
    for _ in range(4):
        ThankYou.objects.filter(pk=thank_you.pk).update(next_attempt_at=timezone.now())
        thank_you_dispatch(thank_you_id=thank_you.pk)
    failed = ThankYou.objects.get(pk=thank_you.pk)
    assert (failed.status, failed.attempts) == ("failed", 5)
    page = client.get("/").content.decode()
    assert "Failed after 5 attempts" in page and "451 4.3.0" in page and "Retry" in page
    assert sink.sink.messages == []


def test_two_beats_at_once_still_send_one_email_per_moment(
    alice, alice_partner, sink, start_worker, celery_processes
):
    due = timezone.now() - timedelta(minutes=1)
    thank_yous = [
        ThankYou.objects.create(
            referral=ReferralFactory(
                source=alice_partner, prospect_name=f"Prospect {i}"
            ),
            source=alice_partner,
            moment="received",
            channel="email",
            due_at=due,
            deadline_at=due + timedelta(hours=2),
        )
        for i in range(20)
    ]  # owed, never queued: only the sweep will find them
    start_worker()
    celery_processes("beat", TOUCHPOINT_SWEEP_SECONDS=1)
    celery_processes("beat", TOUCHPOINT_SWEEP_SECONDS=1)
    arrived(sink, 20, timeout=90)
    time.sleep(4)  # several more sweeps from both beats
    messages = sink.sink.parsed()
    assert len(messages) == 20
    assert {m["Message-ID"] for m in messages} == {t.message_id for t in thank_yous}
    assert set(ThankYou.objects.values_list("status", flat=True)) == {"sent"}

"""A worker that died and came back: the sweep sends what was owed meanwhile.

Issue 23: a worker can exit for good when Redis goes away, and nothing in the
project brought it back. deploy/systemd/ restarts it (tests/test_deploy_units.py);
this test shows that once it is back, the beat's sweep sends every thank-you
logged while no worker ran, each once, even though the broker lost the tasks
queued meanwhile (as a Redis restart without persistence does).
"""

import os
import signal
import time

import pytest
from django.utils import timezone

from referrals.models import Referral
from tests.helpers import wait_for
from tests.smtp import SinkServer
from thanks.models import ThankYou

pytestmark = pytest.mark.worker

SWEEP_SECONDS = 2


@pytest.fixture
def sink():
    with SinkServer() as server:
        yield server


@pytest.fixture
def start_worker(celery_processes, sink):
    def start():
        return celery_processes("worker", EMAIL_URL=f"smtp://127.0.0.1:{sink.port}")

    return start


def log_referral(client, source, prospect_name: str) -> Referral:
    response = client.post(
        "/referrals/new/",
        {
            "source": source.pk,
            "prospect_name": prospect_name,
            "prospect_company": f"{prospect_name} Ltd",
            "received_on": timezone.localdate().isoformat(),
            "new_source_kind": "customer",
        },
    )
    assert response.status_code == 302, response.content.decode()[:500]
    return Referral.objects.get(prospect_name=prospect_name)


def arrived(sink, count: int, timeout: float):
    def enough():
        """thank-yous at the SMTP sink"""
        return len(sink.sink.messages) >= count

    wait_for(enough, timeout=timeout)
    return sink.sink.parsed()


def broker_emptied() -> None:
    """Drop every queued task, as a Redis restarted without its data would."""
    from referrals_crm.celery import app
    from thanks.queue import QUEUED_FLAG
    from thanks.queue import broker_redis as _broker_redis

    with app.connection_for_write() as conn:
        conn.default_channel.queue_purge("celery")
    if client := _broker_redis():
        client.delete(QUEUED_FLAG)


def test_the_sweep_sends_what_was_logged_while_no_worker_ran(
    client, alice, alice_partner, sink, start_worker, celery_processes
):
    first = start_worker()
    celery_processes("beat", TOUCHPOINT_SWEEP_SECONDS=SWEEP_SECONDS)
    client.force_login(alice)
    before = log_referral(client, alice_partner, "Paula Before")
    arrived(sink, 1, timeout=60)  # the worker is up and sending
    wait_for(lambda: before.thank_yous.get().status == "sent", timeout=10)

    os.kill(first.pid, signal.SIGKILL)  # it dies, and nothing restarts it here
    first.wait()
    referrals = [log_referral(client, alice_partner, f"Paula {n}") for n in range(1, 4)]
    time.sleep(SWEEP_SECONDS + 1)  # a sweep comes and goes: no worker to run it
    assert len(sink.sink.messages) == 1
    owed = ThankYou.objects.filter(referral__in=referrals)
    assert set(owed.values_list("status", flat=True)) == {"scheduled"}

    broker_emptied()
    start_worker()  # what the process manager does
    # Worker start-up, then a sweep and the dispatch it queues.
    messages = arrived(sink, 4, timeout=SWEEP_SECONDS + 30)
    wait_for(lambda: set(owed.values_list("status", flat=True)) == {"sent"}, 10)
    time.sleep(1)  # nothing more may come
    assert len(sink.sink.messages) == 4
    assert sorted(m["Message-ID"] for m in messages[1:]) == sorted(
        t.message_id for t in owed
    )
    assert sorted(m["Subject"] for m in messages[1:]) == [
        f"Thank you for introducing Paula {n}" for n in range(1, 4)
    ]

"""/healthz tells an operator whether thank-yous are flowing, not only that
the web process answers."""

from datetime import timedelta

import pytest
from django.utils import timezone

from core.health import WORKER_HEARTBEAT_PREFIX, heartbeat_record
from core.models import Heartbeat
from referrals.services import referral_log
from tests.helpers import wait_for
from thanks.models import ThankYou
from thanks.services import SWEEP_HEARTBEAT, thank_yous_sweep


@pytest.fixture
def alive(db):
    """A sweep and a worker that reported just now."""
    heartbeat_record(SWEEP_HEARTBEAT)
    heartbeat_record(WORKER_HEARTBEAT_PREFIX + "celery@web1")


def test_everything_working_is_200_with_each_figure(client, alive):
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok" and body["failing"] == []
    assert (body["database"], body["broker"]) == ("ok", "ok")
    assert body["sweep"]["status"] == "ok"
    assert body["sweep"]["seconds_ago"] < 5
    assert body["sweep"]["limit_seconds"] == 180  # three 60 s sweeps
    assert body["workers"] == {
        "status": "ok",
        "seconds_ago": body["workers"]["seconds_ago"],
        "limit_seconds": 90,
    }
    assert body["thank_yous"] == {
        "status": "ok",
        "oldest_due_seconds_late": 0.0,
        "limit_seconds": 600.0,
    }
    assert "celery@web1" not in response.content.decode()  # no host names


def test_it_needs_no_login_and_is_not_cached(client, alive):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert "no-cache" in response["Cache-Control"]


def test_a_sweep_older_than_three_intervals_is_503(client, alive):
    Heartbeat.objects.filter(name=SWEEP_HEARTBEAT).update(
        at=timezone.now() - timedelta(seconds=181)
    )
    response = client.get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["failing"] == ["sweep"]
    assert body["sweep"]["status"] == "error"
    assert body["sweep"]["seconds_ago"] >= 181


def test_a_sweep_that_never_ran_is_503(client, alive):
    Heartbeat.objects.filter(name=SWEEP_HEARTBEAT).delete()
    body = client.get("/healthz").json()
    assert body["failing"] == ["sweep"]
    assert body["sweep"]["seconds_ago"] is None


def test_the_sweep_writes_its_heartbeat(client, db):
    assert client.get("/healthz").json()["sweep"]["status"] == "error"
    thank_yous_sweep(enqueue=lambda: None)
    assert client.get("/healthz").json()["sweep"]["status"] == "ok"


def test_no_worker_heard_from_is_503(client, alive):
    Heartbeat.objects.filter(name__startswith=WORKER_HEARTBEAT_PREFIX).update(
        at=timezone.now() - timedelta(seconds=91)
    )
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["failing"] == ["workers"]
    # One live worker among dead ones is enough.
    heartbeat_record(WORKER_HEARTBEAT_PREFIX + "celery@web2")
    assert client.get("/healthz").status_code == 200


def test_a_thank_you_ten_minutes_late_is_503(client, alive, alice, alice_partner):
    referral = referral_log(user=alice, source=alice_partner, prospect_name="Paula")
    thank_you = referral.thank_yous.get()
    ThankYou.objects.filter(pk=thank_you.pk).update(
        due_at=timezone.now() - timedelta(minutes=9)
    )
    assert client.get("/healthz").status_code == 200
    ThankYou.objects.filter(pk=thank_you.pk).update(
        due_at=timezone.now() - timedelta(minutes=11)
    )
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["failing"] == ["thank_yous"]
    assert response.json()["thank_yous"]["oldest_due_seconds_late"] >= 660
    # Waiting for its retry's time (after an SMTP error) is not late.
    ThankYou.objects.filter(pk=thank_you.pk).update(
        next_attempt_at=timezone.now() + timedelta(minutes=5)
    )
    assert client.get("/healthz").status_code == 200


def test_a_call_task_is_not_counted_as_a_late_email(
    client, alive, alice, alice_partner
):
    referral = referral_log(user=alice, source=alice_partner, prospect_name="Paula")
    ThankYou.objects.filter(referral=referral).update(
        channel="call", due_at=timezone.now() - timedelta(hours=3)
    )
    assert client.get("/healthz").status_code == 200


def test_it_reads_a_fixed_number_of_queries(
    client, alive, alice, alice_partner, django_assert_num_queries
):
    for name in ("A", "B", "C"):
        referral_log(user=alice, source=alice_partner, prospect_name=name)
    # 1 SELECT 1, 2 the sweep's heartbeat, 3 the workers' latest heartbeat,
    # 4 the oldest email due.
    with django_assert_num_queries(4):
        assert client.get("/healthz").status_code == 200


@pytest.fixture
def broker_down(settings):
    """A broker on a port where nothing listens: a real refusal, not a mock."""
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"
    settings.CELERY_BROKER_TRANSPORT_OPTIONS = {}


def test_healthz_is_503_when_the_broker_is_down(client, alive, broker_down):
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["broker"] == "error"
    assert response.json()["database"] == "ok"
    assert "broker" in response.json()["failing"]


@pytest.mark.worker
def test_a_running_worker_writes_its_heartbeat(client, celery_worker_process):
    heartbeat_record(SWEEP_HEARTBEAT)

    def worker_alive():
        """the worker's heartbeat"""
        return client.get("/healthz").json()["workers"]["status"] == "ok"

    wait_for(worker_alive, timeout=60)
    assert client.get("/healthz").status_code == 200

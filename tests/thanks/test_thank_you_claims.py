"""A send's result belongs to its claim, and a mail server that never greets
costs one timeout, not two."""

import socket
import threading
from datetime import timedelta

import pytest
from django.core.mail import get_connection
from django.utils import timezone

from referrals.services import referral_log
from thanks.models import ThankYou
from thanks.services import (
    _claim_due,
    _claimed,
    _deliver,
    _moment_configs,
    _record_failure,
    stuck_after,
    thank_you_dispatch,
    thank_yous_sweep,
)


@pytest.fixture
def thank_you(alice, alice_partner):
    referral = referral_log(user=alice, source=alice_partner, prospect_name="Paula")
    return referral.thank_yous.get()


class SilentServer:
    """Accepts TCP connections and never says a word (no SMTP greeting)."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.port = self.sock.getsockname()[1]
        self.accepted = []
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.accepted.append(conn)

    def close(self):
        self.sock.close()
        for conn in self.accepted:
            conn.close()


@pytest.fixture
def silent_smtp(settings):
    server = SilentServer()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", server.port
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_TIMEOUT = 1
    yield server
    server.close()


def test_a_server_that_never_greets_is_tried_once_per_email(silent_smtp, thank_you):
    kept = get_connection()  # as a worker keeps one
    assert thank_you_dispatch(thank_you_id=thank_you.pk, connection=kept) == "retry"
    # One connection, one timeout: a session that never worked is not reopened.
    assert len(silent_smtp.accepted) == 1
    thank_you.refresh_from_db()
    assert thank_you.status == "scheduled" and thank_you.next_attempt_at
    assert "Could not reach the mail server" in thank_you.last_error


def test_a_slow_sends_result_does_not_overwrite_a_newer_claim(thank_you, smtp_sink):
    """Worker 1 claims and stalls; the sweep revives the row; worker 2 claims
    it and is sending when worker 1 finally records its failure."""
    first_claim = timezone.now()
    assert _claim_due(first_claim, 10) == [thank_you.pk]
    (slow,) = _claimed(ids=[thank_you.pk])

    thank_yous_sweep(now=first_claim + stuck_after() + timedelta(seconds=1))
    second_claim = timezone.now() + timedelta(seconds=1)
    assert _claim_due(second_claim, 10) == [thank_you.pk]

    assert _record_failure(slow, "worker 1 timed out") == "retry"
    row = ThankYou.objects.get(pk=thank_you.pk)
    # Still worker 2's send in progress, untouched.
    assert (row.status, row.claimed_at, row.last_error) == ("sending", second_claim, "")

    (fresh,) = _claimed(ids=[thank_you.pk])
    assert _deliver(fresh, _moment_configs()["received"], None) == "sent"
    row.refresh_from_db()
    assert row.status == "sent"
    assert len(smtp_sink.messages) == 1


def test_a_slow_sends_success_does_not_record_over_a_newer_claim(thank_you, smtp_sink):
    first_claim = timezone.now()
    _claim_due(first_claim, 10)
    (slow,) = _claimed(ids=[thank_you.pk])
    thank_yous_sweep(now=first_claim + stuck_after() + timedelta(seconds=1))
    second_claim = timezone.now() + timedelta(seconds=1)
    _claim_due(second_claim, 10)

    assert _deliver(slow, _moment_configs()["received"], None) == "sent"
    row = ThankYou.objects.get(pk=thank_you.pk)
    assert (row.status, row.claimed_at, row.sent_at) == ("sending", second_claim, None)

"""Sending thanks: claim, send over real SMTP (a local sink), record, retry."""

import re
from datetime import timedelta
from decimal import Decimal

import pytest
import redis
import time_machine
from django.db import connection
from django.utils import timezone

from partners.models import Partner
from referrals.services import referral_log, referral_move
from tests.factories import PartnerFactory, stage
from tests.helpers import at_once, broker_at
from thanks import services as thank_yous
from thanks.models import ThankYou, ThankYouMoment
from thanks.queue import QUEUED_FLAG, request_dispatch
from thanks.services import (
    GAVE_UP,
    MAX_ATTEMPTS,
    partner_opt_out,
    thank_you_dispatch,
    thank_yous_dispatch_due,
    thank_yous_sweep,
)
from thanks.tasks import thank_yous_dispatch_task


@pytest.fixture
def referral(alice, alice_partner, smtp_sink):
    alice.signature = "Alice Rep\nAcme Consulting"
    alice.save()
    return referral_log(
        user=alice,
        source=alice_partner,
        prospect_name="Paula Prospect",
        prospect_company="Globex",
    )


def plain(message) -> str:
    return message.get_body(("plain",)).get_content().replace("\r\n", "\n")


def dispatch(thank_you):
    return thank_you_dispatch(thank_you_id=thank_you.pk)


def drain():
    return thank_yous_dispatch_due()


def test_it_sends_the_thanks_with_the_right_headers(referral, smtp_sink, alice_partner):
    thank_you = referral.thank_yous.get()
    assert dispatch(thank_you) == "sent"

    [message] = smtp_sink.parsed()
    assert message["To"] == alice_partner.email
    assert message["From"] == "Alice Rep <crm@example.com>"  # the rep, our address
    assert message["Reply-To"] == "alice@example.com"
    assert message["Subject"] == "Thank you for introducing Paula Prospect"
    thank_you.refresh_from_db()
    assert re.fullmatch("[0-9a-f]{32}", thank_you.message_token)
    assert message["Message-ID"] == f"<thanks.{thank_you.message_token}@example.com>"
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    unsubscribe = message["List-Unsubscribe"].strip(" <>")
    assert unsubscribe.startswith("http://127.0.0.1:8000/u/")
    text = plain(message)
    html = message.get_body(("html",)).get_content()
    assert "Hi Priya," in text
    assert "Where it stands today: Received." in text  # the update they are owed
    assert "Alice Rep\nAcme Consulting" in text
    assert unsubscribe in text and unsubscribe in html

    thank_you.refresh_from_db()
    assert thank_you.status == "sent"
    assert thank_you.sent_at is not None
    assert thank_you.subject == "Thank you for introducing Paula Prospect"
    assert "Where it stands today" in thank_you.body_text
    alice_partner.refresh_from_db()  # the source's "last thanked" moves with it
    assert alice_partner.last_thanked_at == thank_you.sent_at


def test_it_never_sends_twice(referral, smtp_sink):
    thank_you = referral.thank_yous.get()
    assert dispatch(thank_you) == "sent"
    assert dispatch(thank_you) == "not claimed"
    assert len(smtp_sink.messages) == 1


def test_it_does_not_send_before_due(referral, smtp_sink):
    thank_you = referral.thank_yous.get()
    ThankYou.objects.filter(pk=thank_you.pk).update(
        due_at=timezone.now() + timedelta(minutes=5)
    )
    assert dispatch(thank_you) == "not claimed"
    assert smtp_sink.messages == []


def test_three_moments_three_emails_in_order(referral, alice, smtp_sink):
    def send_due():
        for thank_you in referral.thank_yous.filter(status="scheduled"):
            dispatch(thank_you)

    send_due()
    referral_move(referral=referral, to_stage=stage("Meeting held"), user=alice)
    send_due()
    referral_move(
        referral=referral, to_stage=stage("Won"), user=alice, final_value=Decimal(9)
    )
    send_due()
    messages = smtp_sink.parsed()
    assert [m["Subject"] for m in messages] == [
        "Thank you for introducing Paula Prospect",
        "An update on Paula Prospect",
        "Good news about Paula Prospect",
    ]
    # Each tells the source where the referral stands at that moment.
    assert "Where it stands in our process: Meeting held." in plain(messages[1])
    assert "You are hearing it from us first" in plain(messages[2])


def test_an_smtp_refusal_is_retried_with_backoff_then_failed(referral, smtp_sink):
    smtp_sink.refuse_data = "451 4.3.0 Mailbox busy, try later"
    thank_you = referral.thank_yous.get()
    with time_machine.travel(timezone.now(), tick=False) as clock:
        assert dispatch(thank_you) == "retry"
        thank_you.refresh_from_db()
        assert (thank_you.status, thank_you.attempts) == ("scheduled", 1)
        assert "451" in thank_you.last_error
        first_retry = thank_you.next_attempt_at
        assert dispatch(thank_you) == "not claimed"  # not before the backoff
        waited = timedelta()
        for attempt in range(2, MAX_ATTEMPTS + 1):
            thank_you.refresh_from_db()
            wait = thank_you.next_attempt_at - timezone.now()
            waited += wait
            clock.shift(wait)
            assert dispatch(thank_you) == (
                "failed" if attempt == MAX_ATTEMPTS else "retry"
            )
    thank_you.refresh_from_db()
    assert thank_you.status == "failed"
    assert thank_you.attempts == MAX_ATTEMPTS
    assert first_retry is not None
    assert timedelta(minutes=50) <= waited <= timedelta(minutes=70)  # about an hour
    assert smtp_sink.messages == []


def test_a_closed_smtp_port_is_an_error_not_a_crash(referral, settings):
    settings.EMAIL_PORT = 1  # nothing listens there
    thank_you = referral.thank_yous.get()
    assert dispatch(thank_you) == "retry"
    thank_you.refresh_from_db()
    assert "ConnectionRefusedError" in thank_you.last_error


def test_a_source_who_opts_out_before_the_send_gets_a_call(
    referral, alice_partner, smtp_sink
):
    # An update, as an opt-out racing the send: saving the source would make
    # the thank-you a call at once (thanks.apps), before any dispatch.
    Partner.objects.filter(pk=alice_partner.pk).update(email_consent="out")
    thank_you = referral.thank_yous.get()
    assert dispatch(thank_you) == "now a task"
    thank_you.refresh_from_db()
    assert (thank_you.channel, thank_you.status) == ("call", "scheduled")
    assert smtp_sink.messages == []


def test_a_deleted_referral_cancels_its_thanks(referral, smtp_sink):
    thank_you = referral.thank_yous.get()
    referral.delete()
    assert dispatch(thank_you) == "cancelled"
    thank_you.refresh_from_db()
    assert thank_you.status == "cancelled"


def test_the_sweep_sends_what_is_due_and_revives_dead_sends(referral, alice, smtp_sink):
    thank_you = referral.thank_yous.get()
    # A worker claimed it and died: the row sits in "sending".
    ThankYou.objects.filter(pk=thank_you.pk).update(
        status="sending", claimed_at=timezone.now() - timedelta(minutes=1)
    )
    assert thank_yous_sweep(enqueue=drain) == 0  # maybe still sending: leave it
    with time_machine.travel(timezone.now() + timedelta(minutes=6), tick=False):
        assert thank_yous_sweep(enqueue=drain) == 1
    thank_you.refresh_from_db()
    assert thank_you.status == "sent"
    assert len(smtp_sink.messages) == 1


def test_the_sweep_cancels_thanks_of_deleted_referrals(referral, smtp_sink):
    thank_you = referral.thank_yous.get()
    referral.delete()
    thank_yous_sweep(enqueue=lambda: None)
    thank_you.refresh_from_db()
    assert thank_you.status == "cancelled"


@pytest.mark.django_db(transaction=True)
def test_two_workers_racing_send_one_email(alice, alice_partner, smtp_sink):
    """Two threads (two connections) dispatch the same rows at once."""
    referrals = [
        referral_log(user=alice, source=alice_partner, prospect_name=f"P{i}")
        for i in range(10)
    ]
    ids = [r.thank_yous.get().pk for r in referrals]
    outcomes = [
        outcome
        for run in at_once(lambda: [thank_you_dispatch(thank_you_id=pk) for pk in ids])
        for outcome in run
    ]
    assert outcomes.count("sent") == 10
    assert len(smtp_sink.messages) == 10
    assert len({m["Message-ID"] for m in smtp_sink.parsed()}) == 10


def test_a_hanging_smtp_server_does_not_hang_the_worker(referral, smtp_sink, settings):
    settings.EMAIL_TIMEOUT = 1
    smtp_sink.stall_rcpt_seconds = 10
    thank_you = referral.thank_yous.get()
    started = timezone.now()
    assert dispatch(thank_you) == "retry"
    assert timezone.now() - started < timedelta(seconds=5)
    thank_you.refresh_from_db()
    assert "timed out" in thank_you.last_error


def test_a_reassigned_referral_is_thanked_by_its_new_owner(referral, bob, smtp_sink):
    referral.owner = bob
    referral.save()
    dispatch(referral.thank_yous.get())
    [message] = smtp_sink.parsed()
    assert message["From"] == "Bob Rep <crm@example.com>"
    assert message["Reply-To"] == "bob@example.com"


def test_a_kept_connection_is_reused_and_reopened_when_dropped(
    alice, alice_partner, smtp_sink
):
    from django.core.mail import get_connection

    kept = get_connection()
    first, second, third = (
        referral_log(
            user=alice, source=alice_partner, prospect_name=f"P{i}"
        ).thank_yous.get()
        for i in range(3)
    )
    assert thank_you_dispatch(thank_you_id=first.pk, connection=kept) == "sent"
    session = kept.connection
    assert thank_you_dispatch(thank_you_id=second.pk, connection=kept) == "sent"
    assert kept.connection is session  # one SMTP session for both
    kept.connection.sock.close()  # the server hung up while idle
    assert thank_you_dispatch(thank_you_id=third.pk, connection=kept) == "sent"
    assert len(smtp_sink.messages) == 3
    kept.close()


def log_many(alice, alice_partner, count):
    """`count` referrals, each owing a thank-you due now, oldest first."""
    referrals = [
        referral_log(user=alice, source=alice_partner, prospect_name=f"P{i}")
        for i in range(count)
    ]
    return [referral.thank_yous.get() for referral in referrals]


def test_one_dispatch_sends_everything_due_oldest_first(
    alice, alice_partner, smtp_sink
):
    thank_yous = log_many(alice, alice_partner, 7)
    later = thank_yous.pop()  # not due yet: left alone
    ThankYou.objects.filter(pk=later.pk).update(
        due_at=timezone.now() + timedelta(hours=1)
    )
    outcomes, finished = thank_yous_dispatch_due(batch=3)  # 3 + 3 + none left
    assert finished and outcomes == {"sent": 6}
    assert [m["Subject"] for m in smtp_sink.parsed()] == [
        f"Thank you for introducing P{i}" for i in range(6)
    ]
    assert set(ThankYou.objects.values_list("status", flat=True)) == {
        "sent",
        "scheduled",
    }
    assert ThankYou.objects.get(pk=later.pk).status == "scheduled"


def test_a_dispatch_out_of_time_hands_back_what_it_did_not_try(
    alice, alice_partner, smtp_sink
):
    log_many(alice, alice_partner, 3)
    outcomes, finished = thank_yous_dispatch_due(seconds=0)
    assert (outcomes, finished) == ({}, False)
    assert smtp_sink.messages == []
    # As if never claimed: the next dispatch sends all three, first attempt each.
    assert (
        list(ThankYou.objects.values_list("status", "attempts", "claimed_at"))
        == [("scheduled", 0, None)] * 3
    )
    assert drain() == ({"sent": 3}, True)
    assert set(ThankYou.objects.values_list("attempts", flat=True)) == {1}


@pytest.mark.django_db(transaction=True)
def test_two_workers_draining_at_once_send_each_email_once(
    alice, alice_partner, smtp_sink
):
    thank_yous = log_many(alice, alice_partner, 20)
    outcomes = [
        counts for counts, _ in at_once(lambda: thank_yous_dispatch_due(batch=4))
    ]
    assert sum(outcome["sent"] for outcome in outcomes) == 20
    assert sorted(m["Message-ID"] for m in smtp_sink.parsed()) == sorted(
        thank_you.message_id for thank_you in thank_yous
    )


def test_a_burst_of_thanks_queues_one_dispatch_on_redis(alice_partner):
    """Real Redis: however many rows commit before a worker starts the queued
    dispatch, one task is queued; once it starts, the next row queues another."""
    url = "redis://127.0.0.1:6379/13"
    broker = redis.Redis.from_url(url)
    broker.flushdb()
    try:
        with broker_at(url):
            for _ in range(5):
                request_dispatch()
            assert broker.llen("celery") == 1
            thank_yous_dispatch_task.run()  # what the worker runs: clears the flag
            assert not broker.exists(QUEUED_FLAG)
            request_dispatch()
            assert broker.llen("celery") == 2
    finally:
        broker.flushdb()


def durability_setting() -> str:
    query = {
        "postgresql": "SHOW synchronous_commit",
        "sqlite": "PRAGMA synchronous",
    }[connection.vendor]
    with connection.cursor() as cursor:
        cursor.execute(query)
        return str(cursor.fetchone()[0])


def test_a_dispatch_leaves_the_workers_connection_as_it_found_it(
    alice, alice_partner, smtp_sink
):
    """The dispatch's commits skip waiting for the disk; the worker's next
    task on the same connection (a digest, a sweep) must not."""
    log_many(alice, alice_partner, 2)
    before = durability_setting()
    assert drain() == ({"sent": 2}, True)
    assert durability_setting() == before
    # Also when the dispatch fails half-way.
    log_many(alice, alice_partner, 1)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(thank_yous, "_deliver", lambda *args: 1 / 0)
        with pytest.raises(ZeroDivisionError):
            drain()
    assert durability_setting() == before


def test_slow_sends_read_the_rest_of_the_batch_again(
    alice, alice_partner, smtp_sink, monkeypatch
):
    """A source who opts out while their email waits in a batch gets no email."""
    other = PartnerFactory(owner=alice, name="Omar Other", email="omar@example.com")
    referral_log(user=alice, source=alice_partner, prospect_name="First")
    second = referral_log(user=alice, source=other, prospect_name="Second")
    monkeypatch.setattr(thank_yous, "REREAD_SECONDS", 0)
    send = thank_yous._send

    def send_then_opt_out(message, connection):
        send(message, connection)
        partner_opt_out(partner=other)  # while "Second" waits its turn

    monkeypatch.setattr(thank_yous, "_send", send_then_opt_out)
    assert drain() == ({"sent": 1, "now a task": 1}, True)
    assert [m["To"] for m in smtp_sink.parsed()] == [alice_partner.email]
    assert second.thank_yous.get().channel == "call"


def test_an_error_mid_batch_hands_back_the_rows_not_tried(
    alice, alice_partner, smtp_sink, monkeypatch
):
    log_many(alice, alice_partner, 3)
    deliver = thank_yous._deliver
    calls = []

    def fail_on_second(*args):
        calls.append(1)
        if len(calls) == 2:
            raise RuntimeError("the database went away")
        return deliver(*args)

    monkeypatch.setattr(thank_yous, "_deliver", fail_on_second)
    with pytest.raises(RuntimeError):
        drain()
    assert list(ThankYou.objects.values_list("status", "attempts")) == [
        ("sent", 1),
        ("sending", 1),  # maybe sent: left for the stuck-send revival
        ("scheduled", 0),  # never tried: back in the queue at once
    ]


def test_a_moment_switched_off_before_sending_is_cancelled(
    alice, alice_partner, smtp_sink
):
    thank_you = referral_log(
        user=alice, source=alice_partner, prospect_name="P"
    ).thank_yous.get()
    ThankYouMoment.objects.filter(moment="received").update(enabled=False)
    assert thank_you_dispatch(thank_you_id=thank_you.pk) == "cancelled"
    assert smtp_sink.messages == []


def test_a_send_that_keeps_dying_ends_up_failed_and_visible(alice, alice_partner):
    thank_you = referral_log(
        user=alice, source=alice_partner, prospect_name="P"
    ).thank_yous.get()
    ThankYou.objects.filter(pk=thank_you.pk).update(
        status="sending",
        attempts=MAX_ATTEMPTS,
        claimed_at=timezone.now() - timedelta(hours=1),
    )
    thank_yous_sweep(enqueue=lambda: None)
    thank_you.refresh_from_db()
    assert (thank_you.status, thank_you.last_error) == ("failed", GAVE_UP)

"""The rep's morning digest: 08:00 in their own time zone, once, only if needed."""

from datetime import datetime, timedelta

import pytest
import time_machine
from django.core import mail
from django.utils import timezone

from referrals.digests import digests_send_due
from referrals.services import referral_log
from tests.factories import PartnerFactory, ReferralFactory, stage

# 07:10 UTC: 08:10 in Berlin (CET), 02:10 in New York.
MORNING_IN_BERLIN = datetime.fromisoformat("2026-11-23T07:10:00+00:00")


@pytest.fixture
def berliner(alice):
    alice.time_zone = "Europe/Berlin"
    alice.save()
    return alice


@pytest.fixture
def owed(berliner):
    source = PartnerFactory(owner=berliner, name="Olga Optout", email_consent="out")
    with time_machine.travel(MORNING_IN_BERLIN - timedelta(hours=1)):
        return referral_log(user=berliner, source=source, prospect_name="Quentin")


def test_the_digest_goes_at_eight_local_with_thanks_and_stale_referrals(
    berliner, owed, alice_partner
):
    ReferralFactory(
        source=alice_partner,
        prospect_name="Stale Stan",
        stage=stage("Contacted"),
        stage_entered_at=MORNING_IN_BERLIN - timedelta(days=9),
    )
    with time_machine.travel(MORNING_IN_BERLIN):
        assert digests_send_due() == 1
    [message] = mail.outbox
    assert message.to == ["alice@example.com"]
    assert message.subject == "Today: 1 thank-you to send, 1 referral going cold"
    assert "thank Olga Optout for Quentin" in message.body
    assert "Stale Stan" in message.body and "9 days in Contacted" in message.body
    assert message.alternatives[0][1] == "text/html"


def test_not_before_eight_and_only_once_a_day(berliner, owed):
    with time_machine.travel(MORNING_IN_BERLIN - timedelta(hours=1)):  # 07:10 Berlin
        assert digests_send_due() == 0
    with time_machine.travel(MORNING_IN_BERLIN):
        assert digests_send_due() == 1
        assert digests_send_due() == 0  # a second scheduler run, or a second beat
    with time_machine.travel(MORNING_IN_BERLIN + timedelta(days=1)):
        assert digests_send_due() == 1  # the next morning, still owed
    assert len(mail.outbox) == 2


def test_each_rep_gets_it_in_their_own_morning(berliner, owed, bob):
    bob.time_zone = "America/New_York"
    bob.save()
    ReferralFactory(
        source=PartnerFactory(owner=bob),
        stage_entered_at=MORNING_IN_BERLIN - timedelta(days=9),
        stage=stage("Contacted"),
    )
    with time_machine.travel(MORNING_IN_BERLIN):
        digests_send_due()
    assert [m.to for m in mail.outbox] == [["alice@example.com"]]
    with time_machine.travel(MORNING_IN_BERLIN + timedelta(hours=6)):  # 08:10 New York
        digests_send_due()
    assert [m.to for m in mail.outbox][-1] == ["bob@example.com"]


def test_nothing_to_say_no_email(berliner):
    with time_machine.travel(MORNING_IN_BERLIN):
        assert digests_send_due() == 0
    assert mail.outbox == []


def test_done_thanks_are_not_in_the_digest(berliner, owed):
    owed.thank_yous.update(status="done", completed_at=timezone.now())
    with time_machine.travel(MORNING_IN_BERLIN):
        assert digests_send_due() == 0


def test_the_digest_counts_every_referral_going_cold_and_links_to_them(
    client, monkeypatch, berliner, alice_partner, settings
):
    """It lists the longest cold (DIGEST_STALE) but counts them all, and
    links to the referral list of them all."""
    from referrals import digests

    monkeypatch.setattr(digests, "DIGEST_STALE", 2)
    for days in (9, 10, 11):
        ReferralFactory(
            source=alice_partner,
            prospect_name=f"Cold {days}",
            stage=stage("Contacted"),
            stage_entered_at=MORNING_IN_BERLIN - timedelta(days=days),
        )
    with time_machine.travel(MORNING_IN_BERLIN):
        assert digests_send_due() == 1
    [message] = mail.outbox
    assert message.subject == "Today: 3 referrals going cold"
    assert "Referrals going cold (3), the 2 longest in their stage:" in message.body
    assert "Cold 11" in message.body and "Cold 10" in message.body
    assert "Cold 9" not in message.body
    link = f"{settings.SITE_URL}/referrals/?stale=on&owner={berliner.pk}&sort=in_stage"
    assert f"All 3: {link}" in message.body
    assert "See all 3" in message.alternatives[0][0]
    client.force_login(berliner)
    with time_machine.travel(MORNING_IN_BERLIN):
        listed = client.get(link.removeprefix(settings.SITE_URL))
    assert listed.context["page"].paginator.count == 3


def test_a_digest_that_fails_to_send_is_tried_again(alice, settings, smtp_sink):
    alice.time_zone = "UTC"
    alice.save()
    morning = timezone.now().replace(hour=8, minute=5)
    # Logged the evening before, so the call thanks is overdue by the morning
    # whatever the hour the test runs at.
    with time_machine.travel(morning - timedelta(hours=12), tick=False):
        referral_log(
            user=alice,
            source=PartnerFactory(owner=alice, email_consent="out"),
            prospect_name="P",
        )
    settings.EMAIL_PORT = 1  # the mail server is down
    with time_machine.travel(morning, tick=False):
        assert digests_send_due() == 0
        alice.refresh_from_db()
        assert alice.digest_sent_on is None  # the day was given back
        settings.EMAIL_PORT = smtp_sink.port
        assert digests_send_due() == 1
    assert len(smtp_sink.messages) == 1
    assert mail.outbox == []

"""When thanks are owed: scheduling rules, with time moved by time-machine."""

from datetime import datetime, timedelta
from decimal import Decimal

import pytest
import time_machine

from referrals.services import referral_log, referral_move
from tests.factories import PartnerFactory, stage
from thanks.models import ThankYou, ThankYouMoment

NOW = datetime.fromisoformat("2026-11-23T10:00:00+00:00")


@pytest.fixture
def clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


def log(user, source, **kw):
    return referral_log(user=user, source=source, prospect_name="Paula", **kw)


def test_logging_a_referral_owes_the_received_thanks_by_email(
    alice, alice_partner, clock, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as callbacks:
        referral = log(alice, alice_partner)
    thank_you = ThankYou.objects.get(referral=referral)
    assert (thank_you.moment, thank_you.channel, thank_you.status) == (
        "received",
        "email",
        "scheduled",
    )
    assert thank_you.due_at == NOW  # the email goes at once...
    assert thank_you.deadline_at == NOW + timedelta(hours=2)  # ...promised within 2 h
    assert len(callbacks) == 1  # queued only after the referral is committed


def test_a_source_who_opted_out_is_thanked_by_a_call(
    alice, clock, django_capture_on_commit_callbacks
):
    source = PartnerFactory(owner=alice, email_consent="out")
    with django_capture_on_commit_callbacks() as callbacks:
        referral = log(alice, source)
    thank_you = ThankYou.objects.get(referral=referral)
    assert thank_you.channel == "call"
    assert thank_you.due_at == thank_you.deadline_at == NOW + timedelta(hours=2)
    assert callbacks == []  # nothing to send


def test_a_source_without_email_is_thanked_by_a_call(alice, clock):
    referral = log(alice, PartnerFactory(owner=alice, email=""))
    assert referral.thank_yous.get().channel == "call"


def test_the_meeting_and_the_sale_are_thanked_once_each(alice, alice_partner, clock):
    referral = log(alice, alice_partner)
    clock.shift(timedelta(days=1))
    referral_move(referral=referral, to_stage=stage("Meeting held"), user=alice)
    meeting = referral.thank_yous.get(moment="meeting")
    assert meeting.deadline_at == NOW + timedelta(days=1, hours=4)
    # Back and forth: never thanked twice for one moment.
    referral_move(referral=referral, to_stage=stage("Contacted"), user=alice)
    referral_move(referral=referral, to_stage=stage("Meeting held"), user=alice)
    referral_move(
        referral=referral, to_stage=stage("Won"), user=alice, final_value=Decimal(1)
    )
    referral_move(referral=referral, to_stage=stage("Proposal sent"), user=alice)
    referral_move(
        referral=referral, to_stage=stage("Won"), user=alice, final_value=Decimal(2)
    )
    moments = list(referral.thank_yous.order_by("pk").values_list("moment", flat=True))
    assert moments == ["received", "meeting", "won"]
    won = referral.thank_yous.get(moment="won")
    assert won.deadline_at == won.due_at + timedelta(minutes=15)  # "at once"


def test_straight_to_won_thanks_for_the_sale_only(alice, alice_partner, clock):
    referral = log(alice, alice_partner)
    referral_move(
        referral=referral, to_stage=stage("Won"), user=alice, final_value=Decimal(5)
    )
    assert sorted(referral.thank_yous.values_list("moment", flat=True)) == [
        "received",
        "won",
    ]


def test_lost_is_off_by_default_and_can_be_switched_on(alice, alice_partner, clock):
    referral = log(alice, alice_partner)
    referral_move(
        referral=referral, to_stage=stage("Lost"), user=alice, lost_reason="Budget"
    )
    assert not referral.thank_yous.filter(moment="lost").exists()

    ThankYouMoment.objects.filter(moment="lost").update(enabled=True)
    other = log(alice, alice_partner)
    referral_move(
        referral=other, to_stage=stage("Lost"), user=alice, lost_reason="Budget"
    )
    assert other.thank_yous.get(moment="lost").deadline_at == NOW + timedelta(days=1)


def test_a_switched_off_moment_owes_nothing(alice, alice_partner, clock):
    ThankYouMoment.objects.filter(moment="received").update(enabled=False)
    assert not log(alice, alice_partner).thank_yous.exists()


def test_timing_is_configurable(
    alice, alice_partner, clock, django_capture_on_commit_callbacks
):
    ThankYouMoment.objects.filter(moment="received").update(
        within_minutes=60 * 24, email_delay_minutes=30
    )
    with django_capture_on_commit_callbacks() as callbacks:
        referral = log(alice, alice_partner)
    thank_you = referral.thank_yous.get()
    assert thank_you.due_at == NOW + timedelta(minutes=30)
    assert thank_you.deadline_at == NOW + timedelta(days=1)
    assert callbacks == []  # not due yet: it waits in the database, not in the broker


def test_the_thank_you_is_part_of_the_event_transaction(alice, alice_partner, clock):
    """If logging fails after the thanks row was made, neither is kept."""
    from django.db import transaction

    with pytest.raises(RuntimeError), transaction.atomic():
        log(alice, alice_partner)
        raise RuntimeError("the request failed after logging")
    assert not ThankYou.objects.exists()


def test_overdue_and_on_time(alice, alice_partner, clock):
    thank_you = log(alice, alice_partner).thank_yous.get()
    assert not thank_you.is_overdue()
    assert thank_you.is_overdue(now=NOW + timedelta(hours=2, seconds=1))

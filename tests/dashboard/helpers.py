"""Helpers of the dashboard tests: a fixed "now", and referrals logged and
moved at given times through the services."""

from datetime import datetime
from decimal import Decimal

import time_machine

from partners.services import partner_thanked
from referrals.services import referral_log, referral_move
from tests.factories import stage
from thanks.models import ThankYou

NOW = datetime.fromisoformat("2026-11-20T12:00:00+00:00")


def at(text):
    return datetime.fromisoformat(text + "+00:00")


def log(user, source, when, value, name):
    with time_machine.travel(at(when), tick=False):
        referral = referral_log(
            user=user,
            source=source,
            prospect_name=name,
            estimated_value=Decimal(value),
            received_on=at(when).date(),
        )
    return referral


def move(referral, user, when, stage_name, **kw):
    with time_machine.travel(at(when), tick=False):
        referral_move(referral=referral, to_stage=stage(stage_name), user=user, **kw)


def thanks(referral, moment):
    return ThankYou.objects.get(referral=referral, moment=moment)


def finish(thank_you, status, delay):
    """Sent/done `delay` after its deadline (negative: before it)."""
    when = thank_you.deadline_at + delay
    field = "sent_at" if status == "sent" else "completed_at"
    ThankYou.objects.filter(pk=thank_you.pk).update(status=status, **{field: when})
    partner_thanked(partner_id=thank_you.source_id, at=when)


def get(client, user, **params):
    client.force_login(user)
    with time_machine.travel(NOW, tick=False):
        return client.get("/dashboard/", params)

"""Helpers of the dashboard tests: a fixed "now", and referrals logged and
moved at given times through the services."""

import re
from datetime import datetime
from decimal import Decimal
from html import unescape

import time_machine

from partners.services import partner_thanked
from referrals.models import Criterion, Label
from referrals.services import (
    criterion_create,
    referral_assess,
    referral_log,
    referral_move,
)
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


# The answers to two criteria of weight 1 that give each label.
ANSWERS = {
    Label.QUALIFIED: (True, True),
    Label.LUKEWARM: (True, False),
    Label.COLD: (False, False),
}


def assess(referral, user, label: str) -> None:
    """Answer the organisation's two criteria (made once) so that the
    referral is labelled `label`, through the service, as a rep would."""
    criteria = list(Criterion.objects.filter(team=None).order_by("position"))
    if not criteria:
        criteria = [
            criterion_create(team=None, question=question, weight=1)
            for question in ("Speaks to the decision maker?", "Needs it this year?")
        ]
    answers = dict(zip((c.pk for c in criteria), ANSWERS[label], strict=True))
    with time_machine.travel(NOW, tick=False):
        assert referral_assess(referral=referral, user=user, answers=answers)
    assert referral.label == label


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


# Every number that links to the referral list: <a href="/referrals/?...">N</a>
# (or "N referrals"), the chart bars' links with the number in their title.
LINKED_NUMBER = re.compile(
    r'<a href="(/referrals/\?[^"]*)">(?:All )?([\d,]+)(?: referrals?| in the list →)?</a>'
)
LINKED_BAR = re.compile(
    r'<a href="(/referrals/\?[^"]*)"><rect[^>]*><title>[^<:]*: ([\d,]+)</title>'
)


# The won-value chart: its bars are amounts, not counts.
WON_CHART = re.compile(r'<svg[^>]*aria-labelledby="won-chart-title.*?</svg>', re.S)
# Every amount that links: <a class="drill-value|drill-weighted" href=...>N</a>.
LINKED_AMOUNT = re.compile(
    r'<a class="drill-(value|weighted)" href="(/referrals/\?[^"]*)">([\d,]+)</a>'
)


def linked_numbers(html: str) -> list[tuple[str, int]]:
    html = WON_CHART.sub("", html)
    found = LINKED_NUMBER.findall(html) + LINKED_BAR.findall(html)
    return [(unescape(url), int(number.replace(",", ""))) for url, number in found]


def linked_amounts(html: str) -> list[tuple[str, str, str]]:
    """(value or weighted, url, the amount as shown) of every linked amount,
    the won-value chart's bars included."""
    won_chart = WON_CHART.search(html)
    bars = LINKED_BAR.findall(won_chart.group()) if won_chart else []
    return [
        (kind, unescape(url), shown) for kind, url, shown in LINKED_AMOUNT.findall(html)
    ] + [("value", unescape(url), shown) for url, shown in bars]

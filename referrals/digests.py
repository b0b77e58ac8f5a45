"""The rep's morning digest: thank-yous due or overdue, referrals gone stale,
commitments to partners due."""

import logging
import zoneinfo
from datetime import datetime, time

from django.conf import settings
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode

from accounts.models import User
from core.emails import build_email
from partners.selectors import commitments_due
from referrals.models import Stage
from referrals.selectors import referrals_for_user, stale_filter
from thanks.models import ThankYou

log = logging.getLogger(__name__)

DIGEST_HOUR = 8  # local time
DIGEST_WINDOW_HOURS = 4  # sent from 08:00 to 12:00 local, once a day
DIGEST_STALE = 50  # referrals going cold listed (the longest cold)


def local_now(user, now) -> datetime:
    return now.astimezone(zoneinfo.ZoneInfo(user.time_zone or "UTC"))


def digest_content(*, user, now) -> dict:
    """What the digest says: pending thanks due by tonight, and stale referrals."""
    local = local_now(user, now)
    end_of_day = datetime.combine(local.date(), time.max, tzinfo=local.tzinfo)
    thanks = list(
        ThankYou.objects.filter(
            referral__in=referrals_for_user(user=user).filter(owner=user),
            status__in=ThankYou.PENDING,
        )
        .filter(Q(deadline_at__lte=end_of_day) | Q(status=ThankYou.Status.FAILED))
        .select_related("referral", "source")
        .order_by("deadline_at")
    )
    going_cold = (
        referrals_for_user(user=user)
        .filter(owner=user, stage__kind=Stage.Kind.OPEN)
        .filter(stale_filter(now))
    )
    stale = list(going_cold.order_by("stage_entered_at")[:DIGEST_STALE])
    # Commitments to partners due by today (overdue ones first).
    commitments = [
        commitment
        for commitment in commitments_due(user=user, today=local.date())
        if commitment.due_on <= local.date()
    ]
    for commitment in commitments:
        commitment.overdue = commitment.is_overdue(local.date())
    return {
        "user": user,
        "thanks": thanks,
        "commitments": commitments,
        "stale": stale,
        # How many in all (the email lists the DIGEST_STALE longest cold),
        # and the referral list of them all.
        "stale_count": len(stale) if len(stale) < DIGEST_STALE else going_cold.count(),
        "stale_url": f"{settings.SITE_URL}{reverse('referral_list')}?"
        + urlencode({"stale": "on", "owner": user.pk, "sort": "in_stage"}),
        "now": now,
        "site_url": settings.SITE_URL,
    }


def digest_send(*, user, now=None) -> bool:
    """Send today's digest once, if there is anything to say. Returns True if sent.

    The day is claimed first with a conditional update, so two schedulers
    running at once send one digest.
    """
    now = now or timezone.now()
    today = local_now(user, now).date()
    claimed = User.objects.filter(
        Q(digest_sent_on__isnull=True) | Q(digest_sent_on__lt=today), pk=user.pk
    ).update(digest_sent_on=today)
    if not claimed:
        return False
    try:
        content = digest_content(user=user, now=now)
        if not (content["thanks"] or content["stale"] or content["commitments"]):
            return False  # nothing to say, no email
        build_email("digest", content, to=[user.email]).send()
    except Exception:
        # Give the day back, so the next run (15 minutes later) tries again.
        User.objects.filter(pk=user.pk, digest_sent_on=today).update(
            digest_sent_on=user.digest_sent_on
        )
        raise
    return True


def digests_send_due(*, now=None) -> int:
    """Send the digest to every active user whose local morning it is."""
    now = now or timezone.now()
    sent = 0
    for user in User.objects.filter(is_active=True).exclude(email=""):
        local = local_now(user, now)
        in_window = DIGEST_HOUR <= local.hour < DIGEST_HOUR + DIGEST_WINDOW_HOURS
        if in_window and user.digest_sent_on != local.date():
            try:
                sent += digest_send(user=user, now=now)
            except Exception:  # one rep's failure must not stop the others' digests
                log.exception(
                    "The digest for %s could not be sent; retrying later", user.pk
                )
    return sent

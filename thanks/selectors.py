"""Reads of thank-yous, scoped by the one rule (accounts.scoping)."""

import re

from django.db.models import Q, QuerySet

from accounts.scoping import scope_for_user, users_for_user
from core.models import OutboxMessage
from core.urls_for_rows import url_maker
from partners.models import Partner
from thanks.models import ThankYou


def thank_yous_for_user(*, user) -> QuerySet:
    """Thank-yous of the referrals the user may see, to list on Today and to
    act on: the same scoping rule, on the owner each copies from its
    referral (kept by thank_you_schedule, thank_yous_follow_owner and the
    admin), so the (owner, deadline) index of those pending serves, where a
    join to the referrals read every pending one. One left by a deleted
    referral (pending until the sweep cancels it) is nobody's."""
    return scope_for_user(ThankYou.objects.all(), user).filter(referral__isnull=False)


def pending_thanks(*, user) -> QuerySet:
    """The Today page's thank-yous: every one not yet done, soonest deadline first.

    Scheduled emails are listed too (with Send now): one that sits there past
    its deadline means the worker or the broker is not keeping up.
    """
    return (
        thank_yous_for_user(user=user)
        .filter(status__in=ThankYou.PENDING)
        .select_related("referral", "source")
        .order_by("deadline_at", "pk")
    )


def with_row_links(thank_yous) -> list[ThankYou]:
    """Thank-yous with the links their Today row shows (its source, its
    referral, its actions), made by url_maker: a manager's 100 rows called
    reverse() 500 times."""
    action_url = url_maker("thank_you_action")
    source_url, referral_url = url_maker("partner_detail"), url_maker("referral_detail")
    thank_yous = list(thank_yous)
    for thank_you in thank_yous:
        thank_you.action_url = action_url(thank_you.pk)
        thank_you.source_url = source_url(thank_you.source_id)
        thank_you.referral_url = referral_url(thank_you.referral_id)
    return thank_yous


def thank_yous_for_preview(*, user, moment: str) -> QuerySet:
    """The thank-yous owed for `moment` to sources who take email, newest
    referral first: the preview of a moment's email is written for one of
    their referrals, which has reached that moment (the after-meeting text for
    a referral never met reads wrong)."""
    return (
        thank_yous_for_user(user=user)
        .filter(moment=moment, source__email_consent=Partner.Consent.OPTED_IN)
        .exclude(source__email="")
        .select_related("referral__source", "referral__stage", "referral__owner")
        .order_by("-referral__received_on", "-referral_id")
    )


def outbox_for_user(user) -> QuerySet:
    """The Outbox messages a user may read: an admin every one; anyone else
    the mail sent to them, and the mail answered (Reply-To) by a user they may
    see through the one scoping rule: a thank-you goes to the source and is
    answered by its rep, so a rep reads their own, a manager their team's.
    Mail to a teammate is theirs alone: a password reset link read by
    someone else would hand over the account. Mail to no user of the CRM (a
    partner's unsubscribe confirmation, say) is the admins' to read.

    An address is matched whole, as written or in <...>: bob@ is not in
    jimbob@.
    """
    messages = OutboxMessage.objects.all()
    if user.is_admin:
        return messages
    mine = Q(to__iregex=_address(user.email))
    for email in users_for_user(user).values_list("email", flat=True):
        mine |= Q(reply_to__iregex=_address(email))
    return messages.filter(mine)


def _address(email: str) -> str:
    """A pattern matching `email` as a whole address in a list of them."""
    return rf"(^|[\s<]){re.escape(email)}($|[\s>])"

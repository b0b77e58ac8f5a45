"""Reads of thank-yous, scoped by the one rule (accounts.scoping)."""

import re

from django.db.models import F, Q, QuerySet
from django.utils import timezone

from accounts.models import User
from accounts.scoping import scope_for_user, users_for_user
from core.models import OutboxMessage
from core.urls_for_rows import url_maker
from partners.asking import customers_for_user, with_readiness
from partners.models import Partner
from thanks.models import AskEmail, ThankYou


def team_ids(user) -> list[int] | None:
    """A manager's team (themselves and who they manage: whose records
    scope_for_user shows them) as ids, read in one query for a page that
    scopes many statements to it (in_view); None for anyone else, whose
    scope is one id or none."""
    if not user.is_manager:
        return None
    team = scope_for_user(User.objects.all(), user, owner_field="pk")
    return list(team.order_by().values_list("pk", flat=True))


def in_view(queryset: QuerySet, user, team: list[int] | None = None) -> QuerySet:
    """scope_for_user(queryset, user); given the manager's team_ids(), the
    same rows as owner IN (their ids). Today scopes 18 branches of its
    statements: the team's subquery was planned and joined in each, and at a
    million referrals its four big statements took 12.4 ms to plan and run
    for a manager, 5.3 ms with the ids written out."""
    if team is None:
        return scope_for_user(queryset, user)
    return queryset.filter(owner__in=team)


def thank_yous_for_user(*, user, team: list[int] | None = None) -> QuerySet:
    """Thank-yous of the referrals the user may see, to list on Today and to
    act on: the same scoping rule, on the owner each copies from its
    referral (kept by thank_you_schedule, thank_yous_follow_owner and the
    admin), so the (owner, deadline) index of those pending serves, where a
    join to the referrals read every pending one. One left by a deleted
    referral (pending until the sweep cancels it) is nobody's. `team`: see
    in_view."""
    return in_view(ThankYou.objects.all(), user, team).filter(referral__isnull=False)


TODAY_ORDER = ("deadline_at", "pk")  # Today's thank-yous: soonest deadline first


def pending_thanks(*, user, team: list[int] | None = None) -> QuerySet:
    """The Today page's thank-yous: every one not yet done, soonest deadline first.

    Scheduled emails are listed too (with Send now): one that sits there past
    its deadline means the worker or the broker is not keeping up.
    """
    return (
        thank_yous_for_user(user=user, team=team)
        .filter(status__in=ThankYou.PENDING)
        .order_by(*TODAY_ORDER)
    )


# What a thank-you's row (thanks/_thanks_row.html) reads from it, besides the
# names of its source and prospect.
THANK_YOU_ROW_FIELDS = [
    "moment",
    "channel",
    "status",
    "attempts",
    "due_at",
    "deadline_at",
    "next_attempt_at",
    "sent_at",
    "last_error",
    "source_id",
    "referral_id",
]


def thank_you_rows(thank_yous: QuerySet, *, now=None) -> list[dict]:
    """The thank-yous of `thank_yous` (a page of them in TODAY_ORDER) as
    their Today rows show them (thank_you_row).

    The page of them is picked by id first and only its rows read with
    their source's and prospect's names: a manager's team owes some 300,
    and the joins ran for each before the sort kept 50. Each row is a
    thank-you with the fields the row reads (its rules, is_overdue and
    is_waiting, stay the model's), not three full model instances.
    """
    now = now or timezone.now()
    page = (
        ThankYou.objects.filter(pk__in=thank_yous.values("pk"))
        .only(*THANK_YOU_ROW_FIELDS)
        .annotate(
            source_name=F("source__name"),
            source_email=F("source__email"),
            source_phone=F("source__phone"),
            prospect_name=F("referral__prospect_name"),
        )
        .order_by(*TODAY_ORDER)
    )
    links = _row_links()
    return [thank_you_row(thank_you, now=now, links=links) for thank_you in page]


def with_row_links(thank_yous) -> list[dict]:
    """Thank-yous read with their source and referral, as their rows show
    them (thank_you_row): the one row an action on Today sends back."""
    rows, links = [], _row_links()
    for thank_you in thank_yous:
        thank_you.source_name = thank_you.source.name
        thank_you.source_email = thank_you.source.email
        thank_you.source_phone = thank_you.source.phone
        thank_you.prospect_name = (
            thank_you.referral.prospect_name if thank_you.referral_id else ""
        )
        rows.append(thank_you_row(thank_you, links=links))
    return rows


def _row_links():
    """What makes a row's links (url_maker: a manager's 100 rows called
    reverse() 500 times): its actions, its source, its referral."""
    return (
        url_maker("thank_you_action"),
        url_maker("partner_detail"),
        url_maker("referral_detail"),
    )


def thank_you_row(thank_you: ThankYou, *, links, now=None) -> dict:
    """What a thank-you's row on Today shows (thanks/_thanks_row.html), as a
    plain dict: the template finds a key at its first try, where a model
    instance's attributes, labels and rules cost it a failed lookup each.
    `thank_you` carries its source's and prospect's names (source_name,
    source_email, source_phone, prospect_name); `links`: _row_links()."""
    now = now or timezone.now()
    pk = thank_you.pk
    action_url, source_url, referral_url = links
    return {
        "pk": pk,
        "moment": thank_you.moment,
        "moment_label": thank_you.get_moment_display(),
        "channel": thank_you.channel,
        "channel_label": thank_you.get_channel_display(),
        "status": thank_you.status,
        "attempts": thank_you.attempts,
        "sent_at": thank_you.sent_at,
        "due_at": thank_you.due_at,
        "deadline_at": thank_you.deadline_at,
        "next_attempt_at": thank_you.next_attempt_at,
        "goes_out_at": thank_you.goes_out_at,
        "last_error": thank_you.last_error,
        "is_overdue": thank_you.is_overdue(now),
        "is_waiting": thank_you.is_waiting(now),
        "source_name": thank_you.source_name,
        "source_email": thank_you.source_email,
        "source_phone": thank_you.source_phone,
        "prospect_name": thank_you.prospect_name,
        "action_url": action_url(pk),
        "source_url": source_url(thank_you.source_id),
        "referral_url": referral_url(thank_you.referral_id),
    }


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


def ask_emails_for_user(*, user, team: list[int] | None = None) -> QuerySet:
    """The ask emails to the customers the user may see (the one scoping
    rule, on the customer's owner). `team`: see in_view."""
    emails = AskEmail.objects.all()
    if team is not None:
        return emails.filter(source__owner__in=team)
    return scope_for_user(emails, user, owner_field="source__owner")


def failed_ask_emails(*, user, team: list[int] | None = None) -> QuerySet:
    """Ask emails that failed after their retries: Today shows them, with
    Retry. Not those of a customer who has opted out since (the sweep
    cancels them: thanks.services.opted_out_emails_stop)."""
    return (
        ask_emails_for_user(user=user, team=team)
        .filter(status=AskEmail.Status.FAILED)
        .filter(
            source__do_not_ask=False,
            source__email_consent=Partner.Consent.OPTED_IN,
        )
        .exclude(source__email="")
        .order_by("due_at", "pk")
    )


def ask_preview_customers(*, user) -> QuerySet:
    """Customers the ask email's preview can be written for: the user's
    customers who take email, those ready to ask first."""
    return (
        with_readiness(
            customers_for_user(user=user)
            .filter(email_consent=Partner.Consent.OPTED_IN)
            .exclude(email=""),
            now=timezone.now(),
        )
        .select_related("owner__team")
        .order_by("-ready", "name", "pk")
    )

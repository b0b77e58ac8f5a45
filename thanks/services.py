"""Thank-yous: scheduled with the event, sent by Celery, never twice.

The database row is the truth. Scheduling creates the row in the same
transaction as the event; sending claims the row first, sends outside any
transaction, then records the result. Future work waits in `due_at`, never in
the broker; a sweep every minute picks up whatever is due and not yet sent.
"""

from __future__ import annotations

import logging
import smtplib
import time
import zoneinfo
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from datetime import time as day_time
from email.utils import formataddr, parseaddr
from typing import TYPE_CHECKING

from django.conf import settings
from django.core import signing
from django.core.exceptions import ValidationError
from django.db import DatabaseError, transaction
from django.db.models import F, Max, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.template import TemplateSyntaxError
from django.urls import reverse
from django.utils import timezone

from core.emails import build_email, one_line
from core.health import heartbeat_record
from core.snippets import render_snippet
from partners.models import Ask, Commitment, Partner
from partners.services import (
    ask_create,
    commitment_create,
    commitment_update,
    partner_no_asks,
    partner_thanked,
)
from thanks import sql
from thanks.models import (
    BODY_LIMIT,
    SUBJECT_LIMIT,
    AskEmail,
    AskTemplate,
    CommitmentReminder,
    ThankYou,
    ThankYouMoment,
    new_message_token,
)
from thanks.queue import queue_dispatch, request_dispatch

if TYPE_CHECKING:  # thanks reads referrals through its foreign key, never imports them
    from referrals.models import Referral

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 5
# Waits before attempts 2 to 5: about an hour from the first try to the last.
RETRY_DELAYS = [timedelta(minutes=m) for m in (2, 8, 20, 30)]
# A dispatch claims this many due rows at once and sends them on one SMTP
# session; it stops taking new rows after DRAIN_SECONDS so other tasks get a
# turn, and queues a successor if work is left.
DISPATCH_BATCH = 50
DRAIN_SECONDS = settings.TOUCHPOINT_DRAIN_SECONDS
# A batch's rows are read once; when sends are slow, what is left is read
# again after this long (opt-outs, deleted referrals, moments switched off).
REREAD_SECONDS = 1.0
# The sweep queues one dispatch per batch due, up to this many (one per worker
# process is plenty; extra ones find nothing and return).
SWEEP_DISPATCHES = 4
UNSUBSCRIBE_SALT = "partners.unsubscribe"
# The ask email's unsubscribe link: no more email, and no more asks.
ASK_UNSUBSCRIBE_SALT = "partners.unsubscribe.asks"
# The heartbeat each sweep writes as it ends (/healthz reads its age).
SWEEP_HEARTBEAT = "thanks:sweep"

SKIP_REASON_REQUIRED = "Say why this thank-you is skipped."
NOT_PENDING = "This thank-you is already handled."
NOT_AN_EMAIL = "Only an email can be sent; mark a call or card as done."
MOMENT_OFF = "Thanks for this moment were switched off before it was sent."
COPY_NOT_KEPT = "Sent, but the copy of what was sent could not be kept."
GAVE_UP = "Its worker stopped answering on every attempt; check the workers and retry."
ASK_NO_EMAIL = "They take no email (opted out, or no address) since the ask."
ASK_OPTED_OUT = "They asked not to be asked for referrals since the ask."
NO_EMAIL_FOR_ASK = (
    "{name} takes no email (no address, or opted out): ask them in person or "
    "by phone, and record that."
)
NOT_FAILED = "This email is not waiting for a retry."
ASK_RETRY_OPTED_OUT = (
    "{name} asked not to be asked for referrals: the ask email is cancelled, "
    "not sent again."
)
ASK_RETRY_NO_EMAIL = (
    "{name} takes no email now (opted out, or no address): the ask email is "
    "cancelled, not sent again. Ask them in person or by phone, and record that."
)
ASK_EMAIL_ON_ITS_WAY = (
    "An ask email to {name} went out a moment ago (or is on its way): it is "
    "not sent twice."
)
# An email ask of a customer whose last one is still to send, or was sent
# this recently, is a double click or the form sent again: refused.
ASK_EMAIL_AGAIN_AFTER = timedelta(minutes=10)


def stuck_after() -> timedelta:
    """A send claimed longer ago than this died with its worker; retry it."""
    return timedelta(seconds=settings.TOUCHPOINT_STUCK_SECONDS)


# -- Scheduling ---------------------------------------------------------------


def thank_you_schedule(
    *, referral: Referral, moment: str, at=None, new_referral: bool = False
) -> ThankYou | None:
    """Owe the source thanks for `moment` of `referral` (thank_yous_schedule
    for one moment): the new thank-you, or None."""
    scheduled = thank_yous_schedule(
        referral=referral, moments=[moment], at=at, new_referral=new_referral
    )
    return scheduled[0] if scheduled else None


def thank_yous_schedule(
    *, referral: Referral, moments: list[str], at=None, new_referral: bool = False
) -> list[ThankYou]:
    """Owe the source thanks for each of `moments` of `referral`, inside the
    caller's transaction. Returns the new thank-yous: none for a moment
    switched off, or one the source was already thanked (or is being
    thanked) for.

    One query reads the moments owed (switched on and, unless the referral
    was created in this transaction (`new_referral`), without a thank-you of
    this referral yet), one insert writes them all. The check and the insert
    are one step for the referral: its caller holds its row (referral_move
    locks it; a new referral is seen by nobody else yet).
    """
    if not moments:
        return []
    configs = ThankYouMoment.objects.filter(moment__in=moments, enabled=True)
    if not new_referral:
        thanked = ThankYou.objects.filter(referral=referral).values("moment")
        configs = configs.exclude(moment__in=thanked)
    owed = {config.moment: config for config in configs}
    at = at or timezone.now()
    # A source who opted out of email is still thanked: by a task.
    by_email = referral.source.can_email
    scheduled = ThankYou.objects.bulk_create(
        ThankYou(
            referral=referral,
            moment=moment,
            source=referral.source,
            owner_id=referral.owner_id,
            **owed[moment].owed(at=at, by_email=by_email),
        )
        for moment in dict.fromkeys(moments)
        if moment in owed
    )
    now = timezone.now()
    if any(
        thank_you.channel == ThankYou.Channel.EMAIL and thank_you.due_at <= now
        for thank_you in scheduled
    ):
        dispatch_on_commit()
    return scheduled


def dispatch_on_commit() -> None:
    """Have a worker send what is due, once the transaction commits.

    robust=True: if the broker is down the request still succeeds (the row is
    saved) and the sweep sends it when the broker is back.
    """
    transaction.on_commit(request_dispatch, robust=True)


# -- Rendering ----------------------------------------------------------------


def unsubscribe_url(partner) -> str:
    token = signing.dumps(partner.pk, salt=UNSUBSCRIBE_SALT)
    return settings.SITE_URL + reverse("unsubscribe", args=[token])


def partner_id_from_token(token: str) -> int | None:
    try:
        return signing.loads(token, salt=UNSUBSCRIBE_SALT)
    except signing.BadSignature:
        return None


def snippet_context(referral: Referral) -> dict:
    rep = referral.owner
    return {
        "source_first_name": referral.source.name.split()[0]
        if referral.source.name
        else "",
        "source_name": referral.source.name,
        "prospect_name": referral.prospect_name,
        "prospect_company": referral.prospect_company,
        "stage": referral.stage.name,
        "rep_name": rep.get_full_name(),
        "rep_signature": rep.signature or rep.get_full_name(),
    }


def render_thank_you(config: ThankYouMoment, referral: Referral) -> tuple[str, str]:
    """(subject, body) of one moment's template for one referral."""
    context = snippet_context(referral)
    subject = one_line(render_snippet(config.subject, context, limit=SUBJECT_LIMIT))
    return subject, render_snippet(config.body, context, limit=BODY_LIMIT)


def thank_you_message(thank_you: ThankYou, config: ThankYouMoment):
    referral, rep = thank_you.referral, thank_you.referral.owner
    subject, body = render_thank_you(config, referral)
    unsubscribe = unsubscribe_url(thank_you.source)
    # The rep is the visible sender; the address stays ours (SPF/DKIM).
    _, crm_address = parseaddr(settings.DEFAULT_FROM_EMAIL)
    return build_email(
        "thank_you",
        {"subject": subject, "body": body, "unsubscribe_url": unsubscribe},
        to=[thank_you.source.email],
        # One line even if a name from before the rule holds a line break.
        from_email=formataddr((one_line(rep.get_full_name()), crm_address)),
        reply_to=[rep.email],
        headers={
            "Message-ID": thank_you.message_id,
            "List-Unsubscribe": f"<{unsubscribe}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        },
    )


def ask_unsubscribe_url(partner) -> str:
    """The ask email's unsubscribe link: it opts the customer out of email
    and out of asks (partner_opt_out_of_asks)."""
    token = signing.dumps(partner.pk, salt=ASK_UNSUBSCRIBE_SALT)
    return settings.SITE_URL + reverse("ask_unsubscribe", args=[token])


def partner_id_from_ask_token(token: str) -> int | None:
    try:
        return signing.loads(token, salt=ASK_UNSUBSCRIBE_SALT)
    except signing.BadSignature:
        return None


def ask_team(*, rep, partner: Partner):
    """Whose "How to refer us" card an ask carries: the asking rep's team,
    else the customer's owner's; None when neither has one (the
    organisation's card has no public link)."""
    if rep.team:
        return rep.team
    return partner.owner.team if partner.owner_id else None


def card_url(team) -> str:
    """The public link of the team's card, as an email carries it ("" for none)."""
    return settings.SITE_URL + team.card_path() if team else ""


def ask_context(*, partner: Partner, rep) -> dict:
    team = ask_team(rep=rep, partner=partner)
    return {
        "source_first_name": partner.name.split()[0] if partner.name else "",
        "source_name": partner.name,
        "source_company": partner.company,
        "rep_name": rep.get_full_name(),
        "rep_signature": rep.signature or rep.get_full_name(),
        "team_name": team.name if team else "",
    }


def render_ask(template: AskTemplate, *, partner: Partner, rep) -> tuple[str, str]:
    """(subject, body) of the ask template for one customer and rep."""
    context = ask_context(partner=partner, rep=rep)
    subject = one_line(render_snippet(template.subject, context, limit=SUBJECT_LIMIT))
    return subject, render_snippet(template.body, context, limit=BODY_LIMIT)


def ask_email_context(template: AskTemplate, *, partner: Partner, rep) -> dict:
    """What the ask email's three templates (emails/ask_*) read: the admin's
    text, then the card's public link and the unsubscribe link, always."""
    subject, body = render_ask(template, partner=partner, rep=rep)
    return {
        "subject": subject,
        "body": body,
        "card_url": card_url(ask_team(rep=rep, partner=partner)),
        "unsubscribe_url": ask_unsubscribe_url(partner),
    }


def ask_message(ask_email: AskEmail, template: AskTemplate):
    """The ask email, sent as the rep who asked (as a thank-you is)."""
    rep, partner = ask_email.ask.asked_by or ask_email.source.owner, ask_email.source
    context = ask_email_context(template, partner=partner, rep=rep)
    _, crm_address = parseaddr(settings.DEFAULT_FROM_EMAIL)
    return build_email(
        "ask",
        context,
        to=[partner.email],
        from_email=formataddr((one_line(rep.get_full_name()), crm_address)),
        reply_to=[rep.email],
        headers={
            "Message-ID": ask_email.message_id,
            "List-Unsubscribe": f"<{context['unsubscribe_url']}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        },
    )


# -- Dispatch: one claim, send and retry path for every outgoing email --------
#
# A thank-you (ThankYou) and an ask's email (AskEmail) are rows of their own
# tables with the same delivery fields: status (scheduled, sending, sent,
# failed, cancelled), due_at, next_attempt_at, claimed_at, attempts,
# last_error, sent_at, the copy sent, message_id. The functions below claim,
# send, retry and record either kind through one path; each kind (Outgoing)
# says which of its rows are due, how to read them, and how to deliver one
# (its own checks, then _send_and_record).


@dataclass(frozen=True)
class Outgoing:
    """One kind of outgoing email row, as the dispatch sees it."""

    model: type
    # now -> the rows to send now: scheduled, due, past any retry's wait.
    due: Callable[[datetime], QuerySet]
    # ids -> those rows with what sending them reads.
    read: Callable[[list[int]], QuerySet]
    # () -> what delivering reads besides the row (templates), read again
    # with the rows.
    settings: Callable[[], object]
    # (row, settings, connection) -> an outcome ("sent", "retry", ...).
    deliver: Callable[[object, object, object], str]


def due_filter(now) -> Q:
    return Q(due_at__lte=now) & (
        Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now)
    )


def due_emails(now):
    """The thank-you emails to send now: scheduled, due, and past any retry's wait."""
    return ThankYou.objects.filter(
        due_filter(now),
        status=ThankYou.Status.SCHEDULED,
        channel=ThankYou.Channel.EMAIL,
    )


def ask_emails_due(now):
    """The ask emails to send now (the same rule as due_emails)."""
    return AskEmail.objects.filter(due_filter(now), status=AskEmail.Status.SCHEDULED)


# The lambdas look their functions up when called, so a test that replaces
# one (thanks.services._deliver) replaces it here too.
THANK_YOUS = Outgoing(
    model=ThankYou,
    due=lambda now: due_emails(now),
    read=lambda ids: ThankYou.objects.select_related(
        "referral__owner", "referral__stage", "referral__source", "source"
    ).filter(pk__in=ids),
    settings=lambda: _moment_configs(),
    deliver=lambda row, configs, connection: _deliver(
        row, configs.get(row.moment), connection
    ),
)
ASK_EMAILS = Outgoing(
    model=AskEmail,
    due=lambda now: ask_emails_due(now),
    read=lambda ids: AskEmail.objects.select_related(
        "ask__asked_by__team", "source__owner__team"
    ).filter(pk__in=ids),
    settings=lambda: AskTemplate.current(),
    deliver=lambda row, template, connection: _deliver_ask(row, template, connection),
)
COMMITMENT_REMINDERS = Outgoing(
    model=CommitmentReminder,
    due=lambda now: CommitmentReminder.objects.filter(
        due_filter(now), status=CommitmentReminder.Status.SCHEDULED
    ),
    read=lambda ids: CommitmentReminder.objects.select_related(
        "commitment__partner", "commitment__owner"
    ).filter(pk__in=ids),
    settings=lambda: None,
    deliver=lambda row, _, connection: _deliver_reminder(row, connection),
)
# Thank-yous first: they carry a promise with a deadline.
OUTGOING = (THANK_YOUS, ASK_EMAILS, COMMITMENT_REMINDERS)


def thank_you_dispatch(*, thank_you_id: int, connection=None) -> str:
    """Send one due thank-you email, if it is still to send, and record what
    happened: the batch's claim and delivery, for this row alone.

    If the claim takes no row, another worker has it (or it is sent, or not
    due): do nothing.
    """
    now = timezone.now()
    if not _claim_due(now, 1, ids=[thank_you_id]):
        return "not claimed"
    (thank_you,) = _claimed(ids=[thank_you_id])
    return _deliver(thank_you, _moment_configs().get(thank_you.moment), connection)


def ask_email_dispatch(*, ask_email_id: int, connection=None) -> str:
    """Send one due ask email (thank_you_dispatch's twin for asks)."""
    now = timezone.now()
    if not _claim(ASK_EMAILS, now, 1, ids=[ask_email_id]):
        return "not claimed"
    (ask_email,) = _read_claimed(ASK_EMAILS, [ask_email_id])
    return _deliver_ask(ask_email, AskTemplate.current(), connection)


def thank_yous_dispatch_due(
    *, connection=None, batch: int = DISPATCH_BATCH, seconds: float = DRAIN_SECONDS
) -> tuple[Counter, bool]:
    """Send every due email (thank-yous, then asks), a batch at a time,
    until none is left.

    Returns the outcomes and whether it finished; after `seconds` it stops
    and hands the rows it claimed but did not reach back to the queue.
    One claim, one read and one SMTP session serve a whole batch: per email
    that leaves the render, the SMTP transaction and the UPDATE recording it
    (each recorded on its own, so a worker dying mid-batch resends nothing).
    """
    # Commits need not wait for the disk: a crash of PostgreSQL itself at
    # worst sends the last emails again (thanks.sql says why that is allowed).
    with sql.commits_not_waiting_for_disk():
        return _dispatch_due(connection, batch, seconds)


def _dispatch_due(connection, batch: int, seconds: float) -> tuple[Counter, bool]:
    outcomes: Counter = Counter()
    began = time.monotonic()
    for outgoing in OUTGOING:
        if not _drain(outgoing, outcomes, connection, batch, began, seconds):
            return outcomes, False
    return outcomes, True


def _drain(
    outgoing: Outgoing, outcomes: Counter, connection, batch, began, seconds
) -> bool:
    """Send `outgoing`'s due rows into `outcomes`; False when time ran out."""
    while True:
        claimed_at = timezone.now()
        ids = _claim(outgoing, claimed_at, batch)
        if not ids:
            return True
        pending = _read_claimed(outgoing, ids)
        settings_read = outgoing.settings()
        read_at = time.monotonic()
        try:
            while pending:
                if time.monotonic() - began >= seconds:
                    _release(pending, claimed_at)
                    return False
                if time.monotonic() - read_at >= REREAD_SECONDS:
                    # Slow sends: read again what is left, so an opt-out, a
                    # deleted referral or a switched-off moment counts, and a
                    # row the sweep gave to another worker is left to it.
                    pending = _read_claimed(
                        outgoing, [row.pk for row in pending], claimed_at=claimed_at
                    )
                    settings_read, read_at = outgoing.settings(), time.monotonic()
                    if not pending:
                        break
                row = pending.pop(0)
                outcomes[outgoing.deliver(row, settings_read, connection)] += 1
        except BaseException:  # a database error, a time limit: untried rows go back
            _release(pending, claimed_at)
            raise
        if time.monotonic() - began >= seconds:
            return False


def _moment_configs() -> dict:
    return {config.moment: config for config in ThankYouMoment.objects.all()}


def _claim(
    outgoing: Outgoing, now, limit: int, *, ids: list[int] | None = None
) -> list[int]:
    """Claim up to `limit` due rows of `outgoing` (of `ids`, if given),
    oldest first, in one statement.

    Which rows are due is the ORM's (`outgoing.due`: the rule written once);
    the UPDATE around it is SQL (thanks.sql.emails_claim) because RETURNING
    says which rows are ours, and the ORM's update() cannot. PostgreSQL
    skips rows another worker is claiming (SKIP LOCKED); SQLite runs one
    writer at a time.
    """
    due = outgoing.due(now)
    if ids is not None:
        due = due.filter(pk__in=ids)
    pick_sql, pick_params = (
        due.order_by("due_at").values("id")[:limit].query.sql_with_params()
    )
    return sql.emails_claim(outgoing.model, pick_sql, pick_params, now=now)


def _claim_due(now, limit: int, *, ids: list[int] | None = None) -> list[int]:
    """Claim due thank-you emails (_claim for thank-yous)."""
    return _claim(THANK_YOUS, now, limit, ids=ids)


def _read_claimed(outgoing: Outgoing, ids: list[int], claimed_at=None) -> list:
    """The claimed rows with what sending needs; with `claimed_at`, only those
    still claimed by that claim."""
    rows = outgoing.read(ids)
    if claimed_at is not None:
        rows = rows.filter(status=outgoing.model.Status.SENDING, claimed_at=claimed_at)
    return list(rows.order_by("due_at", "pk"))


def _claimed(*, ids: list[int], claimed_at=None) -> list[ThankYou]:
    """Claimed thank-yous (_read_claimed for thank-yous)."""
    return _read_claimed(THANK_YOUS, ids, claimed_at)


def _release(rows: list, claimed_at) -> None:
    """Hand claimed rows that were not tried back, as if never claimed."""
    if not rows:
        return
    model = type(rows[0])
    model.objects.filter(
        pk__in=[row.pk for row in rows],
        status=model.Status.SENDING,
        claimed_at=claimed_at,
    ).update(
        status=model.Status.SCHEDULED,
        claimed_at=None,
        attempts=F("attempts") - 1,
    )


def _deliver(thank_you: ThankYou, config: ThankYouMoment | None, connection) -> str:
    """Send one claimed thank-you and record the result.

    1. Re-check the world: referral deleted -> cancelled; source opted out
       since -> the thanks becomes a call for the rep; moment switched off ->
       cancelled.
    2. Render and send, outside any transaction.
    3. Record: sent (with what was sent), or a retry time, or failed after
       MAX_ATTEMPTS, with the error for the rep to see (_send_and_record).
    """
    if thank_you.referral is None:
        _claim_of(thank_you).update(
            status=ThankYou.Status.CANCELLED,
            note="The referral was deleted.",
            completed_at=timezone.now(),
        )
        return "cancelled"
    if not thank_you.source.can_email:
        _claim_of(thank_you).update(**ThankYou.as_a_call())
        return "now a task"
    if config is None or not config.enabled:
        _claim_of(thank_you).update(
            status=ThankYou.Status.CANCELLED,
            note=MOMENT_OFF,
            completed_at=timezone.now(),
        )
        return "cancelled"
    return _send_and_record(
        thank_you,
        lambda: thank_you_message(thank_you, config),
        connection,
        template=str(config),
        on_sent=lambda at: partner_thanked(partner_id=thank_you.source_id, at=at),
    )


def _deliver_ask(ask_email: AskEmail, template: AskTemplate, connection) -> str:
    """Send one claimed ask email and record the result.

    1. Re-check the world: the customer opted out of email, or asked not to
       be asked, since the ask -> cancelled, with why.
    2. Render, send and record as a thank-you is (_send_and_record).
    """
    if why := ask_refused_because(ask_email.source):
        _claim_of(ask_email).update(status=AskEmail.Status.CANCELLED, note=why)
        return "cancelled"
    return _send_and_record(
        ask_email,
        lambda: ask_message(ask_email, template),
        connection,
        template="ask email",
    )


def _deliver_reminder(reminder: CommitmentReminder, connection) -> str:
    """Send one claimed commitment reminder and record the result.

    1. Re-check the world: the commitment done or dropped since, or its
       owner gone (deactivated, no address) -> cancelled, with why.
    2. Render, send and record as a thank-you is (_send_and_record).
    """
    commitment = reminder.commitment
    why = ""
    if commitment.status != Commitment.Status.OPEN:
        why = REMINDER_NOT_NEEDED.format(status=commitment.get_status_display().lower())
    elif not (commitment.owner.is_active and commitment.owner.email):
        why = REMINDER_NO_OWNER
    if why:
        _claim_of(reminder).update(status=CommitmentReminder.Status.CANCELLED, note=why)
        return "cancelled"
    return _send_and_record(
        reminder,
        lambda: reminder_message(reminder),
        connection,
        template="commitment reminder",
    )


def _send_and_record(row, build, connection, *, template: str, on_sent=None) -> str:
    """Build the message (`build()`), send it outside any transaction, and
    record what happened on `row`, under its claim."""
    try:
        message = build()
        _send(message, connection)
    except TemplateSyntaxError as error:
        return _record_failure(
            row, f"The {template} template is broken: {error}", final=True
        )
    except (smtplib.SMTPException, OSError) as error:
        return _record_failure(row, describe_smtp_error(error))
    except Exception as error:  # never leave a claimed row in "sending" unexplained
        log.exception("%s %s could not be sent", _name(row), row.pk)
        return _record_failure(
            row, f"Unexpected error: {type(error).__name__}: {error}"
        )
    _record_sent(row, message, on_sent)
    return "sent"


def _name(row) -> str:
    return str(type(row)._meta.verbose_name).capitalize()


def _record_sent(row, message, on_sent=None) -> None:
    """Record a send that happened, whatever it takes: a row left "sending"
    would be revived by the sweep and the email sent again.

    1. Record it with the copy of what was sent.
    2. If the database refuses that copy, record the send without it, saying
       why: the fields left are ours (a status, a time), never user data.
    3. Then `on_sent(sent_at)` (a thank-you: the source's last thanks).
    """
    html = next(
        (c for c, mimetype in message.alternatives if mimetype == "text/html"), ""
    )
    sent_at = timezone.now()
    mine = _claim_of(row)
    sent = {"status": type(row).Status.SENT, "sent_at": sent_at}
    try:
        with transaction.atomic():
            recorded = mine.update(
                **sent,
                subject=message.subject,
                body_text=message.body,
                body_html=html,
                last_error="",
                next_attempt_at=None,
            )
    except (DatabaseError, ValueError) as error:  # ValueError: psycopg2 on a NUL
        log.exception("%s %s was sent; its copy could not be kept", _name(row), row.pk)
        recorded = mine.update(
            **sent,
            next_attempt_at=None,
            last_error=f"{COPY_NOT_KEPT} ({type(error).__name__}: {error})"[:2000],
        )
    if recorded and on_sent is not None:
        on_sent(sent_at)


def _send(message, connection) -> None:
    """Send on a kept connection (opened on first use); reopen it once if the
    server closed it while idle. Without one, Django opens and closes its own.

    Only a session that once worked is reopened: a server that accepts the
    connection and never greets raises the same SMTPServerDisconnected, and
    trying it again would hold the worker for a second EMAIL_TIMEOUT.
    """
    if connection is None:
        message.send()
        return
    message.connection = connection
    was_open = getattr(connection, "connection", True) is not None
    try:
        if not was_open:
            connection.open()
        message.send()
    except smtplib.SMTPServerDisconnected:
        connection.close()
        if not was_open:
            raise
        connection.open()
        message.send()


def describe_smtp_error(error: Exception) -> str:
    """What went wrong, in words a rep can act on (or pass to whoever runs mail)."""
    if isinstance(error, smtplib.SMTPResponseException):
        reply = error.smtp_error
        reply = (
            reply.decode(errors="replace") if isinstance(reply, bytes) else str(reply)
        )
        return f"The mail server refused it: {error.smtp_code} {reply}"
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        return f"The mail server refused the address: {', '.join(error.recipients)}"
    return f"Could not reach the mail server: {type(error).__name__}: {error}"


def _record_failure(row, error: str, *, final: bool = False) -> str:
    status = type(row).Status
    attempts = row.attempts
    if final or attempts >= MAX_ATTEMPTS:
        fields = {"status": status.FAILED, "next_attempt_at": None}
        outcome = "failed"
    else:
        wait = RETRY_DELAYS[min(attempts, len(RETRY_DELAYS)) - 1]
        fields = {
            "status": status.SCHEDULED,
            "next_attempt_at": timezone.now() + wait,
        }
        outcome = "retry"
    log.warning(
        "%s %s: attempt %s %s: %s", _name(row), row.pk, attempts, outcome, error
    )
    _claim_of(row).update(last_error=error[:2000], **fields)
    return outcome


def _claim_of(row):
    """The row, if it is still under this worker's claim.

    A send slower than TOUCHPOINT_STUCK_SECONDS is revived by the sweep and
    may be claimed by another worker: the claim's time tells the two claims
    apart, so the first worker's result never overwrites the second's.
    """
    model = type(row)
    return model.objects.filter(
        pk=row.pk,
        status=model.Status.SENDING,
        claimed_at=row.claimed_at,
    )


def thank_yous_sweep(*, now=None, enqueue=None) -> int:
    """Every minute: have workers send what is due and not sent (thank-yous
    and asks' emails). Returns how many.

    Safe to run twice at once (two beats): a second dispatch only finds the
    rows claimed. `enqueue` defaults to queuing a dispatch task.
    """
    enqueue = enqueue or queue_dispatch
    now = now or timezone.now()
    for outgoing in OUTGOING:
        # A send claimed long ago died with its worker: make it due again,
        # unless it has used up its attempts (then a person has to look).
        model = outgoing.model
        stuck = model.objects.filter(
            status=model.Status.SENDING, claimed_at__lt=now - stuck_after()
        )
        stuck.filter(attempts__gte=MAX_ATTEMPTS).update(
            status=model.Status.FAILED, last_error=GAVE_UP
        )
        stuck.update(status=model.Status.SCHEDULED)
    # Sources who opted out on their page or in the admin: as an unsubscribe.
    opted_out_emails_stop()
    # Thanks for a deleted referral are owed to no one.
    ThankYou.objects.filter(referral__isnull=True, status__in=ThankYou.PENDING).exclude(
        status=ThankYou.Status.SENDING
    ).update(status=ThankYou.Status.CANCELLED)
    due = sum(outgoing.due(now).count() for outgoing in OUTGOING)
    for _ in range(min(-(-due // DISPATCH_BATCH), SWEEP_DISPATCHES)):
        enqueue()
    heartbeat_record(SWEEP_HEARTBEAT, at=now)
    return due


# -- What a rep does with a thank-you -------------------------------------------


def _claim_pending(thank_you: ThankYou, **fields) -> None:
    """Change a pending (not mid-send) thank_you, or say it is already handled."""
    changed = ThankYou.objects.filter(
        pk=thank_you.pk,
        status__in=[ThankYou.Status.SCHEDULED, ThankYou.Status.FAILED],
    ).update(**fields)
    if not changed:
        raise ValidationError(NOT_PENDING)
    thank_you.refresh_from_db()


def thank_you_mark_done(*, thank_you: ThankYou, user, note: str = "") -> None:
    """The rep thanked the source themselves (a call, a card)."""
    now = timezone.now()
    with transaction.atomic():
        _claim_pending(
            thank_you,
            status=ThankYou.Status.DONE,
            completed_at=now,
            completed_by=user,
            note=note.strip(),
        )
        partner_thanked(partner_id=thank_you.source_id, at=now)


def thank_you_skip(*, thank_you: ThankYou, user, reason: str) -> None:
    if not reason.strip():
        raise ValidationError({"note": SKIP_REASON_REQUIRED})
    _claim_pending(
        thank_you,
        status=ThankYou.Status.SKIPPED,
        completed_at=timezone.now(),
        completed_by=user,
        note=reason.strip(),
    )


def thank_you_send_now(*, thank_you: ThankYou, user) -> None:
    """Send a scheduled email now, or retry a failed one from scratch."""
    if thank_you.channel != ThankYou.Channel.EMAIL:
        raise ValidationError(NOT_AN_EMAIL)
    now = timezone.now()
    with transaction.atomic():
        _claim_pending(
            thank_you,
            status=ThankYou.Status.SCHEDULED,
            due_at=now,  # queued now (Today's "since" counts from here)
            next_attempt_at=None,
            attempts=0 if thank_you.status == ThankYou.Status.FAILED else F("attempts"),
        )
        dispatch_on_commit()


# -- What happens to a source's thank-yous and asks when they opt out --------------


def ask_refused_because(source: Partner) -> str | None:
    """Why no ask email goes to `source` now (ASK_OPTED_OUT, ASK_NO_EMAIL),
    None when one may: the one rule for sending, Retry and an opt-out."""
    if source.do_not_ask:
        return ASK_OPTED_OUT
    if not source.can_email:
        return ASK_NO_EMAIL
    return None


def _stop_emails(partner_id: int, *, ask_note: str) -> None:
    """What is still to send to a source who opted out: thank-you emails
    become calls (they are still thanked), ask emails not sent yet
    (scheduled, or failed and waiting for Retry) are cancelled with
    `ask_note`. One sending now is checked again by _deliver/_deliver_ask."""
    ThankYou.objects.filter(
        source=partner_id,
        channel=ThankYou.Channel.EMAIL,
        status__in=[ThankYou.Status.SCHEDULED, ThankYou.Status.FAILED],
    ).update(**ThankYou.as_a_call())
    _cancel_ask_emails(partner_id, note=ask_note)


def _cancel_ask_emails(partner_id: int, *, note: str) -> None:
    """An ask by email not sent yet is not sent at all."""
    AskEmail.objects.filter(
        source=partner_id,
        status__in=[AskEmail.Status.SCHEDULED, AskEmail.Status.FAILED],
    ).update(status=AskEmail.Status.CANCELLED, note=note)


def partner_opt_out(*, partner: Partner) -> bool:
    """The source asked for no more email. Returns False if they already had.

    They are still thanked: pending thank-you emails become calls for the
    rep. A pending ask email is cancelled.
    """
    with transaction.atomic():
        changed = Partner.objects.filter(
            pk=partner.pk, email_consent=Partner.Consent.OPTED_IN
        ).update(
            email_consent=Partner.Consent.OPTED_OUT, email_consent_at=timezone.now()
        )
        _stop_emails(partner.pk, ask_note=ASK_NO_EMAIL)
    return bool(changed)


def opted_out_emails_stop() -> None:
    """What partner_opt_out stops for an unsubscribe, stopped for every
    source whose record says they opted out (on their page or in the admin:
    asked not to be asked, email withdrawn or removed): thank-you emails
    become calls, ask emails not sent yet are cancelled with why. The sweep
    runs it every minute; until then Today does not offer them a Retry
    (thanks.selectors.failed_ask_emails) and the send refuses them
    (_deliver_ask)."""
    pending = [AskEmail.Status.SCHEDULED, AskEmail.Status.FAILED]
    no_email = ~Q(source__email_consent=Partner.Consent.OPTED_IN) | Q(source__email="")
    with transaction.atomic():
        ThankYou.objects.filter(
            no_email,
            channel=ThankYou.Channel.EMAIL,
            status__in=[ThankYou.Status.SCHEDULED, ThankYou.Status.FAILED],
        ).update(**ThankYou.as_a_call())
        # In ask_refused_because's order: asked not to be asked, then no email.
        AskEmail.objects.filter(source__do_not_ask=True, status__in=pending).update(
            status=AskEmail.Status.CANCELLED, note=ASK_OPTED_OUT
        )
        AskEmail.objects.filter(no_email, status__in=pending).update(
            status=AskEmail.Status.CANCELLED, note=ASK_NO_EMAIL
        )


def partners_last_thanked_rebuild(*, partner_ids=None) -> None:
    """Recompute when each source was last thanked, from its thank-yous."""
    last = (
        ThankYou.objects.filter(source=OuterRef("pk"), status__in=ThankYou.FINISHED)
        .order_by()
        .values("source")
        .annotate(at=Max(Coalesce("sent_at", "completed_at")))
        .values("at")
    )
    partners = Partner.objects.all()
    if partner_ids is not None:
        partners = partners.filter(pk__in=partner_ids)
    partners.update(last_thanked_at=Subquery(last))


# -- Asking customers for referrals ------------------------------------------------


def ask_record(*, partner: Partner, user, channel: str, note: str = "") -> Ask:
    """Ask a customer for referrals, or record that `user` did (in person,
    by phone): the ask, and for an email, its outbox row, in one
    transaction; the email goes once it commits, as the rep.

    Refuses what partners.services.ask_create refuses (not a customer, asked
    not to be asked), an email to a customer who takes none, and a second
    email while the last is on its way or just sent (ASK_EMAIL_AGAIN_AFTER).
    """
    if channel == Ask.Channel.EMAIL and not partner.can_email:
        raise ValidationError({"channel": NO_EMAIL_FOR_ASK.format(name=partner.name)})
    with transaction.atomic():
        if channel == Ask.Channel.EMAIL:
            _refuse_a_second_ask_email(partner)
        ask = ask_create(partner=partner, user=user, channel=channel, note=note)
        if channel == Ask.Channel.EMAIL:
            AskEmail.objects.create(ask=ask, source=partner)
            dispatch_on_commit()
    return ask


def _refuse_a_second_ask_email(partner: Partner) -> None:
    """In ask_record's transaction: the customer's row locked (two clicks at
    once wait for each other on PostgreSQL), no ask email to them pending or
    sent in the last ASK_EMAIL_AGAIN_AFTER."""
    list(Partner.objects.select_for_update().filter(pk=partner.pk).values("pk"))
    lately = timezone.now() - ASK_EMAIL_AGAIN_AFTER
    if AskEmail.objects.filter(
        Q(status__in=[AskEmail.Status.SCHEDULED, AskEmail.Status.SENDING])
        | Q(status=AskEmail.Status.SENT, sent_at__gte=lately),
        source=partner,
    ).exists():
        raise ValidationError(
            {"channel": ASK_EMAIL_ON_ITS_WAY.format(name=partner.name)}
        )


def ask_email_retry(*, ask_email: AskEmail) -> None:
    """Send a failed ask email again, from its first attempt.

    Refused, with why, when the customer has opted out since (asked not to
    be asked, or takes no email): their ask emails not sent are cancelled
    instead, as the opt-out would have (a change that did not go through
    opted_out_emails_stop). An opt-out after this check is caught when it
    is sent (_deliver_ask)."""
    source = Partner.objects.get(pk=ask_email.source_id)  # as it stands now
    if why := ask_refused_because(source):
        _cancel_ask_emails(source.pk, note=why)
        refused = {ASK_OPTED_OUT: ASK_RETRY_OPTED_OUT, ASK_NO_EMAIL: ASK_RETRY_NO_EMAIL}
        raise ValidationError(refused[why].format(name=source.name))
    with transaction.atomic():
        changed = AskEmail.objects.filter(
            pk=ask_email.pk, status=AskEmail.Status.FAILED
        ).update(
            status=AskEmail.Status.SCHEDULED,
            due_at=timezone.now(),
            next_attempt_at=None,
            attempts=0,
        )
        if not changed:
            raise ValidationError(NOT_FAILED)
        dispatch_on_commit()
    ask_email.refresh_from_db()


def partner_opt_out_of_asks(*, partner: Partner) -> bool:
    """The ask email's unsubscribe: no more email (partner_opt_out: their
    thank-yous become calls) and no more asks (Partner.do_not_ask). Returns
    False if they had already opted out of both."""
    with transaction.atomic():
        emails = partner_opt_out(partner=partner)
        asks = partner_no_asks(partner=partner)
    return emails or asks


# -- Partnership plans: a reminder of each commitment on its due date --------------

REMINDER_HOUR = 8  # on the due date, in the owner's time zone (the digest's hour)
REMINDER_NOT_NEEDED = "The commitment is {status}: no reminder needed."
REMINDER_NO_OWNER = "Its owner takes no email (deactivated, or no address)."


def reminder_due_at(*, due_on, owner, now=None) -> datetime:
    """When a commitment's reminder goes: REMINDER_HOUR on its due date in
    its owner's time zone, or now when that has passed."""
    zone = zoneinfo.ZoneInfo(owner.time_zone or "UTC")
    at = datetime.combine(due_on, day_time(REMINDER_HOUR), tzinfo=zone)
    return max(at, now or timezone.now())


def reminder_message(reminder: CommitmentReminder):
    """The reminder as its owner gets it, from the CRM."""
    commitment = reminder.commitment
    partner = commitment.partner
    return build_email(
        "commitment_reminder",
        {
            "commitment": commitment,
            "partner": partner,
            "owner": commitment.owner,
            # By the owner's calendar, as the reminder's hour.
            "overdue": commitment.due_on
            < timezone.localdate(
                timezone=zoneinfo.ZoneInfo(commitment.owner.time_zone or "UTC")
            ),
            "partner_url": settings.SITE_URL + partner.get_absolute_url(),
        },
        to=[commitment.owner.email],
        headers={"Message-ID": reminder.message_id},
    )


def commitment_record(*, partner: Partner, **fields) -> Commitment:
    """Add a commitment to a partner's plan (partners.services
    .commitment_create) and, while it is open, its reminder to the owner on
    the due date, in one transaction: the reminder row exists before
    anything is sent, and goes once (one row per commitment, claimed)."""
    with transaction.atomic():
        commitment = commitment_create(partner=partner, **fields)
        _reminder_follow(commitment, moved=True)
    return commitment


def commitment_change(*, commitment: Commitment, **fields) -> Commitment:
    """Revise a commitment (partners.services.commitment_update); its
    reminder follows: cancelled once it is done or dropped, moved with its
    due date or owner (sent again on the new date), back when reopened."""
    # As saved, not as the form left the instance (its new values set).
    before = (
        Commitment.objects.filter(pk=commitment.pk)
        .values_list("due_on", "owner_id")
        .first()
    )
    with transaction.atomic():
        commitment = commitment_update(commitment=commitment, **fields)
        moved = (commitment.due_on, commitment.owner_id) != before
        _reminder_follow(commitment, moved=moved)
    return commitment


def _reminder_follow(commitment: Commitment, *, moved: bool) -> None:
    reminders = CommitmentReminder.objects.filter(commitment=commitment)
    pending = [CommitmentReminder.Status.SCHEDULED, CommitmentReminder.Status.FAILED]
    if commitment.status != Commitment.Status.OPEN:
        status = commitment.get_status_display().lower()
        reminders.filter(status__in=pending).update(
            status=CommitmentReminder.Status.CANCELLED,
            note=REMINDER_NOT_NEEDED.format(status=status),
        )
        return
    due_at = reminder_due_at(due_on=commitment.due_on, owner=commitment.owner)
    reminder = reminders.first()
    if reminder is None:
        CommitmentReminder.objects.create(commitment=commitment, due_at=due_at)
    elif moved or reminder.status == CommitmentReminder.Status.CANCELLED:
        # A row mid-send is left to its worker: that send was for the old date.
        reminders.exclude(status=CommitmentReminder.Status.SENDING).update(
            status=CommitmentReminder.Status.SCHEDULED,
            due_at=due_at,
            attempts=0,
            next_attempt_at=None,
            last_error="",
            sent_at=None,
            note="",
            # A new message: one with the old Message-ID may be dropped as seen.
            message_token=new_message_token(),
        )
    dispatch_on_commit()

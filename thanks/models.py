"""Thank-yous: the moments a source is owed thanks, and each thank-you owed.

The tables keep their first names (referrals_thankyoumoment,
referrals_touchpoint), and so do the thank-yous' indexes and constraint:
the models moved here from the referrals app, and a thank-you was called
a touchpoint in code, without touching the database (renaming indexes
would rebuild them on a large install for no reader's benefit).
"""

import secrets
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.template import TemplateSyntaxError
from django.utils import timezone

from accounts.models import SIGNATURE_MAX
from core.snippets import snippet_check


class Moment(models.TextChoices):
    """The moments a referral source is owed thanks (DOMAIN.md, section 1)."""

    RECEIVED = "received", "Referral received"
    MEETING = "meeting", "First meeting held"
    WON = "won", "Sale won"
    LOST = "lost", "Referral lost"


# The placeholders of a thank-you template, each with the longest value it
# can have (its column's length): together they bound an email's length.
THANK_YOU_PLACEHOLDERS = {
    "source_first_name": 200,
    "source_name": 200,
    "prospect_name": 200,
    "prospect_company": 200,
    "stage": 60,
    "rep_name": 254,  # the display name, or the email when there is none
    "rep_signature": SIGNATURE_MAX,
}
# What a thank-you may come to once rendered (RFC 5322 keeps a header line
# under 998 characters; a body of 20,000 is several pages).
SUBJECT_LIMIT, BODY_LIMIT = 998, 20_000
BODY_TEMPLATE_MAX = 10_000
# "At once" still takes a worker a moment; a thanks within 15 minutes is on time.
MIN_PROMISE = timedelta(minutes=15)


def _check_snippet(
    value: str, limit: int, placeholders: dict = THANK_YOU_PLACEHOLDERS
) -> None:
    try:
        snippet_check(value, placeholders=placeholders, limit=limit)
    except TemplateSyntaxError as error:
        raise ValidationError(f"This template does not work: {error}") from error


def validate_subject_template(value: str) -> None:
    _check_snippet(value, SUBJECT_LIMIT)


def validate_body_template(value: str) -> None:
    _check_snippet(value, BODY_LIMIT)


class ThankYouMoment(models.Model):
    """How and when the source is thanked at one moment: timing and template.

    Placeholders in subject and body: {{ source_first_name }}, {{ source_name }},
    {{ prospect_name }}, {{ prospect_company }}, {{ stage }}, {{ rep_name }},
    {{ rep_signature }}.
    """

    moment = models.CharField(max_length=10, choices=Moment.choices, unique=True)
    enabled = models.BooleanField(default=True)
    within_minutes = models.PositiveIntegerField(
        "thank within (minutes)",
        help_text="The promise: the source is thanked within this long of the "
        "event. A call or card for the rep is due by then.",
    )
    email_delay_minutes = models.PositiveIntegerField(
        "send email after (minutes)",
        default=0,
        help_text="How long after the event the email goes out (0: at once). "
        "Must not exceed the promise.",
    )
    subject = models.CharField(max_length=200, validators=[validate_subject_template])
    body = models.TextField(
        max_length=BODY_TEMPLATE_MAX, validators=[validate_body_template]
    )
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )

    class Meta:
        db_table = "referrals_thankyoumoment"
        ordering = ["pk"]

    def __str__(self):
        return self.get_moment_display()

    def deadline_for(self, at):
        """When the source must have been thanked by, for an event at `at`."""
        return at + max(timedelta(minutes=self.within_minutes), MIN_PROMISE)

    def owed(self, *, at, by_email: bool) -> dict:
        """The thank-you this moment owes for an event at `at`: an email after
        the email delay, or, for a source who takes no email, a call due by
        the promise. The fields of a new ThankYou for this moment (the one
        rule for the services, the demo data and the benchmark's data)."""
        deadline = self.deadline_for(at)
        return {
            "channel": ThankYou.Channel.EMAIL if by_email else ThankYou.Channel.CALL,
            "due_at": at + timedelta(minutes=self.email_delay_minutes)
            if by_email
            else deadline,
            "deadline_at": deadline,
            "created_at": at,
        }

    def clean(self):
        if self.email_delay_minutes > self.within_minutes:
            raise ValidationError(
                {
                    "email_delay_minutes": "The email cannot wait longer than the promise."
                }
            )


def new_message_token() -> str:
    return secrets.token_hex(16)


class ThankYou(models.Model):
    """One thank-you owed to a referral source, at one moment of one referral.

    The row is the truth: it exists (scheduled) before anything is sent, and
    its status says what happened. Unique per (referral, moment): a referral
    moved back and forth is never thanked twice for the same moment.
    """

    class Channel(models.TextChoices):
        EMAIL = "email", "Email"
        CALL = "call", "Call (task for the rep)"
        CARD = "card", "Handwritten card (task for the rep)"

    class Status(models.TextChoices):
        SCHEDULED = "scheduled", "Scheduled"
        SENDING = "sending", "Sending"
        SENT = "sent", "Sent"
        DONE = "done", "Done"
        SKIPPED = "skipped", "Skipped"
        CANCELLED = "cancelled", "Cancelled"
        FAILED = "failed", "Failed"

    PENDING = (Status.SCHEDULED, Status.SENDING, Status.FAILED)
    FINISHED = (Status.SENT, Status.DONE)

    # The referral, source and owner have no index of their own: the indexes
    # on (referral, moment), (source, status) and (owner, deadline) below
    # serve their lookups.
    referral = models.ForeignKey(
        "referrals.Referral",
        null=True,
        on_delete=models.SET_NULL,
        related_name="thank_yous",
        db_index=False,
    )
    source = models.ForeignKey(
        "partners.Partner",
        on_delete=models.CASCADE,
        related_name="thank_yous",
        db_index=False,
    )
    # The referral's owner, copied so the dashboard can count a team's thanks
    # without joining every referral; kept in step by referral_update.
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="thank_yous",
        db_index=False,
    )
    moment = models.CharField(max_length=10, choices=Moment.choices)
    channel = models.CharField(max_length=5, choices=Channel.choices)
    status = models.CharField(
        max_length=10, choices=Status.choices, default=Status.SCHEDULED
    )
    due_at = models.DateTimeField(help_text="When the email goes, or the task is due.")
    deadline_at = models.DateTimeField(help_text="The promise: thanked by then.")
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    # What was sent, as sent: no length limit, so recording a send can
    # never fail on it (a failed record would send the email again).
    subject = models.TextField(blank=True)
    body_text = models.TextField(blank=True)
    body_html = models.TextField(blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    completed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    note = models.TextField(
        blank=True, max_length=500, help_text="How it was done, or why skipped."
    )
    created_at = models.DateTimeField(default=timezone.now)
    # The random part of the email's Message-ID: the same for every attempt
    # of this thank-you, never the same for two (not even across databases).
    message_token = models.CharField(
        max_length=32, default=new_message_token, editable=False
    )

    class Meta:
        db_table = "referrals_touchpoint"
        ordering = ["due_at", "pk"]
        verbose_name, verbose_name_plural = "thank-you", "thank-yous"
        constraints = [
            models.UniqueConstraint(
                fields=["referral", "moment"], name="one_touchpoint_per_moment"
            )
        ]
        indexes = [
            # The sweep: due emails not yet sent, and sends stuck mid-way.
            models.Index(
                fields=["due_at"],
                name="touchpoint_pending_due",
                condition=models.Q(status__in=["scheduled", "sending"]),
            ),
            # A source's page: when they were last thanked.
            models.Index(fields=["source", "status"]),
            # The dashboard's thank-you compliance, by deadline, per owner and
            # moment (all teams), from the index alone.
            models.Index(
                fields=["deadline_at"],
                include=[
                    "status",
                    "moment",
                    "sent_at",
                    "completed_at",
                    "referral",
                    "owner",
                ],
                name="touchpoint_deadline",
            ),
            models.Index(
                fields=["owner", "deadline_at"],
                include=["status", "moment", "sent_at", "completed_at", "referral"],
                name="touchpoint_owner_deadline",
            ),
            # Thank-yous still owed (Today, overdue lists): few rows among
            # millions, found without reading the rest; for one rep or team,
            # and for everyone (soonest deadline first).
            # (With the id, in the order Today lists them: many share a
            # deadline. With the referral, Today counts them from the index
            # alone: an admin's count read 5,000 table pages for 6,000.)
            models.Index(
                fields=["owner", "deadline_at", "id"],
                name="touchpoint_owner_pending",
                include=["referral"],
                condition=models.Q(status__in=["scheduled", "sending", "failed"]),
            ),
            models.Index(
                fields=["deadline_at", "id"],
                name="touchpoint_pending_deadline",
                include=["referral"],
                condition=models.Q(status__in=["scheduled", "sending", "failed"]),
            ),
        ]

    def __str__(self):
        return f"{self.get_moment_display()} thanks to {self.source_id}"

    @property
    def message_id(self) -> str:
        """Stable across retries, so a receiving server can drop a duplicate;
        random, so no other thank-you (another install's, or this one's
        after a database reset) ever has it."""
        domain = settings.DEFAULT_FROM_EMAIL.rsplit("@", 1)[-1].strip("> ")
        return f"<thanks.{self.message_token}@{domain}>"

    @classmethod
    def as_a_call(cls) -> dict:
        """The fields that turn a pending email into a call for the rep, due
        by the promise: what a source who opts out of email is owed instead
        (when the opt-out comes before the email goes, or after)."""
        return {
            "channel": cls.Channel.CALL,
            "status": cls.Status.SCHEDULED,
            "due_at": models.F("deadline_at"),
        }

    @property
    def is_task(self) -> bool:
        return self.channel != self.Channel.EMAIL

    @property
    def finished_at(self):
        return self.sent_at or self.completed_at

    def is_overdue(self, now=None) -> bool:
        if self.status not in self.PENDING:
            return False
        return (now or timezone.now()) > self.deadline_at

    @property
    def goes_out_at(self):
        """When a scheduled email is to go out: its retry's time after a
        failed attempt, else its own."""
        return self.next_attempt_at or self.due_at

    def is_waiting(self, now=None) -> bool:
        """An email still scheduled well past its time to go out: the worker
        or the broker is behind. Well past: two sweeps and a minute (a
        worker sends on commit within seconds; the sweep, every
        TOUCHPOINT_SWEEP_SECONDS, sends what that missed)."""
        if self.status != self.Status.SCHEDULED or self.channel != self.Channel.EMAIL:
            return False
        grace = timedelta(seconds=2 * settings.TOUCHPOINT_SWEEP_SECONDS + 60)
        return (now or timezone.now()) - self.goes_out_at > grace

    def was_on_time(self) -> bool | None:
        if self.status not in self.FINISHED:
            return None
        return self.finished_at <= self.deadline_at


# -- Asking a customer for referrals --------------------------------------------

# The placeholders of the ask email, each with its longest value.
ASK_PLACEHOLDERS = {
    "source_first_name": 200,
    "source_name": 200,
    "source_company": 200,
    "rep_name": 254,
    "rep_signature": SIGNATURE_MAX,
    "team_name": 100,
}


def validate_ask_subject(value: str) -> None:
    _check_snippet(value, SUBJECT_LIMIT, ASK_PLACEHOLDERS)


def validate_ask_body(value: str) -> None:
    _check_snippet(value, BODY_LIMIT, ASK_PLACEHOLDERS)


ASK_SUBJECT = "A small favour, {{ source_first_name }}?"
ASK_BODY = (
    "Hi {{ source_first_name }},\n\n"
    "I am glad the work we did together turned out as we promised, and thank "
    "you for telling us so.\n\n"
    "Most of the clients we help best come to us through people like you. If "
    "you know someone who could use the same help, an introduction would mean "
    "a lot. The page linked below says who we help best and has a short email "
    "you can forward.\n\n"
    "{{ rep_signature }}"
)


class AskTemplate(models.Model):
    """The ask email's subject and body (admins edit them at
    /thanks/settings/ask/). One row; current() makes it with the default
    text the first time it is read. The email adds the team's "How to refer
    us" link and the unsubscribe link after the body, whatever the text."""

    subject = models.CharField(
        max_length=200, default=ASK_SUBJECT, validators=[validate_ask_subject]
    )
    body = models.TextField(
        max_length=BODY_TEMPLATE_MAX, default=ASK_BODY, validators=[validate_ask_body]
    )
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = "ask email template"

    def __str__(self):
        return "The ask email"

    @classmethod
    def current(cls) -> "AskTemplate":
        template, _ = cls.objects.get_or_create(pk=1)
        return template


class OutboxEmail(models.Model):
    """An email as an outbox row with the thank-yous' delivery fields
    (status, due, attempts, next attempt, claim, error, the copy sent,
    Message-ID): claimed, sent, retried and recorded by thanks.services
    (OUTGOING). Each kind is a table of its own (AskEmail,
    CommitmentReminder); MESSAGE_ID_PREFIX tells their Message-IDs apart."""

    MESSAGE_ID_PREFIX = ""

    class Status(models.TextChoices):
        SCHEDULED = "scheduled", "Scheduled"
        SENDING = "sending", "Sending"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed"
        CANCELLED = "cancelled", "Cancelled"

    status = models.CharField(
        max_length=10, choices=Status.choices, default=Status.SCHEDULED
    )
    due_at = models.DateTimeField(default=timezone.now)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    subject = models.TextField(blank=True)
    body_text = models.TextField(blank=True)
    body_html = models.TextField(blank=True)
    note = models.TextField(blank=True, help_text="Why it was cancelled.")
    created_at = models.DateTimeField(default=timezone.now)
    message_token = models.CharField(
        max_length=32, default=new_message_token, editable=False
    )

    class Meta:
        abstract = True
        ordering = ["due_at", "pk"]

    @property
    def message_id(self) -> str:
        """Stable across retries, random (as a thank-you's)."""
        domain = settings.DEFAULT_FROM_EMAIL.rsplit("@", 1)[-1].strip("> ")
        return f"<{self.MESSAGE_ID_PREFIX}.{self.message_token}@{domain}>"


class AskEmail(OutboxEmail):
    """The email of one ask (partners.Ask by email): an outbox row with the
    thank-yous' delivery fields, claimed, sent, retried and recorded by the
    same code (thanks.services, OUTGOING), shown on Today when it failed.

    The row is the truth, as for a thank-you: it exists (scheduled) in the
    ask's transaction, before anything is sent."""

    MESSAGE_ID_PREFIX = "ask"

    ask = models.OneToOneField(
        "partners.Ask", on_delete=models.CASCADE, related_name="email"
    )
    # The customer asked (the ask's, copied: Today's failed emails and an
    # opt-out find theirs without a join).
    source = models.ForeignKey(
        "partners.Partner",
        on_delete=models.CASCADE,
        related_name="ask_emails",
        db_index=False,
    )

    class Meta(OutboxEmail.Meta):
        indexes = [
            # The dispatch and the sweep: emails not yet sent.
            models.Index(
                fields=["due_at"],
                name="askemail_pending_due",
                condition=models.Q(status__in=["scheduled", "sending"]),
            ),
            # A customer's emails (their page; an opt-out cancels the pending).
            models.Index(fields=["source", "status"]),
            # Today's failed ask emails: few, found without reading the rest.
            models.Index(
                fields=["due_at", "id"],
                name="askemail_failed",
                condition=models.Q(status="failed"),
            ),
        ]

    def __str__(self):
        return f"Ask email to {self.source_id}"


class CommitmentReminder(OutboxEmail):
    """The reminder email of one commitment of a partnership plan
    (partners.Commitment), to its owner on its due date: an outbox row with
    the thank-yous' delivery fields, claimed, sent, retried and recorded by
    the same code (thanks.services, OUTGOING). One row per commitment: a
    second beat, or a second worker, finds it claimed or sent.

    Made with the commitment (thanks.services.commitment_record), moved
    with its due date, cancelled when it is done or dropped."""

    MESSAGE_ID_PREFIX = "commitment"

    commitment = models.OneToOneField(
        "partners.Commitment", on_delete=models.CASCADE, related_name="reminder"
    )

    class Meta(OutboxEmail.Meta):
        indexes = [
            # The dispatch and the sweep: reminders not yet sent.
            models.Index(
                fields=["due_at"],
                name="reminder_pending_due",
                condition=models.Q(status__in=["scheduled", "sending"]),
            ),
        ]

    def __str__(self):
        return f"Reminder of commitment {self.commitment_id}"

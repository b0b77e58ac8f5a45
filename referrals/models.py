import secrets
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models.functions import Upper
from django.template import TemplateSyntaxError
from django.urls import reverse
from django.utils import timezone

from accounts.models import SIGNATURE_MAX
from core.snippets import snippet_check
from core.validators import ACTIVITY_MAX, NOTES_MAX


class Stage(models.Model):
    """One step of the configurable pipeline."""

    class Kind(models.TextChoices):
        OPEN = "open", "Open"
        WON = "won", "Won"
        LOST = "lost", "Lost"

    name = models.CharField(max_length=60, unique=True)
    position = models.PositiveIntegerField(default=0)
    kind = models.CharField(max_length=4, choices=Kind.choices, default=Kind.OPEN)
    probability = models.PositiveSmallIntegerField(
        default=10,
        validators=[MaxValueValidator(100)],
        help_text="Chance of winning a referral in this stage, in percent.",
    )
    sla_days = models.PositiveIntegerField(
        null=True,
        blank=True,
        help_text="Days a referral may sit here before it is stale. Empty: never.",
    )

    class Milestone(models.TextChoices):
        NONE = "", "None"
        CONTACTED = "contacted", "First contact made"
        MEETING = "meeting", "First meeting held"

    milestone = models.CharField(
        max_length=10,
        choices=Milestone.choices,
        blank=True,
        default=Milestone.NONE,
        help_text="Reaching this stage (or a later open or won one) records the "
        "date of this milestone on the referral, once.",
    )
    is_archived = models.BooleanField(
        default=False, help_text="Hidden from the board and the move choices."
    )

    class Meta:
        ordering = ["position", "pk"]
        constraints = [
            # At most one stage marks each milestone, so "the meeting" is unambiguous.
            models.UniqueConstraint(
                fields=["milestone"],
                condition=~models.Q(milestone=""),
                name="one_stage_per_milestone",
            )
        ]

    def __str__(self):
        return self.name

    @property
    def is_closed(self) -> bool:
        return self.kind != self.Kind.OPEN

    @property
    def progress_position(self) -> int:
        """What entering this stage makes a referral's furthest position
        reached at least (the funnel): its position; Lost is no progress."""
        return 0 if self.kind == self.Kind.LOST else self.position


def is_stale(stage: Stage, entered_at, last_activity_at, now) -> bool:
    """Past the stage's SLA with no activity since (open stages only).

    The rule in Python, for one referral; stale_per_stage() in selectors is
    the same rule as query conditions.
    """
    if stage.is_closed or stage.sla_days is None:
        return False
    cutoff = now - timedelta(days=stage.sla_days)
    quiet = last_activity_at is None or last_activity_at < cutoff
    return entered_at < cutoff and quiet


# What the dashboard reads of the referrals received in a period (funnel,
# sources, reps' speed to first contact), carried by the indexes on the date
# received so that PostgreSQL answers from the index alone.
RECEIVED_COLUMNS = [
    "stage",
    "estimated_value",
    "furthest_position",
    "source",
    "lost_reason",
    "created_at",
    "first_contacted_at",
]


class Referral(models.Model):
    """A prospect introduced to us by a referral source."""

    prospect_name = models.CharField("prospect name", max_length=200)
    prospect_email = models.EmailField("prospect email", blank=True)
    prospect_phone = models.CharField("prospect phone", max_length=50, blank=True)
    prospect_company = models.CharField("company", max_length=200, blank=True)
    prospect_title = models.CharField("title", max_length=200, blank=True)
    # The owner, source and stage have no index of their own: an index below
    # starts with each and serves its lookups (a bare owner index lured the
    # planner into reading rows its covering indexes hold), and every index
    # is more work for each referral logged or moved.
    source = models.ForeignKey(
        "partners.Partner",
        on_delete=models.PROTECT,
        related_name="referrals",
        db_index=False,
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="referrals",
        db_index=False,
    )
    stage = models.ForeignKey(
        Stage, on_delete=models.PROTECT, related_name="referrals", db_index=False
    )
    stage_entered_at = models.DateTimeField(default=timezone.now)
    estimated_value = models.DecimalField(
        max_digits=12,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(0)],
    )
    received_on = models.DateField("received", default=timezone.localdate)
    first_contacted_at = models.DateTimeField(null=True, blank=True)
    meeting_held_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    lost_reason = models.CharField(max_length=200, blank=True)
    notes = models.TextField(blank=True, max_length=NOTES_MAX)
    # The position of the furthest open or won stage ever entered, kept by
    # referral_log / referral_move: the funnel counts it without reading history.
    furthest_position = models.PositiveIntegerField(default=0)
    last_activity_at = models.DateTimeField(null=True, blank=True)
    # When it was logged: the start of "speed to first contact". A default,
    # not auto_now_add, so imports and demo data can give the real moment.
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-received_on", "-pk"]
        indexes = [
            # The board, the rep's lists, the pipeline's value per stage and
            # stale referrals: one owner's referrals per stage, oldest in the
            # stage first, read from the index alone (count with COUNT(*); the
            # id is there for the board's and the stale list's ranking).
            models.Index(
                fields=["owner", "stage", "stage_entered_at"],
                include=["estimated_value", "last_activity_at", "id"],
                name="referral_owner_stage_entered",
            ),
            # A team's or a rep's referrals received in a period (dashboard),
            # and a rep's list, newest first: the id breaks ties within a day,
            # so fifty rows are read for fifty shown, however many came today.
            # It carries what the dashboard reads of them (RECEIVED_COLUMNS).
            models.Index(
                fields=["owner", "received_on", "id"],
                include=RECEIVED_COLUMNS,
                name="referral_owner_received",
            ),
            # A source's page and the partner list's counts, from the index alone.
            models.Index(
                fields=["source", "received_on"],
                include=["stage", "estimated_value"],
                name="referral_source_received",
            ),
            # Date-range filters, and every team's referrals received in a
            # period (the admin's dashboard), from the index alone: reading
            # a year of the table's rows measured twice as long.
            models.Index(
                fields=["received_on"],
                include=["owner", *RECEIVED_COLUMNS],
                name="referral_received",
            ),
            # The dashboard's won value and trend, by close date (all, or a team).
            models.Index(fields=["closed_at"]),
            models.Index(
                fields=["owner", "closed_at"],
                include=["stage", "estimated_value"],
                name="referral_owner_closed",
            ),
            # Today's "not yet contacted": the few referrals with no first
            # contact, each open stage's oldest first, whoever owns them (the
            # owner read from the index alone).
            models.Index(
                fields=["stage", "received_on", "id"],
                include=["owner"],
                condition=models.Q(first_contacted_at__isnull=True),
                name="referral_not_contacted",
            ),
            # Stale referrals: each stage's SLA cut-off, with the last activity
            # that decides it, from the index alone (every team's).
            models.Index(
                fields=["stage", "stage_entered_at"],
                include=["last_activity_at", "id"],
                name="referral_stage_entered",
            ),
            # The duplicate warning when a referral is logged: the same prospect
            # email or company, whatever the case (iexact compares UPPER()s).
            models.Index(Upper("prospect_email"), name="referral_email_ci"),
            models.Index(Upper("prospect_company"), name="referral_company_ci"),
        ]

    def __str__(self):
        if self.prospect_company:
            return f"{self.prospect_name} ({self.prospect_company})"
        return self.prospect_name

    def get_absolute_url(self):
        return reverse("referral_detail", args=[self.pk])

    def days_in_stage(self, now=None) -> int:
        return ((now or timezone.now()) - self.stage_entered_at).days

    def is_stale(self, now=None) -> bool:
        return is_stale(
            self.stage,
            self.stage_entered_at,
            self.last_activity_at,
            now or timezone.now(),
        )


class PipelineTotal(models.Model):
    """How many referrals an owner has in a stage now, and their value.

    A summary of the referral table, so "pipeline now" reads a few hundred
    rows instead of counting every referral. It is changed in the same
    transaction as the referrals it counts (referrals.rollups), and
    `manage.py rollups_rebuild` recomputes it from the referrals.
    """

    # Indexed by the unique constraint below, which starts with it.
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="+",
        db_index=False,
    )
    stage = models.ForeignKey(Stage, on_delete=models.CASCADE, related_name="+")
    count = models.IntegerField(default=0)
    value = models.DecimalField(max_digits=16, decimal_places=2, default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["owner", "stage"], name="one_pipeline_total_per_owner_stage"
            )
        ]

    def __str__(self):
        return f"{self.owner_id} in {self.stage_id}: {self.count}"


class ReceivedTotal(models.Model):
    """How many referrals an owner received in a month, by where they are now
    (stage, furthest stage reached, lost reason), and their value.

    The funnel, the reps' received and won counts and the monthly trend read
    whole months here and only the period's partial months from the
    referrals. Kept like PipelineTotal (referrals.rollups).
    """

    # Indexed by the unique constraint below, which starts with it.
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="+",
        db_index=False,
    )
    month = models.DateField(help_text="The first day of the month received.")
    stage = models.ForeignKey(Stage, on_delete=models.CASCADE, related_name="+")
    furthest_position = models.PositiveIntegerField()
    lost_reason = models.CharField(max_length=200, blank=True)
    count = models.IntegerField(default=0)
    value = models.DecimalField(max_digits=16, decimal_places=2, default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["owner", "month", "stage", "furthest_position", "lost_reason"],
                name="one_received_total_per_key",
            )
        ]
        indexes = [models.Index(fields=["month"])]

    def __str__(self):
        return f"{self.owner_id} received {self.month:%Y-%m}: {self.count}"


class ClosedTotal(models.Model):
    """How many referrals an owner closed in a month (by closed_at, in the
    site's time zone), per closed stage, and their value: won value per rep
    and per month. Kept like PipelineTotal (referrals.rollups).
    """

    # Indexed by the unique constraint below, which starts with it.
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="+",
        db_index=False,
    )
    month = models.DateField(help_text="The first day of the month closed.")
    stage = models.ForeignKey(Stage, on_delete=models.CASCADE, related_name="+")
    count = models.IntegerField(default=0)
    value = models.DecimalField(max_digits=16, decimal_places=2, default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["owner", "month", "stage"], name="one_closed_total_per_key"
            )
        ]
        indexes = [models.Index(fields=["month"])]

    def __str__(self):
        return f"{self.owner_id} closed {self.month:%Y-%m}: {self.count}"


class DashboardSnapshot(models.Model):
    """Every team's dashboard figures for one view, as rendered at `computed_at`.

    Counting a whole company's year takes half a second to a second at
    scale, so the all-teams view is shown from here, marked "as of", and
    counted again when older than DASHBOARD_SNAPSHOT_SECONDS or on Refresh
    (referrals.snapshots). A team's or a rep's view is always counted live.
    An empty `html` is a view's first count, still running.
    """

    key = models.CharField(max_length=64, unique=True)
    view = models.CharField(max_length=500, help_text="The view's query string.")
    html = models.TextField(blank=True, default="")
    computed_at = models.DateTimeField(help_text="When the figures were counted.")
    took_ms = models.PositiveIntegerField(
        null=True, blank=True, help_text="How long counting them took."
    )
    refreshing_since = models.DateTimeField(
        null=True, blank=True, help_text="Set while one visit counts them again."
    )
    time_zone = models.CharField(
        max_length=64, blank=True, default="", help_text="The view's time zone."
    )
    viewed_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="When an admin last opened it (to the hour): the worker keeps "
        "the views opened in the last day counted ahead of visits.",
    )

    class Meta:
        # Old snapshots are deleted by their age (referrals.snapshots._save).
        indexes = [models.Index(fields=["computed_at"])]

    def __str__(self):
        at = timezone.localtime(self.computed_at)
        return f"{self.view or 'dashboard'} as of {at:%Y-%m-%d %H:%M}"

    @staticmethod
    def max_age() -> timedelta:
        """How old the figures may get before a visit counts them again."""
        return timedelta(seconds=settings.DASHBOARD_SNAPSHOT_SECONDS)


class StageChange(models.Model):
    """Every move between stages, so time in stage and the funnel can be computed."""

    # Indexed by (referral, at) below.
    referral = models.ForeignKey(
        Referral, on_delete=models.CASCADE, related_name="stage_changes", db_index=False
    )
    from_stage = models.ForeignKey(
        Stage, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    to_stage = models.ForeignKey(Stage, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(default=timezone.now)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["at", "pk"]
        indexes = [models.Index(fields=["referral", "at"])]

    def __str__(self):
        return f"{self.referral_id}: {self.from_stage} → {self.to_stage}"


class Activity(models.Model):
    class Kind(models.TextChoices):
        CALL = "call", "Call"
        EMAIL = "email", "Email"
        MEETING = "meeting", "Meeting"
        NOTE = "note", "Note"

    # Indexed by (referral, at) below.
    referral = models.ForeignKey(
        Referral, on_delete=models.CASCADE, related_name="activities", db_index=False
    )
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.NOTE)
    at = models.DateTimeField(default=timezone.now)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    text = models.TextField(max_length=ACTIVITY_MAX)

    class Meta:
        ordering = ["-at", "-pk"]
        verbose_name_plural = "activities"
        indexes = [models.Index(fields=["referral", "at"])]

    def __str__(self):
        return f"{self.get_kind_display()} on {self.referral_id}"


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


def _check_snippet(value: str, limit: int) -> None:
    try:
        snippet_check(value, placeholders=THANK_YOU_PLACEHOLDERS, limit=limit)
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
        ordering = ["pk"]

    def __str__(self):
        return self.get_moment_display()

    def clean(self):
        if self.email_delay_minutes > self.within_minutes:
            raise ValidationError(
                {
                    "email_delay_minutes": "The email cannot wait longer than the promise."
                }
            )


def new_message_token() -> str:
    return secrets.token_hex(16)


class Touchpoint(models.Model):
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
        Referral,
        null=True,
        on_delete=models.SET_NULL,
        related_name="touchpoints",
        db_index=False,
    )
    source = models.ForeignKey(
        "partners.Partner",
        on_delete=models.CASCADE,
        related_name="touchpoints",
        db_index=False,
    )
    # The referral's owner, copied so the dashboard can count a team's thanks
    # without joining every referral; kept in step by referral_update.
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="touchpoints",
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
        ordering = ["due_at", "pk"]
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
            # deadline.)
            models.Index(
                fields=["owner", "deadline_at", "id"],
                name="touchpoint_owner_pending",
                condition=models.Q(status__in=["scheduled", "sending", "failed"]),
            ),
            models.Index(
                fields=["deadline_at", "id"],
                name="touchpoint_pending_deadline",
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

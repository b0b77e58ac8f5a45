from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models.functions import Upper
from django.urls import reverse
from django.utils import timezone

from core.sql import Folded
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
    "label",  # the dashboard by label
]


class Label(models.TextChoices):
    """What a referral's answers to the referral criteria make it
    (referrals.criteria.assess)."""

    UNASSESSED = "unassessed", "Not assessed"
    QUALIFIED = "qualified", "Qualified"
    LUKEWARM = "lukewarm", "Lukewarm"
    COLD = "cold", "Cold"


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
    # The referral criteria's verdict, kept by referral_assess: recomputed
    # only when someone edits the answers, never when the criteria change.
    # A database default too, so adding the column rewrites no row and raw
    # inserts (bench data) need not name it.
    label = models.CharField(
        max_length=10,
        choices=Label.choices,
        default=Label.UNASSESSED,
        db_default=Label.UNASSESSED,
    )
    # Not a Positive... field: its CHECK would make adding the column scan
    # every referral on PostgreSQL.
    score = models.SmallIntegerField(
        null=True,
        blank=True,
        validators=[MinValueValidator(0), MaxValueValidator(100)],
        help_text="Percent of the weight of the criteria answered that was yes.",
    )
    # The position of the furthest open or won stage ever entered, kept by
    # referral_log / referral_move: the funnel counts it without reading history.
    furthest_position = models.PositiveIntegerField(default=0)
    last_activity_at = models.DateTimeField(null=True, blank=True)
    # When it was logged: the start of "speed to first contact". A default,
    # not auto_now_add, so imports and demo data can give the real moment.
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)
    # What the search compares a term with (referrals/search.py): the
    # prospect's name, company and email as one text, folded (lower case,
    # accents removed on PostgreSQL). Kept by the database as the row is
    # written; a trigram index and referral_received_search hold it.
    search_text = models.GeneratedField(
        expression=Folded("prospect_name", "prospect_company", "prospect_email"),
        output_field=models.TextField(),
        db_persist=True,
    )

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
            # A source's page and the partner list's counts (labels too), and
            # the dashboard's referrals that followed an ask (by the time
            # logged), from the index alone.
            models.Index(
                fields=["source", "received_on"],
                include=["stage", "estimated_value", "label", "created_at"],
                name="referral_source_received",
            ),
            # Date-range filters, and every team's referrals received in a
            # period (the admin's dashboard), from the index alone: reading
            # a year of the table's rows was slower (bench/RESULTS.md).
            models.Index(
                fields=["received_on"],
                include=["owner", *RECEIVED_COLUMNS],
                name="referral_received",
            ),
            # The search in the list's order, newest first: walking back
            # from today, a common word's matches (the commonest surname)
            # are found in the index alone, the text, owner and source
            # beside the date (read from the table, a manager's "Smith"
            # fetched 43,000 rows).
            models.Index(
                fields=["received_on", "id"],
                include=["owner", "source", "search_text"],
                name="referral_received_search",
            ),
            # The dashboard's won value and trend, by close date (all, or a
            # team), and the board's Won and Lost columns (the last 30 days'
            # count, value and latest cards, a team's too, from the index alone: read from the table,
            # an admin's board fetched 8,000 pages for 10,000 rows).
            models.Index(
                fields=["closed_at"],
                include=["stage", "estimated_value", "id", "owner"],
                name="referral_closed",
            ),
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
            # Today's "Not assessed yet": each open stage's referrals never
            # assessed, logged longest ago first, whoever owns them (few among
            # many once a team assesses what it logs).
            models.Index(
                fields=["stage", "created_at", "id"],
                include=["owner"],
                condition=models.Q(label=Label.UNASSESSED),
                name="referral_unassessed",
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


def summary_label():
    """A summary row's label (the referrals it counts have it): a constant
    database default too, so adding the column rewrote no row (0023)."""
    return models.CharField(
        max_length=10,
        choices=Label.choices,
        default=Label.UNASSESSED,
        db_default=Label.UNASSESSED,
    )


class PipelineTotal(models.Model):
    """How many referrals an owner has in a stage now, by label, and their
    value.

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
    label = summary_label()
    count = models.IntegerField(default=0)
    value = models.DecimalField(max_digits=16, decimal_places=2, default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["owner", "stage", "label"],
                name="one_pipeline_total_per_label",
            )
        ]

    def __str__(self):
        return f"{self.owner_id} in {self.stage_id}: {self.count}"


class ReceivedTotal(models.Model):
    """How many referrals an owner received in a month, by where they are now
    (stage, furthest stage reached, lost reason) and their label, and their
    value.

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
    label = summary_label()
    count = models.IntegerField(default=0)
    value = models.DecimalField(max_digits=16, decimal_places=2, default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=[
                    "owner",
                    "month",
                    "stage",
                    "furthest_position",
                    "lost_reason",
                    "label",
                ],
                name="one_received_total_per_label",
            )
        ]
        indexes = [models.Index(fields=["month"])]

    def __str__(self):
        return f"{self.owner_id} received {self.month:%Y-%m}: {self.count}"


class ClosedTotal(models.Model):
    """How many referrals an owner closed in a month (by closed_at, in the
    site's time zone), per closed stage and label, and their value: won
    value per rep and per month. Kept like PipelineTotal (referrals.rollups).
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
    label = summary_label()
    count = models.IntegerField(default=0)
    value = models.DecimalField(max_digits=16, decimal_places=2, default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["owner", "month", "stage", "label"],
                name="one_closed_total_per_label",
            )
        ]
        indexes = [models.Index(fields=["month"])]

    def __str__(self):
        return f"{self.owner_id} closed {self.month:%Y-%m}: {self.count}"


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
        # Written by referral_assess: the label's change (not a contact, so
        # it does not reset "stale").
        ASSESSMENT = "assessment", "Assessment"

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


class Criterion(models.Model):
    """A yes/no question a good referral answers yes to, with its weight.

    The organisation's list has no team; a team with criteria of its own
    uses those instead (referrals.selectors.criteria_in_use)."""

    team = models.ForeignKey(
        "accounts.Team",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="criteria",
    )
    question = models.CharField(max_length=200)
    weight = models.PositiveSmallIntegerField(
        default=1, validators=[MinValueValidator(1), MaxValueValidator(5)]
    )
    position = models.PositiveIntegerField(default=0)
    is_archived = models.BooleanField(
        default=False,
        help_text="Not asked any more; the referrals that answered it keep it.",
    )

    class Meta:
        ordering = ["position", "pk"]
        verbose_name_plural = "criteria"

    def __str__(self):
        return self.question


class ValueStatement(models.Model):
    """Why our best customers value us, in their words (the team's or,
    without a team, the organisation's)."""

    team = models.ForeignKey(
        "accounts.Team",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="value_statements",
    )
    text = models.CharField(max_length=300)
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["position", "pk"]

    def __str__(self):
        return self.text


class CriteriaSettings(models.Model):
    """The thresholds that turn a score into a label, for a team or (no
    team) the organisation."""

    team = models.OneToOneField(
        "accounts.Team",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="criteria_settings",
    )
    qualified_from = models.PositiveSmallIntegerField(
        default=70,
        validators=[MinValueValidator(1), MaxValueValidator(100)],
        help_text="Qualified from this percent of the weight answered yes.",
    )
    lukewarm_from = models.PositiveSmallIntegerField(
        default=40,
        validators=[MinValueValidator(0), MaxValueValidator(100)],
        help_text="Lukewarm from this percent; below it, Cold.",
    )

    class Meta:
        verbose_name_plural = "criteria settings"

    def __str__(self):
        return (
            f"{self.team or 'Organisation'}: {self.qualified_from}/{self.lukewarm_from}"
        )

    def clean(self):
        if self.lukewarm_from >= self.qualified_from:
            raise ValidationError(
                {"lukewarm_from": "Lukewarm must start below Qualified."}
            )


class ReferralAnswer(models.Model):
    """A referral's answer to one criterion, kept when the criterion changes."""

    referral = models.ForeignKey(
        Referral, on_delete=models.CASCADE, related_name="answers", db_index=False
    )
    criterion = models.ForeignKey(
        Criterion, on_delete=models.PROTECT, related_name="answers"
    )
    yes = models.BooleanField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["referral", "criterion"], name="one_answer_per_criterion"
            )
        ]

    def __str__(self):
        return f"{self.referral_id} / {self.criterion_id}: {self.yes}"

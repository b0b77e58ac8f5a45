from datetime import timedelta

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.urls import reverse
from django.utils import timezone


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


class Referral(models.Model):
    """A prospect introduced to us by a referral source."""

    prospect_name = models.CharField("prospect name", max_length=200)
    prospect_email = models.EmailField("prospect email", blank=True)
    prospect_phone = models.CharField("prospect phone", max_length=50, blank=True)
    prospect_company = models.CharField("company", max_length=200, blank=True)
    prospect_title = models.CharField("title", max_length=200, blank=True)
    source = models.ForeignKey(
        "partners.Partner", on_delete=models.PROTECT, related_name="referrals"
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="referrals"
    )
    stage = models.ForeignKey(Stage, on_delete=models.PROTECT, related_name="referrals")
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
    notes = models.TextField(blank=True)
    last_activity_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-received_on", "-pk"]
        indexes = [
            # The board and the rep's lists: one owner's referrals per stage.
            models.Index(fields=["owner", "stage"]),
            # A source's page and the partner list's counts.
            models.Index(fields=["source", "received_on"]),
            # Date-range filters and the dashboards' periods.
            models.Index(fields=["received_on"]),
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
        """Past the stage's SLA (open stages only)."""
        if self.stage.is_closed or self.stage.sla_days is None:
            return False
        limit = self.stage_entered_at + timedelta(days=self.stage.sla_days)
        return (now or timezone.now()) > limit


class StageChange(models.Model):
    """Every move between stages, so time in stage and the funnel can be computed."""

    referral = models.ForeignKey(
        Referral, on_delete=models.CASCADE, related_name="stage_changes"
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

    referral = models.ForeignKey(
        Referral, on_delete=models.CASCADE, related_name="activities"
    )
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.NOTE)
    at = models.DateTimeField(default=timezone.now)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    text = models.TextField()

    class Meta:
        ordering = ["-at", "-pk"]
        verbose_name_plural = "activities"
        indexes = [models.Index(fields=["referral", "at"])]

    def __str__(self):
        return f"{self.get_kind_display()} on {self.referral_id}"

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.urls import reverse
from django.utils import timezone

from core.validators import NOTES_MAX
from partners.fit import LEVELS, Focus, fit_level, terms

# A focus list typed as "HR directors, CFOs": a line of items.
FOCUS_LIST_MAX = 300
RATING_CHOICES = [(n, f"{n} of 5") for n in range(1, 6)]
SIZE_ORDER = "The smallest size cannot be above the largest."


class FocusFields(models.Model):
    """Whom one side serves: the buyers' roles, their industries and the
    sizes of their companies (partners.fit compares two of them)."""

    focus_roles = models.CharField(
        "buyers' roles",
        max_length=FOCUS_LIST_MAX,
        blank=True,
        help_text="Separated by commas, e.g. HR director, Head of people.",
    )
    focus_industries = models.CharField(
        "industries",
        max_length=FOCUS_LIST_MAX,
        blank=True,
        help_text="Separated by commas, e.g. Software, Healthcare.",
    )
    focus_size_min = models.PositiveIntegerField(
        "company size from", null=True, blank=True, help_text="People."
    )
    focus_size_max = models.PositiveIntegerField(
        "company size to", null=True, blank=True, help_text="People."
    )

    class Meta:
        abstract = True

    def clean(self):
        super().clean()
        low, high = self.focus_size_min, self.focus_size_max
        if low is not None and high is not None and low > high:
            raise ValidationError({"focus_size_max": SIZE_ORDER})

    def focus(self) -> Focus:
        return Focus(
            roles=terms(self.focus_roles),
            industries=terms(self.focus_industries),
            size_min=self.focus_size_min,
            size_max=self.focus_size_max,
        )


class Partner(FocusFields):
    """A referral source: a customer, referral partner or colleague who refers.

    A referral partner also records whom they serve (FocusFields), and the
    rep's judgement of personal click and trust: partners.fit compares them
    with the team's focus (TeamFocus) into fit_score."""

    class Kind(models.TextChoices):
        CUSTOMER = "customer", "Customer"
        PARTNER = "partner", "Referral partner"
        NETWORK = "network", "Colleague / network"
        OTHER = "other", "Other"

    class Consent(models.TextChoices):
        OPTED_IN = "in", "Opted in to email"
        OPTED_OUT = "out", "Opted out of email"

    name = models.CharField(max_length=200)
    email = models.EmailField(blank=True)
    phone = models.CharField(max_length=50, blank=True)
    company = models.CharField(max_length=200, blank=True)
    title = models.CharField(max_length=200, blank=True)
    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.CUSTOMER)
    industry = models.CharField(max_length=100, blank=True)
    client_focus = models.TextField(
        blank=True,
        max_length=2000,
        help_text="Who they serve, e.g. HR directors at mid-size firms.",
    )
    click = models.PositiveSmallIntegerField(
        "personal click",
        null=True,
        blank=True,
        choices=RATING_CHOICES,
        help_text="Do you enjoy working with them?",
    )
    trust = models.PositiveSmallIntegerField(
        null=True,
        blank=True,
        choices=RATING_CHOICES,
        help_text="Would you trust them with your best client?",
    )
    # partners.fit's figure against the owner's team's focus, kept by
    # partners.services (partner_create, partner_update, team_focus_save); None: not a
    # referral partner, or a focus not written down. The list sorts by it.
    fit_score = models.PositiveSmallIntegerField(null=True, editable=False)
    # Indexed by (owner, name) below.
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="partners",
        db_index=False,
    )
    email_consent = models.CharField(
        max_length=3, choices=Consent.choices, default=Consent.OPTED_IN
    )
    email_consent_at = models.DateTimeField(null=True, blank=True)
    notes = models.TextField(blank=True, max_length=NOTES_MAX)
    # When a thank-you to this source was last sent or done, kept by the code
    # that finishes one (partner_thanked), so "never thanked" and "last
    # thanked" need no search through millions of thank-yous.
    last_thanked_at = models.DateTimeField(null=True, blank=True, editable=False)
    # Not the email opt-out: a customer may take thank-yous and still not
    # want to be asked for referrals (in person or by email). The ask
    # email's unsubscribe link sets both.
    do_not_ask = models.BooleanField(
        "do not ask for referrals",
        default=False,
        db_default=False,
        help_text="They asked not to be asked for referrals: Ready to ask leaves "
        "them out and no ask can be recorded.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        indexes = [
            # The partner list and autocomplete, scoped by owner, sorted by name.
            models.Index(fields=["owner", "name"]),
            # An admin's partner list (every owner's), a page at a time by name.
            models.Index(fields=["name", "id"], name="partner_name"),
            # The dashboard's neglected sources: the few never thanked, found
            # without reading every partner.
            models.Index(
                fields=["id"],
                condition=models.Q(last_thanked_at__isnull=True),
                name="partner_never_thanked",
            ),
        ]

    def __str__(self):
        return f"{self.name} ({self.company})" if self.company else self.name

    def get_absolute_url(self):
        return reverse("partner_detail", args=[self.pk])

    @property
    def can_email(self) -> bool:
        return bool(self.email) and self.email_consent == self.Consent.OPTED_IN

    @property
    def fit_level(self) -> str:
        """The stored fit in a word (partners.fit.LEVELS; "" when not a
        referral partner)."""
        if self.kind != self.Kind.PARTNER:
            return ""
        return fit_level(self.fit_score)

    @property
    def fit_label(self) -> str:
        return LEVELS.get(self.fit_level, "")


class TeamFocus(FocusFields):
    """Whom a team sells to, set once by its manager (or an admin): each of
    its referral partners' fit is measured against it (partners.fit)."""

    team = models.OneToOneField(
        "accounts.Team", on_delete=models.CASCADE, related_name="focus"
    )
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "team focuses"

    def __str__(self):
        return f"{self.team}'s focus"


class Answer(models.TextChoices):
    """A yes or no the rep may not know yet (an outcome in full, on budget)."""

    YES = "yes", "Yes"
    NO = "no", "No"
    UNKNOWN = "unknown", "Not known yet"


SATISFACTION_CHOICES = [(n, f"{n} of 5") for n in range(1, 6)]
# What was promised or delivered: a sentence or two, not a statement of work.
OUTCOME_TEXT_MAX = 2000
ASK_NOTE_MAX = 1000


class Outcome(models.Model):
    """What we promised a customer and what we delivered: whether to ask
    them for referrals depends on it (partners.asking).

    Recorded on a customer source (kind customer): from a won referral's
    page (its prospect becomes the customer; `referral` remembers which) or
    on the customer's page. Delivered and satisfaction stay empty until
    known; the rep fills them in later."""

    partner = models.ForeignKey(
        Partner, on_delete=models.CASCADE, related_name="outcomes", db_index=False
    )
    # The won referral it came from (a string reference: partners sits below
    # referrals and reads it through this key only).
    referral = models.ForeignKey(
        "referrals.Referral",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="outcomes",
    )
    promised = models.TextField("what was promised", max_length=OUTCOME_TEXT_MAX)
    promised_by = models.DateField("promised by")
    delivered = models.TextField(
        "what was delivered", blank=True, max_length=OUTCOME_TEXT_MAX
    )
    delivered_on = models.DateField("delivered on", null=True, blank=True)
    in_full = models.CharField(
        "all that was promised?",
        max_length=7,
        choices=Answer.choices,
        default=Answer.UNKNOWN,
    )
    on_budget = models.CharField(
        "on budget?", max_length=7, choices=Answer.choices, default=Answer.UNKNOWN
    )
    satisfaction = models.PositiveSmallIntegerField(
        "customer's satisfaction",
        null=True,
        blank=True,
        choices=SATISFACTION_CHOICES,
        help_text="Ask them: 1 (unhappy) to 5 (delighted).",
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-promised_by", "-pk"]
        indexes = [
            # A customer's outcomes, and Ready to ask's (partner, recent).
            models.Index(fields=["partner", "delivered_on"]),
        ]

    def __str__(self):
        return f"{self.promised[:60]} (by {self.promised_by:%Y-%m-%d})"

    def clean(self):
        if self.delivered_on and not self.delivered.strip():
            raise ValidationError(
                {"delivered": "Say what was delivered, with the date delivered."}
            )


class Ask(models.Model):
    """A customer asked for referrals: by email (sent through the thank-yous'
    outbox, thanks.AskEmail, which links back here), in person or by phone.
    An activity on the customer's timeline; "not asked in the last 90 days"
    reads these."""

    class Channel(models.TextChoices):
        EMAIL = "email", "Email"
        IN_PERSON = "in_person", "In person"
        PHONE = "phone", "Phone"

    partner = models.ForeignKey(
        Partner, on_delete=models.CASCADE, related_name="asks", db_index=False
    )
    asked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    asked_at = models.DateTimeField(default=timezone.now)
    channel = models.CharField(max_length=10, choices=Channel.choices)
    note = models.TextField(blank=True, max_length=ASK_NOTE_MAX)

    class Meta:
        ordering = ["-asked_at", "-pk"]
        indexes = [
            # A customer's last ask (Ready to ask: not asked in 90 days), and
            # the asks of a period (partners.asking.asks_summary).
            models.Index(fields=["partner", "asked_at"]),
            models.Index(fields=["asked_at"]),
        ]

    def __str__(self):
        return f"{self.get_channel_display()} ask of {self.partner_id}"


class GivenReferral(models.Model):
    """A referral we gave a partner: whom we introduced to them, when, and
    how it turned out once known. Reciprocity (DOMAIN.md, section 3): set
    against the referrals they sent us, a one-sided relationship shows."""

    class Result(models.TextChoices):
        OPEN = "open", "Not known yet"
        WON = "won", "They won it"
        LOST = "lost", "It came to nothing"

    partner = models.ForeignKey(
        Partner,
        on_delete=models.CASCADE,
        related_name="given_referrals",
        db_index=False,
    )
    introduced = models.CharField("whom we introduced", max_length=200)
    company = models.CharField(max_length=200, blank=True)
    given_on = models.DateField("given on", default=timezone.localdate)
    note = models.TextField(blank=True, max_length=ASK_NOTE_MAX)
    result = models.CharField(
        "how it turned out", max_length=4, choices=Result.choices, default=Result.OPEN
    )
    given_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-given_on", "-pk"]
        indexes = [
            # A partner's referrals given (its page, the list's balance), and
            # those of a period per partner (the dashboard's one-sided list).
            models.Index(fields=["partner", "given_on"]),
            models.Index(fields=["given_on"]),
        ]

    def __str__(self):
        return f"{self.introduced} to {self.partner_id} on {self.given_on:%Y-%m-%d}"


class Commitment(models.Model):
    """One concrete commitment of a partnership plan ("introduce two HR
    directors by March", "co-host a breakfast in Q2"): what, who owes it (us
    or them), the owner on our side, when it is due, and whether it was
    kept. Due and overdue ones are on the owner's Today and in the morning
    digest; thanks.CommitmentReminder emails the owner on the due date."""

    class OwedBy(models.TextChoices):
        US = "us", "Us"
        THEM = "them", "Them"

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        DONE = "done", "Done"
        DROPPED = "dropped", "Dropped"

    partner = models.ForeignKey(
        Partner, on_delete=models.CASCADE, related_name="commitments", db_index=False
    )
    what = models.CharField("commitment", max_length=300)
    owed_by = models.CharField(
        "who owes it", max_length=4, choices=OwedBy.choices, default=OwedBy.US
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="commitments",
        db_index=False,
        verbose_name="owner on our side",
    )
    due_on = models.DateField("due on")
    status = models.CharField(max_length=7, choices=Status.choices, default=Status.OPEN)
    done_on = models.DateField("done on", null=True, blank=True)
    notes = models.TextField(blank=True, max_length=ASK_NOTE_MAX)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["due_on", "pk"]
        indexes = [
            # A partner's plan, by due date.
            models.Index(fields=["partner", "due_on"]),
            # An owner's open commitments by due date (Today, the digest).
            models.Index(
                fields=["owner", "due_on"],
                name="commitment_open_due",
                condition=models.Q(status="open"),
            ),
        ]

    def __str__(self):
        return f"{self.what[:60]} (due {self.due_on:%Y-%m-%d})"

    def is_overdue(self, today) -> bool:
        return self.status == self.Status.OPEN and self.due_on < today

    @property
    def kept_on_time(self) -> bool:
        return (
            self.status == self.Status.DONE
            and self.done_on is not None
            and self.done_on <= self.due_on
        )

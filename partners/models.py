from django.conf import settings
from django.db import models
from django.urls import reverse

from core.validators import NOTES_MAX


class Partner(models.Model):
    """A referral source: a customer, referral partner or colleague who refers."""

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
    client_focus_industry = models.CharField(max_length=100, blank=True)
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

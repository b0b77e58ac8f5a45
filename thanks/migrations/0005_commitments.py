"""A reminder email of each commitment (issue 27): an outbox row, as the thank-yous'."""

import django.db.models.deletion
import django.utils.timezone
import thanks.models
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("partners", "0010_commitments"),
        ("thanks", "0004_pending_cover_referral"),
    ]

    operations = [
        migrations.CreateModel(
            name="CommitmentReminder",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True,
                        primary_key=True,
                        serialize=False,
                        verbose_name="ID",
                    ),
                ),
                (
                    "status",
                    models.CharField(
                        choices=[
                            ("scheduled", "Scheduled"),
                            ("sending", "Sending"),
                            ("sent", "Sent"),
                            ("failed", "Failed"),
                            ("cancelled", "Cancelled"),
                        ],
                        default="scheduled",
                        max_length=10,
                    ),
                ),
                ("due_at", models.DateTimeField(default=django.utils.timezone.now)),
                ("attempts", models.PositiveSmallIntegerField(default=0)),
                ("next_attempt_at", models.DateTimeField(blank=True, null=True)),
                ("claimed_at", models.DateTimeField(blank=True, null=True)),
                ("last_error", models.TextField(blank=True)),
                ("sent_at", models.DateTimeField(blank=True, null=True)),
                ("subject", models.TextField(blank=True)),
                ("body_text", models.TextField(blank=True)),
                ("body_html", models.TextField(blank=True)),
                (
                    "note",
                    models.TextField(blank=True, help_text="Why it was cancelled."),
                ),
                ("created_at", models.DateTimeField(default=django.utils.timezone.now)),
                (
                    "message_token",
                    models.CharField(
                        default=thanks.models.new_message_token,
                        editable=False,
                        max_length=32,
                    ),
                ),
                (
                    "commitment",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="reminder",
                        to="partners.commitment",
                    ),
                ),
            ],
            options={
                "ordering": ["due_at", "pk"],
                "indexes": [
                    models.Index(
                        condition=models.Q(("status__in", ["scheduled", "sending"])),
                        fields=["due_at"],
                        name="reminder_pending_due",
                    )
                ],
            },
        ),
    ]

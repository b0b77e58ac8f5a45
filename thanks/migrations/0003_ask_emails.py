"""The ask email: its template (one row, made on first read) and an outbox
row per ask sent by email, claimed and sent like a thank-you (issue 26)."""

import django.db.models.deletion
import django.utils.timezone
import thanks.models
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("partners", "0007_outcomes_and_asks"),
        ("thanks", "0002_thank_you_is_the_name"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="AskTemplate",
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
                    "subject",
                    models.CharField(
                        default="A small favour, {{ source_first_name }}?",
                        max_length=200,
                        validators=[thanks.models.validate_ask_subject],
                    ),
                ),
                (
                    "body",
                    models.TextField(
                        default="Hi {{ source_first_name }},\n\nI am glad the work we did together turned out as we promised, and thank you for telling us so.\n\nMost of the clients we help best come to us through people like you. If you know someone who could use the same help, an introduction would mean a lot. The page linked below says who we help best and has a short email you can forward.\n\n{{ rep_signature }}",
                        max_length=10000,
                        validators=[thanks.models.validate_ask_body],
                    ),
                ),
                ("updated_at", models.DateTimeField(auto_now=True)),
                (
                    "updated_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            options={
                "verbose_name": "ask email template",
            },
        ),
        migrations.CreateModel(
            name="AskEmail",
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
                    "ask",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="email",
                        to="partners.ask",
                    ),
                ),
                (
                    "source",
                    models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="ask_emails",
                        to="partners.partner",
                    ),
                ),
            ],
            options={
                "ordering": ["due_at", "pk"],
                "indexes": [
                    models.Index(
                        condition=models.Q(("status__in", ["scheduled", "sending"])),
                        fields=["due_at"],
                        name="askemail_pending_due",
                    ),
                    models.Index(
                        fields=["source", "status"],
                        name="thanks_aske_source__3781ef_idx",
                    ),
                    models.Index(
                        condition=models.Q(("status", "failed")),
                        fields=["due_at", "id"],
                        name="askemail_failed",
                    ),
                ],
            },
        ),
    ]

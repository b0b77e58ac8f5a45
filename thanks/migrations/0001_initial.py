"""The thank-you models, moved from the referrals app: their tables
(referrals_thankyoumoment, referrals_touchpoint) were made by referrals'
migrations and are kept; this only tells Django where the models live.
"""

import django.db.models.deletion
import django.utils.timezone
import thanks.models
from django.conf import settings
from django.db import migrations, models


APP, MODELS = "thanks", ["thankyoumoment", "touchpoint"]


def move_content_types(apps, schema_editor):
    """Permissions and admin history follow the models to their new app."""
    ContentType = apps.get_model("contenttypes", "ContentType")
    ContentType.objects.filter(app_label="referrals", model__in=MODELS).update(
        app_label=APP
    )


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("partners", "0006_notes_max"),
        ("referrals", "0019_move_thanks_and_dashboard"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="ThankYouMoment",
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
                            "moment",
                            models.CharField(
                                choices=[
                                    ("received", "Referral received"),
                                    ("meeting", "First meeting held"),
                                    ("won", "Sale won"),
                                    ("lost", "Referral lost"),
                                ],
                                max_length=10,
                                unique=True,
                            ),
                        ),
                        ("enabled", models.BooleanField(default=True)),
                        (
                            "within_minutes",
                            models.PositiveIntegerField(
                                help_text="The promise: the source is thanked within this long of the event. A call or card for the rep is due by then.",
                                verbose_name="thank within (minutes)",
                            ),
                        ),
                        (
                            "email_delay_minutes",
                            models.PositiveIntegerField(
                                default=0,
                                help_text="How long after the event the email goes out (0: at once). Must not exceed the promise.",
                                verbose_name="send email after (minutes)",
                            ),
                        ),
                        (
                            "subject",
                            models.CharField(
                                max_length=200,
                                validators=[thanks.models.validate_subject_template],
                            ),
                        ),
                        (
                            "body",
                            models.TextField(
                                max_length=10000,
                                validators=[thanks.models.validate_body_template],
                            ),
                        ),
                        ("updated_at", models.DateTimeField(auto_now=True)),
                        (
                            "updated_by",
                            models.ForeignKey(
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.SET_NULL,
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                    ],
                    options={
                        "db_table": "referrals_thankyoumoment",
                        "ordering": ["pk"],
                    },
                ),
                migrations.CreateModel(
                    name="Touchpoint",
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
                            "moment",
                            models.CharField(
                                choices=[
                                    ("received", "Referral received"),
                                    ("meeting", "First meeting held"),
                                    ("won", "Sale won"),
                                    ("lost", "Referral lost"),
                                ],
                                max_length=10,
                            ),
                        ),
                        (
                            "channel",
                            models.CharField(
                                choices=[
                                    ("email", "Email"),
                                    ("call", "Call (task for the rep)"),
                                    ("card", "Handwritten card (task for the rep)"),
                                ],
                                max_length=5,
                            ),
                        ),
                        (
                            "status",
                            models.CharField(
                                choices=[
                                    ("scheduled", "Scheduled"),
                                    ("sending", "Sending"),
                                    ("sent", "Sent"),
                                    ("done", "Done"),
                                    ("skipped", "Skipped"),
                                    ("cancelled", "Cancelled"),
                                    ("failed", "Failed"),
                                ],
                                default="scheduled",
                                max_length=10,
                            ),
                        ),
                        (
                            "due_at",
                            models.DateTimeField(
                                help_text="When the email goes, or the task is due."
                            ),
                        ),
                        (
                            "deadline_at",
                            models.DateTimeField(
                                help_text="The promise: thanked by then."
                            ),
                        ),
                        ("attempts", models.PositiveSmallIntegerField(default=0)),
                        (
                            "next_attempt_at",
                            models.DateTimeField(blank=True, null=True),
                        ),
                        ("claimed_at", models.DateTimeField(blank=True, null=True)),
                        ("last_error", models.TextField(blank=True)),
                        ("sent_at", models.DateTimeField(blank=True, null=True)),
                        ("subject", models.TextField(blank=True)),
                        ("body_text", models.TextField(blank=True)),
                        ("body_html", models.TextField(blank=True)),
                        ("completed_at", models.DateTimeField(blank=True, null=True)),
                        (
                            "note",
                            models.TextField(
                                blank=True,
                                help_text="How it was done, or why skipped.",
                                max_length=500,
                            ),
                        ),
                        (
                            "created_at",
                            models.DateTimeField(default=django.utils.timezone.now),
                        ),
                        (
                            "message_token",
                            models.CharField(
                                default=thanks.models.new_message_token,
                                editable=False,
                                max_length=32,
                            ),
                        ),
                        (
                            "completed_by",
                            models.ForeignKey(
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.SET_NULL,
                                related_name="+",
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                        (
                            "owner",
                            models.ForeignKey(
                                blank=True,
                                db_index=False,
                                null=True,
                                on_delete=django.db.models.deletion.SET_NULL,
                                related_name="touchpoints",
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                        (
                            "referral",
                            models.ForeignKey(
                                db_index=False,
                                null=True,
                                on_delete=django.db.models.deletion.SET_NULL,
                                related_name="touchpoints",
                                to="referrals.referral",
                            ),
                        ),
                        (
                            "source",
                            models.ForeignKey(
                                db_index=False,
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="touchpoints",
                                to="partners.partner",
                            ),
                        ),
                    ],
                    options={
                        "db_table": "referrals_touchpoint",
                        "ordering": ["due_at", "pk"],
                        "indexes": [
                            models.Index(
                                condition=models.Q(
                                    ("status__in", ["scheduled", "sending"])
                                ),
                                fields=["due_at"],
                                name="touchpoint_pending_due",
                            ),
                            models.Index(
                                fields=["source", "status"],
                                name="referrals_t_source__814f44_idx",
                            ),
                            models.Index(
                                fields=["deadline_at"],
                                include=(
                                    "status",
                                    "moment",
                                    "sent_at",
                                    "completed_at",
                                    "referral",
                                    "owner",
                                ),
                                name="touchpoint_deadline",
                            ),
                            models.Index(
                                fields=["owner", "deadline_at"],
                                include=(
                                    "status",
                                    "moment",
                                    "sent_at",
                                    "completed_at",
                                    "referral",
                                ),
                                name="touchpoint_owner_deadline",
                            ),
                            models.Index(
                                condition=models.Q(
                                    ("status__in", ["scheduled", "sending", "failed"])
                                ),
                                fields=["owner", "deadline_at", "id"],
                                name="touchpoint_owner_pending",
                            ),
                            models.Index(
                                condition=models.Q(
                                    ("status__in", ["scheduled", "sending", "failed"])
                                ),
                                fields=["deadline_at", "id"],
                                name="touchpoint_pending_deadline",
                            ),
                        ],
                        "constraints": [
                            models.UniqueConstraint(
                                fields=("referral", "moment"),
                                name="one_touchpoint_per_moment",
                            )
                        ],
                    },
                ),
            ],
        ),
        migrations.RunPython(move_content_types, migrations.RunPython.noop),
    ]

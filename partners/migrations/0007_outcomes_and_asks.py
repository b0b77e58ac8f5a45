"""Outcomes delivered to customers, asks for referrals, and "do not ask"
(issue 26). do_not_ask has a constant database default: PostgreSQL adds
the column without rewriting the partner table."""

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("partners", "0006_notes_max"),
        ("referrals", "0022_closed_covering"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="partner",
            name="do_not_ask",
            field=models.BooleanField(
                db_default=False,
                default=False,
                help_text="They asked not to be asked for referrals: Ready to ask leaves them out and no ask can be recorded.",
                verbose_name="do not ask for referrals",
            ),
        ),
        migrations.CreateModel(
            name="Ask",
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
                ("asked_at", models.DateTimeField(default=django.utils.timezone.now)),
                (
                    "channel",
                    models.CharField(
                        choices=[
                            ("email", "Email"),
                            ("in_person", "In person"),
                            ("phone", "Phone"),
                        ],
                        max_length=10,
                    ),
                ),
                ("note", models.TextField(blank=True, max_length=1000)),
                (
                    "asked_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "partner",
                    models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="asks",
                        to="partners.partner",
                    ),
                ),
            ],
            options={
                "ordering": ["-asked_at", "-pk"],
                "indexes": [
                    models.Index(
                        fields=["partner", "asked_at"],
                        name="partners_as_partner_ef1266_idx",
                    ),
                    models.Index(
                        fields=["asked_at"], name="partners_as_asked_a_436f5e_idx"
                    ),
                ],
            },
        ),
        migrations.CreateModel(
            name="Outcome",
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
                    "promised",
                    models.TextField(max_length=2000, verbose_name="what was promised"),
                ),
                ("promised_by", models.DateField(verbose_name="promised by")),
                (
                    "delivered",
                    models.TextField(
                        blank=True, max_length=2000, verbose_name="what was delivered"
                    ),
                ),
                (
                    "delivered_on",
                    models.DateField(
                        blank=True, null=True, verbose_name="delivered on"
                    ),
                ),
                (
                    "in_full",
                    models.CharField(
                        choices=[
                            ("yes", "Yes"),
                            ("no", "No"),
                            ("unknown", "Not known yet"),
                        ],
                        default="unknown",
                        max_length=7,
                        verbose_name="all that was promised?",
                    ),
                ),
                (
                    "on_budget",
                    models.CharField(
                        choices=[
                            ("yes", "Yes"),
                            ("no", "No"),
                            ("unknown", "Not known yet"),
                        ],
                        default="unknown",
                        max_length=7,
                        verbose_name="on budget?",
                    ),
                ),
                (
                    "satisfaction",
                    models.PositiveSmallIntegerField(
                        blank=True,
                        choices=[
                            (1, "1 of 5"),
                            (2, "2 of 5"),
                            (3, "3 of 5"),
                            (4, "4 of 5"),
                            (5, "5 of 5"),
                        ],
                        help_text="Ask them: 1 (unhappy) to 5 (delighted).",
                        null=True,
                        verbose_name="customer's satisfaction",
                    ),
                ),
                ("created_at", models.DateTimeField(default=django.utils.timezone.now)),
                ("updated_at", models.DateTimeField(auto_now=True)),
                (
                    "partner",
                    models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="outcomes",
                        to="partners.partner",
                    ),
                ),
                (
                    "recorded_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "referral",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="outcomes",
                        to="referrals.referral",
                    ),
                ),
            ],
            options={
                "ordering": ["-promised_by", "-pk"],
                "indexes": [
                    models.Index(
                        fields=["partner", "delivered_on"],
                        name="partners_ou_partner_6a7f97_idx",
                    )
                ],
            },
        ),
    ]

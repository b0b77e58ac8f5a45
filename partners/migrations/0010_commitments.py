"""Partnership plans (issue 27): commitments with an owner and a due date."""

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("partners", "0009_given_referrals"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="Commitment",
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
                ("what", models.CharField(max_length=300, verbose_name="commitment")),
                (
                    "owed_by",
                    models.CharField(
                        choices=[("us", "Us"), ("them", "Them")],
                        default="us",
                        max_length=4,
                        verbose_name="who owes it",
                    ),
                ),
                ("due_on", models.DateField(verbose_name="due on")),
                (
                    "status",
                    models.CharField(
                        choices=[
                            ("open", "Open"),
                            ("done", "Done"),
                            ("dropped", "Dropped"),
                        ],
                        default="open",
                        max_length=7,
                    ),
                ),
                (
                    "done_on",
                    models.DateField(blank=True, null=True, verbose_name="done on"),
                ),
                ("notes", models.TextField(blank=True, max_length=1000)),
                ("created_at", models.DateTimeField(default=django.utils.timezone.now)),
                ("updated_at", models.DateTimeField(auto_now=True)),
                (
                    "owner",
                    models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="commitments",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="owner on our side",
                    ),
                ),
                (
                    "partner",
                    models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="commitments",
                        to="partners.partner",
                    ),
                ),
            ],
            options={
                "ordering": ["due_on", "pk"],
                "indexes": [
                    models.Index(
                        fields=["partner", "due_on"],
                        name="partners_co_partner_cc7797_idx",
                    ),
                    models.Index(
                        condition=models.Q(("status", "open")),
                        fields=["owner", "due_on"],
                        name="commitment_open_due",
                    ),
                ],
            },
        ),
    ]

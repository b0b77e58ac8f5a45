"""The referrals we give a partner (issue 27, reciprocity): a new table."""

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("partners", "0008_fit_and_focus"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="GivenReferral",
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
                    "introduced",
                    models.CharField(max_length=200, verbose_name="whom we introduced"),
                ),
                ("company", models.CharField(blank=True, max_length=200)),
                (
                    "given_on",
                    models.DateField(
                        default=django.utils.timezone.localdate, verbose_name="given on"
                    ),
                ),
                ("note", models.TextField(blank=True, max_length=1000)),
                (
                    "result",
                    models.CharField(
                        choices=[
                            ("open", "Not known yet"),
                            ("won", "They won it"),
                            ("lost", "It came to nothing"),
                        ],
                        default="open",
                        max_length=4,
                        verbose_name="how it turned out",
                    ),
                ),
                ("created_at", models.DateTimeField(default=django.utils.timezone.now)),
                ("updated_at", models.DateTimeField(auto_now=True)),
                (
                    "given_by",
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
                        related_name="given_referrals",
                        to="partners.partner",
                    ),
                ),
            ],
            options={
                "ordering": ["-given_on", "-pk"],
                "indexes": [
                    models.Index(
                        fields=["partner", "given_on"],
                        name="partners_gi_partner_75bcff_idx",
                    ),
                    models.Index(
                        fields=["given_on"], name="partners_gi_given_o_e1acac_idx"
                    ),
                ],
            },
        ),
    ]

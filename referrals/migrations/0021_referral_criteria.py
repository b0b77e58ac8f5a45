"""Referral criteria, value statements, thresholds and each referral's answers
(issue 26), and the label and score on every referral.

Cheap on a million referrals: the label is added with a constant default
that PostgreSQL (11+) keeps in the catalogue without rewriting a row, and
the score is nullable with no CHECK (no scan of the table either).
"""

import django.core.validators
import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0004_display_name_one_line_signature_max"),
        ("referrals", "0020_search_indexes"),
    ]

    operations = [
        migrations.AddField(
            model_name="referral",
            name="label",
            field=models.CharField(
                choices=[
                    ("unassessed", "Not assessed"),
                    ("qualified", "Qualified"),
                    ("lukewarm", "Lukewarm"),
                    ("cold", "Cold"),
                ],
                db_default="unassessed",
                default="unassessed",
                max_length=10,
            ),
        ),
        migrations.AddField(
            model_name="referral",
            name="score",
            field=models.SmallIntegerField(
                blank=True,
                help_text="Percent of the weight of the criteria answered that was yes.",
                null=True,
                validators=[
                    django.core.validators.MinValueValidator(0),
                    django.core.validators.MaxValueValidator(100),
                ],
            ),
        ),
        migrations.AlterField(
            model_name="activity",
            name="kind",
            field=models.CharField(
                choices=[
                    ("call", "Call"),
                    ("email", "Email"),
                    ("meeting", "Meeting"),
                    ("note", "Note"),
                    ("assessment", "Assessment"),
                ],
                default="note",
                max_length=10,
            ),
        ),
        migrations.CreateModel(
            name="CriteriaSettings",
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
                    "qualified_from",
                    models.PositiveSmallIntegerField(
                        default=70,
                        help_text="Qualified from this percent of the weight answered yes.",
                        validators=[
                            django.core.validators.MinValueValidator(1),
                            django.core.validators.MaxValueValidator(100),
                        ],
                    ),
                ),
                (
                    "lukewarm_from",
                    models.PositiveSmallIntegerField(
                        default=40,
                        help_text="Lukewarm from this percent; below it, Cold.",
                        validators=[
                            django.core.validators.MinValueValidator(0),
                            django.core.validators.MaxValueValidator(100),
                        ],
                    ),
                ),
                (
                    "team",
                    models.OneToOneField(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="criteria_settings",
                        to="accounts.team",
                    ),
                ),
            ],
            options={
                "verbose_name_plural": "criteria settings",
            },
        ),
        migrations.CreateModel(
            name="Criterion",
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
                ("question", models.CharField(max_length=200)),
                (
                    "weight",
                    models.PositiveSmallIntegerField(
                        default=1,
                        validators=[
                            django.core.validators.MinValueValidator(1),
                            django.core.validators.MaxValueValidator(5),
                        ],
                    ),
                ),
                ("position", models.PositiveIntegerField(default=0)),
                (
                    "is_archived",
                    models.BooleanField(
                        default=False,
                        help_text="Not asked any more; the referrals that answered it keep it.",
                    ),
                ),
                (
                    "team",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="criteria",
                        to="accounts.team",
                    ),
                ),
            ],
            options={
                "verbose_name_plural": "criteria",
                "ordering": ["position", "pk"],
            },
        ),
        migrations.CreateModel(
            name="ValueStatement",
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
                ("text", models.CharField(max_length=300)),
                ("position", models.PositiveIntegerField(default=0)),
                (
                    "team",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="value_statements",
                        to="accounts.team",
                    ),
                ),
            ],
            options={
                "ordering": ["position", "pk"],
            },
        ),
        migrations.CreateModel(
            name="ReferralAnswer",
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
                ("yes", models.BooleanField()),
                (
                    "criterion",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="answers",
                        to="referrals.criterion",
                    ),
                ),
                (
                    "referral",
                    models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="answers",
                        to="referrals.referral",
                    ),
                ),
            ],
            options={
                "constraints": [
                    models.UniqueConstraint(
                        fields=("referral", "criterion"),
                        name="one_answer_per_criterion",
                    )
                ],
            },
        ),
    ]

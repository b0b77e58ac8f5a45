"""A referral partner's focus, click and trust, the team's focus, and the
fit between them (issue 27). The industry of a partner's clients becomes
the list of their clients' industries (renamed, kept). The new columns are
empty or NULL: PostgreSQL adds them without rewriting the partner table;
fits are measured when a team's focus is first saved."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

ROLES_HELP = "Separated by commas, e.g. HR director, Head of people."
INDUSTRIES_HELP = "Separated by commas, e.g. Software, Healthcare."
RATINGS = [(1, "1 of 5"), (2, "2 of 5"), (3, "3 of 5"), (4, "4 of 5"), (5, "5 of 5")]


def focus_fields():
    return [
        (
            "focus_roles",
            models.CharField(
                blank=True,
                help_text=ROLES_HELP,
                max_length=300,
                verbose_name="buyers' roles",
            ),
        ),
        (
            "focus_industries",
            models.CharField(
                blank=True,
                help_text=INDUSTRIES_HELP,
                max_length=300,
                verbose_name="industries",
            ),
        ),
        (
            "focus_size_min",
            models.PositiveIntegerField(
                blank=True,
                help_text="People.",
                null=True,
                verbose_name="company size from",
            ),
        ),
        (
            "focus_size_max",
            models.PositiveIntegerField(
                blank=True,
                help_text="People.",
                null=True,
                verbose_name="company size to",
            ),
        ),
    ]


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0005_team_card_token"),
        ("partners", "0007_outcomes_and_asks"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RenameField(
            model_name="partner",
            old_name="client_focus_industry",
            new_name="focus_industries",
        ),
        migrations.AlterField(
            model_name="partner",
            name="focus_industries",
            field=focus_fields()[1][1],
        ),
        migrations.AddField(
            model_name="partner", name="focus_roles", field=focus_fields()[0][1]
        ),
        migrations.AddField(
            model_name="partner", name="focus_size_min", field=focus_fields()[2][1]
        ),
        migrations.AddField(
            model_name="partner", name="focus_size_max", field=focus_fields()[3][1]
        ),
        migrations.AddField(
            model_name="partner",
            name="click",
            field=models.PositiveSmallIntegerField(
                blank=True,
                choices=RATINGS,
                help_text="Do you enjoy working with them?",
                null=True,
                verbose_name="personal click",
            ),
        ),
        migrations.AddField(
            model_name="partner",
            name="trust",
            field=models.PositiveSmallIntegerField(
                blank=True,
                choices=RATINGS,
                help_text="Would you trust them with your best client?",
                null=True,
            ),
        ),
        migrations.AddField(
            model_name="partner",
            name="fit_score",
            field=models.PositiveSmallIntegerField(editable=False, null=True),
        ),
        migrations.CreateModel(
            name="TeamFocus",
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
                *focus_fields(),
                ("updated_at", models.DateTimeField(auto_now=True)),
                (
                    "team",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="focus",
                        to="accounts.team",
                    ),
                ),
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
            options={"verbose_name_plural": "team focuses"},
        ),
    ]

"""The dashboard snapshot model, moved from the referrals app: its table
(referrals_dashboardsnapshot) was made by referrals' migrations and is kept.
"""

from django.db import migrations, models


APP, MODELS = "dashboard", ["dashboardsnapshot"]


def move_content_types(apps, schema_editor):
    """Permissions and admin history follow the models to their new app."""
    ContentType = apps.get_model("contenttypes", "ContentType")
    ContentType.objects.filter(app_label="referrals", model__in=MODELS).update(
        app_label=APP
    )


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("referrals", "0019_move_thanks_and_dashboard"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="DashboardSnapshot",
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
                        ("key", models.CharField(max_length=64, unique=True)),
                        (
                            "view",
                            models.CharField(
                                help_text="The view's query string.", max_length=500
                            ),
                        ),
                        ("html", models.TextField(blank=True, default="")),
                        (
                            "computed_at",
                            models.DateTimeField(
                                help_text="When the figures were counted."
                            ),
                        ),
                        (
                            "took_ms",
                            models.PositiveIntegerField(
                                blank=True,
                                help_text="How long counting them took.",
                                null=True,
                            ),
                        ),
                        (
                            "refreshing_since",
                            models.DateTimeField(
                                blank=True,
                                help_text="Set while one visit counts them again.",
                                null=True,
                            ),
                        ),
                        (
                            "time_zone",
                            models.CharField(
                                blank=True,
                                default="",
                                help_text="The view's time zone.",
                                max_length=64,
                            ),
                        ),
                        (
                            "viewed_at",
                            models.DateTimeField(
                                blank=True,
                                help_text="When an admin last opened it (to the hour): the worker keeps the views opened in the last day counted ahead of visits.",
                                null=True,
                            ),
                        ),
                    ],
                    options={
                        "db_table": "referrals_dashboardsnapshot",
                        "indexes": [
                            models.Index(
                                fields=["computed_at"],
                                name="referrals_d_compute_0b51e7_idx",
                            )
                        ],
                    },
                ),
            ],
        ),
        migrations.RunPython(move_content_types, migrations.RunPython.noop),
    ]

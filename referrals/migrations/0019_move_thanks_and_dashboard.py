"""The thank-yous and the dashboard snapshots move to their own apps (thanks,
dashboard): only Django's idea of where the models live changes; the tables
stay as they are.
"""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("referrals", "0018_message_token_and_limits"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.DeleteModel(
                    name="DashboardSnapshot",
                ),
                migrations.RemoveField(
                    model_name="touchpoint",
                    name="completed_by",
                ),
                migrations.RemoveField(
                    model_name="touchpoint",
                    name="owner",
                ),
                migrations.RemoveField(
                    model_name="touchpoint",
                    name="referral",
                ),
                migrations.RemoveField(
                    model_name="touchpoint",
                    name="source",
                ),
                migrations.DeleteModel(
                    name="ThankYouMoment",
                ),
                migrations.DeleteModel(
                    name="Touchpoint",
                ),
            ],
        ),
    ]

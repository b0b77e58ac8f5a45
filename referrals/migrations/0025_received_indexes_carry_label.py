"""The two indexes on the date received carry the label too (issue 26):
the dashboard's figures by label, and its best sources by qualified share,
are read from the index alone, as the rest of the dashboard's are (without
it, the team dashboard's sources statement read the table: 3.5 -> 10 ms at
a million referrals; with it, back to the figures before the labels).

Each index is dropped and built again in the migration's transaction,
holding back writes to the referrals meanwhile: about 4 seconds for both at
a million referrals (docs/operations.md).
"""

from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("partners", "0007_outcomes_and_asks"),
        ("referrals", "0024_today_and_source_indexes"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name="referral",
            name="referral_owner_received",
        ),
        migrations.RemoveIndex(
            model_name="referral",
            name="referral_received",
        ),
        migrations.AddIndex(
            model_name="referral",
            index=models.Index(
                fields=["owner", "received_on", "id"],
                include=(
                    "stage",
                    "estimated_value",
                    "furthest_position",
                    "source",
                    "lost_reason",
                    "created_at",
                    "first_contacted_at",
                    "label",
                ),
                name="referral_owner_received",
            ),
        ),
        migrations.AddIndex(
            model_name="referral",
            index=models.Index(
                fields=["received_on"],
                include=(
                    "owner",
                    "stage",
                    "estimated_value",
                    "furthest_position",
                    "source",
                    "lost_reason",
                    "created_at",
                    "first_contacted_at",
                    "label",
                ),
                name="referral_received",
            ),
        ),
    ]

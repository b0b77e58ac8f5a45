"""The close-date index covers the stage, value, id and owner (issue 25): the
board's Won and Lost columns count the last 30 days' closed referrals, add
up their value and pick their latest cards from the index alone (read from
the table, an admin's board fetched about 8,000 pages for 10,000
referrals).

Built before the old index is dropped, so no query goes without one. On
PostgreSQL, CREATE INDEX holds back writes to the referrals while it builds:
a few seconds at a million referrals (docs/operations.md).
"""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("referrals", "0021_referral_criteria"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="referral",
            index=models.Index(
                fields=["closed_at"],
                include=("stage", "estimated_value", "id", "owner"),
                name="referral_closed",
            ),
        ),
        migrations.RemoveIndex(
            model_name="referral",
            name="referrals_r_closed__c6ee38_idx",
        ),
    ]

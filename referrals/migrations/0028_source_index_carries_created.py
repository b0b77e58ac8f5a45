"""The source index carries the time each referral was logged: the
dashboard's "referrals that followed an ask" are a source's referrals
logged within 90 days after it, and were fetched from the table to read
that time (a team's 90 days: 1,400 pages for 27 asked customers). Rebuilt,
holding back writes to the referrals meanwhile: 2 seconds at a million
referrals on the benchmark's machine.
"""

from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("partners", "0007_outcomes_and_asks"),
        ("referrals", "0027_search_text_trigram"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name="referral",
            name="referral_source_received",
        ),
        migrations.AddIndex(
            model_name="referral",
            index=models.Index(
                fields=["source", "received_on"],
                include=("stage", "estimated_value", "label", "created_at"),
                name="referral_source_received",
            ),
        ),
    ]

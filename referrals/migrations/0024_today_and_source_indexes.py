"""Two indexes for issue 26's label figures, so they keep to issue 25's
targets at a million referrals:

- referral_source_received also carries the label: a source's page and the
  partner list's qualified share are counted from the index alone (without
  it, an admin's partner list sorted by a figure read the table: 1.6-3.7 s
  against 0.7 s).
- referral_unassessed, partial (label not assessed): Today's "Not assessed
  yet", each open stage's referrals logged longest ago, found without
  reading the assessed ones (an admin's list and count: 124 + 183 ms
  without it, 2 + 3 ms with it).

Both are built in the migration's transaction, holding back writes to the
referrals meanwhile: a few seconds at a million referrals
(docs/operations.md).
"""

from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("partners", "0007_outcomes_and_asks"),
        ("referrals", "0023_summaries_by_label"),
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
                include=("stage", "estimated_value", "label"),
                name="referral_source_received",
            ),
        ),
        migrations.AddIndex(
            model_name="referral",
            index=models.Index(
                condition=models.Q(("label", "unassessed")),
                fields=["stage", "created_at", "id"],
                include=("owner",),
                name="referral_unassessed",
            ),
        ),
    ]

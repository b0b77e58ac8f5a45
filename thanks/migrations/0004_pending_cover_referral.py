"""The pending thank-yous' two partial indexes carry the referral (issue
25): Today counts the thank-yous owed from the index alone (an admin's
count read about 5,000 table pages for 6,000 rows). Each index holds the
few thank-yous still owed, so dropping and building them again, in the
migration's transaction, takes milliseconds at a million referrals.
"""

from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("partners", "0007_outcomes_and_asks"),
        ("referrals", "0022_closed_covering"),
        ("thanks", "0003_ask_emails"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name="thankyou",
            name="touchpoint_owner_pending",
        ),
        migrations.RemoveIndex(
            model_name="thankyou",
            name="touchpoint_pending_deadline",
        ),
        migrations.AddIndex(
            model_name="thankyou",
            index=models.Index(
                condition=models.Q(("status__in", ["scheduled", "sending", "failed"])),
                fields=["owner", "deadline_at", "id"],
                include=("referral",),
                name="touchpoint_owner_pending",
            ),
        ),
        migrations.AddIndex(
            model_name="thankyou",
            index=models.Index(
                condition=models.Q(("status__in", ["scheduled", "sending", "failed"])),
                fields=["deadline_at", "id"],
                include=("referral",),
                name="touchpoint_pending_deadline",
            ),
        ),
    ]

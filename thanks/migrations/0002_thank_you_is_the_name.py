"""The model Touchpoint becomes ThankYou: one name for the idea in code,
URLs and pages. The table, its indexes and its constraint keep their names,
so nothing in the database changes."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("partners", "0001_initial"),
        ("referrals", "0019_move_thanks_and_dashboard"),
        ("thanks", "0001_initial"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RenameModel("Touchpoint", "ThankYou"),
        migrations.AlterModelOptions(
            name="thankyou",
            options={
                "ordering": ["due_at", "pk"],
                "verbose_name": "thank-you",
                "verbose_name_plural": "thank-yous",
            },
        ),
        migrations.AlterField(
            model_name="thankyou",
            name="referral",
            field=models.ForeignKey(
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="thank_yous",
                to="referrals.referral",
            ),
        ),
        migrations.AlterField(
            model_name="thankyou",
            name="source",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="thank_yous",
                to="partners.partner",
            ),
        ),
        migrations.AlterField(
            model_name="thankyou",
            name="owner",
            field=models.ForeignKey(
                blank=True,
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="thank_yous",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
    ]

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

# The owner's own index, dropped by name: the (owner, name) index starts with
# it and serves its lookups (one index fewer to write per partner). Dropped
# like referrals 0015's, without AlterField's re-check of the foreign key.
NAME = "partners_partner_owner_id_6f307e98"


class Migration(migrations.Migration):
    dependencies = [
        ("partners", "0003_never_thanked_index"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[
                migrations.RunSQL(
                    f'DROP INDEX IF EXISTS "{NAME}"',
                    f'CREATE INDEX "{NAME}" ON "partners_partner" ("owner_id")',
                )
            ],
            state_operations=[
                migrations.AlterField(
                    model_name="partner",
                    name="owner",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="partners",
                        to=settings.AUTH_USER_MODEL,
                    ),
                )
            ],
        ),
    ]

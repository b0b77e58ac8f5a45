import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

# The summaries' owner indexes, dropped by name: each summary's unique
# constraint starts with the owner and serves its lookups. PostgreSQL chose
# the owner-only index for a team's months and read every month of the team
# (5,933 rows for 152 at 1M referrals). Dropped like 0015's, without
# AlterField's re-check of each foreign key.
COVERED = [
    ("referrals_closedtotal_owner_id_ba3b9b38", "referrals_closedtotal"),
    ("referrals_pipelinetotal_owner_id_c7848103", "referrals_pipelinetotal"),
    ("referrals_receivedtotal_owner_id_4a2472ba", "referrals_receivedtotal"),
]


def owner_not_indexed(model_name: str) -> migrations.AlterField:
    return migrations.AlterField(
        model_name=model_name,
        name="owner",
        field=models.ForeignKey(
            db_index=False,
            on_delete=django.db.models.deletion.CASCADE,
            related_name="+",
            to=settings.AUTH_USER_MODEL,
        ),
    )


class Migration(migrations.Migration):
    dependencies = [
        ("referrals", "0015_fk_indexes_covered"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[
                migrations.RunSQL(
                    f'DROP INDEX IF EXISTS "{name}"',
                    f'CREATE INDEX "{name}" ON "{table}" ("owner_id")',
                )
                for name, table in COVERED
            ],
            state_operations=[
                owner_not_indexed(model)
                for model in ("closedtotal", "pipelinetotal", "receivedtotal")
            ],
        ),
    ]

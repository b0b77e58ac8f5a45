"""A secret token per team for its public "How to refer us" link (issue 26).

Added in three steps so that every existing team gets a token of its own: a
column that may be empty, a token for each team, then the unique constraint.
(A default alone would give every existing row the same value.)
"""

from django.db import migrations, models

import accounts.models


def give_each_team_a_token(apps, schema_editor):
    Team = apps.get_model("accounts", "Team")
    for team in Team.objects.filter(card_token__isnull=True).only("pk"):
        team.card_token = accounts.models.new_card_token()
        team.save(update_fields=["card_token"])


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0004_display_name_one_line_signature_max"),
    ]

    operations = [
        migrations.AddField(
            model_name="team",
            name="card_token",
            field=models.CharField(max_length=64, null=True, editable=False),
        ),
        migrations.RunPython(give_each_team_a_token, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="team",
            name="card_token",
            field=models.CharField(
                default=accounts.models.new_card_token,
                editable=False,
                max_length=64,
                unique=True,
            ),
        ),
    ]

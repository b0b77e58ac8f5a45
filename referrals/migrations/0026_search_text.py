"""The referral's search text as a stored column (issue 25; the search:
referrals/search.py), and an index that holds it beside the date received.

search_text is what migration 0020's trigram index was built on, the
prospect's name, company and email folded (core.sql.Folded), now kept by
the database as each row is written. Stored, the text can sit in an index:
referral_received_search walks the referrals newest first with the text,
owner and source in the index, so that a common word's newest matches are
found without reading the table (a manager's "Smith" fetched 43,000 rows).
0027 moves the trigram index onto the column.

PostgreSQL writes the column into every row, so adding it rewrites the
table and its indexes, holding back reads and writes meanwhile: about a
minute at a million referrals (docs/operations.md, "Migrations").
"""

import core.sql
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("partners", "0007_outcomes_and_asks"),
        ("referrals", "0025_received_indexes_carry_label"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="referral",
            name="search_text",
            field=models.GeneratedField(
                db_persist=True,
                expression=core.sql.Folded(
                    "prospect_name", "prospect_company", "prospect_email"
                ),
                output_field=models.TextField(),
            ),
        ),
        migrations.AddIndex(
            model_name="referral",
            index=models.Index(
                fields=["received_on", "id"],
                include=("owner", "source", "search_text"),
                name="referral_received_search",
            ),
        ),
    ]

"""The referral search's indexes (issue 25; the search: referrals/search.py).

PostgreSQL only (SQLite searches without an index): the extensions pg_trgm
(trigram indexes, which serve LIKE '%term%') and unaccent; crm_unaccent(),
unaccent as an IMMUTABLE function (unaccent itself is only STABLE, so an
index cannot call it); and two GIN trigram indexes, each on the text
referrals/search.py's _Folded() writes, to the letter:

- referral_search: crm_unaccent(lower(' ' || prospect_name || ' ' ||
  prospect_company || ' ' || prospect_email))
- partner_name_search: crm_unaccent(lower(' ' || name)) on the sources.

The extensions are trusted (PostgreSQL 13+): a user with CREATE on the
database may create them, no superuser needed. Where they already live in
another schema, the function and the indexes name that schema.

Without GIN's pending list (fastupdate off): a referral logged updates the
index at once (a little more work per insert), where with the list every
search would read the entries of the referrals logged since the last
vacuum, one by one.

The indexes are built CONCURRENTLY (the migration is not atomic), so
referrals are logged and edited while they build (about a minute at a
million referrals). A build cut short leaves an invalid index: it is
dropped and built again on the next migrate.

Not in the models' Meta: Django's state knows nothing of these indexes
(the model cannot say "this function of these columns with this operator
class" portably), so makemigrations never asks to drop them.
"""

from django.db import migrations

REFERRAL_TEXT = (
    "crm_unaccent(lower(' ' || prospect_name || ' ' || prospect_company"
    " || ' ' || prospect_email))"
)
PARTNER_TEXT = "crm_unaccent(lower(' ' || name))"
INDEXES = [
    ("referral_search", "referrals_referral", REFERRAL_TEXT),
    ("partner_name_search", "partners_partner", PARTNER_TEXT),
]


def _schema(cursor, extension: str) -> str:
    cursor.execute(
        "SELECT n.nspname FROM pg_extension e"
        " JOIN pg_namespace n ON n.oid = e.extnamespace WHERE e.extname = %s",
        [extension],
    )
    return cursor.fetchone()[0]


def create(apps, schema_editor):
    connection = schema_editor.connection
    if connection.vendor != "postgresql":
        return
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        cursor.execute("CREATE EXTENSION IF NOT EXISTS unaccent")
        unaccent, trgm = quote(_schema(cursor, "unaccent")), _schema(cursor, "pg_trgm")
        cursor.execute(
            "CREATE OR REPLACE FUNCTION crm_unaccent(text) RETURNS text"
            " LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT"
            f" AS $$ SELECT {unaccent}.unaccent('{unaccent}.unaccent', $1) $$"
        )
        for name, table, text in INDEXES:
            cursor.execute(
                "SELECT i.indisvalid FROM pg_index i JOIN pg_class c"
                " ON c.oid = i.indexrelid WHERE c.relname = %s",
                [name],
            )
            found = cursor.fetchone()
            if found and found[0]:
                continue
            if found:  # a build cut short
                cursor.execute(f"DROP INDEX CONCURRENTLY {quote(name)}")
            cursor.execute(
                f"CREATE INDEX CONCURRENTLY {quote(name)} ON {quote(table)}"
                f" USING gin (({text}) {quote(trgm)}.gin_trgm_ops)"
                " WITH (fastupdate = off)"
            )


def drop(apps, schema_editor):
    """The indexes and the function go; the extensions stay (other things
    may use them)."""
    connection = schema_editor.connection
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        for name, _, _ in INDEXES:
            cursor.execute(
                f"DROP INDEX CONCURRENTLY IF EXISTS {connection.ops.quote_name(name)}"
            )
        cursor.execute("DROP FUNCTION IF EXISTS crm_unaccent(text)")


class Migration(migrations.Migration):
    atomic = False  # CREATE INDEX CONCURRENTLY runs outside a transaction

    dependencies = [
        ("partners", "0006_notes_max"),
        ("referrals", "0019_move_thanks_and_dashboard"),
    ]

    operations = [migrations.RunPython(create, drop, elidable=False)]

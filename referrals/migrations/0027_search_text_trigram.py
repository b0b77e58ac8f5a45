"""The search's trigram index on the stored search text (0026), in place of
0020's on the expression: the search compares the column now, and an index
on the expression would serve it no more.

PostgreSQL only (SQLite searches without an index). Built CONCURRENTLY, as
0020's (referrals are logged and edited while it builds); a build cut short
leaves an invalid index, dropped and built again on the next migrate.
"""

from django.db import migrations

OLD = "crm_unaccent(lower(' ' || prospect_name || ' ' || prospect_company || ' ' || prospect_email))"


def _trgm(cursor) -> str:
    cursor.execute(
        "SELECT n.nspname FROM pg_extension e"
        " JOIN pg_namespace n ON n.oid = e.extnamespace WHERE e.extname = 'pg_trgm'"
    )
    return cursor.fetchone()[0]


def _build(connection, name: str, text: str) -> None:
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT i.indisvalid FROM pg_index i JOIN pg_class c"
            " ON c.oid = i.indexrelid WHERE c.relname = %s",
            [name],
        )
        found = cursor.fetchone()
        if found and found[0]:
            return
        if found:  # a build cut short
            cursor.execute(f"DROP INDEX CONCURRENTLY {quote(name)}")
        cursor.execute(
            f"CREATE INDEX CONCURRENTLY {quote(name)} ON referrals_referral"
            f" USING gin (({text}) {quote(_trgm(cursor))}.gin_trgm_ops)"
            " WITH (fastupdate = off)"
        )


def _drop(connection, name: str) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            f"DROP INDEX CONCURRENTLY IF EXISTS {connection.ops.quote_name(name)}"
        )


def forwards(apps, schema_editor):
    connection = schema_editor.connection
    if connection.vendor != "postgresql":
        return
    _build(connection, "referral_search_text", "search_text")
    _drop(connection, "referral_search")


def backwards(apps, schema_editor):
    connection = schema_editor.connection
    if connection.vendor != "postgresql":
        return
    _build(connection, "referral_search", OLD)
    _drop(connection, "referral_search_text")


class Migration(migrations.Migration):
    atomic = False  # CREATE INDEX CONCURRENTLY runs outside a transaction

    dependencies = [("referrals", "0026_search_text")]

    operations = [migrations.RunPython(forwards, backwards, elidable=False)]

"""The referrals app's raw SQL, all of it: what the ORM cannot write.

rollups.py and selectors.py decide what to count, lock or pick and call
these for the statements. Each is SQL that SQLite and PostgreSQL both run;
where the two differ (table locks), core.sql decides.
"""

from django.core.exceptions import EmptyResultSet
from django.db import connection
from django.db.models import QuerySet
from django.db.models.expressions import RawSQL
from django.db.models.sql import InsertQuery

from core.sql import execute_together, lock_tables, quote_table
from referrals.models import Referral

# -- The summary tables (rollups.py) -------------------------------------------


def summary_add(summary, key: tuple[str, ...], rows: list[tuple]) -> tuple[str, list]:
    """The statement that adds counts and values to rows of the `summary`
    table, creating the missing ones (each of `rows` is the row's `key`
    columns' values, then the count and the value to add), and its
    parameters: for writes_together()."""
    quote = connection.ops.quote_name
    table = quote_table(summary)
    key_columns = [quote(column) for column in key]
    columns = ", ".join((*key_columns, quote("count"), quote("value")))
    row = "(" + ", ".join(["%s"] * (len(key_columns) + 2)) + ")"
    values = ", ".join([row] * len(rows))
    params = [part for each in rows for part in each]
    return (
        f"INSERT INTO {table} ({columns}) VALUES {values} "
        f"ON CONFLICT ({', '.join(key_columns)}) DO UPDATE SET "
        f"{quote('count')} = {table}.{quote('count')} + EXCLUDED.{quote('count')}, "
        f"{quote('value')} = {table}.{quote('value')} + EXCLUDED.{quote('value')}",
        params,
    )


def inserted(objects: list) -> tuple[str, list]:
    """The INSERT of new rows of one model (their ids are not read back), as
    the ORM writes it, and its parameters: for writes_together()."""
    model = type(objects[0])
    query = InsertQuery(model)
    query.insert_values(
        [field for field in model._meta.concrete_fields if not field.primary_key],
        objects,
    )
    [(sql, params)] = query.get_compiler(connection=connection).as_sql()
    return sql, list(params)


def writes_together(statements: list[tuple[str, list]]) -> None:
    """Run writes in one round trip where the database can
    (core.sql.execute_together: one statement on PostgreSQL, which locks
    their tables in the order given)."""
    execute_together(statements)


def summaries_lock(summaries) -> None:
    """Writers to the `summaries` tables wait until this transaction ends;
    readers do not (PostgreSQL's SHARE ROW EXCLUSIVE)."""
    lock_tables(summaries, "SHARE ROW EXCLUSIVE")


def referrals_lock() -> None:
    """Every change to referrals waits until this transaction ends; reads go
    on (PostgreSQL's EXCLUSIVE)."""
    lock_tables([Referral], "EXCLUSIVE")


def referrals_lock_wait(timeout_ms: int) -> None:
    """Take now the lock every insert or update of a referral takes anyway
    (PostgreSQL's ROW EXCLUSIVE), waiting at most `timeout_ms` for a
    referrals_lock() to be let go: past that, OperationalError."""
    lock_tables([Referral], "ROW EXCLUSIVE", timeout_ms=timeout_ms)


# -- Lists in one statement (selectors.py) -------------------------------------


def union_all(querysets: list[QuerySet], select: str) -> tuple[str, list]:
    """`select` (a SELECT list) over each queryset's ids, glued with UNION
    ALL, and its parameters; ("", []) when none has anything in view."""
    parts, params = [], []
    for number, queryset in enumerate(querysets):
        try:
            sql, queryset_params = queryset.values("pk").query.sql_with_params()
        except EmptyResultSet:  # nothing in view (scope_for_user's none())
            continue
        parts.append(f"{select} FROM ({sql}) AS branch{number}")
        params += queryset_params
    return " UNION ALL ".join(parts), params


def union_counts(lists: dict[str, list[QuerySet]]) -> dict[str, int]:
    """How many rows each named list of disjoint querysets holds in all, in
    one statement: each queryset counted on its own, summed per list."""
    selects, params = [], []
    for name, querysets in lists.items():
        union, union_params = union_all(querysets, "SELECT COUNT(*) AS n")
        selects.append(f"(SELECT SUM(n) FROM ({union}) AS {name})" if union else "0")
        params += union_params
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {', '.join(selects)}", params)
        found = cursor.fetchone()
    return {name: int(n or 0) for name, n in zip(lists, found, strict=True)}


def union_ids(querysets: list[QuerySet]) -> RawSQL | None:
    """The ids the querysets pick, glued with UNION ALL, as a subquery for
    pk__in; None when none has anything in view."""
    union, params = union_all(querysets, "SELECT *")
    return RawSQL(union, params) if union else None

"""The one place that knows SQLite from PostgreSQL.

Each app keeps its raw SQL in one module (referrals/sql.py, thanks/sql.py, partners/sql.py,
dashboard/queries.py, accounts/backends.py) and writes it in the SQL both
databases run; where the two differ, it calls one of these instead of
checking the database itself. SQLite stays the embedded default (development,
the test suite); PostgreSQL is production.

The functions work on the default database connection (is_postgres on any).
"""

from contextlib import contextmanager

from django.contrib.postgres.expressions import ArraySubquery
from django.db import connection as default_connection
from django.db.models import BooleanField, F, Func, Q, QuerySet, TextField

# PostgreSQL's table lock modes, weakest first (LOCK TABLE ... IN <mode> MODE).
LOCK_MODES = frozenset(
    {
        "ACCESS SHARE",
        "ROW SHARE",
        "ROW EXCLUSIVE",
        "SHARE UPDATE EXCLUSIVE",
        "SHARE",
        "SHARE ROW EXCLUSIVE",
        "EXCLUSIVE",
        "ACCESS EXCLUSIVE",
    }
)


def is_postgres(connection=None) -> bool:
    """Whether `connection` (by default, the default database's) is PostgreSQL."""
    return (connection or default_connection).vendor == "postgresql"


def quote_table(model) -> str:
    """A model's table name, quoted for a written-out statement."""
    return default_connection.ops.quote_name(model._meta.db_table)


def lock_tables(tables, mode: str, *, timeout_ms: int | None = None) -> None:
    """Lock `tables` (models, or table names) in `mode` until the transaction
    ends; the caller is inside transaction.atomic().

    PostgreSQL: LOCK TABLE in that mode. With `timeout_ms`, waiting longer
    than that for the lock raises OperationalError (lock_timeout, set for
    this statement alone). SQLite: nothing, since a transaction that writes
    already holds the database's one write lock.
    """
    if mode not in LOCK_MODES:
        raise ValueError(f"Not a table lock mode: {mode!r}")
    if timeout_ms is not None and not isinstance(timeout_ms, int):
        raise TypeError(f"timeout_ms is a whole number of milliseconds: {timeout_ms!r}")
    if not is_postgres():
        return
    quote = default_connection.ops.quote_name
    names = ", ".join(
        quote(table if isinstance(table, str) else table._meta.db_table)
        for table in tables
    )
    lock = f"LOCK TABLE {names} IN {mode} MODE"
    if timeout_ms is not None:  # one round trip
        lock = (
            f"SET LOCAL lock_timeout = {timeout_ms}; {lock}; "
            "SET LOCAL lock_timeout = DEFAULT"
        )
    with default_connection.cursor() as cursor:
        cursor.execute(lock)


@contextmanager
def commits_not_waiting_for_disk():
    """Within the block, this session's commits return before they reach
    the disk: a crash of the database server itself may lose the last
    fraction of a second of them (never a part of one).

    PostgreSQL: synchronous_commit off, then back to its default (the
    connection may outlive the block). SQLite: nothing changes.
    """
    if not is_postgres():
        yield
        return
    with default_connection.cursor() as cursor:
        cursor.execute("SET synchronous_commit TO off")
    try:
        yield
    finally:
        with default_connection.cursor() as cursor:
            cursor.execute("RESET synchronous_commit")


def execute_together(statements: list[tuple[str, list]]) -> None:
    """Run `statements` (each SQL and its parameters; statements that change
    rows and return none) in as few round trips as the database allows.

    PostgreSQL: one statement, the last as its main part and the others as
    data-modifying WITH parts, in their order. It locks the tables in the
    order written (the order separate statements would, and a LOCK TABLE of
    the same tables does), then runs the main part first and the WITH parts
    from the last written to the first: the rows of a list of tables are
    always locked in the same order, so two such statements cannot wait on
    each other's rows. None reads what another writes (all see the
    database as the statement began). SQLite has no data-modifying WITH:
    one statement at a time, in their order.
    """
    if len(statements) > 1 and is_postgres():
        *others, (last, last_params) = statements
        withs, params = [], []
        for number, (sql, own) in enumerate(others, start=1):
            withs.append(f"write{number} AS ({sql})")
            params += own
        statements = [(f"WITH {', '.join(withs)} {last}", [*params, *last_params])]
    with default_connection.cursor() as cursor:
        for sql, params in statements:
            cursor.execute(sql, params)


def skip_locked() -> str:
    """What ends a SELECT whose rows this transaction claims, passing over
    rows another transaction holds: " FOR UPDATE SKIP LOCKED" on PostgreSQL;
    "" on SQLite, where one writer at a time claims anything."""
    if default_connection.features.has_select_for_update_skip_locked:
        return " FOR UPDATE SKIP LOCKED"
    return ""


def median_seconds_sql(rows: str, *, key: str, start: str, end: str) -> str:
    """A SELECT of (median_of, seconds): per `key`, the median of the seconds
    from `start` to `end` over `rows` (a FROM and WHERE clause, whose
    parameters the caller passes, in their order), to run alone or as a
    subquery of a larger statement (`key`, `start` and `end` are column
    expressions of those rows; `start` and `end` are times).

    PostgreSQL takes the exact median (percentile_cont, over the intervals:
    sorting intervals is a fifth quicker than sorting each one's seconds as
    a numeric). SQLite has no such aggregate: there each group's middle row,
    or the mean of its two middle rows, is picked by a window over the
    seconds (whole seconds from strftime, plus the fraction after them).
    Run it with a list of parameters, even an empty one (its %% is escaped).
    """
    if is_postgres():
        return (
            f"SELECT {key} AS median_of, EXTRACT(EPOCH FROM percentile_cont(0.5) "
            f"WITHIN GROUP (ORDER BY {end} - {start})) AS seconds {rows} GROUP BY {key}"
        )
    seconds = f"({_sqlite_seconds(end)} - {_sqlite_seconds(start)})"
    return (
        "SELECT median_of, AVG(seconds) AS seconds FROM ("
        f"SELECT {key} AS median_of, {seconds} AS seconds, "
        f"ROW_NUMBER() OVER (PARTITION BY {key} ORDER BY {seconds}) AS place, "
        f"COUNT(*) OVER (PARTITION BY {key}) AS counted {rows}) ranked "
        "WHERE place IN ((counted + 1) / 2, (counted + 2) / 2) GROUP BY median_of"
    )


def _sqlite_seconds(column: str) -> str:
    """A time as SQLite keeps it ("2026-11-20 12:00:00.250000", UTC) in
    seconds since 1970: whole seconds exactly, then the fraction."""
    return (
        f"(CAST(strftime('%%s', {column}) AS INTEGER) "
        f"+ COALESCE(CAST(SUBSTR({column}, 20) AS REAL), 0))"
    )


def median_seconds(rows: str, params, *, key: str, start: str, end: str) -> dict:
    """{key: median seconds from `start` to `end`} over `rows` (a FROM and
    WHERE clause, with its `params`), grouped by `key`: median_seconds_sql's
    statement, run alone."""
    found = _fetch(median_seconds_sql(rows, key=key, start=start, end=end), params)
    return {group: float(median) for group, median in found}


def _fetch(sql: str, params) -> list[tuple]:
    with default_connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


class AnyOf(Func):
    """`field` = ANY(ARRAY(subquery)) (PostgreSQL): the subquery runs once,
    before the rest, and its ids can be looked up in an index, next to
    another condition's rows (a BitmapOr). Written `field IN (subquery)`,
    the ids are a hashed filter that no index serves, and an OR with it reads
    every row of the table: 4.8 s for a manager's rare search term
    (docs/operations.md), and for Today's Ready to ask, an estimate high
    enough to have PostgreSQL compile the statement (JIT, 1.5 s)."""

    output_field = BooleanField()

    def __init__(self, field: str, subquery: QuerySet):
        super().__init__(F(field), ArraySubquery(subquery))

    def as_sql(self, compiler, connection, **extra_context):
        (field, field_params), (array, array_params) = (
            compiler.compile(part) for part in self.get_source_expressions()
        )
        return f"{field} = ANY({array})", (*field_params, *array_params)


def one_of(field: str, subquery: QuerySet):
    """A condition for filter(): `field` is one of the values `subquery`
    picks (one column). AnyOf on PostgreSQL, for an OR with it to use the
    indexes; `field IN (subquery)` on SQLite."""
    if is_postgres():
        return AnyOf(field, subquery)
    return Q(**{f"{field}__in": subquery})


class Folded(Func):
    """The columns as one text, a space before each, in lower case and, on
    PostgreSQL, without accents: crm_unaccent(lower(' ' || a || ' ' || b)).
    What the search compares a term with (referrals/search.py).
    crm_unaccent() is unaccent declared IMMUTABLE, so that a stored column
    or an index may call it: migration referrals.0020 creates it. SQLite
    has no unaccent: lower(' ' || a || ' ' || b), ASCII letters folded."""

    template = "crm_unaccent(lower(' ' || %(expressions)s))"
    arg_joiner = " || ' ' || "
    output_field = TextField()

    def as_sqlite(self, compiler, connection, **extra_context):
        return self.as_sql(
            compiler,
            connection,
            template="lower(' ' || %(expressions)s)",
            **extra_context,
        )

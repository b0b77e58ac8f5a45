"""The one place that knows SQLite from PostgreSQL.

Each app keeps its raw SQL in one module (referrals/sql.py, thanks/sql.py,
dashboard/queries.py, accounts/backends.py) and writes it in the SQL both
databases run; where the two differ, it calls one of these instead of
checking the database itself. SQLite stays the embedded default (development,
the test suite); PostgreSQL is production.

The functions work on the default database connection (is_postgres on any).
"""

import statistics
from contextlib import contextmanager

from django.db import connection as default_connection
from django.utils.dateparse import parse_datetime

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


def skip_locked() -> str:
    """What ends a SELECT whose rows this transaction claims, passing over
    rows another transaction holds: " FOR UPDATE SKIP LOCKED" on PostgreSQL;
    "" on SQLite, where one writer at a time claims anything."""
    if default_connection.features.has_select_for_update_skip_locked:
        return " FOR UPDATE SKIP LOCKED"
    return ""


def median_seconds(rows: str, params, *, key: str, start: str, end: str) -> dict:
    """{key: median seconds from `start` to `end`} over `rows` (a FROM and
    WHERE clause, with its `params`), grouped by `key` (`key`, `start` and
    `end` are column expressions of those rows; `start` and `end` are times).

    PostgreSQL takes the exact median in the query (percentile_cont, over
    the intervals: sorting intervals is a fifth quicker than sorting each
    one's seconds as a numeric). SQLite has no such aggregate: the values
    are read and their median taken here, fine for the few rows of
    development.
    """
    if is_postgres():
        found = _fetch(
            f"SELECT {key}, EXTRACT(EPOCH FROM percentile_cont(0.5) WITHIN "
            f"GROUP (ORDER BY {end} - {start})) {rows} GROUP BY {key}",
            params,
        )
        return {group: float(median) for group, median in found}
    values: dict = {}
    for group, finish, begin in _fetch(f"SELECT {key}, {end}, {start} {rows}", params):
        seconds = (_moment(finish) - _moment(begin)).total_seconds()
        values.setdefault(group, []).append(seconds)
    return {group: statistics.median(v) for group, v in values.items()}


def _fetch(sql: str, params) -> list[tuple]:
    with default_connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def _moment(value):
    """A time a written-out query read (SQLite may give it as text)."""
    return parse_datetime(value) if isinstance(value, str) else value

"""core.sql, the one place that knows SQLite from PostgreSQL, on the database
the suite runs on: SQLite by default, PostgreSQL when DATABASE_URL names it.
Every test runs on both, expecting each database's own behaviour: where a
function does something on PostgreSQL only, the test checks on SQLite that
it does nothing there and what SQLite does instead."""

import sqlite3
import threading
import time
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest
from django.db import OperationalError, connection, transaction
from django.test.utils import CaptureQueriesContext

from core import sql
from core.models import Heartbeat

POSTGRES = connection.vendor == "postgresql"
NOON = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


def in_another_connection(work):
    """work() run on a connection of its own (a thread's); its result, or
    the OperationalError it raised."""
    outcome = []

    def run():
        try:
            outcome.append(work())
        except OperationalError as error:
            outcome.append(error)
        finally:
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    thread.join(30)
    assert not thread.is_alive(), "the other connection is still waiting"
    return outcome[0]


def write_elsewhere(name: str) -> str:
    """A heartbeat written by another connection that waits at most 0.3 s
    for a lock: "written", or "held back" when it could not write."""
    if POSTGRES:

        def write():
            with transaction.atomic():
                with connection.cursor() as cursor:
                    cursor.execute("SET LOCAL lock_timeout = 300")
                Heartbeat.objects.create(name=name, at=NOON)
            return "written"

        result = in_another_connection(write)
        return "held back" if isinstance(result, OperationalError) else result
    other = sqlite3.connect(connection.settings_dict["NAME"], timeout=0.3)
    try:
        with other:
            other.execute(
                'INSERT INTO core_heartbeat (name, "at") VALUES (?, ?)',
                [name, "2026-03-02 12:00:00"],
            )
        return "written"
    except sqlite3.OperationalError as error:
        assert "locked" in str(error)
        return "held back"
    finally:
        other.close()


def read_elsewhere() -> int:
    """How many heartbeats another connection counts."""
    if POSTGRES:
        return in_another_connection(Heartbeat.objects.count)
    other = sqlite3.connect(connection.settings_dict["NAME"], timeout=0.3)
    try:
        return other.execute("SELECT COUNT(*) FROM core_heartbeat").fetchone()[0]
    finally:
        other.close()


def show(setting: str) -> str:
    """A setting of this connection: SHOW on PostgreSQL, PRAGMA on SQLite
    (its value as text)."""
    with connection.cursor() as cursor:
        cursor.execute(f"SHOW {setting}" if POSTGRES else f"PRAGMA {setting}")
        return str(cursor.fetchone()[0])


def wait_for_locks_at_most(milliseconds: int) -> None:
    """On SQLite, this connection gives up waiting for the database's write
    lock after `milliseconds` (its busy timeout; the settings' is 20 s,
    too long for a test). On PostgreSQL nothing changes."""
    if not POSTGRES:
        with connection.cursor() as cursor:
            cursor.execute(f"PRAGMA busy_timeout = {milliseconds}")


def held_back(outcome):
    """An OperationalError for a lock (PostgreSQL's lock timeout, SQLite's
    "database is locked") as "held back"; any other outcome as it is."""
    if isinstance(outcome, OperationalError) and "lock" in str(outcome):
        return "held back"
    return outcome


# -- Which database ---------------------------------------------------------


def test_is_postgres_says_which_database_the_suite_runs_on():
    engine = connection.settings_dict["ENGINE"]
    assert sql.is_postgres() is (engine == "django.db.backends.postgresql")
    assert sql.is_postgres(connection) is sql.is_postgres()
    assert sql.is_postgres(SimpleNamespace(vendor="postgresql")) is True
    assert sql.is_postgres(SimpleNamespace(vendor="sqlite")) is False


def test_quote_table_quotes_a_models_table():
    assert sql.quote_table(Heartbeat) == '"core_heartbeat"'


# -- lock_tables --------------------------------------------------------------


@pytest.mark.django_db
def test_lock_tables_refuses_a_mode_or_timeout_it_would_write_into_sql_unchecked():
    with CaptureQueriesContext(connection) as queries, transaction.atomic():
        with pytest.raises(ValueError, match="lock mode"):
            sql.lock_tables([Heartbeat], "EXCLUSIVE MODE; DROP TABLE core_heartbeat")
        with pytest.raises(TypeError, match="milliseconds"):
            sql.lock_tables([Heartbeat], "EXCLUSIVE", timeout_ms="1; RESET ALL")
    assert [q["sql"] for q in queries if "LOCK" in q["sql"]] == []


@pytest.mark.django_db
def test_lock_tables_is_one_lock_table_on_postgres_and_nothing_on_sqlite():
    with transaction.atomic(), CaptureQueriesContext(connection) as queries:
        sql.lock_tables([Heartbeat, "core_outboxmessage"], "SHARE ROW EXCLUSIVE")
        sql.lock_tables([Heartbeat], "ROW EXCLUSIVE", timeout_ms=150)
    expected = [
        'LOCK TABLE "core_heartbeat", "core_outboxmessage" IN SHARE ROW EXCLUSIVE MODE',
        "SET LOCAL lock_timeout = 150; "
        'LOCK TABLE "core_heartbeat" IN ROW EXCLUSIVE MODE; '
        "SET LOCAL lock_timeout = DEFAULT",
    ]
    assert [q["sql"] for q in queries] == (expected if POSTGRES else [])


@pytest.mark.django_db(transaction=True)
def test_while_a_table_is_locked_another_connection_reads_it_but_cannot_write():
    """PostgreSQL: the LOCK TABLE holds writers back. SQLite: the lock is a
    no-op because the transaction took the database's write lock as it
    began (transaction_mode IMMEDIATE), which holds writers back as well."""
    Heartbeat.objects.create(name="before", at=NOON)
    with transaction.atomic():
        sql.lock_tables([Heartbeat], "SHARE ROW EXCLUSIVE")
        assert write_elsewhere("during") == "held back"
        assert read_elsewhere() == 1
    assert write_elsewhere("after") == "written"
    assert sorted(Heartbeat.objects.values_list("name", flat=True)) == [
        "after",
        "before",
    ]


@pytest.mark.django_db(transaction=True)
def test_lock_tables_with_a_timeout_gives_up_waiting_with_operational_error():
    """PostgreSQL: the other transaction waits timeout_ms (0.2 s) for the
    lock, then OperationalError. SQLite: timeout_ms changes nothing; the
    other transaction waits for the database's write lock as it begins, for
    its connection's busy timeout (set to 1 s here), then OperationalError
    ("database is locked")."""

    def wait_briefly():
        wait_for_locks_at_most(1000)
        began = time.monotonic()
        try:
            with transaction.atomic():
                sql.lock_tables([Heartbeat], "ROW EXCLUSIVE", timeout_ms=200)
        except OperationalError as error:
            return held_back(error), time.monotonic() - began
        return "locked", time.monotonic() - began

    with transaction.atomic():
        sql.lock_tables([Heartbeat], "EXCLUSIVE")
        outcome, waited = in_another_connection(wait_briefly)
    assert outcome == "held back"
    assert (0.15 if POSTGRES else 0.9) <= waited < 5
    assert in_another_connection(wait_briefly)[0] == "locked"  # once let go


@pytest.mark.django_db
def test_the_timeout_is_for_the_lock_alone():
    """PostgreSQL: lock_timeout is back to its default (0, wait for ever)
    after the lock. SQLite: the connection's busy timeout (the settings'
    20 s) is left as it was."""
    setting = "lock_timeout" if POSTGRES else "busy_timeout"
    with transaction.atomic():
        before = show(setting)
        sql.lock_tables([Heartbeat], "ROW EXCLUSIVE", timeout_ms=150)
        assert show(setting) == before == ("0" if POSTGRES else "20000")


# -- commits_not_waiting_for_disk ---------------------------------------------


@pytest.mark.django_db
def test_commits_not_waiting_for_disk_runs_the_block_and_on_sqlite_nothing_else():
    with (
        CaptureQueriesContext(connection) as queries,
        sql.commits_not_waiting_for_disk(),
    ):
        Heartbeat.objects.create(name="inside", at=NOON)
    statements = [q["sql"] for q in queries if "synchronous_commit" in q["sql"]]
    expected = ["SET synchronous_commit TO off", "RESET synchronous_commit"]
    assert statements == (expected if POSTGRES else [])
    assert Heartbeat.objects.filter(name="inside").exists()


@pytest.mark.django_db
def test_commits_not_waiting_for_disk_turns_synchronous_commit_off_then_back():
    """PostgreSQL: synchronous_commit off in the block, on again after it,
    even when the block fails. SQLite: its own setting, synchronous, stays
    FULL (2) throughout."""
    setting, on, off = (
        ("synchronous_commit", "on", "off") if POSTGRES else ("synchronous", "2", "2")
    )
    assert show(setting) == on
    with sql.commits_not_waiting_for_disk():
        assert show(setting) == off
    assert show(setting) == on
    with pytest.raises(RuntimeError), sql.commits_not_waiting_for_disk():
        assert show(setting) == off
        raise RuntimeError("the block failed")
    assert show(setting) == on


# -- skip_locked --------------------------------------------------------------


@pytest.mark.django_db
def test_skip_locked_ends_a_select_both_databases_run():
    Heartbeat.objects.create(name="free", at=NOON)
    assert sql.skip_locked() == (" FOR UPDATE SKIP LOCKED" if POSTGRES else "")
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"SELECT name FROM core_heartbeat{sql.skip_locked()}")
        assert cursor.fetchall() == [("free",)]


@pytest.mark.django_db(transaction=True)
def test_skip_locked_passes_over_rows_another_transaction_holds():
    """PostgreSQL: another transaction's claim passes over the row this one
    holds and gets the free one. SQLite has no row locks: the other claim
    waits for the database's write lock, which this transaction holds, and
    gives up (busy timeout, 0.3 s here); a reader sees both rows on either."""
    held = Heartbeat.objects.create(name="held", at=NOON)
    Heartbeat.objects.create(name="free", at=NOON)

    def claim():
        wait_for_locks_at_most(300)
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                "SELECT name FROM core_heartbeat ORDER BY name" + sql.skip_locked()
            )
            return [name for (name,) in cursor.fetchall()]

    with transaction.atomic():
        Heartbeat.objects.select_for_update().get(pk=held.pk)
        claimed = held_back(in_another_connection(claim))
        assert claimed == (["free"] if POSTGRES else "held back")
        assert read_elsewhere() == 2
    assert in_another_connection(claim) == ["free", "held"]


# -- median_seconds -----------------------------------------------------------


@pytest.mark.django_db
def test_median_seconds_is_the_median_per_group_on_either_database():
    """Group a: 10, 20 and 60 s (the mean would be 30); group b: 5 and 30 s
    (the median of two is their mean); a9 is left out by the parameter."""
    durations = {"a1": 10, "a2": 20, "a3": 60, "a9": 1000, "b1": 5, "b2": 30}
    for name, seconds in durations.items():
        Heartbeat.objects.create(name=name, at=NOON)
        Heartbeat.objects.create(
            name=f"{name}:end", at=NOON + timedelta(seconds=seconds)
        )
    rows = (
        "FROM core_heartbeat s JOIN core_heartbeat f ON f.name = s.name || ':end' "
        "WHERE s.name <> %s"
    )
    found = sql.median_seconds(
        rows, ["a9"], key="SUBSTR(s.name, 1, 1)", start="s.at", end="f.at"
    )
    assert found == {"a": 20.0, "b": 17.5}


@pytest.mark.django_db
def test_a_median_statement_runs_inside_a_larger_one_with_fractions_of_seconds():
    """median_seconds_sql as a named subquery of another statement, its
    parameters in their place; fractions of a second count (2.25 s and
    2.75 s: their mean), and a group of one is its value."""
    durations = {"a1": 2.25, "a2": 2.75, "b1": 0.5, "c1": 9}
    for name, seconds in durations.items():
        Heartbeat.objects.create(name=name, at=NOON)
        Heartbeat.objects.create(
            name=f"{name}:end", at=NOON + timedelta(seconds=seconds)
        )
    median = sql.median_seconds_sql(
        "FROM core_heartbeat s JOIN core_heartbeat f ON f.name = s.name || ':end' "
        "WHERE s.name <> %s",
        key="SUBSTR(s.name, 1, 1)",
        start="s.at",
        end="f.at",
    )
    with connection.cursor() as cursor:
        cursor.execute(
            f"WITH medians AS ({median}) SELECT median_of, seconds FROM medians "
            "WHERE seconds < %s ORDER BY median_of",
            ["c1", 5],
        )
        found = [(group, float(seconds)) for group, seconds in cursor.fetchall()]
    assert found == [("a", pytest.approx(2.5)), ("b", pytest.approx(0.5))]


@pytest.mark.django_db
def test_writes_together_are_one_statement_on_postgresql_and_all_done():
    """(The order their tables are locked in is held by the summaries'
    rebuild test, tests/referrals/test_rollups.py, which deadlocked when
    PostgreSQL locked them the other way round.)"""
    statements = [
        ("INSERT INTO core_heartbeat (name, at) VALUES (%s, %s)", [name, NOON])
        for name in ("first", "second", "third")
    ]
    statements.append(
        ("UPDATE core_heartbeat SET at = %s WHERE name = %s", [NOON, "x"])
    )
    with CaptureQueriesContext(connection) as queries:
        sql.execute_together(statements)
    assert len(queries) == (1 if POSTGRES else 4)
    names = Heartbeat.objects.order_by("name").values_list("name", flat=True)
    assert list(names) == ["first", "second", "third"]


def test_connections_neither_compile_statements_nor_start_workers_for_a_page(db):
    """PostgreSQL connections turn JIT off (a Today statement spent 1.5 s
    compiling what ran in 10 ms) and start parallel workers only for big
    queries (docs/operations.md, "PostgreSQL settings"); SQLite has neither,
    and waits 20 s for the write lock."""
    if POSTGRES:
        assert (show("jit"), show("parallel_setup_cost")) == ("off", "10000")
    else:
        assert show("busy_timeout") == "20000"

"""PostgreSQL restarts under a running worker: the next thank-you still goes out.

Issue 23: a worker kept the connection that PostgreSQL's restart had closed,
and every task after it failed at once with InterfaceError ("connection
already closed"): thank-yous stayed scheduled, for good. referrals_crm/celery.py
now checks the kept connection around every task, as Django does around every
request.

The test restarts a PostgreSQL of its own (initdb into a temporary folder, on
a free port), never the shared server and never the suite's test database, so
it runs the same whether the suite is on SQLite or on PostgreSQL. The worker
and beat use the suite's broker; the thank-yous go to a real SMTP sink.
"""

import os
import shutil
import subprocess
import sys
import tempfile
import time
from contextlib import closing
from pathlib import Path

import psycopg2
import pytest
from django.conf import settings

from tests.helpers import process_env, wait_for
from tests.smtp import SinkServer, free_port

pytestmark = pytest.mark.worker

PG_BIN = Path(os.environ.get("PG_BIN", "/usr/lib/postgresql/15/bin"))
NO_POSTGRES = (
    f"PostgreSQL's server programs are not in {PG_BIN} (set PG_BIN): this test "
    "starts a PostgreSQL of its own. Install postgresql-15."
)
# A referral logged through the app's own service, by a rep for a source that
# it makes the first time; prints the referral's id.
LOG_REFERRAL = """
from accounts.models import User
from partners.models import Partner
from referrals.services import referral_log

rep = User.objects.filter(email="riley@example.com").first()
if rep is None:
    rep = User.objects.create_user(
        "riley@example.com", "secret-pass-123", display_name="Riley Rep"
    )
source, _ = Partner.objects.get_or_create(
    email="priya@example.org", defaults={{"name": "Priya Source", "owner": rep}}
)
print(referral_log(user=rep, source=source, prospect_name={name!r}).pk)
"""


class PrivatePostgres:
    """A PostgreSQL cluster in a temporary folder, run as the postgres user
    (initdb and the server refuse root), listening on 127.0.0.1:port."""

    def __init__(self):
        self.root = Path(tempfile.mkdtemp(prefix="crm-pg-"))  # short: socket path
        self.data = self.root / "data"
        self.port = free_port()
        self.url = f"postgres://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, program: str, *args: str) -> None:
        as_postgres = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        result = subprocess.run(
            [*as_postgres, str(PG_BIN / program), *args],
            capture_output=True,
            text=True,
            timeout=60,
        )
        if result.returncode:
            log = self.root / "log"
            pytest.fail(
                f"{program} {' '.join(args)} failed:\n{result.stdout}{result.stderr}"
                + (log.read_text() if log.exists() else "")
            )

    def init(self) -> None:
        if os.geteuid() == 0:
            shutil.chown(self.root, "postgres", "postgres")
        # -N: no fsync of the new files; nothing here has to survive a crash.
        self._run("initdb", "-N", "-D", str(self.data), "-A", "trust", "-U", "postgres")

    def start(self) -> None:
        options = (
            f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 "
            "-c fsync=off -c full_page_writes=off"
        )
        log = str(self.root / "log")
        self._run(
            "pg_ctl", "-D", str(self.data), "-l", log, "-w", "-o", options, "start"
        )

    def stop(self, mode: str = "fast") -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "stop")

    def remove(self) -> None:
        """Stop the server if it runs (even after a failed test), then delete it."""
        try:
            if (self.data / "postmaster.pid").exists():
                self.stop("immediate")
        finally:
            shutil.rmtree(self.root, ignore_errors=True)

    def query(self, sql: str, *params):
        """Rows of one statement, on a connection of its own (not the worker's)."""
        with (
            closing(
                psycopg2.connect(host="127.0.0.1", port=self.port, user="postgres")
            ) as conn,
            conn.cursor() as cursor,
        ):
            cursor.execute(sql, params)
            return cursor.fetchall()


def _manage(*args: str, database_url: str) -> str:
    result = subprocess.run(
        [sys.executable, "manage.py", *args],
        env=process_env(DATABASE_URL=database_url),
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


@pytest.fixture
def private_postgres():
    """A migrated PostgreSQL of this test's own, stopped and deleted at the end."""
    if not (PG_BIN / "pg_ctl").exists():
        if os.environ.get("CI"):
            pytest.fail(NO_POSTGRES + " CI must not skip this test.")
        pytest.skip(NO_POSTGRES)
    pg = PrivatePostgres()
    try:
        pg.init()
        pg.start()
        _manage("migrate", "--noinput", "-v0", database_url=pg.url)
        yield pg
    finally:
        pg.remove()


@pytest.fixture
def sink():
    with SinkServer() as server:
        yield server


def test_a_thank_you_goes_out_after_postgres_restarts(
    private_postgres, sink, celery_processes
):
    pg = private_postgres
    env = {"DATABASE_URL": pg.url, "EMAIL_URL": f"smtp://127.0.0.1:{sink.port}"}
    celery_processes("worker", **env)
    celery_processes("beat", TOUCHPOINT_SWEEP_SECONDS=2, **env)

    def log_referral(name: str) -> int:
        code = LOG_REFERRAL.format(name=name)
        return int(_manage("shell", "-c", code, database_url=pg.url).split()[-1])

    def status_of(referral_id: int) -> tuple:
        return pg.query(
            "SELECT status, attempts, last_error FROM referrals_touchpoint"
            " WHERE referral_id = %s",
            referral_id,
        )[0]

    def arrived(count: int, timeout: float):
        def enough():
            """thank-yous at the SMTP sink"""
            return len(sink.sink.messages) >= count

        wait_for(enough, timeout=timeout)

    # 1. The worker sends one and keeps its database connection, now idle.
    first = log_referral("Paula One")
    arrived(1, timeout=60)
    wait_for(lambda: status_of(first)[0] == "sent", timeout=10)

    # 2. PostgreSQL restarts: every connection it had is gone.
    pg.stop("fast")
    time.sleep(3)  # a sweep or two fails meanwhile: the database is down
    pg.start()

    # 3. The next thank-you goes out within a sweep (2 s here) and a margin;
    # before the fix it stayed scheduled, every task failing on the dead
    # connection.
    second = log_referral("Paula Two")
    arrived(2, timeout=30)
    wait_for(lambda: status_of(second)[0] == "sent", timeout=10)
    assert status_of(second)[:2] == ("sent", 1)  # at the first attempt
    time.sleep(1)  # nothing more may come
    subjects = [m["Subject"] for m in sink.sink.parsed()]
    assert subjects == [
        "Thank you for introducing Paula One",
        "Thank you for introducing Paula Two",
    ]

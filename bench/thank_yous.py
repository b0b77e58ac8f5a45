"""Benchmark of thank-you dispatch: `make bench-thank-yous`.

10,000 due thank-you emails (ThankYou rows) per worker count, sent by real
Celery worker processes (`--pool solo`, one process each) on PostgreSQL and
Redis to a local SMTP sink (aiosmtpd in its own process, bench/smtp_sink.py):
first by 1 worker, then by 2. Each worker count gets two phases of --count
thank_yous (default 5,000 + 5,000):

  on-commit  rows created due at the target rate (--rate-per-worker x
             workers), each followed by request_dispatch() right after its
             creation commits, as transaction.on_commit does: with Redis,
             one dispatch task is queued and serves every row committed
             before a worker starts it.
  swept      rows created due at a rate below capacity with nothing queued;
             a real `celery beat` runs thank_yous_sweep every
             --sweep-seconds (TOUCHPOINT_SWEEP_SECONDS) and the sweep queues
             dispatch tasks.

Offering the target rate answers both questions at once: if the workers keep
up, emails/s equals the offered rate and the latency is the path's own; if
they do not, emails/s is their capacity and the latency is the backlog.
Latency is due_at -> sent_at from the rows, split into the wait (due_at ->
claimed_at) and the send (claimed_at -> sent_at), cross-checked with the
arrival time at the sink.

Before that, in this process and without Celery, a profile of one email's
time: sent alone (thank_you_dispatch, one row per call, as one task per
email did) and sent in batches (thank_yous_dispatch_due, what a dispatch
task runs), both with kept PostgreSQL and SMTP connections.

Everything runs in a dedicated database (referrals_crm_bench, dropped and
created here) and Redis db 14 (flushed); every process started here is
stopped here. Prints the tables and writes them, with the date, commit and
machine, to bench/RESULTS.md between the generated-block markers.

Exit status: 0 when every email was sent exactly once; 1 when something failed
(a process died, a phase timed out, an email failed, went twice or never
reached the sink); 2 with --strict when a target was missed.
"""

import argparse
import os
import platform
import re
import secrets
import shutil
import signal
import smtplib
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import traceback
from collections import Counter, defaultdict
from datetime import date, timedelta
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
BIN = BASE_DIR / ".venv" / "bin"
RESULTS = BASE_DIR / "bench" / "RESULTS.md"
DB_NAME = "referrals_crm_bench"
PG_HOST, PG_PORT, PG_USER = "127.0.0.1", 5432, "postgres"
REDIS_URL = "redis://127.0.0.1:6379/14"
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
BEGIN, END = "<!-- bench:begin (generated) -->", "<!-- bench:end -->"
ON_COMMIT_P95_TARGET = 5.0  # seconds
SWEEP_SLACK = 5.0  # swept p95 target: sweep interval + this
SEND_TASK = "thanks.tasks.thank_yous_dispatch_task"


class BenchError(Exception):
    pass


# -- Small helpers ------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def sh(*args: str) -> str:
    try:
        return subprocess.run(
            args, cwd=BASE_DIR, capture_output=True, text=True, check=True
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "?"


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[round(q) - 1]


def proc_stat(pid: int) -> list[str] | None:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None


def proc_cpu(pid: int, children: bool = False) -> float:
    """User + system CPU seconds of a process (and of its reaped children)."""
    fields = proc_stat(pid)
    if fields is None:
        return 0.0
    ticks = int(fields[11]) + int(fields[12])
    if children:
        ticks += int(fields[13]) + int(fields[14])
    return ticks / CLOCK_TICKS


def postgres_cpu() -> float:
    """CPU seconds of every postgres process, including backends that exited.

    Backends are children of the postmaster: once reaped, their time is in its
    cutime/cstime. (This is the whole server, other databases included.)
    """
    total = 0.0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            comm = (entry / "comm").read_text().strip()
        except OSError:
            continue
        if comm != "postgres":
            continue
        fields = proc_stat(int(entry.name))
        if fields is None:
            continue
        parent = Path(f"/proc/{fields[1]}/comm")
        is_postmaster = not (parent.exists() and parent.read_text().strip() == comm)
        total += proc_cpu(int(entry.name), children=is_postmaster)
    return total


def machine_cpu() -> tuple[float, float]:
    """(busy, iowait) CPU seconds of the whole machine since boot."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n")[0].split()[1:]]
    busy = sum(values[:8]) - values[3] - values[4]
    return busy / CLOCK_TICKS, values[4] / CLOCK_TICKS


# -- Processes ----------------------------------------------------------------


class Processes:
    """Every process the benchmark starts; each is stopped by its own id."""

    def __init__(self, logs: Path):
        self.logs = logs
        self.running: dict[str, subprocess.Popen] = {}

    def start(self, name: str, args: list[str], env=None) -> subprocess.Popen:
        log = open(self.logs / f"{name}.log", "ab")  # noqa: SIM115 (kept by Popen)
        process = subprocess.Popen(
            args,
            cwd=BASE_DIR,
            stdout=log,
            stderr=subprocess.STDOUT,
            env={**os.environ, **(env or {})},
            start_new_session=True,  # its own group: stopped with its children
        )
        log.close()
        self.running[name] = process
        return process

    def log_tail(self, name: str, lines: int = 30) -> str:
        path = self.logs / f"{name}.log"
        if not path.exists():
            return ""
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])

    def check(self) -> None:
        for name, process in self.running.items():
            if process.poll() is not None:
                raise BenchError(
                    f"{name} (pid {process.pid}) exited with {process.returncode}:\n"
                    + self.log_tail(name)
                )

    def stop(self, name: str, timeout: float = 20) -> None:
        process = self.running.pop(name, None)
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)  # the group we created
            process.wait(5)

    def stop_all(self) -> None:
        for name in list(self.running):
            self.stop(name)


# -- Database, broker, sink -----------------------------------------------------


def admin_query(sql: str, params=None, fetch: bool = False):
    import psycopg2

    connection = psycopg2.connect(
        host=PG_HOST, port=PG_PORT, user=PG_USER, dbname="postgres"
    )
    connection.autocommit = True
    try:
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchall() if fetch else None
    finally:
        connection.close()


def drop_database() -> None:
    admin_query(f"DROP DATABASE IF EXISTS {DB_NAME} WITH (FORCE)")


def create_database() -> None:
    drop_database()
    admin_query(f"CREATE DATABASE {DB_NAME}")


def database_sessions() -> int:
    """Connections ever opened to the bench database (pg_stat_database)."""
    rows = admin_query(
        "SELECT sessions FROM pg_stat_database WHERE datname = %s", [DB_NAME], True
    )
    return int(rows[0][0]) if rows else 0


def flush_redis() -> None:
    import redis

    redis.Redis.from_url(REDIS_URL).flushdb()


def redis_pid() -> int | None:
    import redis

    try:
        return int(redis.Redis.from_url(REDIS_URL).info("server")["process_id"])
    except Exception:
        return None


def configure_environment(tmp: Path, smtp_port: int, sweep_seconds: int) -> None:
    """What settings.py and celery.py read; inherited by every child process."""
    for name in ("EMAIL_URL", "CACHE_URL", "CELERY_BROKER_DIR"):
        os.environ.pop(name, None)
    os.environ.update(
        DJANGO_SETTINGS_MODULE="referrals_crm.settings",
        DATABASE_URL=f"postgres://{PG_USER}@{PG_HOST}:{PG_PORT}/{DB_NAME}",
        CELERY_BROKER_URL=REDIS_URL,
        EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend",
        EMAIL_HOST="127.0.0.1",
        EMAIL_PORT=str(smtp_port),
        # As in production: no per-query debug bookkeeping.
        DEBUG="false",
        SECRET_KEY=secrets.token_urlsafe(50),
        VAR_DIR=str(tmp / "var"),
        LOG_LEVEL="WARNING",
        TOUCHPOINT_SWEEP_SECONDS=str(sweep_seconds),
    )


def start_sink(processes: Processes, port: int, out: Path) -> subprocess.Popen:
    sink = BASE_DIR / "bench" / "smtp_sink.py"
    process = processes.start(
        "smtp-sink", [sys.executable, str(sink), str(port), str(out)]
    )
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        processes.check()
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as probe:
                if probe.recv(512).startswith(b"220"):
                    return process
        except OSError:
            time.sleep(0.1)
    raise BenchError("The SMTP sink did not start:\n" + processes.log_tail("smtp-sink"))


def read_sink(path: Path) -> list[tuple[float, int]]:
    """(arrival time, thank-you id) of each message; id -1 when not ours."""
    from thanks.models import ThankYou

    if not path.exists():
        return []
    lines = [line.split() for line in path.read_text().splitlines()]
    ids = dict(
        ThankYou.objects.filter(
            message_token__in={token for _, token in lines}
        ).values_list("message_token", "pk")
    )
    return [(float(at), ids.get(token, -1)) for at, token in lines]


def sink_capacity(port: int, sink_pid: int, messages: int = 1000) -> dict:
    """Sink CPU per message, with a new connection per message as Django does."""
    body = (
        b"From: a@bench.invalid\r\nTo: b@bench.invalid\r\nSubject: probe\r\n"
        b"Message-ID: <probe@bench.invalid>\r\n\r\n" + (b"x" * 76 + b"\r\n") * 40
    )
    cpu, started = proc_cpu(sink_pid), time.perf_counter()
    for _ in range(messages):
        with smtplib.SMTP("127.0.0.1", port, local_hostname="bench") as client:
            client.sendmail("a@bench.invalid", ["b@bench.invalid"], body)
    wall = time.perf_counter() - started
    cpu_ms = (proc_cpu(sink_pid) - cpu) / messages * 1000
    return {
        "client_rate": messages / wall,
        "sink_cpu_ms": cpu_ms,
        "sink_max_rate": 1000 / cpu_ms if cpu_ms else float("inf"),
    }


# -- Data -----------------------------------------------------------------------


def seed_base(reps: int = 20, sources: int = 1000):
    from accounts.models import User
    from partners.models import Partner
    from referrals.models import Stage

    users = User.objects.bulk_create(
        User(
            email=f"rep{i}@bench.example",
            display_name=f"Robin Rep{i}",
            signature=f"Robin Rep{i}\nAccount executive, Referral CRM",
            password="!",  # unusable
            # Nobody gets a morning digest from beat during the run.
            digest_sent_on=date.max,
        )
        for i in range(reps)
    )
    partners = Partner.objects.bulk_create(
        Partner(
            name=f"Sam Source{i}",
            email=f"source{i}@bench.example",
            company=f"Source Company {i}",
            owner=users[i % reps],
            email_consent=Partner.Consent.OPTED_IN,
        )
        for i in range(sources)
    )
    stage = Stage.objects.filter(kind=Stage.Kind.OPEN).order_by("position", "pk")[0]
    return partners, stage


def make_referrals(n: int, tag: str, partners, stage) -> list:
    from referrals.models import Referral

    return Referral.objects.bulk_create(
        (
            Referral(
                prospect_name=f"Pat Prospect {tag}-{i}",
                prospect_company=f"Prospect Company {i}",
                source=partners[i % len(partners)],
                owner_id=partners[i % len(partners)].owner_id,
                stage=stage,
            )
            for i in range(n)
        ),
        batch_size=2000,
    )


def make_thank_yous(referrals: list, due_at) -> list[int]:
    from thanks.models import Moment, ThankYou

    rows = ThankYou.objects.bulk_create(
        (
            ThankYou(
                referral=referral,
                source_id=referral.source_id,
                owner_id=referral.owner_id,
                moment=Moment.RECEIVED,
                channel=ThankYou.Channel.EMAIL,
                status=ThankYou.Status.SCHEDULED,
                due_at=due_at,
                deadline_at=due_at + timedelta(minutes=120),
                created_at=due_at,
            )
            for referral in referrals
        ),
        batch_size=2000,
    )
    return [row.pk for row in rows]


# -- In-process profile ----------------------------------------------------------


class ExclusiveTimer:
    """Wall time per label: each call's time minus the time of the calls inside it."""

    def __init__(self):
        self.seconds: dict[str, float] = defaultdict(float)
        self.stack: list[float] = []
        self.restore: list = []

    def patch(self, owner, attribute: str, label) -> None:
        original = getattr(owner, attribute)

        def timed(*args, **kwargs):
            name = label(args, kwargs) if callable(label) else label
            self.stack.append(0.0)
            started = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                elapsed = time.perf_counter() - started
                inner = self.stack.pop()
                self.seconds[name] += elapsed - inner
                if self.stack:
                    self.stack[-1] += elapsed

        setattr(owner, attribute, timed)
        self.restore.append((owner, attribute, original))

    def unpatch(self) -> None:
        for owner, attribute, original in reversed(self.restore):
            setattr(owner, attribute, original)
        self.restore.clear()


PROFILE_LABELS = {
    "db_update": "PostgreSQL: UPDATEs, each its own commit (claim, record)",
    "db_select": "PostgreSQL: SELECTs (thank_you + 4 joins; moment)",
    "orm": "Django ORM: build the queries, make model objects",
    "render": "render: 2 snippets + 3 templates + unsubscribe signing",
    "smtp_send": "SMTP MAIL/RCPT/DATA (+ MIME build)",
    "other": "the rest (message setup, Python)",
}


def profile_dispatch(partners, stage, n: int) -> dict:
    """One email's time sent alone (a task per email) and sent in batches (a
    dispatch task), both with the PostgreSQL and SMTP connections kept."""
    from django.core.mail import get_connection
    from django.core.mail.backends.smtp import EmailBackend
    from django.db.backends.utils import CursorWrapper
    from django.db.models.query import QuerySet
    from django.utils import timezone

    import thanks.services as thank_yous
    from thanks.models import ThankYou

    # Not due until taken: a batched dispatch sends every row that is due.
    ids = iter(
        make_thank_yous(
            make_referrals(5 * n + 20, "profile", partners, stage),
            timezone.now() + timedelta(days=1),
        )
    )
    smtp = get_connection()

    def take(count) -> list[int]:
        taken = [next(ids) for _ in range(count)]
        ThankYou.objects.filter(pk__in=taken).update(due_at=timezone.now())
        return taken

    def alone(taken):
        for thank_you_id in taken:
            outcome = thank_yous.thank_you_dispatch(
                thank_you_id=thank_you_id, connection=smtp
            )
            assert outcome == "sent", outcome

    def batched(taken):
        outcomes, finished = thank_yous.thank_yous_dispatch_due(connection=smtp)
        assert finished and outcomes == {"sent": len(taken)}, outcomes

    variants = {"alone": alone, "batched": batched}
    smtp.open()
    batched(take(20))  # template loading, first connections

    breakdowns = {}
    for name, run in variants.items():
        timer = ExclusiveTimer()
        timer.patch(
            CursorWrapper,
            "_execute",
            lambda a, k: "db_update" if a[1].startswith("UPDATE") else "db_select",
        )
        timer.patch(QuerySet, "update", "orm")
        timer.patch(QuerySet, "_fetch_all", "orm")
        timer.patch(thank_yous, "thank_you_message", "render")
        timer.patch(EmailBackend, "_send", "smtp_send")
        taken = take(n)
        try:
            timer.stack.append(0.0)
            started = time.perf_counter()
            run(taken)
            elapsed = time.perf_counter() - started
            timer.seconds["other"] += elapsed - timer.stack.pop()
        finally:
            timer.unpatch()
        breakdowns[name] = {
            key: timer.seconds[key] / n * 1000 for key in PROFILE_LABELS
        }

    # Rates, interleaved in rounds so a noisy neighbour hits both alike.
    seconds = dict.fromkeys(variants, 0.0)
    sent = dict.fromkeys(variants, 0)
    for _ in range(max(1, n // 50)):
        for name, run in variants.items():
            taken = take(50)
            started = time.perf_counter()
            run(taken)
            seconds[name] += time.perf_counter() - started
            sent[name] += 50
    smtp.close()
    return {
        "n": n,
        "breakdowns": breakdowns,
        "rates": {name: sent[name] / seconds[name] for name in variants},
    }


# -- Celery phases -----------------------------------------------------------------


def celery_command(*args: str) -> list[str]:
    return [str(BIN / "celery"), "-A", "referrals_crm", *args, "--loglevel", "warning"]


def start_workers(processes: Processes, count: int, settings: str) -> None:
    from referrals_crm.celery import app

    for i in range(1, count + 1):
        processes.start(
            f"worker{i}",
            celery_command(
                "worker",
                "--pool",
                "solo",
                "-n",
                f"bench{i}@%h",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
            ),
            env={"DJANGO_SETTINGS_MODULE": settings},
        )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        processes.check()
        replies = app.control.ping(timeout=0.5) or []
        names = {name for reply in replies for name in reply}
        if sum(name.startswith("bench") for name in names) == count:
            return
    raise BenchError(f"{count} worker(s) did not answer a ping within 60 s")


def tasks_run() -> int:
    """Dispatch tasks the running workers executed since they started."""
    from referrals_crm.celery import app

    stats = app.control.inspect(timeout=2).stats() or {}
    return sum(worker["total"].get(SEND_TASK, 0) for worker in stats.values())


class CpuMeter:
    """CPU seconds per process group over one phase, from /proc."""

    def __init__(self, processes: Processes):
        self.processes = processes
        self.redis = redis_pid()
        self.neighbour = NeighbourWatch()

    def snapshot(self) -> dict:
        times = os.times()
        return {
            "procs": {
                name: proc_cpu(process.pid)
                for name, process in self.processes.running.items()
            },
            "postgres": postgres_cpu(),
            "redis": proc_cpu(self.redis) if self.redis else 0.0,
            "driver": times.user + times.system,
            "machine": machine_cpu(),
            "wall": time.monotonic(),
        }

    def delta(self, start: dict) -> dict:
        end = self.snapshot()
        out: dict[str, float] = defaultdict(float)
        for name, cpu in end["procs"].items():
            group = re.sub(r"\d+$", "", name)  # worker1, worker2 -> worker
            out[group] += cpu - start["procs"].get(name, 0.0)
        for key in ("postgres", "redis", "driver"):
            out[key] = end[key] - start[key]
        busy = end["machine"][0] - start["machine"][0]
        out["other"] = max(0.0, busy - sum(out.values()))
        out["machine busy"] = busy
        out["iowait"] = end["machine"][1] - start["machine"][1]
        return {
            "wall": end["wall"] - start["wall"],
            "cpu": dict(out),
            "neighbour": self.neighbour.share(start["wall"], end["wall"]),
        }

    def close(self) -> None:
        self.neighbour.stop()


class NeighbourWatch:
    """Samples, twice a second, whether PostgreSQL is busy with another database.

    The machine is shared: another database's queries slow this one down and
    their CPU lands in the `postgres` column. The share of samples with such a
    query running says how much of a phase was disturbed.
    """

    def __init__(self):
        import threading

        self.samples: list[tuple[float, bool]] = []
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self) -> None:
        import psycopg2

        connection = psycopg2.connect(
            host=PG_HOST, port=PG_PORT, user=PG_USER, dbname="postgres"
        )
        connection.autocommit = True
        try:
            with connection.cursor() as cursor:
                while not self.stopping.wait(0.5):
                    cursor.execute(
                        "SELECT count(*) FROM pg_stat_activity WHERE state = "
                        "'active' AND backend_type = 'client backend' AND "
                        "datname <> %s AND pid <> pg_backend_pid()",
                        [DB_NAME],
                    )
                    busy = cursor.fetchone()[0] > 0
                    self.samples.append((time.monotonic(), busy))
        finally:
            connection.close()

    def share(self, start: float, end: float) -> float:
        inside = [busy for at, busy in self.samples if start <= at <= end]
        return sum(inside) / len(inside) if inside else 0.0

    def stop(self) -> None:
        self.stopping.set()
        self.thread.join(5)


def wait_until_sent(
    lo: int, hi: int, expected: int, timeout: float, processes: Processes
) -> None:
    from django.db.models import Count

    from thanks.models import ThankYou

    deadline = time.monotonic() + timeout
    rows = ThankYou.objects.filter(pk__gte=lo, pk__lte=hi)
    while True:
        counts = dict(rows.values_list("status").annotate(n=Count("pk")))
        if counts.get(ThankYou.Status.SENT, 0) >= expected:
            return
        error = rows.exclude(last_error="").values_list("last_error", flat=True)
        if counts.get(ThankYou.Status.FAILED) or error.exists():
            raise BenchError(f"A send failed: {error.first()}")
        processes.check()
        if time.monotonic() > deadline:
            raise BenchError(
                f"Timed out after {timeout:.0f} s: {counts.get('sent', 0)} of "
                f"{expected} sent ({counts})"
            )
        time.sleep(0.25)


def produce(referrals: list, rate: float, queue: bool) -> tuple[list[int], float]:
    """Create one thank-you per referral, due now, at `rate` per second."""
    from django.utils import timezone

    from thanks.queue import request_dispatch

    ids: list[int] = []
    started = time.monotonic()
    done = 0
    while done < len(referrals):
        target = min(len(referrals), int((time.monotonic() - started) * rate) + 1)
        if target <= done:
            time.sleep(0.005)
            continue
        created = make_thank_yous(referrals[done:target], timezone.now())
        if queue:  # after the commit, as transaction.on_commit does
            for _ in created:
                request_dispatch()
        ids.extend(created)
        done = target
    return ids, time.monotonic() - started


def phase_stats(ids: list[int], arrivals: dict) -> dict:
    from thanks.models import ThankYou

    rows = list(
        ThankYou.objects.filter(pk__in=ids, status=ThankYou.Status.SENT)
        .values_list("pk", "due_at", "claimed_at", "sent_at")
        .order_by("pk")
    )
    total = sorted((sent - due).total_seconds() for _, due, _, sent in rows)
    wait = sorted((claimed - due).total_seconds() for _, due, claimed, _ in rows)
    send = sorted((sent - claimed).total_seconds() for _, _, claimed, sent in rows)
    wall = (max(r[3] for r in rows) - min(r[1] for r in rows)).total_seconds()
    due_by_id = {pk: due.timestamp() for pk, due, _, _ in rows}
    received = [(at, pk) for pk in ids for at in arrivals.get(pk, [])]
    sink_latencies = [at - due_by_id[pk] for at, pk in received if pk in due_by_id]
    return {
        "emails": len(rows),
        "wall": wall,
        "rate": len(rows) / wall if wall else float("nan"),
        "p50": percentile(total, 50),
        "p95": percentile(total, 95),
        "max": total[-1] if total else float("nan"),
        "wait_p95": percentile(wait, 95),
        "send_p50": percentile(send, 50),
        "send_p95": percentile(send, 95),
        "sink_received": len(received),
        "sink_p95": percentile(sorted(sink_latencies), 95),
    }


PHASES = [
    # (name, queued at creation, Django settings of the workers)
    ("on-commit", True, "referrals_crm.settings"),
    ("swept", False, "referrals_crm.settings"),
]


def purge_queue() -> int:
    """Drop what is left in the broker queue (duplicates once all rows are sent)."""
    from referrals_crm.celery import app

    return app.control.purge() or 0


def sent_rate(ids: list[int]) -> float:
    from django.db.models import Max, Min

    from thanks.models import ThankYou

    span = ThankYou.objects.filter(pk__in=ids).aggregate(
        first=Min("due_at"), last=Max("sent_at")
    )
    return len(ids) / max(0.001, (span["last"] - span["first"]).total_seconds())


def run_worker_count(
    workers: int, args, processes: Processes, partners, stage, sink_file: Path
) -> list[dict]:
    meter = CpuMeter(processes)
    target = args.rate_per_worker * workers
    results = []
    running = None
    capacity = None  # emails/s of the on-commit phase
    try:
        for name, queue, settings in PHASES:
            rate, count = target, args.count
            if name == "swept":
                # Below capacity, or this measures only the backlog (see README).
                rate = min(target, args.swept_load * (capacity or target))
                count = int(rate * args.swept_seconds)
            if not count:
                continue
            if running != settings:
                for i in range(1, workers + 1):
                    processes.stop(f"worker{i}")
                start_workers(processes, workers, settings)
                running = settings
            purge_queue()
            referrals = make_referrals(count, f"{name}{workers}", partners, stage)
            print(
                f"  {workers} worker(s), {name}: {count} thank_yous at {rate:.0f}/s",
                flush=True,
            )
            if not queue:
                schedule = Path(os.environ["VAR_DIR"]) / "celerybeat-schedule"
                processes.start("beat", celery_command("beat", "-s", str(schedule)))
            try:
                before = {
                    "cpu": meter.snapshot(),
                    "tasks": tasks_run(),
                    "sessions": database_sessions(),
                }
                ids, produce_wall = produce(referrals, rate, queue)
                timeout = min(
                    args.phase_timeout + (0 if queue else args.sweep_seconds),
                    args.deadline - time.monotonic(),
                )
                wait_until_sent(min(ids), max(ids), len(ids), timeout, processes)
                usage = meter.delta(before["cpu"])
                tasks = tasks_run() - before["tasks"]
                sessions = database_sessions() - before["sessions"]
            finally:
                processes.stop("beat")
            if name == "on-commit":
                capacity = sent_rate(ids)
            results.append(
                {
                    "phase": name,
                    "workers": workers,
                    "ids": ids,
                    "offered": len(ids) / produce_wall,
                    "usage": usage,
                    "tasks": tasks,
                    "left_queued": purge_queue(),
                    "sessions": sessions,
                }
            )
    finally:
        meter.close()
        for i in range(1, workers + 1):
            processes.stop(f"worker{i}")

    time.sleep(0.5)  # the sink's last flush
    arrivals: dict[int, list[float]] = defaultdict(list)
    for at, thank_you_id in read_sink(sink_file):
        arrivals[thank_you_id].append(at)
    for result in results:
        result.update(phase_stats(result.pop("ids"), arrivals))
    return results


# -- Report ------------------------------------------------------------------------


def verdict(row: dict, args) -> tuple[bool, bool, str]:
    """(throughput met, latency met, latency target)."""
    if row["phase"] == "swept":  # offered below the target on purpose
        throughput = None
    else:
        throughput = row["rate"] / row["workers"] >= 0.97 * args.rate_per_worker
    limit = (
        ON_COMMIT_P95_TARGET
        if row["phase"].startswith("on-commit")
        else args.sweep_seconds + SWEEP_SLACK
    )
    return throughput, row["p95"] < limit, f"< {limit:.0f}"


def yes(ok: bool | None) -> str:
    return "n/a" if ok is None else "yes" if ok else "**no**"


def format_table(rows: list[dict], args) -> str:
    lines = [
        "| workers | phase | emails | offered /s | emails/s | per worker | >= "
        f"{args.rate_per_worker}/s/worker | p50 s | p95 s | p95 target s | met "
        "| wait p95 s | send p50 / p95 ms | tasks run + left queued | PG connections |",
        "|" + "---|" * 15,
    ]
    for row in rows:
        throughput, latency, limit = verdict(row, args)
        lines.append(
            f"| {row['workers']} | {row['phase']} | {row['emails']} "
            f"| {row['offered']:.0f} | {row['rate']:.0f} "
            f"| {row['rate'] / row['workers']:.0f} | {yes(throughput)} "
            f"| {row['p50']:.2f} | {row['p95']:.2f} | {limit} | {yes(latency)} "
            f"| {row['wait_p95']:.2f} "
            f"| {row['send_p50'] * 1000:.0f} / {row['send_p95'] * 1000:.0f} "
            f"| {row['tasks']} + {row['left_queued']} | {row['sessions']} |"
        )
    return "\n".join(lines)


def format_cpu(rows: list[dict]) -> str:
    groups = ["worker", "postgres", "smtp-sink", "redis", "beat", "driver", "other"]
    lines = [
        "| workers | phase | wall s | "
        + " | ".join(groups)
        + " | machine busy | iowait | PG busy with another database |",
        "|" + "---|" * (len(groups) + 6),
    ]
    for row in rows:
        usage = row["usage"]
        capacity = usage["wall"] * (os.cpu_count() or 1)

        def share(key, usage=usage, capacity=capacity):
            return f"{usage['cpu'].get(key, 0.0) / capacity * 100:.0f}%"

        lines.append(
            f"| {row['workers']} | {row['phase']} | {usage['wall']:.1f} | "
            + " | ".join(share(g) for g in groups)
            + f" | {share('machine busy')} | {share('iowait')} "
            f"| {usage['neighbour'] * 100:.0f}% of the time |"
        )
    return "\n".join(lines)


def format_profile(profile: dict, capacity: dict) -> str:
    alone, batched = profile["breakdowns"]["alone"], profile["breakdowns"]["batched"]
    lines = [
        "| part of one email (ms) | sent alone (a task per email) "
        "| sent in batches (a dispatch task) |",
        "|---|---|---|",
    ]
    for key, label in PROFILE_LABELS.items():
        lines.append(f"| {label} | {alone[key]:.2f} | {batched[key]:.2f} |")
    lines.append(
        f"| **total** | **{sum(alone.values()):.2f}** "
        f"| **{sum(batched.values()):.2f}** |"
    )
    rates = profile["rates"]
    lines += [
        "",
        "| in one process, no Celery, both connections kept | emails/s |",
        "|---|---|",
        f"| sent alone: thank_you_dispatch per row | {rates['alone']:.0f} |",
        f"| sent in batches: thank_yous_dispatch_due | {rates['batched']:.0f} |",
        "",
        f"SMTP sink alone: {capacity['sink_cpu_ms']:.2f} ms of sink CPU per message "
        f"with a new connection each, so up to ~{capacity['sink_max_rate']:.0f} "
        f"messages/s on one core; one smtplib client reached "
        f"{capacity['client_rate']:.0f} messages/s.",
    ]
    return "\n".join(lines)


def machine_description() -> str:
    model = "?"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            model = line.split(":", 1)[1].strip()
            break
    memory = int(Path("/proc/meminfo").read_text().split("\n")[0].split()[1])
    postgres = admin_query("SHOW server_version", fetch=True)[0][0].split()[0]
    commit = admin_query("SHOW synchronous_commit", fetch=True)[0][0]
    redis_version = sh("redis-server", "--version").split("v=")[-1].split()[0]
    return (
        f"{os.cpu_count()} cores ({model}), {memory // 1024 // 1024} GiB RAM, "
        f"Linux {platform.release()}, Python {platform.python_version()}, "
        f"PostgreSQL {postgres} (synchronous_commit {commit}), Redis {redis_version}"
    )


def write_results(block: str) -> None:
    generated = f"{BEGIN}\n{block.rstrip()}\n{END}"
    if RESULTS.exists() and BEGIN in RESULTS.read_text():
        text = RESULTS.read_text()
        before, rest = text.split(BEGIN, 1)
        after = rest.split(END, 1)[1] if END in rest else "\n"
        RESULTS.write_text(before + generated + after)
    else:
        RESULTS.write_text(
            "# Thank-you dispatch benchmark\n\n"
            "`make bench-thank-yous` (bench/thank_yous.py) rewrites the block "
            "between the markers; the reading after it is written by hand.\n\n"
            + generated
            + "\n"
        )


def report(args, meta: dict, rows: list[dict], profile: dict, capacity: dict) -> str:
    emails = sum(r["emails"] for r in rows)
    return "\n".join(
        [
            f"## Run of {meta['date']}",
            "",
            f"- Commit: `{meta['commit']}`{meta['tree']}",
            f"- Machine: {meta['machine']}",
            f"- Load average before the run: {meta['load']}",
            f"- Command: `make bench-thank-yous` = `.venv/bin/python "
            f"bench/thank_yous.py` (--count {args.count} on-commit, --workers "
            f"{args.workers}, --rate-per-worker {args.rate_per_worker}, "
            f"--sweep-seconds {args.sweep_seconds}, --swept-load {args.swept_load}, "
            f"--swept-seconds {args.swept_seconds:.0f}); took {meta['took']:.0f} s",
            "- Workers: `celery -A referrals_crm worker --pool solo` (one process "
            f"each), Redis db 14, PostgreSQL database `{DB_NAME}`, SMTP to aiosmtpd "
            "in its own process, DEBUG off. Beat runs only in the swept phase "
            f"(TOUCHPOINT_SWEEP_SECONDS={args.sweep_seconds}).",
            "- Offered: rows created due at this rate (on-commit: the target, "
            "each followed by `request_dispatch()` at creation; swept: nothing "
            "queued, "
            f"{args.swept_load:g} x the on-commit emails/s for "
            f"{args.swept_seconds:.0f} s, below capacity on purpose). emails/s = "
            "sent / (last sent_at - first due_at). p50/p95: due_at -> sent_at; "
            "wait: due_at -> claimed_at; send: claimed_at -> sent_at (claim, "
            "render, SMTP, record). Tasks run: dispatch tasks executed (each "
            "sends every email due when it runs, in batches). "
            "PG connections: sessions opened to the bench database.",
            "",
            "### Throughput and latency",
            "",
            format_table(rows, args),
            "",
            f"Every email reached the sink exactly once ({emails} in the Celery "
            "phases). Due -> arrival at the sink, p95: "
            + ", ".join(
                f"{r['workers']}w {r['phase']} {r['sink_p95']:.2f} s" for r in rows
            )
            + ".",
            "",
            "### CPU during each phase (share of all cores)",
            "",
            "`postgres` is the whole server (backends of every database, "
            "including ones that exited); `other` is whatever else ran on the "
            "machine (kernel threads, other people's processes). A busy "
            "neighbour shows up in both.",
            "",
            format_cpu(rows),
            "",
            "### Where one email's time goes (in one process, no Celery, "
            f"{profile['n']} emails per variant, wall time)",
            "",
            format_profile(profile, capacity),
        ]
    )


# -- Main ----------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--count", type=int, default=5000, help="per phase")
    parser.add_argument("--workers", default="1,2", help="worker counts: 1,2")
    parser.add_argument("--rate-per-worker", type=int, default=200)
    parser.add_argument("--sweep-seconds", type=int, default=10)
    parser.add_argument(
        "--swept-load",
        type=float,
        default=0.5,
        help="swept offered rate, as a fraction of the on-commit emails/s",
    )
    parser.add_argument(
        "--swept-seconds", type=float, default=30, help="how long rows arrive"
    )
    parser.add_argument("--phase-timeout", type=float, default=150)
    parser.add_argument(
        "--max-seconds", type=float, default=480, help="budget for the whole run"
    )
    parser.add_argument("--profile-count", type=int, default=200)
    parser.add_argument("--no-results", action="store_true", help="print only")
    parser.add_argument("--keep-db", action="store_true")
    parser.add_argument("--strict", action="store_true", help="exit 2 on a miss")
    args = parser.parse_args()
    worker_counts = [int(w) for w in args.workers.split(",")]

    began = time.monotonic()
    args.deadline = began + args.max_seconds
    dirty = sh("git", "status", "--porcelain", "--untracked-files=no") != ""
    meta = {
        "date": sh("date", "-u"),
        "commit": sh("git", "rev-parse", "--short", "HEAD"),
        "tree": " (working tree had uncommitted changes)" if dirty else "",
        "load": " ".join(f"{x:.2f}" for x in os.getloadavg()),
    }
    if os.environ.get("BENCH_COMMIT"):  # run from an export (git archive) of it
        meta["commit"] = os.environ["BENCH_COMMIT"]
        meta["tree"] = " (a `git archive` export of it, plus this bench/ directory)"
    tmp = Path(tempfile.mkdtemp(prefix="bench-thank-yous-"))
    (tmp / "var").mkdir()
    processes = Processes(tmp)
    sink_file = tmp / "sink.txt"
    port = free_port()
    configure_environment(tmp, port, args.sweep_seconds)
    failed = False
    rows: list[dict] = []
    try:
        print(f"Database {DB_NAME}, broker {REDIS_URL}, logs in {tmp}", flush=True)
        meta["machine"] = machine_description()
        create_database()
        flush_redis()
        subprocess.run(
            [sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"],
            cwd=BASE_DIR,
            check=True,
        )
        sys.path.insert(0, str(BASE_DIR))
        import django

        django.setup()
        from thanks.models import ThankYou

        sink = start_sink(processes, port, sink_file)
        capacity = sink_capacity(port, sink.pid)
        partners, stage = seed_base()
        print(f"Profiling thank_you_dispatch in-process ({args.profile_count}) ...")
        profile = profile_dispatch(partners, stage, args.profile_count)
        for workers in worker_counts:
            rows += run_worker_count(
                workers, args, processes, partners, stage, sink_file
            )

        # Exactly once: every sent row reached the sink once, nothing else did.
        time.sleep(0.5)
        arrivals = Counter(pk for _, pk in read_sink(sink_file) if pk != -1)
        sent = ThankYou.objects.filter(status=ThankYou.Status.SENT).count()
        twice = sum(1 for n in arrivals.values() if n > 1)
        if twice or sum(arrivals.values()) != sent:
            raise BenchError(
                f"{sent} rows sent, {sum(arrivals.values())} messages at the sink "
                f"({twice} thank_yous received more than once)"
            )
    except Exception as error:
        failed = True
        traceback.print_exc()
        print(f"\nFAILED: {error}", file=sys.stderr)
    except KeyboardInterrupt:
        failed = True
        print("\nInterrupted.", file=sys.stderr)
    finally:
        processes.stop_all()
        try:
            from django.db import connections

            connections.close_all()
        except Exception:
            pass
        flush_redis()
        if not args.keep_db:
            drop_database()

    if failed or not rows:
        print(f"Logs kept in {tmp}", file=sys.stderr)
        return 1
    meta["took"] = time.monotonic() - began
    block = report(args, meta, rows, profile, capacity)
    print()
    print(block)
    if not args.no_results:
        write_results(block)
        print(f"\nWritten to {RESULTS.relative_to(BASE_DIR)}")
    shutil.rmtree(tmp, ignore_errors=True)
    missed = [row for row in rows if False in verdict(row, args)[:2]]
    if missed:
        print(f"\nTargets missed in {len(missed)} of {len(rows)} phases.")
        return 2 if args.strict else 0
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Benchmark of thank-you dispatch: `make bench-touchpoints`.

Thank-you emails (Touchpoint rows) sent by real Celery worker processes
(`--pool solo`, one process each) on PostgreSQL and Redis to a local SMTP sink
(aiosmtpd in its own process, bench/smtp_sink.py), first with 1 worker, then
with 2. For each worker count, three phases of --count touchpoints each:

  burst      all rows created due at once, then all queued with
             touchpoint_send.delay (what on_commit does, 10,000 times at
             once): gives the throughput, emails/s.
  on-commit  rows created due at a steady offered rate (--rate-per-worker x
             workers, the throughput target), each queued with .delay right
             after its creation commits: gives the due -> sent latency.
  swept      rows created due at the same rate with nothing queued; a real
             `celery beat` runs touchpoints_sweep every --sweep-seconds
             (TOUCHPOINT_SWEEP_SECONDS): gives the due -> sent latency of
             the sweep path.

Before that, in this process and without Celery, a short profile of
touchpoint_dispatch (where the time of one email goes) and its rate with a
new SMTP connection per email (what the task does today) and with one reused
connection (what `touchpoint_dispatch(connection=...)` allows).

Latency is due_at -> sent_at from the rows (cross-checked with the arrival
time at the sink). Everything runs in a dedicated database
(referrals_crm_bench, dropped and created here) and Redis db 14 (flushed);
every process started here is stopped here. Prints a table and writes it to
bench/RESULTS.md between the generated-block markers.

Exit status: 0 when every email was sent exactly once; 1 when something
failed (a process died, a phase timed out, an email failed, went twice or
never reached the sink); 2 with --strict when a target was missed.
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


def proc_cpu(pid: int) -> float:
    """User + system CPU seconds of one process (0 if it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def machine_busy() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine since boot."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n")[0].split()[1:]]
    idle = values[3] + values[4]
    total = sum(values[:8])
    return (total - idle) / CLOCK_TICKS, total / CLOCK_TICKS


# -- Processes ----------------------------------------------------------------


class Processes:
    """Every process the benchmark starts; each is stopped by its own id."""

    def __init__(self, logs: Path):
        self.logs = logs
        self.running: dict[str, subprocess.Popen] = {}

    def start(self, name: str, args: list[str]) -> subprocess.Popen:
        log = open(self.logs / f"{name}.log", "ab")  # noqa: SIM115 (kept by Popen)
        process = subprocess.Popen(
            args,
            cwd=BASE_DIR,
            stdout=log,
            stderr=subprocess.STDOUT,
            env=os.environ.copy(),
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


def admin_connection():
    import psycopg2

    connection = psycopg2.connect(
        host=PG_HOST, port=PG_PORT, user=PG_USER, dbname="postgres"
    )
    connection.autocommit = True
    return connection


def drop_database() -> None:
    connection = admin_connection()
    with connection.cursor() as cursor:
        cursor.execute(f"DROP DATABASE IF EXISTS {DB_NAME} WITH (FORCE)")
    connection.close()


def create_database() -> None:
    drop_database()
    connection = admin_connection()
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE DATABASE {DB_NAME}")
    connection.close()


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
    process = processes.start(
        "smtp-sink",
        [sys.executable, str(BASE_DIR / "bench" / "smtp_sink.py"), str(port), str(out)],
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
    if not path.exists():
        return []
    rows = []
    for line in path.read_text().splitlines():
        at, touchpoint = line.split()
        rows.append((float(at), int(touchpoint)))
    return rows


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
        "messages": messages,
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


def make_touchpoints(referrals: list, due_at) -> list[int]:
    from referrals.models import Moment, Touchpoint

    rows = Touchpoint.objects.bulk_create(
        (
            Touchpoint(
                referral=referral,
                source_id=referral.source_id,
                moment=Moment.RECEIVED,
                channel=Touchpoint.Channel.EMAIL,
                status=Touchpoint.Status.SCHEDULED,
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
    """Wall time per label, each call's time minus the time of the calls inside it."""

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
    "claim": "claim UPDATE (+commit)",
    "select": "SELECT touchpoint+joins, SELECT moment",
    "render": "render: 2 snippets + 3 templates + signing",
    "open": "SMTP connect + EHLO (new connection)",
    "send": "SMTP MAIL/RCPT/DATA (+MIME build)",
    "close": "SMTP QUIT",
    "record": "record-sent UPDATE (+commit)",
    "other": "rest (ORM objects, message setup, Python)",
}


def profile_dispatch(partners, stage, n: int) -> dict:
    from django.core.mail import get_connection
    from django.core.mail.backends.smtp import EmailBackend
    from django.db.models.query import QuerySet
    from django.utils import timezone

    import referrals.touchpoints as touchpoints
    from referrals.models import Touchpoint

    ids = make_touchpoints(
        make_referrals(3 * n + 21, "profile", partners, stage), timezone.now()
    )
    warm, ids = ids[:21], ids[21:]
    for touchpoint_id in warm[:20]:  # template loading, first connections
        touchpoints.touchpoint_dispatch(touchpoint_id=touchpoint_id)

    timer = ExclusiveTimer()
    timer.patch(
        QuerySet,
        "update",
        lambda a, k: (
            "claim" if k.get("status") == Touchpoint.Status.SENDING else "record"
        ),
    )
    timer.patch(QuerySet, "get", "select")
    timer.patch(touchpoints, "thank_you_message", "render")
    timer.patch(EmailBackend, "open", "open")
    timer.patch(EmailBackend, "_send", "send")
    timer.patch(EmailBackend, "close", "close")
    timer.patch(touchpoints, "touchpoint_dispatch", "other")
    try:
        started = time.perf_counter()
        for touchpoint_id in ids[:n]:
            assert (
                touchpoints.touchpoint_dispatch(touchpoint_id=touchpoint_id) == "sent"
            )
        instrumented_wall = time.perf_counter() - started
    finally:
        timer.unpatch()
    breakdown = {key: timer.seconds[key] / n * 1000 for key in PROFILE_LABELS}

    started = time.perf_counter()
    for touchpoint_id in ids[n : 2 * n]:
        assert touchpoints.touchpoint_dispatch(touchpoint_id=touchpoint_id) == "sent"
    new_connection_rate = n / (time.perf_counter() - started)

    connection = get_connection()
    connection.open()
    touchpoints.touchpoint_dispatch(touchpoint_id=warm[20], connection=connection)
    started = time.perf_counter()
    for touchpoint_id in ids[2 * n : 3 * n]:
        outcome = touchpoints.touchpoint_dispatch(
            touchpoint_id=touchpoint_id, connection=connection
        )
        assert outcome == "sent"
    reused_rate = n / (time.perf_counter() - started)
    connection.close()
    return {
        "n": n,
        "breakdown_ms": breakdown,
        "instrumented_ms": instrumented_wall / n * 1000,
        "new_connection_rate": new_connection_rate,
        "reused_rate": reused_rate,
    }


# -- Celery phases -----------------------------------------------------------------


def celery_command(*args: str) -> list[str]:
    return [str(BIN / "celery"), "-A", "referrals_crm", *args, "--loglevel", "warning"]


def start_workers(processes: Processes, count: int) -> None:
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
        )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        processes.check()
        replies = app.control.ping(timeout=0.5) or []
        names = {name for reply in replies for name in reply}
        if sum(name.startswith("bench") for name in names) == count:
            return
    raise BenchError(f"{count} worker(s) did not answer a ping within 60 s")


def stop_workers(processes: Processes, count: int) -> None:
    for i in range(1, count + 1):
        processes.stop(f"worker{i}")


class CpuMeter:
    """CPU seconds per process group over one phase, from /proc."""

    def __init__(self, processes: Processes):
        self.processes = processes
        self.redis = redis_pid()

    def _backends(self) -> dict[int, float]:
        from django.db import connection

        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pid FROM pg_stat_activity WHERE datname = %s", [DB_NAME]
            )
            return {pid: proc_cpu(pid) for (pid,) in cursor.fetchall()}

    def snapshot(self) -> dict:
        times = os.times()
        return {
            "procs": {
                name: proc_cpu(process.pid)
                for name, process in self.processes.running.items()
            },
            "backends": self._backends(),
            "redis": proc_cpu(self.redis) if self.redis else 0.0,
            "driver": times.user + times.system,
            "machine": machine_busy(),
            "wall": time.monotonic(),
        }

    def delta(self, start: dict) -> dict:
        end = self.snapshot()
        wall = end["wall"] - start["wall"]
        out: dict[str, float] = defaultdict(float)
        for name, cpu in end["procs"].items():
            group = re.sub(r"\d+$", "", name)  # worker1, worker2 -> worker
            out[group] += cpu - start["procs"].get(name, 0.0)
        out["postgres"] = sum(
            cpu - start["backends"].get(pid, 0.0)
            for pid, cpu in end["backends"].items()
        )
        out["redis"] = end["redis"] - start["redis"]
        out["driver"] = end["driver"] - start["driver"]
        busy = end["machine"][0] - start["machine"][0]
        out["other"] = max(0.0, busy - sum(out.values()))
        out["machine busy"] = busy
        return {"wall": wall, "cpu": dict(out)}


def wait_until_sent(
    lo: int, hi: int, expected: int, timeout: float, processes: Processes
) -> None:
    from django.db.models import Count

    from referrals.models import Touchpoint

    deadline = time.monotonic() + timeout
    while True:
        counts = dict(
            Touchpoint.objects.filter(pk__gte=lo, pk__lte=hi)
            .values_list("status")
            .annotate(n=Count("pk"))
        )
        if counts.get(Touchpoint.Status.SENT, 0) >= expected:
            return
        if (
            counts.get(Touchpoint.Status.FAILED)
            or Touchpoint.objects.filter(pk__gte=lo, pk__lte=hi)
            .exclude(last_error="")
            .exists()
        ):
            error = (
                Touchpoint.objects.filter(pk__gte=lo, pk__lte=hi)
                .exclude(last_error="")
                .values_list("last_error", flat=True)
                .first()
            )
            raise BenchError(f"A send failed: {error}")
        processes.check()
        if time.monotonic() > deadline:
            raise BenchError(
                f"Timed out after {timeout:.0f} s: {counts.get('sent', 0)} of "
                f"{expected} sent ({counts})"
            )
        time.sleep(0.25)


def produce(referrals: list, rate: float, queue: bool) -> tuple[list[int], float]:
    """Create one touchpoint per referral, due now, at `rate` per second."""
    from django.utils import timezone

    from referrals.tasks import touchpoint_send

    ids: list[int] = []
    started = time.monotonic()
    done = 0
    while done < len(referrals):
        target = min(len(referrals), int((time.monotonic() - started) * rate) + 1)
        if target <= done:
            time.sleep(0.005)
            continue
        created = make_touchpoints(referrals[done:target], timezone.now())
        if queue:  # after the commit, as transaction.on_commit does
            for touchpoint_id in created:
                touchpoint_send.delay(touchpoint_id)
        ids.extend(created)
        done = target
    return ids, time.monotonic() - started


def phase_stats(name: str, workers: int, ids: list[int], t0, arrivals: dict) -> dict:
    from referrals.models import Touchpoint

    rows = list(
        Touchpoint.objects.filter(pk__in=ids).values_list(
            "pk", "status", "due_at", "sent_at"
        )
    )
    sent = [row for row in rows if row[1] == Touchpoint.Status.SENT]
    latencies = sorted((sent_at - due).total_seconds() for _, _, due, sent_at in sent)
    start = t0 or min(due for _, _, due, _ in rows)
    last = max(sent_at for *_, sent_at in sent)
    wall = (last - start).total_seconds()
    due_by_id = {pk: due.timestamp() for pk, _, due, _ in rows}
    received = [(at, pk) for pk in ids for at in arrivals.get(pk, [])]
    sink_latencies = sorted(at - due_by_id[pk] for at, pk in received)
    return {
        "phase": name,
        "workers": workers,
        "emails": len(sent),
        "wall": wall,
        "rate": len(sent) / wall if wall else float("nan"),
        "p50": percentile(latencies, 50),
        "p95": percentile(latencies, 95),
        "max": latencies[-1] if latencies else float("nan"),
        "sink_received": len(received),
        "sink_unique": len({pk for _, pk in received}),
        "sink_p95": percentile(sink_latencies, 95),
    }


def run_worker_count(
    workers: int, args, processes: Processes, partners, stage, sink_file: Path
) -> list[dict]:
    from django.utils import timezone

    from referrals.tasks import touchpoint_send

    meter = CpuMeter(processes)
    rate = args.rate_per_worker * workers
    results = []
    start_workers(processes, workers)
    try:
        # Burst: throughput.
        referrals = make_referrals(args.count, f"burst{workers}", partners, stage)
        ids = make_touchpoints(referrals, timezone.now())
        print(f"  {workers} worker(s): burst of {len(ids)} ...", flush=True)
        cpu = meter.snapshot()
        t0 = timezone.now()
        for touchpoint_id in ids:
            touchpoint_send.delay(touchpoint_id)
        queued = (timezone.now() - t0).total_seconds()
        wait_until_sent(min(ids), max(ids), len(ids), args.phase_timeout, processes)
        usage = meter.delta(cpu)
        results.append(("burst", ids, t0, usage, {"queue_seconds": queued}))

        # On-commit and swept: latency at the offered rate.
        for name, queue in (("on-commit", True), ("swept", False)):
            referrals = make_referrals(args.count, f"{name}{workers}", partners, stage)
            print(
                f"  {workers} worker(s): {name}, {len(referrals)} at {rate:.0f}/s ...",
                flush=True,
            )
            if not queue:
                processes.start(
                    "beat",
                    celery_command(
                        "beat",
                        "-s",
                        str(Path(os.environ["VAR_DIR"]) / "celerybeat-schedule"),
                    ),
                )
            try:
                cpu = meter.snapshot()
                ids, produce_wall = produce(referrals, rate, queue)
                timeout = args.phase_timeout + (0 if queue else args.sweep_seconds)
                wait_until_sent(min(ids), max(ids), len(ids), timeout, processes)
                usage = meter.delta(cpu)
            finally:
                processes.stop("beat")
            offered = len(ids) / produce_wall
            results.append((name, ids, None, usage, {"offered": offered}))
    finally:
        stop_workers(processes, workers)

    time.sleep(0.5)  # the sink's last flush
    arrivals: dict[int, list[float]] = defaultdict(list)
    for at, touchpoint_id in read_sink(sink_file):
        arrivals[touchpoint_id].append(at)
    table = []
    for name, ids, t0, usage, extra in results:
        stats = phase_stats(name, workers, ids, t0, arrivals)
        stats.update(extra, usage=usage, rate_target=args.rate_per_worker * workers)
        stats["offered"] = extra.get("offered")
        table.append(stats)
    return table


# -- Report ------------------------------------------------------------------------


def verdicts(row: dict, args) -> tuple[str, bool]:
    if row["phase"] == "burst":
        per_worker = row["rate"] / row["workers"]
        ok = per_worker >= args.rate_per_worker
        return f">= {args.rate_per_worker}/s/worker", ok
    limit = (
        ON_COMMIT_P95_TARGET
        if row["phase"] == "on-commit"
        else args.sweep_seconds + SWEEP_SLACK
    )
    return f"p95 < {limit:.0f} s", row["p95"] < limit


def format_table(rows: list[dict], args) -> str:
    header = (
        "| workers | phase | emails | offered /s | wall s | emails/s | per worker "
        "| p50 s | p95 s | max s | target | met |"
    )
    lines = [header, "|" + "---|" * 12]
    for row in rows:
        target, ok = verdicts(row, args)
        offered = f"{row['offered']:.0f}" if row.get("offered") else "all at once"
        lines.append(
            f"| {row['workers']} | {row['phase']} | {row['emails']} | {offered} "
            f"| {row['wall']:.1f} | {row['rate']:.0f} | {row['rate'] / row['workers']:.0f} "
            f"| {row['p50']:.2f} | {row['p95']:.2f} | {row['max']:.2f} "
            f"| {target} | {'yes' if ok else '**no**'} |"
        )
    return "\n".join(lines)


def format_cpu(rows: list[dict]) -> str:
    groups = ["worker", "postgres", "smtp-sink", "redis", "beat", "driver", "other"]
    header = "| workers | phase | wall s | " + " | ".join(groups) + " | machine busy |"
    lines = [header, "|" + "---|" * (len(groups) + 4)]
    for row in rows:
        usage = row["usage"]
        capacity = usage["wall"] * (os.cpu_count() or 1)

        def share(key):
            return f"{usage['cpu'].get(key, 0.0) / capacity * 100:.0f}%"

        lines.append(
            f"| {row['workers']} | {row['phase']} | {usage['wall']:.1f} | "
            + " | ".join(share(g) for g in groups)
            + f" | {share('machine busy')} |"
        )
    return "\n".join(lines)


def format_profile(profile: dict, capacity: dict) -> str:
    lines = ["| part of one email | ms |", "|---|---|"]
    total = 0.0
    for key, label in PROFILE_LABELS.items():
        ms = profile["breakdown_ms"][key]
        total += ms
        lines.append(f"| {label} | {ms:.2f} |")
    lines.append(f"| **total per email (instrumented)** | **{total:.2f}** |")
    lines += [
        "",
        "| in-process touchpoint_dispatch, no Celery | emails/s |",
        "|---|---|",
        f"| new SMTP connection per email (today's task) | {profile['new_connection_rate']:.0f} |",
        f"| one reused SMTP connection (`connection=`) | {profile['reused_rate']:.0f} |",
        "",
        f"SMTP sink alone: {capacity['sink_cpu_ms']:.2f} ms of sink CPU per message "
        f"with a new connection each (so at most ~{capacity['sink_max_rate']:.0f} "
        f"messages/s on one core); a single smtplib client reached "
        f"{capacity['client_rate']:.0f} messages/s.",
    ]
    return "\n".join(lines)


def machine_description() -> str:
    model = "?"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            model = line.split(":", 1)[1].strip()
            break
    memory = Path("/proc/meminfo").read_text().split("\n")[0].split()[1]
    return (
        f"{os.cpu_count()} cores ({model}), {int(memory) // 1024 // 1024} GiB RAM, "
        f"Linux {platform.release()}, Python {platform.python_version()}, "
        f"{sh('psql', '-h', PG_HOST, '-U', PG_USER, '-Atc', 'show server_version')}"
        f" PostgreSQL (synchronous_commit "
        f"{sh('psql', '-h', PG_HOST, '-U', PG_USER, '-Atc', 'show synchronous_commit')}), "
        f"Redis {sh('redis-server', '--version').split('v=')[-1].split()[0]}"
    )


def write_results(block: str) -> None:
    generated = f"{BEGIN}\n{block.rstrip()}\n{END}"
    if RESULTS.exists() and BEGIN in RESULTS.read_text():
        text = RESULTS.read_text()
        before, rest = text.split(BEGIN, 1)
        after = rest.split(END, 1)[1] if END in rest else ""
        RESULTS.write_text(before + generated + after)
    else:
        RESULTS.write_text(
            "# Touchpoint dispatch benchmark\n\n"
            "`make bench-touchpoints` (bench/touchpoints.py) rewrites the block "
            "between the markers; the reading below it is written by hand.\n\n"
            + generated
            + "\n"
        )


# -- Main ----------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--count", type=int, default=10_000, help="touchpoints per phase"
    )
    parser.add_argument("--workers", default="1,2", help="worker counts, e.g. 1,2")
    parser.add_argument("--rate-per-worker", type=int, default=200)
    parser.add_argument("--sweep-seconds", type=int, default=10)
    parser.add_argument("--phase-timeout", type=float, default=120)
    parser.add_argument("--profile-count", type=int, default=300)
    parser.add_argument(
        "--no-results", action="store_true", help="do not write RESULTS.md"
    )
    parser.add_argument("--keep-db", action="store_true")
    parser.add_argument(
        "--strict", action="store_true", help="exit 2 on a missed target"
    )
    args = parser.parse_args()
    worker_counts = [int(w) for w in args.workers.split(",")]

    started_at = sh("date", "-u")
    commit = sh("git", "rev-parse", "--short", "HEAD")
    dirty = sh("git", "status", "--porcelain", "--untracked-files=no")
    load = os.getloadavg()
    tmp = Path(tempfile.mkdtemp(prefix="bench-touchpoints-"))
    (tmp / "var").mkdir()
    processes = Processes(tmp)
    sink_file = tmp / "sink.txt"
    port = free_port()
    configure_environment(tmp, port, args.sweep_seconds)
    failed = False
    rows: list[dict] = []
    try:
        print(f"Database {DB_NAME}, broker {REDIS_URL}, logs in {tmp}", flush=True)
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
        from referrals.models import Touchpoint

        sink = start_sink(processes, port, sink_file)
        capacity = sink_capacity(port, sink.pid)
        partners, stage = seed_base()
        print(
            f"Profiling touchpoint_dispatch in-process ({args.profile_count} x 3) ..."
        )
        profile = profile_dispatch(partners, stage, args.profile_count)
        for workers in worker_counts:
            rows += run_worker_count(
                workers, args, processes, partners, stage, sink_file
            )

        # Exactly once: every sent row reached the sink once, nothing else did.
        time.sleep(0.5)
        arrivals = Counter(pk for _, pk in read_sink(sink_file) if pk != -1)
        sent = Touchpoint.objects.filter(status=Touchpoint.Status.SENT).count()
        twice = sum(1 for n in arrivals.values() if n > 1)
        if twice or sum(arrivals.values()) != sent:
            raise BenchError(
                f"{sent} rows sent, {sum(arrivals.values())} messages at the sink "
                f"({twice} touchpoints received more than once)"
            )
    except Exception as error:
        failed = True
        print(f"\nFAILED: {error}", file=sys.stderr)
        traceback.print_exc()
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

    table, cpu, prof = (
        format_table(rows, args),
        format_cpu(rows),
        format_profile(profile, capacity),
    )
    missed = [row for row in rows if not verdicts(row, args)[1]]
    block = "\n".join(
        [
            f"## Run of {started_at}",
            "",
            f"- Commit: `{commit}`"
            + (" (with uncommitted changes in the working tree)" if dirty else ""),
            f"- Machine: {machine_description()}",
            f"- Load average before the run: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}",
            f"- Command: `make bench-touchpoints` (--count {args.count}, --workers "
            f"{args.workers}, --rate-per-worker {args.rate_per_worker}, "
            f"--sweep-seconds {args.sweep_seconds})",
            "- Workers: `celery -A referrals_crm worker --pool solo` (one process "
            "each), Redis broker db 14, PostgreSQL database "
            f"`{DB_NAME}`, SMTP to aiosmtpd in its own process, DEBUG off.",
            "- burst: all rows due and queued at once (emails/s = sent / (last "
            "sent_at - first enqueue)); on-commit and swept: rows created due at the "
            "offered rate, queued at creation or left to the sweep (emails/s = sent "
            "/ (last sent_at - first due_at)). Latency: due_at -> sent_at.",
            "",
            "### Throughput and latency",
            "",
            table,
            "",
            f"Every email reached the sink exactly once ({sum(r['emails'] for r in rows)}"
            " in the Celery phases; due -> arrival p95 per phase: "
            + ", ".join(
                f"{r['workers']}w {r['phase']} {r['sink_p95']:.2f} s" for r in rows
            )
            + ").",
            "",
            "### CPU share during each phase (of all cores)",
            "",
            cpu,
            "",
            "### Where one email's time goes (in-process, one process, no Celery, "
            f"{profile['n']} emails)",
            "",
            prof,
        ]
    )
    print()
    print(block)
    if not args.no_results:
        write_results(block)
        print(f"\nWritten to {RESULTS.relative_to(BASE_DIR)}")
    shutil.rmtree(tmp, ignore_errors=True)
    if missed:
        print(f"\n{len(missed)} target(s) missed.")
        return 2 if args.strict else 0
    return 0


if __name__ == "__main__":
    sys.exit(main())

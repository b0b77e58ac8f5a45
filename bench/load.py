"""`make bench`: page speed at scale, under load, against the bench data set.

1. Checks the bench database (make bench-data) and collects static files.
2. Starts gunicorn (2 workers) on 127.0.0.1 with production settings.
3. For each page, runs locust headless: 8 users for BENCH_SECONDS (60) after a
   warm-up, and reads requests/s, p50, p95, p99 and errors from its CSV.
4. Times the page's own database work alone (its selectors, no HTTP, no
   template) and prints page p50 / database p50.
5. Appends the table, with the date and commit, to bench/RESULTS.md.
"""

import csv
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PORT = int(os.environ.get("BENCH_PORT", "8100"))
SECONDS = int(os.environ.get("BENCH_SECONDS", "60"))
USERS = int(os.environ.get("BENCH_USERS", "8"))
# A quick look at some pages: BENCH_PAGES="dashboard,board" (parts of their
# names). Such a partial run prints its table but does not record it.
ONLY = [part for part in os.environ.get("BENCH_PAGES", "").split(",") if part]
DATABASE_URL = os.environ.get(
    "DATABASE_URL", "postgres://postgres@127.0.0.1:5432/referrals_crm_loadbench"
)
VAR = Path(tempfile.mkdtemp(prefix="crm-bench-"))
ENV = {
    **os.environ,
    "DATABASE_URL": DATABASE_URL,
    "DEBUG": "false",
    "SECRET_KEY": "bench-only-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz",
    "ALLOWED_HOSTS": "127.0.0.1,localhost",
    "SECURE_SSL_REDIRECT": "false",
    "SESSION_COOKIE_SECURE": "false",
    "CSRF_COOKIE_SECURE": "false",
    "SECURE_HSTS_SECONDS": "0",
    "CELERY_BROKER_URL": os.environ.get(
        "BENCH_BROKER_URL", "redis://127.0.0.1:6379/13"
    ),
    "EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
    "VAR_DIR": str(VAR),
    "LOG_LEVEL": "WARNING",
    "AXES_FAILURE_LIMIT": "1000",
}
# page name (as locust reports it) -> locust user class, target p95 (from the
# issue; None: measured, no target), users (None: USERS), and environment
# for the server (gunicorn restarts when it changes).
SNAPSHOTS_OFF = {"DASHBOARD_SNAPSHOT_SECONDS": "0"}
PAGES = [
    ("/dashboard/ team, last 90 days", "DashboardTeam", 200, None, {}),
    # Every team's figures: the page shows a snapshot (dashboard.snapshots).
    ("/dashboard/ all, this year", "DashboardAll", 600, None, {}),
    # What counting them costs: one visit that counts them (the first of the
    # day, or once stale), and 8 admins if every visit counted them.
    (
        "/dashboard/ all, this year, counted",
        "DashboardAllCounted",
        None,
        1,
        SNAPSHOTS_OFF,
    ),
    (
        "/dashboard/ all, this year, counted",
        "DashboardAllCounted",
        None,
        8,
        SNAPSHOTS_OFF,
    ),
    ("/referrals/board/", "Board", 150, None, {}),
    ("/referrals/", "ReferralList", 150, None, {}),
    ("/partners/", "PartnerList", 150, None, {}),
    ("/referrals/new/ POST", "LogReferral", 100, None, {}),
    # No target: the page every manager lands on (it once took seconds).
    ("/ (Today), manager", "TodayManager", None, None, {}),
]


def django_setup():
    os.environ.update(ENV)
    os.environ["DJANGO_SETTINGS_MODULE"] = "referrals_crm.settings"
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def database_p50(runs: int = 15) -> dict:
    """The p50 of each page's own queries, run alone in this process."""
    from django.db import transaction
    from django.utils import timezone

    from accounts.models import User
    from dashboard.models import DashboardSnapshot
    from dashboard.queries import DashboardFilters, dashboard, period_bounds
    from dashboard.snapshots import snapshot_key
    from partners.selectors import partner_list_page
    from referrals.selectors import (
        board_columns,
        referrals_for_user,
        referrals_needing_action,
    )
    from referrals.services import referral_log

    manager = User.objects.get(email="manager01@bench.example")
    admin = User.objects.get(email="admin@bench.example")
    rep = User.objects.get(email="rep0101@bench.example")
    today = timezone.localdate()
    source = rep.partners.first()

    def team():
        start, end = period_bounds("last_90", today)
        dashboard(DashboardFilters(user=manager, start=start, end=end))

    def everyone():
        start, end = period_bounds("this_year", today)
        dashboard(DashboardFilters(user=admin, start=start, end=end))

    def snapshot():
        start, end = period_bounds("this_year", today)
        filters = DashboardFilters(user=admin, start=start, end=end)
        DashboardSnapshot.objects.filter(
            key=snapshot_key(filters, "period=this_year")
        ).first()

    def referral_page():
        visible = referrals_for_user(user=rep).order_by("-received_on", "-pk")
        visible.count()
        list(visible[:50])

    def partner_page():
        partner_list_page(user=rep)  # counts, picks and counts the page's figures

    def log():
        with transaction.atomic():
            referral_log(
                user=rep, source=source, prospect_name="Alone", prospect_email="a@b.c"
            )
            transaction.set_rollback(True)

    work = {
        "/dashboard/ team, last 90 days": team,
        "/dashboard/ all, this year": snapshot,
        "/dashboard/ all, this year, counted": everyone,
        "/referrals/board/": lambda: board_columns(user=rep),
        "/referrals/": referral_page,
        "/partners/": partner_page,
        "/referrals/new/ POST": log,
        "/ (Today), manager": lambda: referrals_needing_action(user=manager),
    }
    result = {}
    for name, run in work.items():
        run()  # warm
        times = []
        for _ in range(runs):
            started = time.perf_counter()
            run()
            times.append((time.perf_counter() - started) * 1000)
        result[name] = statistics.median(times)
    return result


def machine_reference(runs: int = 7) -> str:
    """The machine's own speed, on fixed work that no change to this code
    alters: a Django template of 2,000 rows rendered, and PostgreSQL adding
    up a million numbers (the best of `runs` each). This machine's speed
    varies from day to day; compare pages across runs next to these."""
    from django.db import connection
    from django.template import Context, Template

    template = Template(
        "{% for row in rows %}<tr><td>{{ row.name|upper }}</td>"
        "<td>{{ row.value|floatformat:2 }}</td>{% if row.odd %}<td>odd</td>"
        "{% endif %}</tr>{% endfor %}"
    )
    rows = [{"name": f"row {i}", "value": i / 7, "odd": i % 2} for i in range(2000)]

    def best(work) -> float:
        times = []
        for _ in range(runs):
            started = time.perf_counter()
            work()
            times.append((time.perf_counter() - started) * 1000)
        return min(times)

    def add_up():
        with connection.cursor() as cursor:
            cursor.execute("SELECT sum(x) FROM generate_series(1, 1000000) x")
            cursor.fetchall()

    python = best(lambda: template.render(Context({"rows": rows})))
    return f"Python {python:.0f} ms, PostgreSQL {best(add_up):.0f} ms"


def remove_logged_referrals(after_id: int) -> int:
    """Delete what the log-a-referral phase created (every referral above
    `after_id`, with its history), so runs do not pile thousands of referrals
    onto one rep's today and slow that rep's board and list for the next run."""
    from django.db import connection, transaction

    from referrals.models import Referral
    from referrals.rollups import rollups_rebuild
    from thanks.services import partners_last_thanked_rebuild

    logged = Referral.objects.filter(pk__gt=after_id)
    owners = set(logged.values_list("owner", flat=True).distinct())
    sources = set(logged.values_list("source", flat=True).distinct())
    with transaction.atomic(), connection.cursor() as cursor:
        for table in (
            "referrals_touchpoint",
            "referrals_stagechange",
            "referrals_activity",
        ):
            cursor.execute(f"DELETE FROM {table} WHERE referral_id > %s", [after_id])
        cursor.execute("DELETE FROM referrals_referral WHERE id > %s", [after_id])
        removed = cursor.rowcount
        # Deleted behind the application's back: its summaries follow.
        rollups_rebuild(owner_ids=owners)
        partners_last_thanked_rebuild(partner_ids=sources)
    with connection.cursor() as cursor:  # index-only scans need it all-visible again
        cursor.execute("VACUUM (ANALYZE) referrals_referral, referrals_touchpoint")
    return removed


def wait_until_up(url: str, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(url, timeout=2)
            return
        except urllib.error.HTTPError:
            return  # it answered (/healthz says 503 with no Celery worker running)
        except Exception:
            time.sleep(0.3)
    raise SystemExit(f"gunicorn did not answer at {url}")


def run_locust(
    user_class: str, seconds: int, extra_env: dict, users: int, warm_up=False
) -> dict:
    prefix = VAR / f"locust-{user_class}"
    done = subprocess.run(
        [
            str(ROOT / ".venv/bin/locust"),
            "-f",
            str(ROOT / "bench/locustfile.py"),
            "--headless",
            "-u",
            str(users),
            "-r",
            str(users),
            "-t",
            f"{seconds}s",
            "--host",
            f"http://127.0.0.1:{PORT}",
            "--csv",
            str(prefix),
            "--only-summary",
            "--loglevel",
            "WARNING",
            user_class,
        ],
        env={**ENV, **extra_env},
        check=False,
        capture_output=True,
    )
    with open(f"{prefix}_stats.csv") as handle:
        rows = {row["Name"]: row for row in csv.DictReader(handle)}
    if not warm_up and not any(int(row["Request Count"]) for row in rows.values()):
        raise SystemExit(
            f"locust made no request:\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}"
        )
    return rows


class Server:
    """gunicorn (2 workers) with production settings, restarted when a page
    needs other settings."""

    def __init__(self):
        self.process, self.env = None, None

    def start(self, env: dict) -> None:
        if self.process and env == self.env:
            return
        self.stop()
        self.process = subprocess.Popen(
            [
                str(ROOT / ".venv/bin/gunicorn"),
                "referrals_crm.wsgi",
                "--bind",
                f"127.0.0.1:{PORT}",
                "--workers",
                "2",
                "--timeout",
                "60",
                "--log-level",
                "warning",
            ],
            env={**ENV, **env},
            cwd=ROOT,
        )
        self.env = env
        wait_until_up(f"http://127.0.0.1:{PORT}/healthz")

    def stop(self) -> None:
        if self.process:
            self.process.terminate()
            self.process.wait(timeout=30)
            self.process = None


def main() -> int:
    django_setup()
    from django.core.management import call_command
    from django.utils import timezone

    from accounts.models import User
    from referrals.models import Referral

    count = Referral.objects.count()
    if count < 1000:
        raise SystemExit("The bench database is empty: run `make bench-data` first.")
    # A run that stopped half-way left what it logged: the first of those and
    # everything after it goes.
    first_logged = (
        Referral.objects.filter(
            prospect_email__startswith="load", prospect_email__endswith="@example.net"
        )
        .order_by("pk")
        .values_list("pk", flat=True)
        .first()
    )
    if first_logged:
        removed = remove_logged_referrals(first_logged - 1)
        print(f"Removed {removed} referrals logged by an earlier run.")
        count = Referral.objects.count()
    last_id = Referral.objects.order_by("-pk").values_list("pk", flat=True).first()
    call_command("collectstatic", "--noinput", verbosity=0)
    reference_before = machine_reference()
    print(f"Machine reference before: {reference_before}")
    rep = User.objects.get(email="rep0101@bench.example")
    extra = {
        "BENCH_SOURCE_ID": str(rep.partners.first().pk),
        "BENCH_TODAY": str(timezone.localdate()),
    }
    server = Server()
    try:
        results = []
        for name, user_class, target, users, env in PAGES:
            if ONLY and not any(part in name for part in ONLY):
                continue
            users = users or USERS
            server.start(env)
            # A slow page's last requests may still hold both gunicorn workers.
            wait_until_up(f"http://127.0.0.1:{PORT}/healthz", seconds=180)
            # caches, connections, plans
            run_locust(user_class, 5, extra, users, warm_up=True)
            stats = run_locust(user_class, SECONDS, extra, users)[name]
            results.append((name, target, users, stats))
            print(
                f"  {name}, {users} users: {stats['Requests/s'][:6]} req/s, "
                f"p95 {stats['95%']} ms",
                flush=True,
            )
    finally:
        server.stop()
        print(f"Removed the {remove_logged_referrals(last_id)} referrals it logged.")
    alone = database_p50()
    reference_after = machine_reference()
    lines = [
        "| page | users | target p95 | req/s | p50 ms | p95 ms | p99 ms | errors | db alone p50 ms | page p50 / db p50 |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for name, target, users, s in results:
        ratio = float(s["50%"]) / alone[name] if alone[name] else 0
        if target is None:
            goal = "–"
        else:
            goal = f"{target} ms ({'ok' if float(s['95%']) <= target else 'MISSED'})"
        lines.append(
            f"| {name} | {users} | {goal} | {float(s['Requests/s']):.1f} | {s['50%']} "
            f"| {s['95%']} | {s['99%']} | {s['Failure Count']} | {alone[name]:.1f} "
            f"| {ratio:.1f} |"
        )
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    ).stdout.strip()
    header = (
        f"\n## make bench: {date.today().isoformat()}, commit {commit}\n\n"
        f"{count:,} referrals in PostgreSQL; gunicorn with 2 workers; locust, {USERS} users "
        f"unless the row says otherwise, {SECONDS} s per page after a 5 s warm-up; "
        "2-core machine, everything on it. Machine reference (fixed work, lower "
        f"is faster; see machine_reference): {reference_before} before, "
        f"{reference_after} after.\n\n"
    )
    table = "\n".join(lines)
    print(header + table)
    if ONLY:
        return 0
    with open(ROOT / "bench/RESULTS.md", "a") as handle:
        handle.write(header + table + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""`make bench`: page speed at scale, under load, against the bench data set.

1. Checks the bench database (make bench-data), collects static files and
   picks the search terms: the commonest surname in the data and "garc".
2. In this process, with Django's test Client and the bench's production
   settings, requests each page as its user (2 warm-up requests, then up to
   IN_PROCESS_RUNS), counting its SQL statements and timing them
   (connection.execute_wrapper): queries, page p50 and SQL p50 per page.
   What the POST logged is deleted afterwards.
3. Opens a session per simulated user and role (locust's users start signed
   in) and starts gunicorn (2 workers) on 127.0.0.1 with production
   settings; it is restarted only when a page needs other settings.
4. BENCH_ROUNDS rounds (3): in each, the load average and the machine
   reference at its start and end, and for each page locust headless, 8 users
   for BENCH_SECONDS (20) after a 5 s warm-up; requests/s, p50, p95 and
   errors from its CSV. What the POST logged is deleted after each POST run.
5. Prints the rounds' table, the pages' table (medians of the rounds, each
   target judged by the worst round's p95, the query budget by the in-process
   count) and the sentence of what is missed, and appends them to
   bench/RESULTS.md, unless BENCH_PAGES made it a partial run.
"""

import csv
import os
import random
import re
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from urllib.parse import quote

ROOT = Path(__file__).resolve().parent.parent
PORT = int(os.environ.get("BENCH_PORT", "8100"))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "3"))
SECONDS = int(os.environ.get("BENCH_SECONDS", "20"))
USERS = int(os.environ.get("BENCH_USERS", "8"))
WARM_UP_SECONDS = 5
IN_PROCESS_RUNS = 15  # fewer (at least 5) for a page slower than a second
IN_PROCESS_SECONDS = 15
QUERY_BUDGET = 12  # statements per page, every page held to it
# A quick look at some pages: BENCH_PAGES="board,search": words of their
# names or roles ("board" is the board, not the dashboards; "admin" every
# page as the admin and the Django admin's), or any part of a name or path
# with a "/" or a space in it ("/referrals/board/"). Such a partial run
# prints its table but does not record it.
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
ROLES = {
    "rep": "rep0101@bench.example",  # about 4,600 referrals
    "manager": "manager01@bench.example",  # about 50,000 in view
    "admin": "admin@bench.example",  # all of them
}
PARTIAL_TERM = "garc"  # García and Garcia alike, once search ignores accents
SNAPSHOTS_OFF = {"DASHBOARD_SNAPSHOT_SECONDS": 0}


@dataclass
class Page:
    name: str  # the table's first column, and locust's name for the request
    role: str  # a key of ROLES
    path: str
    target: int | None  # p95 in ms (None: measured, no target)
    users: int = USERS
    # Settings for this page, in the server's environment (gunicorn restarts
    # when they change) and overridden in process.
    settings: dict = field(default_factory=dict)
    post: bool = False  # log a referral (locust's LogReferral)
    budget: bool = True  # held to QUERY_BUDGET

    @property
    def key(self) -> tuple:
        return (self.name, self.role, self.users)

    @property
    def server_env(self) -> dict:
        return {name: str(value) for name, value in self.settings.items()}

    def chosen(self) -> bool:
        words = re.findall(r"\w+", f"{self.name} {self.role}")
        return not ONLY or any(
            part in words
            or (re.search(r"[/ ]", part) and part in f"{self.name} {self.path}")
            for part in ONLY
        )


def pages(surname: str) -> list[Page]:
    """Every page of `make bench`, in the order of a round: the POST near the
    end (what it logs is deleted after it), the counted dashboard last (it
    needs the server restarted without snapshots)."""
    everyone = ("rep", "manager", "admin")
    rows = []
    for term in (surname, PARTIAL_TERM):
        rows += [
            Page(
                f"/referrals/?q={term} (search)",
                role,
                f"/referrals/?q={quote(term)}",
                None if role == "rep" else 150,
            )
            for role in everyone
        ]
    for path in ("/referrals/board/", "/referrals/", "/partners/"):
        rows += [Page(path, role, path, 150) for role in everyone]
    # The manager is the case that once took seconds.
    rows += [Page("/ (Today)", role, "/", 200) for role in everyone]
    rows += [
        Page(
            "/dashboard/ team, last 90 days",
            "manager",
            "/dashboard/?period=last_90",
            200,
        ),
        # Every team's figures: the page shows a snapshot (dashboard.snapshots).
        Page(
            "/dashboard/ all, this year",
            "admin",
            "/dashboard/?period=this_year",
            600,
        ),
        Page("/admin/referrals/referral/", "admin", "/admin/referrals/referral/", 300),
        Page("/referrals/new/ POST", "rep", "/referrals/new/", 100, post=True),
    ]
    # What counting every team's figures costs, with no target (and not held
    # to the query budget: no one is served this page with snapshots off):
    # one visit that counts them (the first of the day, or once stale), and 8
    # admins if every visit counted them.
    rows += [
        Page(
            "/dashboard/ all, this year, counted",
            "admin",
            "/dashboard/?period=this_year",
            None,
            users=users,
            settings=SNAPSHOTS_OFF,
            budget=False,
        )
        for users in (1, USERS)
    ]
    return rows


def django_setup():
    os.environ.update(ENV)
    # The test Client's host, in this process only (not the server's).
    os.environ["ALLOWED_HOSTS"] += ",testserver"
    os.environ["DJANGO_SETTINGS_MODULE"] = "referrals_crm.settings"
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def commonest_surname() -> str:
    """The commonest last word of the prospects' names (Smith, in the data
    `make bench-data` makes)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT regexp_replace(prospect_name, '^.*\\s', '') AS word"
            " FROM referrals_referral GROUP BY word ORDER BY count(*) DESC LIMIT 1"
        )
        row = cursor.fetchone()
    return row[0] if row and row[0].isalpha() else "Smith"


def referral_form(source_id: int, today: str, email: str) -> dict:
    """The log-a-referral form as filled in (the same fields as the
    locustfile's LogReferral posts)."""
    n = random.randrange(10**12)
    return {
        "source": str(source_id),
        "prospect_name": f"Load {n}",
        "prospect_email": email.format(n=n),
        "prospect_company": f"Load Co {n}",
        "received_on": today,
        "new_source_kind": "customer",
        "estimated_value": "1000",
    }


class Statements:
    """An execute wrapper: how many SQL statements ran and how long their
    execution took (round trip included), as the page's code sees it."""

    def __init__(self):
        self.count, self.seconds = 0, 0.0

    def __call__(self, execute, sql, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            self.count += 1
            self.seconds += time.perf_counter() - started


def signed_in(role: str):
    """A test Client signed in as the role's user, with a session of its own
    (in the database, as a real login leaves it)."""
    from django.test import Client

    from accounts.models import User

    client = Client()
    client.force_login(
        User.objects.get(email=ROLES[role]),
        backend="accounts.backends.UserBackend",  # as a real login records
    )
    return client


def sessions(chosen: list[Page]) -> dict[str, list[str]]:
    """Session keys for locust's users, one per simulated user and role,
    signed in here: logging in through the form costs each user a password
    hash (about a second of a core), which would land in the measured
    seconds."""
    from django.conf import settings

    wanted = {}
    for page in chosen:
        wanted[page.role] = max(wanted.get(page.role, 0), page.users)
    name = settings.SESSION_COOKIE_NAME
    return {
        role: [signed_in(role).cookies[name].value for _ in range(count)]
        for role, count in wanted.items()
    }


def sessions_remove(keys: dict[str, list[str]]) -> None:
    from django.contrib.sessions.models import Session

    Session.objects.filter(session_key__in=sum(keys.values(), [])).delete()


def in_process(chosen: list[Page], source_id: int, today: str) -> dict:
    """Each page requested in this process by its user (test Client,
    force_login, the bench's production settings): after 2 warm-up requests,
    IN_PROCESS_RUNS timed ones (fewer, at least 5, once the timed ones have
    taken IN_PROCESS_SECONDS). Per page: statements (the fewest and the most
    of any run), the page's p50 and its statements' p50, in ms."""
    from django.db import connection
    from django.test import override_settings

    clients = {role: signed_in(role) for role in {page.role for page in chosen}}
    result = {}
    for page in chosen:
        key = (page.name, page.role)
        if key in result:  # the counted dashboard: 1 and 8 users alike
            continue
        client = clients[page.role]

        def request(client=client, page=page):
            if not page.post:
                return client.get(page.path), 200
            data = referral_form(source_id, today, "load-in-process{n}@example.net")
            response = client.post(page.path, data)
            # A browser would show "Referral logged" on the next page, which
            # clears the messages cookie; nothing reads it here.
            client.cookies.pop("messages", None)
            return response, 302

        pages_ms, sql_ms, counts = [], [], []
        with override_settings(**page.settings):
            for run in range(2 + IN_PROCESS_RUNS):
                if len(pages_ms) >= 5 and sum(pages_ms) > IN_PROCESS_SECONDS * 1000:
                    break
                statements = Statements()
                started = time.perf_counter()
                with connection.execute_wrapper(statements):
                    response, expected = request()
                elapsed = time.perf_counter() - started
                if response.status_code != expected:
                    raise SystemExit(
                        f"{page.name} as {page.role} answered "
                        f"{response.status_code} in process, not {expected}."
                    )
                if run >= 2:
                    pages_ms.append(elapsed * 1000)
                    sql_ms.append(statements.seconds * 1000)
                    counts.append(statements.count)
        result[key] = {
            "queries": max(counts),
            "fewest": min(counts),
            "page_p50": statistics.median(pages_ms),
            "sql_p50": statistics.median(sql_ms),
            "runs": len(pages_ms),
        }
        print(
            f"  in process: {page.name} as {page.role}: {max(counts)} queries, "
            f"page p50 {result[key]['page_p50']:.1f} ms, "
            f"SQL p50 {result[key]['sql_p50']:.1f} ms ({len(pages_ms)} runs)",
            flush=True,
        )
    for client in clients.values():
        client.logout()  # its session goes
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


def load_average() -> str:
    return " ".join(f"{value:.2f}" for value in os.getloadavg())


def remove_logged_referrals(after_id: int) -> int:
    """Delete what the log-a-referral runs created (every referral above
    `after_id`, with its history), so runs do not pile thousands of referrals
    onto one rep's today and slow that rep's board and list for the next
    page or run."""
    from django.db import connection, transaction

    from referrals.models import Referral
    from referrals.rollups import rollups_rebuild
    from thanks.services import partners_last_thanked_rebuild

    logged = Referral.objects.filter(pk__gt=after_id)
    owners = set(logged.values_list("owner", flat=True).distinct())
    sources = set(logged.values_list("source", flat=True).distinct())
    with transaction.atomic(), connection.cursor() as cursor:
        for table in (
            # The thank-yous: the model is ThankYou, its table kept the old name.
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


def wait_until_up(seconds: float = 30) -> None:
    """Until gunicorn answers (the login page: /healthz says 503, and logs
    it, with no Celery worker running)."""
    url = f"http://127.0.0.1:{PORT}/accounts/login/"
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(url, timeout=2)
            return
        except urllib.error.HTTPError:
            return  # it answered
        except Exception:
            time.sleep(0.3)
    raise SystemExit(f"gunicorn did not answer at {url}")


def run_locust(
    page: Page, seconds: int, extra_env: dict, keys: dict, warm_up=False
) -> dict | None:
    """One locust run of one page; its CSV row for the page (None for a
    warm-up). The measured run lets each user finish the request it is in
    when the time is up (--stop-timeout): a page slower than the run
    still gets its requests counted."""
    user_class = "LogReferral" if page.post else "Page"
    prefix = VAR / "locust"
    finish = [] if warm_up else ["--stop-timeout", "60"]
    done = subprocess.run(
        [
            str(ROOT / ".venv/bin/locust"),
            "-f",
            str(ROOT / "bench/locustfile.py"),
            "--headless",
            "-u",
            str(page.users),
            "-r",
            str(page.users),
            "-t",
            f"{seconds}s",
            "--host",
            f"http://127.0.0.1:{PORT}",
            "--csv",
            str(prefix),
            "--only-summary",
            "--loglevel",
            "WARNING",
            *finish,
            user_class,
        ],
        env={
            **ENV,
            **extra_env,
            "BENCH_EMAIL": ROLES[page.role],
            "BENCH_PATH": page.path,
            "BENCH_NAME": page.name,
            "BENCH_SESSIONS": ",".join(keys[page.role]),
        },
        check=False,
        capture_output=True,
    )
    if warm_up:
        return None
    with open(f"{prefix}_stats.csv") as handle:
        rows = {row["Name"]: row for row in csv.DictReader(handle)}
    row = rows.get(page.name)
    if not row or not int(row["Request Count"]):
        raise SystemExit(
            f"locust made no request to {page.name} as {page.role}:\n"
            f"{done.stdout[-2000:]}\n{done.stderr[-2000:]}"
        )
    return {
        "requests": int(row["Request Count"]),
        "errors": int(row["Failure Count"]),
        "rps": float(row["Requests/s"]),
        "p50": float(row["50%"]),
        "p95": float(row["95%"]),
    }


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
        wait_until_up()

    def stop(self) -> None:
        if self.process:
            self.process.terminate()
            self.process.wait(timeout=30)
            self.process = None


def report(
    chosen: list[Page], runs: dict, alone: dict, rounds: list[dict], header: str
) -> str:
    """The rounds' table, the pages' table and the sentence of what is missed."""
    lines = [
        "| round | load average at start (1, 5, 15 min) | at end "
        "| machine reference at start | at end | took |",
        "|---|---|---|---|---|---|",
    ]
    for number, r in enumerate(rounds, 1):
        lines.append(
            f"| {number} | {r['load_start']} | {r['load_end']} "
            f"| {r['reference_start']} | {r['reference_end']} "
            f"| {r['seconds'] / 60:.1f} min |"
        )
    lines += [
        "",
        "| page | as | users | p50 ms | p95 ms | p95 ms worst | req/s | errors "
        "| target p95 | by the worst p95 | queries | in process p50 ms "
        "| SQL p50 ms | page / SQL |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    missed = []
    for page in chosen:
        measured = runs[page.key]
        p95s = [m["p95"] for m in measured]
        worst = max(p95s)
        reasons = []
        if page.target is None:
            goal, verdict = "–", "–"
        else:
            goal = f"{page.target} ms"
            verdict = "met" if worst <= page.target else "MISSED"
            if worst > page.target:
                reasons.append(
                    f"p95 {worst:.0f} ms in its worst round, target {page.target} ms"
                )
        a = alone[(page.name, page.role)]
        queries = str(a["queries"])
        if a["fewest"] != a["queries"]:
            queries = f"{a['fewest']}-{a['queries']}"
        if page.budget and a["queries"] > QUERY_BUDGET:
            queries += " MISSED"
            reasons.append(f"{a['queries']} queries, budget {QUERY_BUDGET}")
        if reasons:
            missed.append(f"{page.name} as {page.role} ({'; '.join(reasons)})")
        ratio = a["page_p50"] / a["sql_p50"] if a["sql_p50"] else 0
        lines.append(
            f"| {page.name} | {page.role} | {page.users} "
            f"| {statistics.median(m['p50'] for m in measured):.0f} "
            f"| {statistics.median(p95s):.0f} | {worst:.0f} "
            f"| {statistics.median(m['rps'] for m in measured):.1f} "
            f"| {sum(m['errors'] for m in measured)} | {goal} | {verdict} "
            f"| {queries} | {a['page_p50']:.1f} | {a['sql_p50']:.1f} | {ratio:.1f} |"
        )
    errors = sum(m["errors"] for page in chosen for m in runs[page.key])
    if missed:
        verdict = "Missed: " + ", ".join(missed) + "."
    else:
        verdict = "All targets met (p95 and query budget)."
    if errors:
        verdict += f"\n\n{errors} requests failed (the errors column)."
    return header + "\n".join(lines) + "\n\n" + verdict + "\n"


def main() -> int:
    started = time.monotonic()
    django_setup()
    from django.conf import settings
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
    surname = commonest_surname()
    chosen = [page for page in pages(surname) if page.chosen()]
    if not chosen:
        raise SystemExit(f"No page matches BENCH_PAGES={','.join(ONLY)}.")
    per_page = WARM_UP_SECONDS + SECONDS + 3  # locust starting, twice
    print(
        f"{len(chosen)} pages x {ROUNDS} round(s) x {SECONDS} s (after a "
        f"{WARM_UP_SECONDS} s warm-up): about "
        f"{len(chosen) * ROUNDS * per_page / 60 + 2:.0f} minutes.",
        flush=True,
    )
    rep = User.objects.get(email=ROLES["rep"])
    source_id = rep.partners.first().pk
    today = str(timezone.localdate())
    extra = {
        "BENCH_SOURCE_ID": str(source_id),
        "BENCH_TODAY": today,
        "BENCH_SESSION_COOKIE": settings.SESSION_COOKIE_NAME,
    }

    try:
        alone = in_process(chosen, source_id, today)
    finally:
        remove_logged_referrals(last_id)

    keys = sessions(chosen)
    server = Server()
    runs = {page.key: [] for page in chosen}
    rounds = []
    try:
        for number in range(1, ROUNDS + 1):
            round_started = time.monotonic()
            current = {
                "load_start": load_average(),
                "reference_start": machine_reference(),
            }
            print(
                f"Machine reference before round {number}: "
                f"{current['reference_start']}; load average {current['load_start']}",
                flush=True,
            )
            for page in chosen:
                server.start(page.server_env)
                # A slow page's last requests may still hold both gunicorn workers.
                wait_until_up(seconds=180)
                # caches, connections, plans
                run_locust(page, WARM_UP_SECONDS, extra, keys, warm_up=True)
                # The warm-up's last requests, cut off, are still being served.
                wait_until_up(seconds=180)
                stats = run_locust(page, SECONDS, extra, keys)
                if page.post:
                    remove_logged_referrals(last_id)
                runs[page.key].append(stats)
                print(
                    f"  round {number}: {page.name} as {page.role}, {page.users} "
                    f"users: {stats['rps']:.1f} req/s, p95 {stats['p95']:.0f} ms"
                    + (f", {stats['errors']} errors" if stats["errors"] else ""),
                    flush=True,
                )
            current["load_end"] = load_average()
            current["reference_end"] = machine_reference()
            current["seconds"] = time.monotonic() - round_started
            rounds.append(current)
    finally:
        server.stop()
        sessions_remove(keys)
        removed = remove_logged_referrals(last_id)
        if removed:
            print(f"Removed the {removed} referrals it logged.")
    commit = os.environ.get("BENCH_COMMIT")
    if not commit:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=ROOT,
            capture_output=True,
            text=True,
        ).stdout.strip()
        # Others edit the work tree: say when what ran was not the commit.
        changed = subprocess.run(
            ["git", "diff", "--quiet", "HEAD", "--", ".", ":!bench/RESULTS.md"],
            cwd=ROOT,
        ).returncode
        if changed:
            commit += " with uncommitted changes"
    rounds_text = f"{ROUNDS} round{'s' * (ROUNDS != 1)} of {SECONDS} s per page"
    header = (
        f"\n## make bench: {date.today().isoformat()}, commit {commit}\n\n"
        f"{count:,} referrals in PostgreSQL; gunicorn with 2 workers; each page as "
        f"one user (rep: {ROLES['rep']}, manager: {ROLES['manager']}, admin: "
        f"{ROLES['admin']}), {USERS} at once with locust unless the row says "
        f"otherwise; {rounds_text} after a {WARM_UP_SECONDS} s warm-up; took "
        f"{(time.monotonic() - started) / 60:.0f} min; 2-core machine, everything "
        "on it. Search terms: the commonest surname in the data and a partial "
        f'one ("{PARTIAL_TERM}": García as well as Garcia once search ignores '
        "accents).\n\n"
        "p50, p95 and req/s: the medians of the rounds; a target is met when "
        "the worst round's p95 is within it. Queries, in process p50 and SQL "
        f"p50: the page requested {IN_PROCESS_RUNS} times in one process (test "
        "Client; fewer, at least 5, for a page slower than a second), its SQL "
        "statements counted and timed (a range when the count varied); more "
        f"than {QUERY_BUDGET} is MISSED (the counted dashboard excepted). "
        "Machine reference: fixed work, lower is faster (see "
        "machine_reference).\n\n"
    )
    text = report(chosen, runs, alone, rounds, header)
    print(text)
    if ONLY:
        print("A partial run (BENCH_PAGES): not recorded in bench/RESULTS.md.")
        return 0
    with open(ROOT / "bench/RESULTS.md", "a") as handle:
        handle.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())

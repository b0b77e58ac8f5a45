"""What one request costs this process, counted in instructions.

    .venv/bin/python bench/instructions.py [--against COMMIT] [PAGE ...]

Pages: team (the team dashboard, last 90 days), board, list, partners, post
(log a referral), today (a manager's Today); all by default. Needs valgrind
and the bench database (`make bench-data`).

The timed benches cannot tell a 10% change from this machine's drift (a
third within an hour, seen here). Instructions do not drift: valgrind's
callgrind counts the same total for the same work however busy the machine
is. For each page, two processes run under callgrind, each making the same
warm-up requests in the test client, one of them then making RUNS more; the
difference, divided by RUNS, is one request's instructions in Python
(Django, the view, the template, psycopg2's client side). PostgreSQL's own
work runs in its server and is not counted here: the statements each
request sends are printed beside it (`make bench` times the database).

--against COMMIT counts that commit too (in a git worktree, with this
checkout's venv) and prints both, and the change.
"""

import argparse
import gc
import os
import re
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
PAGES = {
    "team": ("manager01@bench.example", "/dashboard/?period=last_90"),
    "board": ("rep0101@bench.example", "/referrals/board/"),
    "list": ("rep0101@bench.example", "/referrals/"),
    "partners": ("rep0101@bench.example", "/partners/"),
    "post": ("rep0101@bench.example", "/referrals/new/"),
    # Not a page of the speed targets, but the one every user lands on.
    "today": ("manager01@bench.example", "/"),
}
WARM = 10
RUNS = int(os.environ.get("INSTRUCTION_RUNS", "40"))
COLLECTED = re.compile(r"Collected : (\d+)")


def setup(root: Path) -> None:
    """Django with the code in `root` and the bench's settings (production,
    the bench database), its static files collected in VAR_DIR."""
    sys.path.insert(0, str(HERE))
    import load

    var = os.environ.get("VAR_DIR", load.ENV["VAR_DIR"])  # the parent's, if any
    os.environ.update({**load.ENV, "VAR_DIR": var})
    os.environ["DJANGO_SETTINGS_MODULE"] = "referrals_crm.settings"
    sys.path.insert(0, str(root))
    import django

    django.setup()


def child(root: Path, page: str, runs: int) -> None:
    """Make WARM + `runs` requests to `page` with the code in `root`."""
    setup(root)
    from django.db import connection, reset_queries
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from accounts.models import User

    email, path = PAGES[page]
    user = User.objects.get(email=email)
    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(user)
    today = timezone.localdate().isoformat()
    if page == "post":
        source = user.partners.order_by("pk").values_list("pk", flat=True)[0]

    def request(number: int):
        if page != "post":
            return client.get(path)
        # As in locustfile.LogReferral: the page a browser lands on shows and
        # clears "Referral logged"; not followed, the cookie would pile up.
        client.cookies.pop("messages", None)
        return client.post(
            path,
            {
                "source": source,
                "prospect_name": f"Load {os.getpid()}-{number}",
                "prospect_email": f"load{os.getpid()}-{number}@example.net",
                "prospect_company": f"Load Co {os.getpid()}-{number}",
                "received_on": today,
                "estimated_value": "1000",
                "new_source_kind": "customer",  # the form's select always sends one
            },
        )

    expected = 302 if page == "post" else 200  # a logged referral redirects
    for number in range(WARM):
        status = request(number).status_code
        assert status == expected, f"{page}: {status}, not {expected}"
    # Django's objects out of the collector's way: a full collection over
    # them, run when the allocations of one process or the other happen to
    # reach its threshold, made the same work count up to 15% apart.
    gc.collect()
    gc.freeze()
    reset_queries()  # as each request starts: the context counts from 0
    with CaptureQueriesContext(connection) as queries:
        request(WARM)
    statements = len(queries.captured_queries)  # before the next request clears it
    for number in range(runs):
        request(WARM + 1 + number)
    print(f"statements {statements}")


def collect_static(root: Path) -> dict:
    """Collect `root`'s static files once, outside valgrind (hashing them
    there takes minutes): the environment its children run with."""
    env = {**os.environ, "VAR_DIR": tempfile.mkdtemp(prefix="crm-instructions-")}
    subprocess.run(
        [str(ROOT / ".venv/bin/python"), __file__, "--collect", str(root)],
        cwd=root,
        env=env,
        check=True,
    )
    return env


def count(root: Path, env: dict, page: str, runs: int) -> tuple[int, int]:
    """Instructions of the child process under callgrind, and its statements."""
    done = subprocess.run(
        [
            "valgrind",
            "--tool=callgrind",
            "--callgrind-out-file=/dev/null",
            str(ROOT / ".venv/bin/python"),
            __file__,
            "--child",
            str(root),
            page,
            str(runs),
        ],
        capture_output=True,
        text=True,
        cwd=root,
        env={**env, "PYTHONHASHSEED": "0"},
    )
    found = COLLECTED.search(done.stderr)
    if done.returncode or not found:
        raise SystemExit(f"{page} at {root} failed:\n{done.stdout}\n{done.stderr}")
    statements = int(re.search(r"statements (\d+)", done.stdout).group(1))
    return int(found.group(1)), statements


def per_request(root: Path, env: dict, page: str, last_id: int) -> tuple[float, int]:
    """Millions of instructions per request of `page`, and its statements."""
    if page == "post":
        # One process at a time, each from the same data: what a referral
        # logged does depends on what was logged before (its source's
        # thank-yous), so the referrals each logs are removed after it.
        import load

        base, more = [], []
        for runs, into in ((0, base), (RUNS, more)):
            into.extend(count(root, env, page, runs))
            load.remove_logged_referrals(last_id)
    else:
        with ThreadPoolExecutor(2) as pool:  # the two processes, one per core
            base, more = pool.map(lambda runs: count(root, env, page, runs), (0, RUNS))
    return (more[0] - base[0]) / RUNS / 1e6, more[1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--against", help="a commit to count too")
    parser.add_argument("pages", nargs="*", help=", ".join(PAGES))
    args = parser.parse_args()
    pages = args.pages or list(PAGES)
    unknown = set(pages) - set(PAGES)
    if unknown:
        parser.error(
            f"no page {', '.join(sorted(unknown))}: pick from {', '.join(PAGES)}"
        )
    sys.path.insert(0, str(HERE))
    import load

    load.django_setup()
    from referrals.models import Referral

    last_id = Referral.objects.order_by("-pk").values_list("pk", flat=True).first()
    roots = [("work tree", ROOT)]
    worktree = None
    if args.against:
        worktree = Path(tempfile.mkdtemp(prefix="crm-instructions-"))
        subprocess.run(
            ["git", "worktree", "add", "--quiet", "--detach", str(worktree)]
            + [args.against],
            cwd=ROOT,
            check=True,
        )
        roots.insert(0, (args.against, worktree))
    try:
        envs = {name: collect_static(root) for name, root in roots}
        print(f"Million instructions per request in Python ({RUNS} requests)")
        for page in pages:
            counted = [
                (name, *per_request(root, envs[name], page, last_id))
                for name, root in roots
            ]
            line = "; ".join(f"{n}: {m:.2f} ({s} statements)" for n, m, s in counted)
            if len(counted) == 2:
                line += f"; change {counted[1][1] / counted[0][1] - 1:+.1%}"
            print(f"  {page}: {line}", flush=True)
    finally:
        if worktree:
            subprocess.run(
                ["git", "worktree", "remove", "--force", str(worktree)], cwd=ROOT
            )
        removed = load.remove_logged_referrals(last_id)
        if removed:
            print(f"Removed the {removed} referrals it logged.")
    return 0


if __name__ == "__main__":
    if sys.argv[1:2] == ["--collect"]:
        setup(Path(sys.argv[2]))
        from django.core.management import call_command

        call_command("collectstatic", "--noinput", verbosity=0)
        sys.exit(0)
    if sys.argv[1:2] == ["--child"]:
        child(Path(sys.argv[2]), sys.argv[3], int(sys.argv[4]))
        sys.exit(0)
    sys.exit(main())

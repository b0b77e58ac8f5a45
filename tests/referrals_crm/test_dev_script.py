"""`make run`'s script (scripts/dev.sh): the address its processes put in
links, where it says mail goes, and one INT or TERM stopping all it started.

Each test starts the script for real, on a free port with its own VAR_DIR
(SQLite, filesystem broker), and kills whatever it started when it ends.
"""

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.conf import settings

# Slow (about 30 s) and starting a real worker: `make test-fast` skips it.
pytestmark = pytest.mark.worker

# Starting takes a few seconds (the banner comes 2 s after the processes).
START_SECONDS = 60
# A stop gives the worker 10 s to finish its task (STOP_GRACE_SECONDS in the
# script), then kills what is left; an idle stop takes a few seconds.
STOP_SECONDS = 20
# A person stops `make run` once the worker's pool sits idle, waiting for
# work. Stopped the moment it is up, the old script's hang on TERM showed only
# now and then; after 3 s idle, in every run tried.
IDLE_SECONDS = 3
# Variables of this test run that must not reach the script's processes.
NOT_PASSED_ON = {
    "CELERY_BROKER_DIR",
    "DEBUG",
    "DJANGO_ALLOW_ASYNC_UNSAFE",
    "DJANGO_SETTINGS_MODULE",  # `make run` uses the project's, not the tests'
    "EMAIL_BACKEND",
    "EMAIL_HOST",
    "EMAIL_PORT",
    "EMAIL_URL",
    "HOST",
    "SECRET_KEY",
    "SITE_URL",
}


@dataclass
class Run:
    script: subprocess.Popen
    port: int
    output: Path
    started: dict[int, str]  # every process it started: pid -> start time

    def banner(self) -> str:
        return self.output.read_text()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _processes() -> dict[int, tuple[int, str]]:
    """Each live process's parent and start time, by pid (from /proc)."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:  # ended while we looked
            continue
        fields = stat.rsplit(")", 1)[1].split()
        state, parent, start_time = fields[0], int(fields[1]), fields[19]
        if state != "Z":  # a zombie has ended; it waits to be reaped
            found[int(entry.name)] = (parent, start_time)
    return found


def _descendants(root: int) -> dict[int, str]:
    """`root` and every process under it, with their start times (a pid may
    be reused; a pid with the same start time is the same process)."""
    processes = _processes()
    found = {root: processes[root][1]} if root in processes else {}
    grew = True
    while grew:
        grew = False
        for pid, (parent, start_time) in processes.items():
            if parent in found and pid not in found:
                found[pid] = start_time
                grew = True
    return found


def _alive(started: dict[int, str]) -> list[int]:
    processes = _processes()
    return [
        pid
        for pid, start_time in started.items()
        if pid in processes and processes[pid][1] == start_time
    ]


def _command(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_text().replace("\0", " ")
    except OSError:
        return ""


def _role(pid: int) -> str:
    command = _command(pid)
    return next(
        (r for r in ("worker", "beat", "runserver") if f" {r} " in command), command
    )


def _web_answers(port: int) -> bool:
    try:
        urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1)
    except urllib.error.HTTPError:  # an answer all the same (no tables: 503)
        return True
    except OSError:
        return False
    return True


def _wait_until_up(run: Run) -> None:
    """The banner is out, the web server answers, and the worker has its two
    pool processes (what a stop has to take down with it)."""
    deadline = time.monotonic() + START_SECONDS
    while time.monotonic() < deadline:
        assert run.script.poll() is None, run.banner()
        workers = [
            pid
            for pid in _descendants(run.script.pid)
            if "celery -A referrals_crm worker" in _command(pid)
        ]
        up = "Press Ctrl-C" in run.banner() and len(workers) == 3
        if up and _web_answers(run.port):
            return
        time.sleep(0.2)
    raise AssertionError(f"scripts/dev.sh did not start:\n{run.banner()}")


@contextmanager
def dev_script(tmp_path, **env_overrides):
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if k not in NOT_PASSED_ON}
    env.update(
        PORT=str(port),
        VAR_DIR=str(tmp_path),
        DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}",
        CELERY_BROKER_URL="filesystem://",
        **env_overrides,
    )
    output = tmp_path / "output.txt"
    with output.open("w") as out:
        # Its own session and process group, as a terminal or an IDE gives it.
        script = subprocess.Popen(
            ["bash", "scripts/dev.sh"],
            cwd=settings.BASE_DIR,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    run = Run(script=script, port=port, output=output, started={})
    try:
        _wait_until_up(run)
        run.started = _descendants(script.pid)
        yield run
    finally:
        for pid in _alive(run.started | _descendants(script.pid)):
            with suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        script.wait(timeout=10)


def _seconds_until_all_stopped(run: Run) -> float:
    began = time.monotonic()
    while _alive(run.started) and time.monotonic() - began < STOP_SECONDS:
        time.sleep(0.1)
    return time.monotonic() - began


def _left(run: Run) -> list[str]:
    return [_command(pid) for pid in _alive(run.started)]


def test_term_to_its_process_group_stops_everything_it_started(tmp_path):
    """What an IDE or a process manager sends: the worker's pool processes
    got it too and its warm shutdown hung, the worker left running."""
    with dev_script(tmp_path) as run:
        time.sleep(IDLE_SECONDS)
        os.killpg(run.script.pid, signal.SIGTERM)
        seconds = _seconds_until_all_stopped(run)
        assert not _left(run), f"{_left(run)} still running after {seconds:.1f} s"
        assert run.script.wait(timeout=5) == 143


def test_int_to_its_process_group_stops_everything_it_started(tmp_path):
    """What Ctrl-C in the terminal sends."""
    with dev_script(tmp_path) as run:
        time.sleep(IDLE_SECONDS)
        os.killpg(run.script.pid, signal.SIGINT)
        seconds = _seconds_until_all_stopped(run)
        assert not _left(run), f"{_left(run)} still running after {seconds:.1f} s"
        assert run.script.wait(timeout=5) == 130


def _site_url_seen_by(pid: int) -> str:
    """settings.SITE_URL, read with the process's own environment."""
    environ = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
    env = dict(item.decode().split("=", 1) for item in environ if b"=" in item)
    shown = subprocess.run(
        [
            sys.executable,
            "-c",
            "from referrals_crm import settings as s; print(s.SITE_URL)",
        ],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return shown.stdout.strip()


def test_web_worker_and_beat_link_to_the_port_it_serves(tmp_path):
    with dev_script(tmp_path) as run:
        children = [
            pid for pid, (parent, _) in _processes().items() if parent == run.script.pid
        ]
        roles = sorted(_role(pid) for pid in children)
        assert roles == ["beat", "runserver", "worker"]
        expected = f"http://127.0.0.1:{run.port}"
        assert [_site_url_seen_by(pid) for pid in children] == [expected] * 3
        assert f"Emails the app sends appear at {expected}/outbox/" in run.banner()


def test_with_email_url_it_says_mail_goes_out_through_smtp(tmp_path):
    email_url = "smtp+tls://crm:s3cret-word@mail.example.com:587"
    with dev_script(tmp_path, EMAIL_URL=email_url) as run:
        banner = run.banner()
    assert "Emails go out through SMTP at mail.example.com:587 (STARTTLS)" in banner
    assert "/outbox/" not in banner
    assert "s3cret-word" not in banner

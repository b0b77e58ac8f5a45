"""The systemd units in deploy/systemd/ run what the Procfile runs, and bring
a process that died back (issue 23: a worker that exited stayed gone)."""

import configparser
import os
import re
import shlex
import shutil
import subprocess
from pathlib import Path

import pytest
from django.conf import settings

UNITS = Path(settings.BASE_DIR) / "deploy" / "systemd"
INSTALLED_AT = "/srv/referral-crm"  # the checkout, in the units and the guide
# Procfile process -> its unit. `release` (migrate) is an upgrade step, run by
# hand in the order docs/deployment.md gives, not a service.
PROCESSES = {
    "web": "referral-crm-web.service",
    "worker": "referral-crm-worker.service",
    "beat": "referral-crm-beat.service",
}
DEFAULTED = re.compile(r"\$\{(\w+):-([^}]*)\}")  # ${PORT:-8000}


def unit(name: str) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(
        strict=False, interpolation=None, delimiters=("=",)
    )
    parser.optionxform = str  # systemd keys are case-sensitive
    parser.read_string((UNITS / name).read_text())
    return parser


def procfile() -> dict[str, str]:
    lines = (Path(settings.BASE_DIR) / "Procfile").read_text().splitlines()
    return dict(line.split(": ", 1) for line in lines if line.strip())


def environment_defaults(service) -> dict[str, str]:
    assignments = shlex.split(service.get("Environment", ""))
    return dict(a.split("=", 1) for a in assignments)


def test_every_procfile_process_has_a_unit():
    assert set(procfile()) - {"release"} == set(PROCESSES)
    assert sorted(p.name for p in UNITS.glob("*.service")) == sorted(PROCESSES.values())


@pytest.mark.parametrize("process", PROCESSES)
def test_the_unit_runs_the_procfile_command_from_the_venv(process):
    service = unit(PROCESSES[process])["Service"]
    command = shlex.split(service["ExecStart"])
    expected = shlex.split(procfile()[process])
    # Procfile's ${PORT:-8000} is the unit's ${PORT}, with PORT=8000 set in
    # Environment= (systemd has no ":-"); the environment file may override it.
    defaults = dict(DEFAULTED.findall(procfile()[process]))
    expected = [DEFAULTED.sub(r"${\1}", word) for word in expected]
    assert command[0] == f"{service['WorkingDirectory']}/.venv/bin/{expected[0]}"
    assert command[1:] == expected[1:]
    assert environment_defaults(service) == defaults


@pytest.mark.parametrize("process", PROCESSES)
def test_the_unit_restarts_and_runs_as_its_own_user(process):
    service = unit(PROCESSES[process])["Service"]
    assert service["Restart"] == "always"
    assert service["EnvironmentFile"] == "/etc/referral-crm/env"
    assert service["User"] == service["Group"] == "referral-crm"
    assert service["WorkingDirectory"] == INSTALLED_AT
    # Restarting for as long as it takes: no start limit to run into.
    assert unit(PROCESSES[process])["Unit"]["StartLimitIntervalSec"] == "0"


def test_a_dead_worker_is_back_within_seconds():
    service = unit(PROCESSES["worker"])["Service"]
    assert service["RestartSec"] == "5"


def test_a_stopping_worker_finishes_its_tasks_first():
    """SIGTERM to the main process alone (Celery's warm shutdown), and time
    for the longest task to reach its hard time limit before SIGKILL."""
    from referrals_crm.celery import app

    app.loader.import_default_modules()  # the tasks, as a worker loads them
    service = unit(PROCESSES["worker"])["Service"]
    ours = [task for name, task in app.tasks.items() if not name.startswith("celery.")]
    assert len(ours) >= 4
    longest = max(task.time_limit or app.conf.task_time_limit for task in ours)
    assert service["KillMode"] == "mixed"
    assert int(service["TimeoutStopSec"]) > longest


def test_a_stopping_web_process_finishes_its_requests_first():
    service = unit(PROCESSES["web"])["Service"]
    assert service["KillMode"] == "mixed"
    assert int(service["TimeoutStopSec"]) > 30  # gunicorn's graceful timeout
    assert service["Type"] == "notify"  # gunicorn says when it is ready


def test_systemd_accepts_the_units(tmp_path):
    """`systemd-analyze verify`, where systemd is installed, with the paths
    pointed at this checkout so the programs it checks exist."""
    if not shutil.which("systemd-analyze"):
        missing = "systemd-analyze is not installed (apt package systemd)"
        if os.environ.get("CI"):
            pytest.fail(missing + ": .ci/run installs it; CI must not skip this.")
        pytest.skip(missing)
    for name in PROCESSES.values():
        text = (UNITS / name).read_text().replace(INSTALLED_AT, str(settings.BASE_DIR))
        (tmp_path / name).write_text(text)
    result = subprocess.run(
        ["systemd-analyze", "verify", *sorted(tmp_path.glob("*.service"))],
        capture_output=True,
        text=True,
        timeout=60,
    )
    # Unknown keys and bad values are only warnings: read them too.
    ours = [line for line in result.stderr.splitlines() if "referral-crm" in line]
    assert result.returncode == 0 and not ours, result.stderr

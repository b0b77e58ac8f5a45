"""Helpers more than one test module uses (fixtures stay in conftest.py)."""

import csv
import io
import os
import subprocess
import sys
import threading
import time
from contextlib import contextmanager
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from django.utils import timezone

from referrals.rollups import KEYS

# Settings a production start needs (tests/test_settings.py checks them).
PRODUCTION_ENV = {
    "DEBUG": "false",
    "SECRET_KEY": "x" * 20 + "-production-key-for-the-deploy-check-0123456789",
    "ALLOWED_HOSTS": "crm.example.com",
}


def run_manage(*args, env_overrides, tmp_path):
    """`manage.py *args` in a child process with the project's own settings
    (not the tests'), this environment less what would decide the result."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k
        not in {
            "SECRET_KEY",
            "DEBUG",
            "EMAIL_URL",
            "EMAIL_BACKEND",
            "DJANGO_ALLOW_ASYNC_UNSAFE",
            "DJANGO_SETTINGS_MODULE",
            "SITE_URL",
            "HOST",
            "PORT",
        }
    }
    env.update({"VAR_DIR": str(tmp_path), **env_overrides})
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def _database_url_for_subprocess() -> str:
    """The URL of the test database this test run created, for a child process."""
    db = connection.settings_dict
    if db["ENGINE"] == "django.db.backends.sqlite3":
        return f"sqlite:///{Path(db['NAME']).resolve()}"
    auth = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
    return f"postgres://{auth}@{db['HOST']}:{db['PORT'] or 5432}/{db['NAME']}"


def process_env(**extra) -> dict:
    """The environment of a child process that stands in for the suite (a
    Celery worker, a manage.py command): the test settings, database and
    broker."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "referrals_crm.settings_test",
        "DATABASE_URL": _database_url_for_subprocess(),
        "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
        "VAR_DIR": str(settings.VAR_DIR),
    }
    if settings.CELERY_BROKER_URL.startswith("filesystem://"):
        env["CELERY_BROKER_DIR"] = str(settings.BROKER_DIR)
    env.update({k: str(v) for k, v in extra.items()})
    return env


@contextmanager
def broker_unreachable(url="redis://127.0.0.1:1/0"):
    """This process's broker becomes `url` (by default a port where nothing
    listens), with the production Redis options; then the real one is back."""
    with broker_at(url):
        yield


@contextmanager
def broker_at(url):
    """This process publishes to the Redis broker at `url` for a while."""
    from referrals_crm.celery import app

    saved_env = os.environ.get("CELERY_BROKER_URL")
    saved = app.conf.broker_url, app.conf.broker_transport_options
    os.environ["CELERY_BROKER_URL"] = url  # the environment wins in Celery
    app.conf.broker_url = url
    app.conf.broker_transport_options = settings.REDIS_TRANSPORT_OPTIONS
    app._after_fork()  # drop pooled connections to the real broker
    try:
        yield
    finally:
        if saved_env is None:
            os.environ.pop("CELERY_BROKER_URL", None)
        else:
            os.environ["CELERY_BROKER_URL"] = saved_env
        app.conf.broker_url, app.conf.broker_transport_options = saved
        app._after_fork()


def wait_for(predicate, timeout: float = 30.0, interval: float = 0.2):
    """Poll until predicate() is truthy; return its value, or fail after timeout."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    pytest.fail(
        f"timed out after {timeout}s waiting for {predicate.__doc__ or predicate}"
    )


def at_once(work, workers: int = 2) -> list:
    """Run `work` in `workers` threads (each its own database connection),
    started together; their results."""
    start = threading.Barrier(workers)
    results = []

    def worker():
        start.wait()
        try:
            results.append(work())
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def form_data(**overrides):
    """What the new-referral form posts, with a new source; `overrides` win."""
    data = {
        "prospect_name": "Nora Newman",
        "prospect_company": "Initech",
        "prospect_email": "nora@initech.example",
        "estimated_value": "12000",
        "received_on": timezone.localdate().isoformat(),
        "note": "Looking for a new payroll provider by March.",
        "new_source_kind": "customer",
    }
    data.update(overrides)
    return data


def totals(summary=None) -> dict:
    """{(summary, *key): (count, value)} as the summaries hold them (empty rows
    left out); one summary's {key: (count, value)} when it is named."""
    rows = {
        (model.__name__, *(getattr(row, column) for column in KEYS[model])): (
            row.count,
            row.value,
        )
        for model in KEYS
        for row in model.objects.all()
        if row.count or row.value
    }
    if summary is None:
        return rows
    return {key[1:]: value for key, value in rows.items() if key[0] == summary.__name__}


def csv_rows(response) -> list[list[str]]:
    """The rows of a CSV download, header first (exports are streamed)."""
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    text = b"".join(response.streaming_content).decode()
    return list(csv.reader(io.StringIO(text)))


# The scoping rule on a record of alice's (tests/conftest.py): alice (North
# rep) owns it; bob is her teammate; carol manages North; dave is a South
# rep; erin manages South. A page of it answers each persona so (302: to the
# login page).
PERSONAS = ["anonymous", "alice", "bob", "carol", "dave", "erin", "admin"]
SEES_ALICES = {
    "anonymous": 302,
    "alice": 200,
    "bob": 404,
    "carol": 200,
    "dave": 404,
    "erin": 404,
    "admin": 200,
}

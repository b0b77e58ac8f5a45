import os
import shutil
import subprocess
import sys
from importlib import import_module

import pytest
from django.conf import settings
from django.utils import timezone

from accounts.models import ADMIN, MANAGER
from tests.factories import PartnerFactory, ReferralFactory, TeamFactory, UserFactory
from tests.helpers import (
    process_env,
    wait_for,  # noqa: F401 (the dashboard tests import it here)
)
from tests.smtp import SinkServer


def pytest_collection_modifyitems(config, items):
    """Tests marked postgresql are left out (deselected, not skipped) when
    the database is SQLite: `make test` on the embedded default runs
    everything it can, and CI's PostgreSQL pass runs them."""
    from django.db import connection

    if connection.vendor == "postgresql":
        return
    left_out = [item for item in items if item.get_closest_marker("postgresql")]
    if left_out:
        config.hook.pytest_deselected(items=left_out)
        items[:] = [item for item in items if item not in left_out]


# Playwright's sync API runs an event loop in the test thread; the live server
# and the ORM calls of the test itself are still plain synchronous code.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = "/usr/bin/chromium"
NO_CHROMIUM = (
    "Chromium is not installed: browser tests drive Debian's chromium. "
    "Install it with `sudo apt-get install -y chromium`."
)


@pytest.fixture(autouse=True)
def no_time_zone_left_active():
    """A test client's request leaves its user's time zone active in this
    thread (core.middleware activates it per request); the next test would
    count its "today" there while worker threads count it in UTC."""
    yield
    timezone.deactivate()


@pytest.fixture(autouse=True)
def migrated_rows(request):
    """Put back the rows data migrations made (stages, roles) when needed.

    A transactional test (live server, real worker) ends with a flush that
    empties every table, including those rows; tests after it need them back.
    """
    names = request.fixturenames
    if "transactional_db" in names or "live_server" in names:
        request.getfixturevalue("transactional_db")
    elif "db" in names:
        request.getfixturevalue("db")
    else:
        return
    from django.apps import apps
    from django.contrib.auth.models import Group

    from referrals.models import Stage
    from thanks.models import ThankYouMoment

    if not Stage.objects.exists():
        import_module("referrals.migrations.0002_default_stages").create_stages(
            apps, None
        )
    if not Group.objects.exists():
        import_module("accounts.migrations.0002_roles").create_roles(apps, None)
    if not ThankYouMoment.objects.exists():
        # The rows referrals.0004 made, before the model moved to thanks.
        moments = import_module("referrals.migrations.0004_default_thank_you_moments")
        for moment, enabled, within, subject, body in moments.MOMENTS:
            ThankYouMoment.objects.create(
                moment=moment,
                enabled=enabled,
                within_minutes=within,
                subject=subject,
                body=body,
            )


# Personas, as in STYLE.md: alice and bob are reps in North, carol manages
# North, dave is a rep in South, erin manages South, admin sees everything.
@pytest.fixture
def north(db):
    return TeamFactory(name="North")


@pytest.fixture
def south(db):
    return TeamFactory(name="South")


@pytest.fixture
def alice(north):
    return UserFactory(email="alice@example.com", display_name="Alice Rep", team=north)


@pytest.fixture
def bob(north):
    return UserFactory(email="bob@example.com", display_name="Bob Rep", team=north)


@pytest.fixture
def carol(north):
    user = UserFactory(
        email="carol@example.com", display_name="Carol Manager", role=MANAGER
    )
    north.manager = user
    north.save()
    return user


@pytest.fixture
def dave(south):
    return UserFactory(email="dave@example.com", display_name="Dave Rep", team=south)


@pytest.fixture
def erin(south):
    user = UserFactory(
        email="erin@example.com", display_name="Erin Manager", role=MANAGER
    )
    south.manager = user
    south.save()
    return user


@pytest.fixture
def admin(db):
    return UserFactory(
        email="admin@example.com",
        display_name="Ada Admin",
        role=ADMIN,
        is_staff=True,
        is_superuser=True,
    )


@pytest.fixture
def alice_partner(alice):
    return PartnerFactory(owner=alice, name="Priya Source", company="Acme HR")


@pytest.fixture
def alice_referral(alice_partner):
    return ReferralFactory(
        source=alice_partner, prospect_name="Paula Prospect", prospect_company="Globex"
    )


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    """Debian's Chromium, never a browser downloaded by Playwright."""
    if not shutil.which(CHROMIUM):
        if os.environ.get("CI"):
            pytest.fail(NO_CHROMIUM + " CI must not skip browser tests.")
        pytest.skip(NO_CHROMIUM)
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "headless": True,
        "args": [
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
        ],
    }


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture
def celery_processes(transactional_db, tmp_path):
    """Start real `celery worker` / `celery beat` processes on the test database.

    Committed rows (transactional_db) are what they read. Whatever the broker
    held from an earlier run is purged first so it cannot interfere. Every
    process is stopped at the end of the test.
    """
    from referrals_crm.celery import app
    from thanks.queue import QUEUED_FLAG
    from thanks.queue import broker_redis as _broker_redis

    with app.connection_for_write() as conn:
        conn.default_channel.queue_purge("celery")
    if client := _broker_redis():  # its "a dispatch is queued" went with the purge
        client.delete(QUEUED_FLAG)
    started = []

    def start(kind: str = "worker", **env) -> subprocess.Popen:
        command = [sys.executable, "-m", "celery", "-A", "referrals_crm", kind]
        if kind == "worker":
            command += ["--pool", "solo", "--without-mingle", "--without-gossip"]
            command += ["--without-heartbeat"]
        else:  # beat: a schedule file of its own, so two beats can run at once
            command += ["--schedule", str(tmp_path / f"beat-{len(started)}")]
        command += ["--loglevel", "warning"]
        process = subprocess.Popen(
            command, env=process_env(**env), cwd=settings.BASE_DIR
        )
        started.append(process)
        return process

    yield start
    for process in started:
        _stop(process)


@pytest.fixture
def celery_worker_process(celery_processes):
    return celery_processes("worker")


@pytest.fixture
def smtp_sink(settings):
    """A real SMTP server on loopback, and Django's SMTP backend pointed at it."""
    with SinkServer() as server:
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_HOST = "127.0.0.1"
        settings.EMAIL_PORT = server.port
        settings.EMAIL_USE_TLS = False
        settings.EMAIL_HOST_USER = ""
        settings.EMAIL_HOST_PASSWORD = ""
        server.sink.port = server.port
        yield server.sink

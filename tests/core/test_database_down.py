"""While the database does not answer, pages say so with a 503, not a bare 500.

The web server runs as in production (gunicorn, DEBUG off, collected static
files) against a PostgreSQL address where nothing listens: a real outage.
"""

import os
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pytest
from django.conf import settings

from core.errors import RETRY_AFTER
from tests.smtp import free_port


@pytest.fixture
def web_without_database(tmp_path):
    port, dead = free_port(), free_port()
    env = {
        **os.environ,
        "DEBUG": "false",
        "SECRET_KEY": "test-" + "x" * 50,
        "ALLOWED_HOSTS": "127.0.0.1",
        "SECURE_SSL_REDIRECT": "false",
        "DATABASE_URL": f"postgres://postgres@127.0.0.1:{dead}/gone",
        "VAR_DIR": str(tmp_path),
        "CELERY_BROKER_URL": "filesystem://",
    }
    env.pop("DJANGO_SETTINGS_MODULE", None)
    manage = [sys.executable, "manage.py"]
    subprocess.run(
        [*manage, "collectstatic", "--noinput", "-v0"],
        env=env,
        cwd=settings.BASE_DIR,
        check=True,
    )
    gunicorn = [sys.executable, "-m", "gunicorn", "referrals_crm.wsgi"]
    process = subprocess.Popen(
        [*gunicorn, "--bind", f"127.0.0.1:{port}", "--workers", "1"],
        env=env,
        cwd=settings.BASE_DIR,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(base + "/healthz", timeout=2)
                break
            except urllib.error.HTTPError:
                break  # it answers (503: no database)
            except OSError:
                time.sleep(0.2)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=15)


def get(url: str, **headers):
    request = urllib.request.Request(url, headers=headers)
    try:
        response = urllib.request.urlopen(request, timeout=10)
    except urllib.error.HTTPError as error:
        response = error
    return response.status, response.headers, response.read().decode()


def test_a_page_during_a_database_outage_is_a_503_that_says_so(web_without_database):
    # A signed-in visitor: their session is read from the database first.
    status, headers, html = get(
        web_without_database + "/", Cookie="sessionid=" + "a" * 32
    )
    assert status == 503
    assert headers["Retry-After"] == str(RETRY_AFTER)
    assert "The database is not answering" in html
    assert "Nothing you saved is lost" in html
    assert "Server Error (500)" not in html
    assert "/static/" in html  # the product's look, with its stylesheet


def test_healthz_names_the_database(web_without_database):
    status, _, body = get(web_without_database + "/healthz")
    assert status == 503
    assert '"database": "error"' in body

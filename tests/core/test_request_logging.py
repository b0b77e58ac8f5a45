"""What the console says about a request that failed: one line for each 4xx
(an expected 403 or 404 is no news), the traceback for a 500.

Each case runs a request in a fresh process with the project's logging set up
as `runserver` and gunicorn have it, and reads what that process printed.
"""

import os
import subprocess
import sys

import pytest
from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.urls import path

TRACEBACK = "Traceback (most recent call last)"


def forbidden(request):
    raise PermissionDenied("The dashboard is for managers and admins.")


def missing(request):
    raise Http404("No such referral.")


def broken(request):
    raise RuntimeError("a bug")


def form(request):
    return HttpResponse("saved")


# The URLs the requests below go to (ROOT_URLCONF in the child process).
urlpatterns = [
    path("forbidden/", forbidden),
    path("missing/", missing),
    path("broken/", broken),
    path("form/", form),
]

REQUEST = """
import logging

import django
django.setup()
from django.test import Client
from django.test.utils import override_settings

client = Client(raise_request_exception=False, enforce_csrf_checks=True)
# Static files as in development: the error pages link CSS, and production's
# manifest exists only after collectstatic.
storages = {{"staticfiles": {{"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}}}
with override_settings(ROOT_URLCONF="tests.core.test_request_logging", STORAGES=storages):
    {statement}
"""


def logged(statement: str, *, debug: bool, tmp_path) -> list[str]:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "referrals_crm.settings",
        "DEBUG": str(debug).lower(),
        "SECRET_KEY": "a-key-for-the-request-logging-test-0123456789-abcdefgh",
        "ALLOWED_HOSTS": "testserver",
        "SECURE_SSL_REDIRECT": "false",
        "LOG_LEVEL": "INFO",
        "VAR_DIR": str(tmp_path),
    }
    done = subprocess.run(
        [sys.executable, "-c", REQUEST.format(statement=statement)],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return done.stderr.splitlines()


@pytest.mark.parametrize("debug", [True, False], ids=["development", "production"])
@pytest.mark.parametrize(
    "call, line",
    [
        ('client.get("/forbidden/")', "Forbidden (Permission denied): /forbidden/"),
        ('client.get("/missing/")', "Not Found: /missing/"),
        (
            'client.post("/form/")',
            "Forbidden (CSRF cookie not set.): /form/",
        ),
        (
            'client.get("/form/", headers={"host": "evil.example.com"})',
            "Invalid HTTP_HOST header: 'evil.example.com'. You may need to add "
            "'evil.example.com' to ALLOWED_HOSTS.",
        ),
    ],
    ids=["403", "404", "csrf", "disallowed-host"],
)
def test_a_client_error_is_one_line(call, line, debug, tmp_path):
    output = logged(call, debug=debug, tmp_path=tmp_path)
    assert TRACEBACK not in "\n".join(output)
    assert output.count(line) == 1, output


@pytest.mark.parametrize("debug", [True, False], ids=["development", "production"])
def test_a_server_error_keeps_its_traceback_once(debug, tmp_path):
    output = "\n".join(logged('client.get("/broken/")', debug=debug, tmp_path=tmp_path))
    assert output.count("Internal Server Error: /broken/") == 1
    assert output.count(TRACEBACK) == 1
    assert "RuntimeError: a bug" in output


def test_runserver_request_lines_keep_their_time_and_come_once(tmp_path):
    emit = (
        'logging.getLogger("django.server").warning('
        '\'"GET /missing/ HTTP/1.1" 404 179\', extra={"status_code": 404})'
    )
    output = logged(emit, debug=True, tmp_path=tmp_path)
    lines = [line for line in output if '"GET /missing/ HTTP/1.1" 404 179' in line]
    assert len(lines) == 1, output
    assert lines[0].startswith("[")

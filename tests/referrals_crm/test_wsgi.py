"""The web process, as gunicorn starts it (referrals_crm.wsgi)."""

import os
import subprocess
import sys

from django.conf import settings

from tests.helpers import PRODUCTION_ENV

STARTUP = """
import gc, sys
import referrals_crm.wsgi
print(gc.get_freeze_count(), "referrals.views" in sys.modules)
"""


def test_its_startup_objects_are_set_aside_from_the_garbage_collector(tmp_path):
    """Every view is loaded before the first request, and what was loaded is
    not scanned again by each full collection (about 1 ms a request)."""
    result = subprocess.run(
        [sys.executable, "-c", STARTUP],
        cwd=settings.BASE_DIR,
        env={
            **os.environ,
            **PRODUCTION_ENV,
            "DJANGO_SETTINGS_MODULE": "referrals_crm.settings",  # not the tests'
            "VAR_DIR": str(tmp_path),
        },
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    frozen, views_loaded = result.stdout.split()
    assert int(frozen) > 50_000  # Django, the apps, their views and forms
    assert views_loaded == "True"

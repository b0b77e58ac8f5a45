"""Settings for the test suite (pyproject.toml points pytest at them).

The project's settings, with a fast password hasher, a local cache and a
broker folder of its own, so a `make run` on the same checkout never shares
state with a test run. Child processes that the tests start get these
settings where they stand in for the suite (a Celery worker), and the
project's own where a test checks development or production behaviour.
"""

from referrals_crm.settings import *  # noqa: F403
from referrals_crm.settings import (
    CELERY_BROKER_URL,
    STORAGES,
    VAR_DIR,
    filesystem_broker,
)

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# Plain static files whatever DEBUG says: the manifest storage production
# uses exists only after collectstatic.
STORAGES = {
    **STORAGES,
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

if CELERY_BROKER_URL.startswith("filesystem://"):
    BROKER_DIR, CELERY_BROKER_TRANSPORT_OPTIONS = filesystem_broker(
        VAR_DIR / "test-broker"
    )

"""/healthz: whether the web process, the database, the broker and the
background work are all doing their job, for load balancers and monitors.

The background work reports through heartbeats: rows that the processes
write as they work (`heartbeat_record`), read here without asking any
process anything, so a check never waits on a busy worker. Apps add the
checks of their own work with `health_check_register` (the thank-yous add
the sweep, the workers and the oldest late thank-you): core imports no app.
"""

import time
from collections.abc import Callable
from datetime import datetime

from django.conf import settings
from django.db import DatabaseError, connection
from django.http import JsonResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from kombu import Connection

from core.models import Heartbeat

# Each Celery worker writes a heartbeat this often (referrals_crm/celery.py),
# named with this prefix and its host name.
WORKER_HEARTBEAT_SECONDS = 30
WORKER_HEARTBEAT_PREFIX = "worker:"

# A check returns its figures and whether they are healthy.
Check = Callable[[datetime], tuple[dict, bool]]
_checks: dict[str, Check] = {}


def health_check_register(name: str, check: Check) -> None:
    _checks[name] = check


def heartbeat_record(name: str, *, at: datetime | None = None) -> None:
    """Say that `name` (the sweep, a worker) is alive and working, now."""
    at = at or timezone.now()
    if not Heartbeat.objects.filter(name=name).update(at=at):
        Heartbeat.objects.get_or_create(name=name, defaults={"at": at})


def heartbeat_age(prefix: str, now: datetime) -> float | None:
    """Seconds since the latest heartbeat whose name starts with `prefix`;
    None if there never was one."""
    latest = (
        Heartbeat.objects.filter(name__startswith=prefix)
        .order_by("-at")
        .values_list("at", flat=True)
        .first()
    )
    return None if latest is None else max(0.0, (now - latest).total_seconds())


def _database_ok() -> bool:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        return True
    except DatabaseError:
        return False


def _broker_ok() -> bool:
    # A connection of its own, from the settings, so a check never disturbs
    # the app's producer pool.
    broker = Connection(
        settings.CELERY_BROKER_URL,
        transport_options=settings.CELERY_BROKER_TRANSPORT_OPTIONS,
        connect_timeout=2,
    )
    try:
        with broker:
            broker.ensure_connection(max_retries=1, timeout=2)
        return True
    except Exception:
        return False


@never_cache
def healthz(request):
    """200 when everything works; 503 naming what does not. JSON, no login,
    nothing but figures (no names, addresses or hosts)."""
    started = time.monotonic()
    now = timezone.now()
    body: dict = {"database": "ok" if _database_ok() else "error"}
    body["broker"] = "ok" if _broker_ok() else "error"
    failing = [name for name in ("database", "broker") if body[name] == "error"]
    if not failing:  # the other checks read the database
        for name, check in _checks.items():
            figures, healthy = check(now)
            body[name] = {"status": "ok" if healthy else "error", **figures}
            if not healthy:
                failing.append(name)
    body["status"] = "error" if failing else "ok"
    body["failing"] = failing
    body["checked_in_ms"] = round((time.monotonic() - started) * 1000, 1)
    return JsonResponse(body, status=503 if failing else 200)

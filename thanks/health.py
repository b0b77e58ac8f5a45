"""What /healthz says about the thank-yous: the sweep runs, a worker is
alive, and nothing due waits long. Each figure is one indexed read."""

from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Min
from django.db.models.functions import Coalesce

from core.health import WORKER_HEARTBEAT_PREFIX, WORKER_HEARTBEAT_SECONDS, heartbeat_age
from thanks.services import SWEEP_HEARTBEAT, due_emails

# Thank-yous are owed within hours; one due and unsent this long means the
# sending is stuck, whatever the other figures say.
LATE_LIMIT = timedelta(minutes=10)


def sweep_health(now: datetime) -> tuple[dict, bool]:
    """The beat's sweep ran within three of its intervals."""
    age = heartbeat_age(SWEEP_HEARTBEAT, now)
    limit = 3 * settings.TOUCHPOINT_SWEEP_SECONDS
    return _age_figures(age, limit), age is not None and age <= limit


def workers_health(now: datetime) -> tuple[dict, bool]:
    """A worker wrote its heartbeat within three of its intervals."""
    age = heartbeat_age(WORKER_HEARTBEAT_PREFIX, now)
    limit = 3 * WORKER_HEARTBEAT_SECONDS
    return _age_figures(age, limit), age is not None and age <= limit


def thank_yous_health(now: datetime) -> tuple[dict, bool]:
    """The oldest email due and not sent is less than LATE_LIMIT late (a
    row waiting for its retry's time is not due yet)."""
    oldest = due_emails(now).aggregate(
        since=Min(Coalesce("next_attempt_at", "due_at"))
    )["since"]
    late = 0.0 if oldest is None else (now - oldest).total_seconds()
    limit = LATE_LIMIT.total_seconds()
    return {"oldest_due_seconds_late": round(late, 1), "limit_seconds": limit}, (
        late <= limit
    )


def _age_figures(age: float | None, limit: float) -> dict:
    return {
        "seconds_ago": None if age is None else round(age, 1),
        "limit_seconds": limit,
    }

import os

from celery import Celery, bootsteps
from celery.schedules import crontab
from celery.signals import task_postrun, task_prerun

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "referrals_crm.settings")

app = Celery("referrals_crm")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# Keep a worker's database connection between tasks (Django's CONN_MAX_AGE
# then decides when to recycle it); Celery otherwise opens one per task, which
# measured as the largest cost of sending a thank-you (bench/RESULTS.md).
app.conf.CELERY_DB_REUSE_MAX = 1000


@task_prerun.connect
@task_postrun.connect
def _check_database_connections(**kwargs):
    """Around every task, what Django does around every web request: close a
    connection that broke or outlived CONN_MAX_AGE, and have the next query
    check the kept one first (CONN_HEALTH_CHECKS). Without it, a worker kept
    a connection that PostgreSQL's restart had closed, and every task after
    failed at once with InterfaceError, thank-yous unsent, for good."""
    from django.db import close_old_connections

    close_old_connections()


class Heartbeat(bootsteps.StartStopStep):
    """Every worker writes a heartbeat row every WORKER_HEARTBEAT_SECONDS
    while it runs, from its own timer: /healthz reads the row's age and never
    has to ask a worker anything (a broadcast blocks while workers are busy)."""

    requires = {"celery.worker.components:Timer"}

    def __init__(self, worker, **kwargs):
        super().__init__(worker, **kwargs)
        self.timer_ref = None

    def start(self, worker):
        from core.health import WORKER_HEARTBEAT_SECONDS

        self.beat(worker.hostname)
        self.timer_ref = worker.timer.call_repeatedly(
            WORKER_HEARTBEAT_SECONDS, self.beat, (worker.hostname,), priority=10
        )

    def stop(self, worker):
        if self.timer_ref is not None:
            self.timer_ref.cancel()

    @staticmethod
    def beat(hostname: str) -> None:
        from django.db import DatabaseError, close_old_connections

        from core.health import WORKER_HEARTBEAT_PREFIX, heartbeat_record

        try:
            close_old_connections()
            heartbeat_record(WORKER_HEARTBEAT_PREFIX + hostname)
        except DatabaseError:  # the database is away: /healthz says so itself
            close_old_connections()


app.steps["worker"].add(Heartbeat)


# The beat schedule lives here and only here; each entry says why it exists.
app.conf.beat_schedule = {
    # Sends every thank-you that is due and not sent: retries after SMTP
    # errors, sends queued while the broker was down, sends whose worker died.
    "thank_yous-sweep": {
        "task": "thanks.tasks.thank_yous_sweep_task",
        # Tests shorten it; read from the environment, settings are not loaded yet.
        "schedule": float(os.environ.get("TOUCHPOINT_SWEEP_SECONDS", "60")),
        # A sweep that waited behind a backlog is dropped: the next one comes.
        "options": {"expires": 50},
    },
    # Each rep's morning digest goes at 08:00 in their own time zone, so the
    # check runs every 15 minutes for whoever's morning it is.
    "daily-digests": {
        "task": "referrals.tasks.digests_send_task",
        "schedule": crontab(minute="*/15"),
    },
    # Every team's dashboard views that admins opened lately, counted ahead
    # of their visits (dashboard.snapshots.snapshots_warm).
    "dashboard-snapshots-warm": {
        "task": "dashboard.tasks.dashboard_snapshots_warm_task",
        "schedule": 60.0,
        "options": {"expires": 50},
    },
}

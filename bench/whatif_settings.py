"""Settings for the benchmark's what-if workers only: the app's settings plus
the two changes bench/RESULTS.md recommends, to measure them before anyone
makes them in the application. Nothing in the app imports this module.

1. Keep the worker's PostgreSQL connection between tasks. Celery's Django
   fixup closes every connection before and after each task unless
   CELERY_DB_REUSE_MAX is set; here it is set (so the fixup leaves the
   connection alone) and Django's own close_old_connections() runs around each
   task instead, which honours CONN_MAX_AGE and CONN_HEALTH_CHECKS as a web
   request does.
2. Keep one SMTP connection per worker process (bench/whatif_mail.py).
"""

from celery.signals import task_postrun, task_prerun

from referrals_crm.settings import *  # noqa: F403

CELERY_DB_REUSE_MAX = 1_000_000
EMAIL_BACKEND = "bench.whatif_mail.ReusedConnectionBackend"


def _close_old_connections(**kwargs):
    from django.db import close_old_connections

    close_old_connections()


task_prerun.connect(_close_old_connections, weak=False)
task_postrun.connect(_close_old_connections, weak=False)

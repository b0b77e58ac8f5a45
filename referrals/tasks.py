"""Celery tasks: thin wrappers around plain functions that tests call directly."""

from celery import shared_task
from django.core.mail import get_connection

from referrals.digests import digests_send_due
from referrals.touchpoints import touchpoint_dispatch, touchpoints_sweep

# SMTP errors are not retried here: the row records them and the sweep tries
# again later (a Celery countdown would park the work in the broker).
_mail_connection = None


def worker_mail_connection():
    """One mail connection per worker process, reused from send to send.

    Opening an SMTP session per email measured as the second largest cost;
    touchpoint_dispatch reopens it once if the server dropped it meanwhile.
    """
    global _mail_connection
    if _mail_connection is None:
        _mail_connection = get_connection()
    return _mail_connection


@shared_task(acks_late=True, soft_time_limit=60, time_limit=90)
def touchpoint_send(touchpoint_id: int) -> str:
    return touchpoint_dispatch(
        touchpoint_id=touchpoint_id, connection=worker_mail_connection()
    )


@shared_task(soft_time_limit=50, time_limit=55)
def touchpoints_sweep_task() -> int:
    return touchpoints_sweep()


@shared_task(soft_time_limit=600, time_limit=660)
def digests_send_task() -> int:
    return digests_send_due()

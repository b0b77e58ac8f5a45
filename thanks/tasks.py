"""Celery tasks of the thank-yous: thin wrappers around plain functions that
tests call directly."""

import logging
import threading

import redis
from celery import shared_task
from django.core.mail import get_connection, send_mail

from thanks.queue import QUEUED_FLAG, broker_redis, request_dispatch
from thanks.services import thank_yous_dispatch_due, thank_yous_sweep

log = logging.getLogger(__name__)

# SMTP errors are not retried here: the row records them and the sweep tries
# again later (a Celery countdown would park the work in the broker).
_local = threading.local()


def worker_mail_connection():
    """One mail connection per worker thread, reused from send to send.

    Opening an SMTP session per email was the second largest cost
    (bench/RESULTS.md);
    the dispatch reopens it once if the server dropped it meanwhile.
    """
    if getattr(_local, "mail", None) is None:
        _local.mail = get_connection()
    return _local.mail


@shared_task(acks_late=True, soft_time_limit=60, time_limit=90)
def thank_yous_dispatch_task() -> dict:
    client = broker_redis()
    if client is not None:
        try:
            client.delete(QUEUED_FLAG)  # from now on, new rows queue a new task
        except redis.RedisError:
            log.warning("Could not clear the dispatch flag; it expires by itself")
    outcomes, finished = thank_yous_dispatch_due(connection=worker_mail_connection())
    if not finished:  # time is up and rows are left: let other tasks in, then go on
        request_dispatch()
    return dict(outcomes)


@shared_task(soft_time_limit=50, time_limit=55)
def thank_yous_sweep_task() -> int:
    return thank_yous_sweep()


@shared_task(
    # Backoff capped at 4 minutes: a longer countdown would wait in the broker,
    # which Redis redelivers after its visibility timeout (tests grep for it).
    autoretry_for=(OSError,),
    retry_backoff=30,
    retry_backoff_max=240,
    max_retries=5,
)
def send_test_email(to: str) -> None:
    """Send a short email through the configured backend, from a worker.

    The admin's "send a test email" check and the worker integration test use
    it to prove that the broker, a worker and the email backend are wired up.
    """
    send_mail(
        "Referral CRM: test email from the Celery worker",
        "If you can read this, the broker, a worker and email delivery all work.",
        None,
        [to],
    )

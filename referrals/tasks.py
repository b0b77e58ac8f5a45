"""Celery tasks: thin wrappers around plain functions that tests call directly."""

import contextlib
import logging
import threading

import redis
from celery import shared_task
from django.core.mail import get_connection

from referrals.digests import digests_send_due
from referrals.snapshots import snapshots_warm
from referrals.touchpoints import touchpoints_dispatch_due, touchpoints_sweep

log = logging.getLogger(__name__)

# SMTP errors are not retried here: the row records them and the sweep tries
# again later (a Celery countdown would park the work in the broker).
_local = threading.local()


def worker_mail_connection():
    """One mail connection per worker thread, reused from send to send.

    Opening an SMTP session per email measured as the second largest cost;
    the dispatch reopens it once if the server dropped it meanwhile.
    """
    if getattr(_local, "mail", None) is None:
        _local.mail = get_connection()
    return _local.mail


# -- One queued dispatch serves every email due before it starts --------------
#
# A dispatch task sends everything due, in batches, so one queued task is
# enough however many thank-yous are committed before a worker picks it up.
# With a Redis broker a flag next to the queue says "one is queued": whoever
# sets it queues the task, everyone else relies on it, and the task clears it
# as it starts (so a row committed after that queues a new one). Other
# brokers queue a task per request; the extra ones find nothing and return.
QUEUED_FLAG = "referrals:touchpoints:dispatch-queued"
# If the queued task is slow to start (a backlog), let a later request queue
# another after this long rather than rely on one task forever.
QUEUED_FLAG_MS = 10_000
_clients: dict[str, redis.Redis] = {}


def _broker_redis() -> redis.Redis | None:
    url = touchpoints_dispatch_task.app.conf.broker_url or ""
    if not url.startswith(("redis://", "rediss://")):
        return None
    if url not in _clients:
        _clients[url] = redis.Redis.from_url(
            url, socket_timeout=2, socket_connect_timeout=2
        )
    return _clients[url]


def request_dispatch() -> None:
    """Make sure a dispatch task is queued (called once a transaction commits)."""
    client = _broker_redis()
    if client is not None:
        try:
            if not client.set(QUEUED_FLAG, 1, nx=True, px=QUEUED_FLAG_MS):
                return  # a queued dispatch will see this row when it starts
        except redis.RedisError:
            client = None  # queue one anyway; publishing says if the broker is up
    try:
        touchpoints_dispatch_task.delay()
    except Exception:
        if client is not None:  # nothing queued: do not make others wait on it
            with contextlib.suppress(redis.RedisError):
                client.delete(QUEUED_FLAG)
        raise


@shared_task(acks_late=True, soft_time_limit=60, time_limit=90)
def touchpoints_dispatch_task() -> dict:
    client = _broker_redis()
    if client is not None:
        try:
            client.delete(QUEUED_FLAG)  # from now on, new rows queue a new task
        except redis.RedisError:
            log.warning("Could not clear the dispatch flag; it expires by itself")
    outcomes, finished = touchpoints_dispatch_due(connection=worker_mail_connection())
    if not finished:  # time is up and rows are left: let other tasks in, then go on
        request_dispatch()
    return dict(outcomes)


@shared_task(soft_time_limit=50, time_limit=55)
def touchpoints_sweep_task() -> int:
    return touchpoints_sweep()


@shared_task(soft_time_limit=600, time_limit=660)
def digests_send_task() -> int:
    return digests_send_due()


@shared_task(soft_time_limit=120, time_limit=150)
def dashboard_snapshots_warm_task() -> int:
    return snapshots_warm()

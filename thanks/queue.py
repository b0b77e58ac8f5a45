"""Queuing the dispatch task: one queued dispatch serves every email due
before it starts.

The task is queued by name (DISPATCH_TASK), so the services that queue it
need not import the tasks module, which imports them.
"""

import contextlib

import redis
from celery import current_app

DISPATCH_TASK = "thanks.tasks.thank_yous_dispatch_task"

# A dispatch task sends everything due, in batches, so one queued task is
# enough however many thank-yous are committed before a worker picks it up.
# With a Redis broker a flag next to the queue says "one is queued": whoever
# sets it queues the task, everyone else relies on it, and the task clears it
# as it starts (so a row committed after that queues a new one). Other
# brokers queue a task per request; the extra ones find nothing and return.
QUEUED_FLAG = "referrals:thank_yous:dispatch-queued"
# If the queued task is slow to start (a backlog), let a later request queue
# another after this long rather than rely on one task forever.
QUEUED_FLAG_MS = 10_000
_clients: dict[str, redis.Redis] = {}


def broker_redis() -> redis.Redis | None:
    url = current_app.conf.broker_url or ""
    if not url.startswith(("redis://", "rediss://")):
        return None
    if url not in _clients:
        _clients[url] = redis.Redis.from_url(
            url, socket_timeout=2, socket_connect_timeout=2
        )
    return _clients[url]


def request_dispatch() -> None:
    """Make sure a dispatch task is queued (called once a transaction commits)."""
    client = broker_redis()
    if client is not None:
        try:
            if not client.set(QUEUED_FLAG, 1, nx=True, px=QUEUED_FLAG_MS):
                return  # a queued dispatch will see this row when it starts
        except redis.RedisError:
            client = None  # queue one anyway; publishing says if the broker is up
    try:
        queue_dispatch()
    except Exception:
        if client is not None:  # nothing queued: do not make others wait on it
            with contextlib.suppress(redis.RedisError):
                client.delete(QUEUED_FLAG)
        raise


def queue_dispatch() -> None:
    """Queue one dispatch task (it sends every email due when it runs)."""
    current_app.send_task(DISPATCH_TASK)

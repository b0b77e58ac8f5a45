"""The thanks app's raw SQL, all of it: claiming due emails (thank-yous and
asks' emails alike), and the sending worker's commits.

services.py decides which rows are due (the ORM's due_emails) and calls
these. Where SQLite and PostgreSQL differ, core.sql decides.
"""

from contextlib import contextmanager

from django.db import connection

from core import sql as portable


def emails_claim(model, pick_sql: str, pick_params, *, now) -> list[int]:
    """Claim the scheduled rows of `model` (ThankYou, AskEmail: the same
    delivery fields) whose ids `pick_sql` (a compiled SELECT of ids, with
    `pick_params`) picks, in one statement: each becomes SENDING, claimed at
    `now`, one attempt more. Returns the ids claimed.

    An UPDATE ... RETURNING, because RETURNING says which rows are ours and
    the ORM's update() cannot. PostgreSQL skips rows another worker is
    claiming (core.sql.skip_locked); SQLite runs one writer at a time.
    """
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {portable.quote_table(model)} SET status = %s, "
            "claimed_at = %s, attempts = attempts + 1 WHERE status = %s "
            f"AND id IN ({pick_sql}{portable.skip_locked()}) RETURNING id",
            [
                model.Status.SENDING,
                connection.ops.adapt_datetimefield_value(now),
                model.Status.SCHEDULED,
                *pick_params,
            ],
        )
        return [row[0] for row in cursor.fetchall()]


@contextmanager
def commits_not_waiting_for_disk():
    """While sending, this session's commits return before the WAL reaches
    disk (PostgreSQL; nothing on SQLite: core.sql).

    Claims and "sent" records need not survive a crash of PostgreSQL itself:
    losing the last fraction of a second of them makes those emails go again,
    which the delivery guarantee (at least once, same Message-ID) allows. A
    crash of the worker loses nothing, and a commit per email no longer waits
    for the disk (bench/RESULTS.md).
    """
    with portable.commits_not_waiting_for_disk():
        yield

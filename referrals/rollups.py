"""Summary tables kept current by the code that changes referrals.

Each change to a referral (logged, moved, edited, deleted) takes away what
the referral counted for before and adds what it counts for now, in the same
transaction, with one upsert: concurrent changes add up (each row is updated
under its lock) instead of overwriting each other. `rollups_rebuild()`
recomputes everything from the referrals, for imports and repairs.

Today there is one table, PipelineTotal: per owner and stage, how many
referrals and their value.
"""

from decimal import Decimal

from django.db import connection, transaction
from django.db.models import Count, Sum

from referrals.models import PipelineTotal, Referral

# What one referral counts for: (owner, stage, value).
Snapshot = tuple[int, int, Decimal]


def snapshot(referral: Referral) -> Snapshot:
    return (
        referral.owner_id,
        referral.stage_id,
        referral.estimated_value or Decimal(0),
    )


def referral_counted(*, before: Snapshot | None, after: Snapshot | None) -> None:
    """Move a referral's contribution from `before` to `after` (None: absent)."""
    if before == after:
        return
    deltas: dict[tuple[int, int], list] = {}
    for state, sign in ((before, -1), (after, 1)):
        if state is None:
            continue
        owner, stage, value = state
        delta = deltas.setdefault((owner, stage), [0, Decimal(0)])
        delta[0] += sign
        delta[1] += sign * value
    rows = [
        (owner, stage, count, value)
        for (owner, stage), (count, value) in sorted(deltas.items())
        if count or value
    ]
    if rows:
        _add(rows)


def _add(rows: list[tuple]) -> None:
    """Add counts and values to PipelineTotal rows, creating missing ones.

    Rows are sorted, so two transactions touching the same rows lock them in
    the same order and cannot deadlock.
    """
    table = connection.ops.quote_name(PipelineTotal._meta.db_table)
    values = ", ".join(["(%s, %s, %s, %s)"] * len(rows))
    params = [part for row in rows for part in row]
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (owner_id, stage_id, count, value) VALUES {values} "
            "ON CONFLICT (owner_id, stage_id) DO UPDATE SET "
            f"count = {table}.count + EXCLUDED.count, "
            f"value = {table}.value + EXCLUDED.value",
            params,
        )


def rollups_rebuild(*, owner_ids=None) -> int:
    """Recompute the summaries from the referrals (all owners, or some).

    Returns the number of PipelineTotal rows written.
    """
    referrals = Referral.objects.order_by()
    totals = PipelineTotal.objects.all()
    if owner_ids is not None:
        referrals = referrals.filter(owner__in=owner_ids)
        totals = totals.filter(owner__in=owner_ids)
    with transaction.atomic():
        totals.delete()
        created = PipelineTotal.objects.bulk_create(
            PipelineTotal(
                owner_id=row["owner"],
                stage_id=row["stage"],
                count=row["count"],
                value=row["value"] or Decimal(0),
            )
            for row in referrals.values("owner", "stage").annotate(
                count=Count("*"), value=Sum("estimated_value")
            )
        )
    return len(created)

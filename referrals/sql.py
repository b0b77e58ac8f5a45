"""The referrals app's raw SQL, all of it: what the ORM cannot write.

rollups.py and selectors.py decide what to count, lock or pick and call
these for the statements. Each is SQL that SQLite and PostgreSQL both run;
where the two differ (table locks), core.sql decides.
"""

from django.core.exceptions import EmptyResultSet
from django.db import connection
from django.db.models import QuerySet
from django.db.models.expressions import RawSQL
from django.db.models.sql import InsertQuery

from core.sql import execute_together, lock_tables, quote_table
from referrals.models import Referral

# -- The summary tables (rollups.py) -------------------------------------------


def summary_add(summary, key: tuple[str, ...], rows: list[tuple]) -> tuple[str, list]:
    """The statement that adds counts and values to rows of the `summary`
    table, creating the missing ones (each of `rows` is the row's `key`
    columns' values, then the count and the value to add), and its
    parameters: for writes_together()."""
    quote = connection.ops.quote_name
    table = quote_table(summary)
    key_columns = [quote(column) for column in key]
    columns = ", ".join((*key_columns, quote("count"), quote("value")))
    row = "(" + ", ".join(["%s"] * (len(key_columns) + 2)) + ")"
    values = ", ".join([row] * len(rows))
    params = [part for each in rows for part in each]
    return (
        f"INSERT INTO {table} ({columns}) VALUES {values} "
        f"ON CONFLICT ({', '.join(key_columns)}) DO UPDATE SET "
        f"{quote('count')} = {table}.{quote('count')} + EXCLUDED.{quote('count')}, "
        f"{quote('value')} = {table}.{quote('value')} + EXCLUDED.{quote('value')}",
        params,
    )


def inserted(objects: list) -> tuple[str, list]:
    """The INSERT of new rows of one model (their ids are not read back), as
    the ORM writes it, and its parameters: for writes_together()."""
    model = type(objects[0])
    query = InsertQuery(model)
    query.insert_values(
        [
            field
            for field in model._meta.concrete_fields
            if not field.primary_key and not field.generated
        ],
        objects,
    )
    [(sql, params)] = query.get_compiler(connection=connection).as_sql()
    return sql, list(params)


def writes_together(statements: list[tuple[str, list]]) -> None:
    """Run writes in one round trip where the database can
    (core.sql.execute_together: one statement on PostgreSQL, which locks
    their tables in the order given)."""
    execute_together(statements)


def summaries_lock(summaries) -> None:
    """Writers to the `summaries` tables wait until this transaction ends;
    readers do not (PostgreSQL's SHARE ROW EXCLUSIVE)."""
    lock_tables(summaries, "SHARE ROW EXCLUSIVE")


def referrals_lock() -> None:
    """Every change to referrals waits until this transaction ends; reads go
    on (PostgreSQL's EXCLUSIVE)."""
    lock_tables([Referral], "EXCLUSIVE")


def referrals_lock_wait(timeout_ms: int) -> None:
    """Take now the lock every insert or update of a referral takes anyway
    (PostgreSQL's ROW EXCLUSIVE), waiting at most `timeout_ms` for a
    referrals_lock() to be let go: past that, OperationalError."""
    lock_tables([Referral], "ROW EXCLUSIVE", timeout_ms=timeout_ms)


# -- Lists in one statement (selectors.py) -------------------------------------


def union_all(branches: list, select: str) -> tuple[str, list]:
    """`select` (a SELECT list) over each branch's ids, glued with UNION ALL,
    and its parameters; ("", []) when none has anything in view. A branch
    is a queryset, or a statement written out (referrals_where) with its
    parameters."""
    parts, params = [], []
    for number, branch in enumerate(branches):
        if isinstance(branch, QuerySet):
            try:
                sql, branch_params = branch.values("pk").query.sql_with_params()
            except EmptyResultSet:  # nothing in view (scope_for_user's none())
                continue
        else:
            sql, branch_params = branch
        parts.append(f"{select} FROM ({sql}) AS branch{number}")
        params += branch_params
    return " UNION ALL ".join(parts), params


def union_counts(lists: dict[str, list]) -> dict[str, int]:
    """How many rows each named list of disjoint branches (querysets or
    statements: union_all) holds in all, in one statement: each branch
    counted on its own, summed per list."""
    selects, params = [], []
    for name, branches in lists.items():
        union, union_params = union_all(branches, "SELECT COUNT(*) AS n")
        selects.append(f"(SELECT SUM(n) FROM ({union}) AS {name})" if union else "0")
        params += union_params
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {', '.join(selects)}", params)
        found = cursor.fetchone()
    return {name: int(n or 0) for name, n in zip(lists, found, strict=True)}


def union_ids(branches: list) -> RawSQL | None:
    """The ids the branches pick (querysets or statements: union_all), glued
    with UNION ALL, as a subquery for pk__in; None when none has anything in
    view."""
    union, params = union_all(branches, "SELECT *")
    return RawSQL(union, params) if union else None


# -- One stage's referrals, written out (selectors.py: Today) ------------------
#
# Today's lists are a branch per open stage and per list, each counted and
# each read for its oldest rows: built as querysets, Django spent longer
# compiling their 36 statements than PostgreSQL took to run them
# (bench/RESULTS.md). Written out, a branch is a format string.


def moment(value):
    """A time as a query parameter (SQLite compares times as UTC text)."""
    return connection.ops.adapt_datetimefield_value(value)


def owned_by(owner_ids: list[int] | None, alias: str = "r") -> tuple[str, list]:
    """The referrals of `owner_ids` (accounts.scoping.owner_ids_for_user:
    None for everyone's), as a condition on `alias` and its parameters."""
    if owner_ids is None:
        return "1 = 1", []
    if not owner_ids:
        return "1 = 0", []
    marks = ", ".join(["%s"] * len(owner_ids))
    return f"{alias}.owner_id IN ({marks})", list(owner_ids)


# Stale, in one stage (selectors.stale_per_stage, the rule in the ORM): in it
# since before the cut-off, with no activity since. Parameters: the stage's
# id, then its cut-off twice (moment()).
STALE_IN_STAGE = (
    "{r}.stage_id = %s AND {r}.stage_entered_at < %s "
    "AND ({r}.last_activity_at IS NULL OR {r}.last_activity_at < %s)"
)
# Open and never contacted, in one stage. Parameter: the stage's id. (The
# referral_not_contacted index's own condition.)
NOT_CONTACTED_IN_STAGE = "{r}.stage_id = %s AND {r}.first_contacted_at IS NULL"
# Never assessed and logged before a time, in one stage. Parameters: the
# stage's id, the label Not assessed, the time (moment()).
UNASSESSED_IN_STAGE = "{r}.stage_id = %s AND {r}.label = %s AND {r}.created_at < %s"


def referrals_where(
    owner_ids: list[int] | None,
    condition: str,
    params: list,
    *,
    order: tuple[str, ...] = (),
    limit: int | None = None,
) -> tuple[str, list]:
    """SELECT the ids of the referrals of `owner_ids` (owned_by) that meet
    `condition` (one of the *_IN_STAGE above, or any with {r} for the
    table's alias), first `limit` in `order` (columns), and its parameters:
    a branch for union_counts and union_ids."""
    scope, scope_params = owned_by(owner_ids)
    sql = (
        f"SELECT r.id FROM {quote_table(Referral)} r "
        f"WHERE {scope} AND {condition.format(r='r')}"
    )
    if order:
        sql += " ORDER BY " + ", ".join(f"r.{column}" for column in order)
    if limit is not None:
        sql += f" LIMIT {int(limit)}"
    return sql, [*scope_params, *params]


# What a row of Today's referral lists shows (selectors._today_rows).
TODAY_ROW_COLUMNS = (
    "id",
    "prospect_name",
    "prospect_company",
    "estimated_value",
    "received_on",
    "stage_id",
    "stage_entered_at",
)


def oldest_of_lists(
    owner_ids: list[int] | None,
    lists: dict[str, tuple[list[tuple[str, list]], tuple[str, ...]]],
    limit: int,
) -> dict[str, list[Referral]]:
    """Each named list's first `limit` referrals of `owner_ids` in its order,
    in one statement. A list is its branches (a condition and its
    parameters, as referrals_where takes them: disjoint, one per stage) and
    its order (columns, the last of them `id`). Each branch reads its own
    first `limit` from its index; only those (at most `limit` a stage) are
    joined to their source (`source_name`) before each list keeps its first
    `limit`. Rows come as Referral instances holding the columns of
    TODAY_ROW_COLUMNS and every list's order."""
    source = Referral._meta.get_field("source").related_model
    # Every list reads the same columns (a UNION's parts must).
    columns = ", ".join(
        f"r.{column}"
        for column in dict.fromkeys(
            (*TODAY_ROW_COLUMNS, *(c for _, order in lists.values() for c in order))
        )
    )
    parts, params = [], []
    for number, (name, (branches, order)) in enumerate(lists.items()):
        union, union_params = union_all(
            [
                referrals_where(
                    owner_ids, condition, branch_params, order=order, limit=limit
                )
                for condition, branch_params in branches
            ],
            "SELECT *",
        )
        if not union:
            continue
        by = ", ".join(f"r.{column}" for column in order)
        parts.append(
            f"SELECT * FROM (SELECT %s AS today_list, {columns}, "
            f"p.name AS source_name FROM {quote_table(Referral)} r "
            f"JOIN {quote_table(source)} p ON p.id = r.source_id "
            f"WHERE r.id IN ({union}) ORDER BY {by} LIMIT {int(limit)}) AS list{number}"
        )
        params += [name, *union_params]
    found: dict[str, list[Referral]] = {name: [] for name in lists}
    if parts:
        for referral in Referral.objects.raw(" UNION ALL ".join(parts), params):
            found[referral.today_list].append(referral)
    for name, (_, order) in lists.items():
        found[name].sort(key=lambda referral: [getattr(referral, c) for c in order])
    return found

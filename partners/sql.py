"""The partners app's raw SQL: what Today reads too often to have Django
build it for every request.

Ready to ask is decided in partners/asking.py (ready_filter and
outcome_conditions, in the ORM: the partner list, a customer's page, the
counts). Today's lists ask the same of every customer with a recent
outcome, ranked within each list, and Django spent three times as long
building that statement as PostgreSQL took to run it (bench/RESULTS.md).
So it is written out here, the rule a second time; tests/partners/
test_asking_sql.py holds the two to the same answers, case by case.
Both SQLite and PostgreSQL run it.
"""

from datetime import date, datetime

from django.db import connection

from core.sql import quote_table
from partners.models import Answer, Ask, Outcome, Partner
from partners.services import WON


def _table(model) -> str:
    return quote_table(model)


def _related_table(model, field: str) -> str:
    """The table of the model `field` of `model` points to (partners sits
    below the referrals app and does not import it)."""
    return _table(model._meta.get_field(field).related_model)


# An outcome `o` the rule reads (outcome_conditions' "recent"): delivered in
# the window, or owed and overdue; recorded on the customer's page, or from
# a referral still won. Parameters: the window's first day, today.
# `o` and `s` as OUTCOMES names them.
RECENT = (
    "(o.delivered_on >= %s OR (o.delivered_on IS NULL AND o.promised_by < %s)) "
    "AND (o.referral_id IS NULL OR s.kind = %s)"
)
# The outcomes `o`, each with its referral's stage `s` (if any): joined, as
# the ORM writes it. (As an EXISTS per outcome, PostgreSQL hashed every won
# referral, 339,000 at a million, for an admin's Today.)
OUTCOMES = (
    "{outcomes} o LEFT JOIN {referrals} r ON r.id = o.referral_id "
    "LEFT JOIN {stages} s ON s.id = r.stage_id"
)
# Delivered as promised ("as_promised"). Parameters: yes, yes, the least
# satisfaction.
AS_PROMISED = (
    "o.delivered_on IS NOT NULL AND o.delivered_on <= o.promised_by "
    "AND o.in_full = %s AND o.on_budget = %s AND o.satisfaction >= %s"
)
# Something went wrong (the PROBLEMS: overdue, late, short, over budget,
# unhappy). Parameters: today, no, no, the least satisfaction.
PROBLEM = (
    "(o.delivered_on IS NULL AND o.promised_by < %s) "
    "OR o.delivered_on > o.promised_by OR o.in_full = %s OR o.on_budget = %s "
    "OR o.satisfaction < %s"
)


def today_ranked(
    *,
    owner_ids: list[int] | None,
    today: date,
    window_start: date,
    asked_since: datetime,
    satisfied_from: int,
    rows: int,
) -> list[Partner]:
    """The customers of `owner_ids` (None: everyone's) with a recent
    outcome, ready to ask or not: the first `rows` of each list, freshest
    outcome first (then name), as Partner rows with `ready`,
    `latest_outcome_on`, `last_asked_at`, `last_ask_channel` (as
    partners.asking.with_readiness reads them), `owner_name` and `in_list`
    (how many that list holds). One statement."""
    referral = Outcome._meta.get_field("referral").related_model
    outcomes = OUTCOMES.format(
        outcomes=_table(Outcome),
        referrals=_table(referral),
        stages=_related_table(referral, "stage"),
    )
    recent = RECENT
    recent_params = [
        connection.ops.adapt_datefield_value(window_start),
        connection.ops.adapt_datefield_value(today),
        WON,
    ]
    since = connection.ops.adapt_datetimefield_value(asked_since)
    day = connection.ops.adapt_datefield_value(today)
    if owner_ids is not None and not owner_ids:
        return []
    scope, scope_params = "", []
    if owner_ids is not None:
        scope = f" AND c.owner_id IN ({', '.join(['%s'] * len(owner_ids))})"
        scope_params = list(owner_ids)
    asks = _table(Ask)
    last_ask = (
        f"(SELECT a.{{column}} FROM {asks} a WHERE a.partner_id = c.id "
        "ORDER BY a.asked_at DESC, a.id DESC LIMIT 1)"
    )
    partner_columns = (
        "c.id, c.name, c.company, c.kind, c.email, c.email_consent, "
        "c.do_not_ask, c.owner_id"
    )
    # Each customer's recent outcomes read once, grouped: whether one was
    # delivered as promised, whether one went wrong, the latest. (As three
    # subqueries per customer, an admin's 1,300 customers with a recent
    # outcome took 25 ms at a million referrals; grouped, 10 to 18 ms, and a
    # manager's 3 ms. Grouped before they are joined to their customer, the
    # outcomes of everyone's customers were read for a rep, 6 ms.)
    sql = (
        "WITH candidates AS ("
        f"SELECT {partner_columns}, "
        "CASE WHEN NOT c.do_not_ask "
        f"AND MAX(CASE WHEN {AS_PROMISED} THEN 1 ELSE 0 END) = 1 "
        f"AND MAX(CASE WHEN ({PROBLEM}) THEN 1 ELSE 0 END) = 0 "
        f"AND NOT EXISTS (SELECT 1 FROM {asks} a "
        "WHERE a.partner_id = c.id AND a.asked_at >= %s) "
        "THEN 1 ELSE 0 END AS ready, "
        "MAX(COALESCE(o.delivered_on, o.promised_by)) AS latest_outcome_on "
        f"FROM {outcomes} JOIN {_table(Partner)} c ON c.id = o.partner_id "
        f"WHERE c.kind = %s{scope} AND {recent} "
        f"GROUP BY {partner_columns}"
        "), ranked AS ("
        "SELECT candidates.*, ROW_NUMBER() OVER (PARTITION BY ready "
        "ORDER BY latest_outcome_on DESC, name, id) AS place, "
        "COUNT(*) OVER (PARTITION BY ready) AS in_list FROM candidates"
        ") "
        "SELECT c.*, "
        f"{last_ask.format(column='asked_at')} AS last_asked_at, "
        f"{last_ask.format(column='channel')} AS last_ask_channel, "
        "COALESCE(NULLIF(u.display_name, ''), u.email) AS owner_name "
        f"FROM ranked c JOIN {_related_table(Partner, 'owner')} u "
        "ON u.id = c.owner_id "
        "WHERE c.place <= %s "
        "ORDER BY c.latest_outcome_on DESC, c.name, c.id"
    )
    params = [
        Answer.YES,
        Answer.YES,
        satisfied_from,
        day,
        Answer.NO,
        Answer.NO,
        satisfied_from,
        since,
        Partner.Kind.CUSTOMER,
        *scope_params,
        *recent_params,
        rows,
    ]
    return list(Partner.objects.raw(sql, params))

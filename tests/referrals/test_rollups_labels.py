"""The summaries by label (issue 26): a referral counts under its label, an
assessment that changes the label moves it in the same transaction, and
the summaries stay equal to a recount of the referrals."""

import threading
from decimal import Decimal
from importlib import import_module
from types import SimpleNamespace

import pytest
from django.apps import apps
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.db.models import Sum

from referrals.models import (
    ClosedTotal,
    Label,
    PipelineTotal,
    ReceivedTotal,
    Referral,
)
from referrals.rollups import KEYS, rollups_rebuild
from referrals.services import (
    criterion_create,
    referral_assess,
    referral_log,
    referral_move,
    stage_shift,
)
from tests.factories import PartnerFactory, stage
from tests.helpers import at_once, totals

Q, L, C, NA = Label.QUALIFIED, Label.LUKEWARM, Label.COLD, Label.UNASSESSED
migration = import_module("referrals.migrations.0023_summaries_by_label")
BEFORE_0023 = [("referrals", "0022_closed_covering")]
# What 0023's functions use of their schema editor: its connection.
EDITOR = SimpleNamespace(connection=connection)


@pytest.fixture
def criteria():
    """Two criteria of weight 1: both yes qualified, one lukewarm, none cold."""
    return [
        criterion_create(team=None, question=question, weight=1)
        for question in ("Decision maker?", "Budget this year?")
    ]


def answers(criteria, label) -> dict[int, bool]:
    said = {Q: (True, True), L: (True, False), C: (False, False)}[label]
    return dict(zip((c.pk for c in criteria), said, strict=True))


def equal_to_a_recount() -> dict:
    """The summaries as kept, checked equal to a count of the referrals."""
    kept = totals()
    rollups_rebuild()
    assert totals() == kept
    assert kept  # two empty summaries would prove nothing
    return kept


def by_label(summary) -> dict[str, int]:
    """How many referrals each label's rows of `summary` count."""
    counted = summary.objects.values("label").annotate(n=Sum("count"))
    return {row["label"]: row["n"] for row in counted if row["n"]}


def test_assessing_moves_the_referral_to_its_labels_rows(
    alice, alice_partner, criteria
):
    referral = referral_log(
        user=alice, source=alice_partner, prospect_name="P", estimated_value=500
    )
    assert by_label(PipelineTotal) == by_label(ReceivedTotal) == {NA: 1}
    referral_assess(referral=referral, user=alice, answers=answers(criteria, L))
    assert by_label(PipelineTotal) == by_label(ReceivedTotal) == {L: 1}
    key = (alice.pk, stage("Received").pk, L)
    assert totals(PipelineTotal) == {key: (1, Decimal(500))}
    referral_assess(referral=referral, user=alice, answers=answers(criteria, Q))
    assert by_label(PipelineTotal) == by_label(ReceivedTotal) == {Q: 1}
    equal_to_a_recount()


def test_logging_with_answers_counts_under_the_label_given(
    alice, alice_partner, criteria
):
    referral_log(
        user=alice,
        source=alice_partner,
        prospect_name="P",
        answers=answers(criteria, C),
    )
    referral_log(user=alice, source=alice_partner, prospect_name="Not asked")
    assert by_label(PipelineTotal) == by_label(ReceivedTotal) == {C: 1, NA: 1}
    equal_to_a_recount()


def test_a_new_score_within_the_same_label_changes_no_summary(
    alice, alice_partner, criteria
):
    third = criterion_create(team=None, question="Urgent?", weight=1)
    referral = referral_log(
        user=alice,
        source=alice_partner,
        prospect_name="P",
        answers=answers(criteria, C),  # 0 of 2
    )
    kept = totals()
    assert referral_assess(referral=referral, user=alice, answers={third.pk: True})
    assert Referral.objects.get(pk=referral.pk).score == 33  # 1 of 3: still cold
    assert totals() == kept
    equal_to_a_recount()


def test_moves_edits_closing_and_deleting_keep_the_label(
    client, admin, alice, bob, carol, alice_partner, criteria
):
    won = referral_log(
        user=alice, source=alice_partner, prospect_name="Won", estimated_value=100
    )
    lost = referral_log(user=alice, source=alice_partner, prospect_name="Lost")
    gone = referral_log(user=alice, source=alice_partner, prospect_name="Gone")
    for referral, label in ((won, Q), (lost, C), (gone, L)):
        referral_assess(referral=referral, user=alice, answers=answers(criteria, label))
    referral_move(referral=won, to_stage=stage("Contacted"), user=alice)
    referral_move(
        referral=won, to_stage=stage("Won"), user=alice, final_value=Decimal(900)
    )
    referral_move(referral=lost, to_stage=stage("Lost"), user=alice, lost_reason="No")
    # Assessed after closing: the closed summary moves too.
    referral_assess(referral=lost, user=alice, answers=answers(criteria, L))
    client.force_login(carol)  # the manager hands one to bob
    response = client.post(
        f"/referrals/{won.pk}/edit/",
        {
            "prospect_name": "Won",
            "source": alice_partner.pk,
            "owner": bob.pk,
            "estimated_value": "900",
            "received_on": won.received_on.isoformat(),
        },
    )
    assert response.status_code == 302
    client.force_login(admin)
    client.post(f"/admin/referrals/referral/{gone.pk}/delete/", {"post": "yes"})

    assert by_label(ClosedTotal) == {Q: 1, L: 1}
    closed_won = ClosedTotal.objects.get(stage=stage("Won"), label=Q, count__gt=0)
    assert (closed_won.owner, closed_won.count, closed_won.value) == (bob, 1, 900)
    assert by_label(PipelineTotal) == {Q: 1, L: 1}  # the deleted one gone
    assert totals(PipelineTotal)[(bob.pk, stage("Won").pk, Q)] == (1, Decimal(900))
    equal_to_a_recount()


def test_a_stage_reorder_keeps_each_label_s_rows(alice, alice_partner):
    criteria = [criterion_create(team=None, question="Fit?", weight=1)]
    for name, yes in (("Yes", True), ("No", False), ("Unasked", None)):
        referral = referral_log(user=alice, source=alice_partner, prospect_name=name)
        for each in ("Contacted", "Meeting held"):
            referral_move(referral=referral, to_stage=stage(each), user=alice)
        if yes is not None:
            referral_assess(
                referral=referral, user=alice, answers={criteria[0].pk: yes}
            )
    stage_shift(stage=stage("Proposal sent"), up=True)
    assert by_label(ReceivedTotal) == {Q: 1, C: 1, NA: 1}
    equal_to_a_recount()


@pytest.mark.django_db(transaction=True)
def test_assessments_at_once_all_count(alice, alice_partner):
    criteria = [
        criterion_create(team=None, question=question, weight=1)
        for question in ("Decision maker?", "Budget this year?")
    ]
    logged = [
        referral_log(user=alice, source=alice_partner, prospect_name=f"P{i}")
        for i in range(8)
    ]
    work, pick = iter([logged[i::4] for i in range(4)]), threading.Lock()

    def assess_two():
        with pick:
            mine = next(work)
        for referral in mine:
            referral_assess(referral=referral, user=alice, answers=answers(criteria, Q))
        return "done"

    assert at_once(assess_two, workers=4) == ["done"] * 4
    assert by_label(PipelineTotal) == by_label(ReceivedTotal) == {Q: 8}
    equal_to_a_recount()


# -- The migration (0023) ------------------------------------------------------


def as_before_0023():
    """The summaries as the version before 0023 kept them: no label (every
    row Not assessed), each old key's rows added up."""
    for summary, key in KEYS.items():
        old_key = [column for column in key if column != "label"]
        rows = list(
            summary.objects.order_by()
            .values(*old_key)
            .annotate(n=Sum("count"), total=Sum("value"))
        )
        summary.objects.all().delete()
        summary.objects.bulk_create(
            summary(**{c: row[c] for c in old_key}, count=row["n"], value=row["total"])
            for row in rows
        )


def test_the_migration_counts_the_summaries_again_by_label(
    alice, bob, alice_partner, criteria
):
    for name, label in (("A", Q), ("B", L), ("C", None)):
        referral = referral_log(
            user=alice, source=alice_partner, prospect_name=name, estimated_value=10
        )
        referral_move(
            referral=referral,
            to_stage=stage("Won"),
            user=alice,
            final_value=Decimal(20),
        )
        if label:
            referral_assess(
                referral=referral, user=alice, answers=answers(criteria, label)
            )
    referral_log(user=bob, source=PartnerFactory(owner=bob), prospect_name="D")
    kept = equal_to_a_recount()
    as_before_0023()
    assert by_label(PipelineTotal) == {NA: 4}
    bobs = set(PipelineTotal.objects.filter(owner=bob).values_list("pk", flat=True))

    migration.summaries_by_label(apps, EDITOR)

    assert totals() == kept
    # bob assessed nothing: his rows were right, and left as they were.
    assert set(
        PipelineTotal.objects.filter(owner=bob).values_list("pk", flat=True)
    ) == (bobs)
    assert by_label(ClosedTotal) == {Q: 1, L: 1, NA: 1}


def test_the_migration_reads_nothing_more_when_nobody_assessed(
    alice, alice_partner, django_assert_num_queries
):
    referral_log(user=alice, source=alice_partner, prospect_name="P")
    kept = totals()
    with django_assert_num_queries(1):  # is any referral assessed?
        migration.summaries_by_label(apps, EDITOR)
    assert totals() == kept


def test_going_back_adds_each_old_keys_rows_up(alice, alice_partner, criteria):
    for name, label in (("A", Q), ("B", C), ("C", None)):
        referral = referral_log(
            user=alice, source=alice_partner, prospect_name=name, estimated_value=5
        )
        if label:
            referral_assess(
                referral=referral, user=alice, answers=answers(criteria, label)
            )

    migration.summaries_merged(apps, EDITOR)

    assert totals(PipelineTotal) == {
        (alice.pk, stage("Received").pk, NA): (3, Decimal(15))
    }
    assert by_label(ReceivedTotal) == {NA: 3}


def test_the_migration_there_and_back_on_this_database(transactional_db, alice):
    """0023 unapplied (each old key's rows added up, the old keys back,
    the label gone), then applied again (counted by label): the same
    summaries as before, on SQLite and PostgreSQL alike (whose foreign-key
    checks must not be left pending before its ALTERs)."""
    source = PartnerFactory(owner=alice)
    criteria = [
        criterion_create(team=None, question=question, weight=1)
        for question in ("Decision maker?", "Budget this year?")
    ]
    for name, label in (("A", Q), ("B", C), ("C", None), ("D", Q)):
        referral = referral_log(
            user=alice, source=source, prospect_name=name, estimated_value=10
        )
        referral_move(
            referral=referral, to_stage=stage("Won"), user=alice, final_value=20
        )
        if label:
            referral_assess(
                referral=referral, user=alice, answers=answers(criteria, label)
            )
    kept = equal_to_a_recount()
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE_0023)
    try:
        old = executor.loader.project_state(BEFORE_0023).apps
        rows = old.get_model("referrals", "PipelineTotal").objects.all()
        assert [(row.stage_id, row.count) for row in rows if row.count] == [
            (stage("Won").pk, 4)
        ]
        assert (
            sum(
                row.count
                for row in old.get_model("referrals", "ClosedTotal").objects.all()
            )
            == 4
        )
    finally:
        MigrationExecutor(connection).migrate(
            MigrationExecutor(connection).loader.graph.leaf_nodes()
        )
    assert totals() == kept

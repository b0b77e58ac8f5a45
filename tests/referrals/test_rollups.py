"""The summaries stay equal to a count of the referrals, whatever changes them."""

import threading
import time
from datetime import date
from decimal import Decimal

import pytest
import time_machine
from django.core.management import call_command
from django.db import connection, transaction
from django.utils.timezone import get_default_timezone as site_tz
from django.utils.timezone import localdate

from referrals import rollups
from referrals.models import (
    ClosedTotal,
    Label,
    PipelineTotal,
    ReceivedTotal,
    Referral,
    Stage,
)
from referrals.rollups import month_of, rollups_rebuild
from referrals.services import referral_log, referral_move, stage_shift
from tests.factories import PartnerFactory, ReferralFactory, stage
from tests.helpers import at_once, form_data, totals

NA = Label.UNASSESSED  # the summaries' label of referrals nobody assessed


def recounted() -> dict:
    """The same, counted from the referrals."""
    before = totals()
    rollups_rebuild()
    after = totals()
    assert after  # a comparison of two empty summaries would prove nothing
    return before, after


def edit(client, referral, **changes):
    data = {
        "prospect_name": referral.prospect_name,
        "source": referral.source_id,
        "owner": referral.owner_id,
        "estimated_value": referral.estimated_value or "",
        "received_on": referral.received_on.isoformat(),
        **changes,
    }
    response = client.post(f"/referrals/{referral.pk}/edit/", data)
    assert response.status_code == 302, response.content.decode()[:2000]


def test_logging_moving_editing_and_deleting_keep_the_totals(
    client, alice, bob, carol, admin, alice_partner
):
    one = referral_log(
        user=alice, source=alice_partner, prospect_name="One", estimated_value=100
    )
    two = referral_log(
        user=alice, source=alice_partner, prospect_name="Two", estimated_value=250
    )
    three = referral_log(user=alice, source=alice_partner, prospect_name="Three")
    referral_move(referral=one, to_stage=stage("Contacted"), user=alice)
    referral_move(
        referral=one, to_stage=stage("Won"), user=alice, final_value=Decimal(900)
    )
    referral_move(referral=two, to_stage=stage("Lost"), user=alice, lost_reason="No")
    client.force_login(carol)  # the team's manager reassigns and revalues
    edit(client, three, owner=bob.pk, estimated_value="75.50")
    edit(client, two, estimated_value="300")
    client.force_login(admin)
    client.post(f"/admin/referrals/referral/{one.pk}/delete/", {"post": "yes"})

    assert not Referral.objects.filter(pk=one.pk).exists()
    before, after = recounted()
    assert before == after
    pipeline = totals(PipelineTotal)
    assert pipeline[(bob.pk, stage("Received").pk, NA)] == (1, Decimal("75.50"))
    assert pipeline[(alice.pk, stage("Lost").pk, NA)] == (1, Decimal("300"))
    assert (alice.pk, stage("Won").pk, NA) not in pipeline  # deleted with its referral
    month = two.received_on.replace(day=1)
    assert totals(ReceivedTotal)[(alice.pk, month, stage("Lost").pk, 0, "No", NA)] == (
        1,
        Decimal("300"),
    )
    assert totals(ClosedTotal) == {
        (
            alice.pk,
            month_of(localdate(two.closed_at, site_tz())),
            stage("Lost").pk,
            NA,
        ): (
            1,
            Decimal("300"),
        )
    }  # one was closed too, then deleted


def test_the_admin_deleting_many_and_revaluing_one_keeps_the_totals(
    client, alice, admin, alice_partner
):
    logged = [
        referral_log(user=alice, source=alice_partner, prospect_name=f"P{i}")
        for i in range(4)
    ]
    client.force_login(admin)
    referral = logged[0]
    response = client.post(
        f"/admin/referrals/referral/{referral.pk}/change/",
        {
            "prospect_name": referral.prospect_name,
            "source": alice_partner.pk,
            "owner": alice.pk,
            "stage": stage("Proposal sent").pk,  # not editable here: ignored
            "received_on": referral.received_on.isoformat(),
            "estimated_value": "40",
        },
    )
    assert response.status_code == 302
    client.post(
        "/admin/referrals/referral/",
        {
            "action": "delete_selected",
            "_selected_action": [r.pk for r in logged[1:3]],
            "post": "yes",
        },
    )
    assert Referral.objects.count() == 2
    referral.refresh_from_db()
    assert referral.stage == stage("Received")  # moves happen on the board
    before, after = recounted()
    assert before == after
    assert totals(PipelineTotal)[(alice.pk, stage("Received").pk, NA)] == (
        2,
        Decimal(40),
    )


def test_the_month_closed_is_the_sites_whoever_closes_it(
    client, alice, alice_partner, settings
):
    settings.TIME_ZONE = "UTC"
    alice.time_zone = "Europe/Berlin"
    alice.save()
    referral = referral_log(
        user=alice, source=alice_partner, prospect_name="P", estimated_value=10
    )
    client.force_login(alice)
    # 00:30 on December 1 in Berlin is still November 30 in UTC.
    with time_machine.travel("2026-11-30T23:30:00Z", tick=False):
        response = client.post(
            f"/referrals/{referral.pk}/move/",
            {"stage": stage("Won").pk, "final_value": "10"},
        )
    assert response.status_code == 302
    assert totals(ClosedTotal) == {
        (alice.pk, date(2026, 11, 1), stage("Won").pk, NA): (1, Decimal(10))
    }
    before, after = recounted()
    assert before == after


def test_the_rebuild_command_counts_rows_made_behind_the_applications_back(alice):
    ReferralFactory.create_batch(3, owner=alice, estimated_value=10)
    assert totals() == {}  # made without the services: not counted yet
    call_command("rollups_rebuild", verbosity=0)
    assert totals(PipelineTotal) == {
        (alice.pk, stage("Received").pk, NA): (3, Decimal(30))
    }
    assert sum(count for count, _ in totals(ReceivedTotal).values()) == 3


@pytest.mark.django_db(transaction=True)
def test_referrals_logged_at_once_are_all_counted(alice, alice_partner):
    source = PartnerFactory(owner=alice)

    def log_five():
        for i in range(5):
            referral_log(user=alice, source=source, prospect_name=f"Racer {i}")

    at_once(log_five, workers=4)
    assert totals(PipelineTotal) == {
        (alice.pk, stage("Received").pk, NA): (20, Decimal(0))
    }
    assert list(totals(ReceivedTotal).values()) == [(20, Decimal(0))]


@pytest.mark.django_db(transaction=True)
def test_a_rebuild_while_reps_log_referrals_counts_every_one(alice, alice_partner):
    roles = iter(["rebuild", "log", "log", "log"])
    pick = threading.Lock()

    def work():
        with pick:
            role = next(roles)
        for i in range(6):
            if role == "rebuild":
                rollups_rebuild()
            else:
                referral_log(user=alice, source=alice_partner, prospect_name=f"R{i}")
        return role

    # A worker that raised (a duplicate key in the rebuild) returns nothing.
    assert sorted(at_once(work, workers=4)) == ["log", "log", "log", "rebuild"]
    assert totals(PipelineTotal) == {
        (alice.pk, stage("Received").pk, NA): (18, Decimal(0))
    }
    before, after = recounted()
    assert before == after


def furthest(*referrals) -> list[str]:
    """The name of the stage at each referral's furthest position reached."""
    at = {s.position: s.name for s in Stage.objects.all()}
    return [at[Referral.objects.get(pk=r.pk).furthest_position] for r in referrals]


@pytest.fixture
def paths(alice, alice_partner):
    """Four referrals down different paths through the pipeline."""

    def walk(name, *stages):
        referral = referral_log(
            user=alice, source=alice_partner, prospect_name=name, estimated_value=10
        )
        for each in stages:
            referral_move(
                referral=referral, to_stage=stage(each), user=alice, lost_reason="No"
            )
        return referral

    return [
        walk("Both", "Contacted", "Meeting held", "Proposal sent"),
        walk("Meeting", "Contacted", "Meeting held"),
        walk("Skipped the meeting", "Contacted", "Proposal sent"),
        walk("Lost", "Contacted", "Lost"),
    ]


def test_reordering_stages_keeps_the_furthest_stage_reached(client, admin, paths):
    client.force_login(admin)
    client.post(
        f"/referrals/stages/{stage('Proposal sent').pk}/reorder/", {"direction": "up"}
    )
    order = [s.name for s in Stage.objects.order_by("position")]
    assert order[2:4] == ["Proposal sent", "Meeting held"]
    # The meeting now comes after the proposal: whoever held one got furthest.
    assert furthest(*paths) == [
        "Meeting held",
        "Meeting held",
        "Proposal sent",
        "Contacted",
    ]
    before, after = recounted()
    assert before == after  # the received summary moved with them
    kept = furthest(*paths)
    call_command("rollups_rebuild", "--furthest", verbosity=0)
    assert furthest(*paths) == kept  # the same as working it out from history


def test_tied_positions_are_numbered_apart_before_a_swap(client, admin, paths):
    Stage.objects.filter(name__in=["Meeting held", "Proposal sent"]).update(position=35)
    client.force_login(admin)
    client.post(
        f"/referrals/stages/{stage('Proposal sent').pk}/reorder/", {"direction": "up"}
    )
    positions = [s.position for s in Stage.objects.order_by("position")]
    assert len(set(positions)) == len(positions)
    assert [s.name for s in Stage.objects.order_by("position")][2:4] == [
        "Proposal sent",
        "Meeting held",
    ]
    assert furthest(*paths)[:3] == ["Meeting held", "Meeting held", "Proposal sent"]
    before, after = recounted()
    assert before == after


def reorder(client, name, direction):
    client.post(
        f"/referrals/stages/{stage(name).pk}/reorder/", {"direction": direction}
    )


def agrees_with_history(*referrals):
    """Each furthest position and the summaries are what working them out
    from scratch gives."""
    kept = furthest(*referrals)
    before = totals()
    call_command("rollups_rebuild", "--furthest", verbosity=0)
    assert furthest(*referrals) == kept
    assert totals() == before


def test_swaps_next_to_lost_and_of_the_first_stage_agree_with_history(
    client, admin, alice, paths
):
    # Made behind the application's back: no history, lost straight away.
    imported = ReferralFactory(owner=alice, stage=stage("Lost"), lost_reason="No")
    call_command("rollups_rebuild", "--furthest", verbosity=0)
    client.force_login(admin)
    for name, direction in [
        ("Lost", "up"),  # above Won
        ("Contacted", "up"),  # above Received, the first stage
        ("Contacted", "down"),
        ("Lost", "down"),
    ]:
        reorder(client, name, direction)
        agrees_with_history(*paths, imported)


def test_a_referral_put_in_a_stage_without_history_counts_that_stage(
    client, admin, alice, alice_partner
):
    referral = referral_log(user=alice, source=alice_partner, prospect_name="P")
    referral_move(referral=referral, to_stage=stage("Meeting held"), user=alice)
    # Put back in Contacted behind the application's back: no history of it.
    Referral.objects.filter(pk=referral.pk).update(stage=stage("Contacted"))
    call_command("rollups_rebuild", "--furthest", verbosity=0)
    client.force_login(admin)
    reorder(client, "Meeting held", "up")
    # Contacted now comes after the meeting, and it stands there: furthest.
    assert furthest(referral) == ["Contacted"]
    agrees_with_history(referral)


def test_a_stage_turned_lost_no_longer_counts_as_progress(client, admin, paths):
    client.force_login(admin)
    contacted = stage("Contacted")
    response = client.post(
        f"/referrals/stages/{contacted.pk}/",
        {
            f"stage-{contacted.pk}-name": "Contacted",
            f"stage-{contacted.pk}-kind": "lost",
            f"stage-{contacted.pk}-probability": "0",
            f"stage-{contacted.pk}-milestone": "",
        },
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    assert furthest(paths[3]) == ["Received"]  # lost after contact: reached nothing
    agrees_with_history(*paths)


@pytest.mark.django_db(transaction=True)
def test_a_move_during_a_reorder_waits_and_counts_the_new_order(alice, alice_partner):
    referral = referral_log(user=alice, source=alice_partner, prospect_name="P")
    referral_move(referral=referral, to_stage=stage("Contacted"), user=alice)
    meeting = stage("Meeting held")  # read before the reorder, as a form would
    reordering = threading.Event()

    def reorder_slowly():
        with transaction.atomic():
            stage_shift(stage=stage("Proposal sent"), up=True)
            reordering.set()
            time.sleep(0.5)  # a reorder at scale takes a while
        return "reordered"

    def move_meanwhile():
        reordering.wait(5)
        referral_move(referral=referral, to_stage=meeting, user=alice)
        return "moved"

    jobs = iter([reorder_slowly, move_meanwhile])
    pick = threading.Lock()

    def work():
        with pick:
            job = next(jobs)
        return job()

    assert sorted(at_once(work, workers=2)) == ["moved", "reordered"]
    # Meeting held now comes after the proposal: it is the furthest reached.
    assert furthest(referral) == ["Meeting held"]
    agrees_with_history(referral)


@pytest.mark.django_db(transaction=True)
def test_logging_while_a_long_reorder_holds_the_lock_is_refused_and_kept(
    client, alice, alice_partner, settings
):
    settings.REORDER_WAIT_SECONDS = 0.3
    holding, finished = threading.Event(), threading.Event()

    def long_reorder():
        try:
            with transaction.atomic():
                rollups.lock_for_reorder()
                holding.set()
                finished.wait(2)
        finally:
            connection.close()

    reorder = threading.Thread(target=long_reorder)
    reorder.start()
    holding.wait(10)
    client.force_login(alice)
    try:
        response = client.post(
            "/referrals/new/", form_data(source=alice_partner.pk, prospect_name="Kept")
        )
    finally:
        finished.set()
        reorder.join()
    if connection.vendor == "postgresql":
        page = response.content.decode()
        assert response.status_code == 200
        assert "being reordered right now, so nothing was saved" in page
        assert 'value="Kept"' in page  # what the rep typed is still there
        assert not Referral.objects.exists()
        retried = client.post(
            "/referrals/new/", form_data(source=alice_partner.pk, prospect_name="Kept")
        )
        assert retried.status_code == 302  # the reorder over, it goes through
    else:  # SQLite: its one writer's lock makes the log wait, then go through
        assert response.status_code == 302
    assert Referral.objects.get().prospect_name == "Kept"

from decimal import Decimal

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.db import connection
from django.utils import timezone

from referrals.forms import ReferralForm
from referrals.models import Activity, Referral, Stage, StageChange
from referrals.services import (
    FINAL_VALUE_REQUIRED,
    LOST_REASON_REQUIRED,
    activity_add,
    milestone_positions,
    referral_enter,
    referral_log,
    referral_move,
    referral_update,
)
from tests.factories import stage


def test_logging_records_the_first_stage_and_note(alice, alice_partner):
    referral = referral_log(
        user=alice, source=alice_partner, prospect_name="Pat", note="Wants a demo"
    )
    assert referral.stage.name == "Received"
    assert referral.owner == alice
    change = StageChange.objects.get(referral=referral)
    assert (change.from_stage, change.to_stage.name, change.by) == (
        None,
        "Received",
        alice,
    )
    assert Activity.objects.get(referral=referral).text == "Wants a demo"


def test_moving_records_a_stage_change_and_sets_first_contact_once(
    alice, alice_referral
):
    with time_machine.travel("2026-11-02 09:00Z", tick=False):
        assert referral_move(
            referral=alice_referral, to_stage=stage("Contacted"), user=alice
        )
    first_contact = alice_referral.first_contacted_at
    with time_machine.travel("2026-11-05 09:00Z", tick=False):
        referral_move(referral=alice_referral, to_stage=stage("Received"), user=alice)
        referral_move(referral=alice_referral, to_stage=stage("Contacted"), user=alice)
    alice_referral.refresh_from_db()
    assert alice_referral.first_contacted_at == first_contact
    moves = [
        (c.from_stage and c.from_stage.name, c.to_stage.name)
        for c in alice_referral.stage_changes.all()
    ]
    assert moves == [
        ("Received", "Contacted"),
        ("Contacted", "Received"),
        ("Received", "Contacted"),
    ]


def test_skipping_to_meeting_held_sets_contact_and_meeting(alice, alice_referral):
    referral_move(referral=alice_referral, to_stage=stage("Meeting held"), user=alice)
    assert alice_referral.first_contacted_at is not None
    assert alice_referral.meeting_held_at == alice_referral.first_contacted_at
    assert alice_referral.stage.name == "Meeting held"


def test_moving_to_the_same_stage_is_a_no_op(alice, alice_referral):
    assert not referral_move(
        referral=alice_referral, to_stage=stage("Received"), user=alice
    )
    assert alice_referral.stage_changes.count() == 0


def test_won_needs_the_final_value_and_records_it(alice, alice_referral):
    with pytest.raises(ValidationError) as error:
        referral_move(referral=alice_referral, to_stage=stage("Won"), user=alice)
    assert error.value.message_dict == {"final_value": [FINAL_VALUE_REQUIRED]}
    alice_referral.refresh_from_db()
    assert alice_referral.stage.name == "Received"

    referral_move(
        referral=alice_referral,
        to_stage=stage("Won"),
        user=alice,
        final_value=Decimal("42000"),
    )
    assert alice_referral.estimated_value == Decimal("42000")
    assert alice_referral.closed_at is not None
    assert alice_referral.first_contacted_at is not None  # won implies contact


def test_lost_needs_a_reason_and_reopening_clears_closed(alice, alice_referral):
    with pytest.raises(ValidationError) as error:
        referral_move(
            referral=alice_referral, to_stage=stage("Lost"), user=alice, lost_reason=" "
        )
    assert error.value.message_dict == {"lost_reason": [LOST_REASON_REQUIRED]}
    referral_move(
        referral=alice_referral,
        to_stage=stage("Lost"),
        user=alice,
        lost_reason="No budget",
    )
    assert alice_referral.lost_reason == "No budget"
    assert alice_referral.closed_at is not None
    assert alice_referral.first_contacted_at is None  # lost straight away: no contact
    referral_move(referral=alice_referral, to_stage=stage("Contacted"), user=alice)
    assert alice_referral.closed_at is None


def test_activity_updates_last_activity(alice, alice_referral):
    activity = activity_add(
        referral=alice_referral, user=alice, kind="call", text="Left voicemail"
    )
    alice_referral.refresh_from_db()
    assert alice_referral.last_activity_at == activity.at


def test_activity_needs_text(alice, alice_referral):
    with pytest.raises(ValidationError):
        activity_add(referral=alice_referral, user=alice, kind="note", text="   ")


def test_a_stale_edit_form_writing_the_old_owner_back_takes_the_thanks_too(
    carol, alice, bob, alice_partner
):
    """A rep's edit form (owner disabled: the owner it was loaded with) saved
    after a manager reassigned the referral writes the old owner back: the
    thanks follow the owner written, as Today shows them by it."""
    referral = referral_log(user=alice, source=alice_partner, prospect_name="P")
    stale_form = ReferralForm(
        {
            "prospect_name": "P, renamed",
            "source": alice_partner.pk,
            "received_on": referral.received_on.isoformat(),
        },
        instance=Referral.objects.get(pk=referral.pk),  # loaded: alice's
        user=alice,
    )
    reassign = ReferralForm(
        {
            "prospect_name": "P",
            "source": alice_partner.pk,
            "owner": bob.pk,
            "received_on": referral.received_on.isoformat(),
        },
        instance=Referral.objects.get(pk=referral.pk),
        user=carol,
    )
    assert reassign.is_valid() and stale_form.is_valid()
    referral_update(referral=reassign.instance, user=carol, data=reassign.cleaned_data)
    assert referral.thank_yous.get().owner == bob
    referral_update(  # "owner" is not in its changed_data
        referral=stale_form.instance, user=alice, data=stale_form.cleaned_data
    )
    referral.refresh_from_db()
    assert referral.owner == alice
    assert referral.thank_yous.get().owner == alice


def test_entering_a_stage_with_the_milestones_read_once_is_the_same(db):
    """referral_enter with milestone_positions() (the benchmark's data, many
    referrals) sets what it sets reading the milestones itself."""
    at = timezone.now()
    for entered in Stage.objects.all():
        read_each_time, read_once = Referral(), Referral()
        owed = referral_enter(read_each_time, entered, at=at)
        assert owed == referral_enter(
            read_once, entered, at=at, milestones=milestone_positions()
        )
        for field in ("first_contacted_at", "meeting_held_at", "closed_at"):
            assert getattr(read_once, field) == getattr(read_each_time, field)
        assert read_once.furthest_position == read_each_time.furthest_position


def test_a_move_post_runs_a_fixed_number_of_queries(
    client, alice, alice_referral, django_assert_num_queries
):
    """A move that owes thanks (the first meeting), pinned (issue 25: no page
    above 12). On SQLite: session; user with role; the referral (scoped);
    the stage picked (the form); the referral locked, its source read with
    it; every stage (the target's position, the milestones); the referral
    saved; its stage change; the pipeline and received summaries' upserts;
    the thank-you moments owed and not yet thanked (one query); the
    thank-you. No read-back: the view's referral is the one saved, its stage
    with it. PostgreSQL adds the lock that waits for a stage reorder and
    sends the stage change with the upserts as one statement."""
    client.force_login(alice)
    meeting = stage("Meeting held")
    queries = 11 if connection.vendor == "postgresql" else 12
    with django_assert_num_queries(queries):
        response = client.post(
            f"/referrals/{alice_referral.pk}/move/", {"stage": meeting.pk}
        )
    assert response.status_code == 302
    alice_referral.refresh_from_db()
    assert alice_referral.stage == meeting
    assert alice_referral.thank_yous.get().moment == "meeting"

"""A partnership plan's commitments and their reminder emails (issue 27):
one outbox row per commitment, sent to its owner on the due date through
the thank-yous' dispatch (claimed once, retried), moved with its date,
cancelled when the commitment is done or dropped; read as its owner gets
it at the SMTP sink."""

from datetime import datetime, timedelta

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.utils import timezone

from partners.models import Commitment, Partner
from partners.services import DONE_IN_FUTURE
from tests.factories import PartnerFactory
from tests.thanks.test_asks import NAMES, html, html_read, plain
from thanks.models import CommitmentReminder
from thanks.services import (
    MAX_ATTEMPTS,
    REMINDER_NOT_NEEDED,
    commitment_change,
    commitment_record,
    reminder_due_at,
    thank_yous_dispatch_due,
    thank_yous_sweep,
)


@pytest.fixture
def hana(alice):
    return PartnerFactory(
        owner=alice, name="Hana Payroll", company="Payroll & Co", kind="partner"
    )


def commit(partner, owner, due_on, what="Introduce two HR directors", **fields):
    return commitment_record(
        partner=partner, owner=owner, what=what, due_on=due_on, **fields
    )


def test_a_commitments_reminder_goes_at_8_on_its_due_date_in_the_owners_zone(
    alice, hana
):
    alice.time_zone = "Europe/Berlin"
    alice.save()
    due_on = timezone.localdate() + timedelta(days=10)
    commitment = commit(hana, alice, due_on)
    reminder = commitment.reminder
    assert reminder.status == "scheduled"
    berlin = datetime.fromisoformat(f"{due_on.isoformat()}T08:00:00+01:00")
    assert reminder.due_at == berlin
    # Created on or after its due date: it goes now.
    late = commit(hana, alice, timezone.localdate() - timedelta(days=3))
    assert late.reminder.due_at <= timezone.now()


def test_the_reminder_is_sent_once_on_its_day_and_read_as_its_owner_gets_it(
    alice, hana, smtp_sink
):
    due_on = timezone.localdate() + timedelta(days=2)
    commitment = commit(hana, alice, due_on, owed_by="them", notes="Ask Hana first")
    assert thank_yous_dispatch_due() == ({}, True)  # not its day yet
    on_the_day = reminder_due_at(due_on=due_on, owner=alice) + timedelta(minutes=1)
    with time_machine.travel(on_the_day, tick=False):
        assert thank_yous_dispatch_due() == ({"sent": 1}, True)
        assert thank_yous_sweep(enqueue=lambda: None) == 0  # a second beat: none due
        assert thank_yous_dispatch_due() == ({}, True)
    [message] = smtp_sink.parsed()
    assert message["To"] == "alice@example.com"
    assert message["Subject"] == "Due today: Introduce two HR directors (Hana Payroll)"
    commitment.reminder.refresh_from_db()
    assert message["Message-ID"] == commitment.reminder.message_id
    text = plain(message)
    assert (
        "is due today:\n\n  Introduce two HR directors\n  Owed by: Hana Payroll" in text
    )
    assert "Notes: Ask Hana first" in text
    assert f"/partners/{hana.pk}/" in text
    shown, links = html_read(html(message))
    assert "Owed by: Hana Payroll" in shown
    assert any(link.endswith(f"/partners/{hana.pk}/") for link in links)
    assert commitment.reminder.status == "sent"


@pytest.mark.parametrize(("partner_name", "what", "owner_name"), NAMES)
def test_names_reach_the_owner_as_typed(
    db, north, smtp_sink, partner_name, what, owner_name
):
    from tests.factories import UserFactory

    owner = UserFactory(email="o@example.com", display_name=owner_name, team=north)
    partner = PartnerFactory(owner=owner, name=partner_name, kind="partner")
    commit(partner, owner, timezone.localdate() - timedelta(days=1), what=what)
    assert thank_yous_dispatch_due() == ({"sent": 1}, True)
    [message] = smtp_sink.parsed()
    # (A header of non-Latin words is folded after "Subject:": one space.)
    assert message["Subject"].strip() == f"Overdue: {what} ({partner_name})"
    assert f"partnership with {partner_name} was due on" in plain(message)
    assert f"  {what}\n" in plain(message)
    shown, _ = html_read(html(message))
    assert f"partnership with {partner_name} was due on" in shown
    assert what in shown
    assert "&amp;" not in shown and "&lt;" not in shown


def test_a_refused_send_is_retried_and_the_failure_shown_on_the_plan(
    client, alice, hana, smtp_sink
):
    # Due yesterday: its reminder goes now, whatever the hour the test runs
    # at (one due today waits for 8:00).
    yesterday = timezone.localdate() - timedelta(days=1)
    commitment = commit(hana, alice, yesterday)
    smtp_sink.refuse_data = "451 4.3.0 Try again later"
    assert thank_yous_dispatch_due() == ({"retry": 1}, True)
    reminder = CommitmentReminder.objects.get()
    assert reminder.status == "scheduled" and "451" in reminder.last_error
    CommitmentReminder.objects.filter(pk=reminder.pk).update(
        attempts=MAX_ATTEMPTS - 1, next_attempt_at=None
    )
    assert thank_yous_dispatch_due() == ({"failed": 1}, True)
    client.force_login(alice)
    page = client.get(f"/partners/{hana.pk}/").content.decode()
    assert "failed: The mail server refused it: 451" in page
    # Moving the date schedules it again, from a first attempt.
    smtp_sink.refuse_data = None
    commitment_change(commitment=commitment, due_on=yesterday)
    reminder.refresh_from_db()
    assert reminder.status == "failed"  # the same date: not moved
    commitment_change(commitment=commitment, due_on=yesterday - timedelta(days=1))
    reminder.refresh_from_db()
    assert (reminder.status, reminder.attempts) == ("scheduled", 0)
    assert thank_yous_dispatch_due() == ({"sent": 1}, True)


@pytest.mark.parametrize("status", ["done", "dropped"])
def test_done_or_dropped_before_its_day_no_reminder_goes(
    alice, hana, smtp_sink, status
):
    commitment = commit(hana, alice, timezone.localdate() + timedelta(days=5))
    commitment_change(commitment=commitment, status=status)
    reminder = CommitmentReminder.objects.get()
    assert reminder.status == "cancelled"
    assert reminder.note == REMINDER_NOT_NEEDED.format(status=status)
    # Reopened: its reminder is back.
    commitment_change(commitment=commitment, status="open")
    reminder.refresh_from_db()
    assert reminder.status == "scheduled"
    assert commitment.done_on is None


def test_done_since_it_was_claimed_it_is_cancelled_not_sent(alice, hana, smtp_sink):
    commitment = commit(hana, alice, timezone.localdate() - timedelta(days=1))
    Commitment.objects.filter(pk=commitment.pk).update(status="done")
    assert thank_yous_dispatch_due() == ({"cancelled": 1}, True)
    assert smtp_sink.messages == []


def test_done_is_dated_today_unless_said_and_never_in_the_future(alice, hana):
    commitment = commit(hana, alice, timezone.localdate())
    commitment_change(commitment=commitment, status="done")
    assert commitment.done_on == timezone.localdate()
    assert commitment.kept_on_time
    with pytest.raises(ValidationError) as refused:
        commitment_change(
            commitment=commitment, done_on=timezone.localdate() + timedelta(days=1)
        )
    assert refused.value.message_dict == {"done_on": [DONE_IN_FUTURE]}


def test_overdue_and_kept_on_time():
    today = timezone.localdate()
    late = Commitment(due_on=today - timedelta(days=1), status="open")
    assert late.is_overdue(today)
    assert not Commitment(due_on=today, status="open").is_overdue(today)
    assert not Commitment(due_on=today - timedelta(days=1), status="done").is_overdue(
        today
    )
    kept = Commitment(due_on=today, status="done", done_on=today)
    assert kept.kept_on_time
    assert not Commitment(
        due_on=today, status="done", done_on=today + timedelta(days=1)
    ).kept_on_time


# -- The pages: the plan on the partner's page, the form, Today, the digest --------


def test_a_rep_adds_a_commitment_and_sees_it_on_the_plan(client, alice, hana):
    client.force_login(alice)
    due_on = timezone.localdate() + timedelta(days=30)
    response = client.post(
        f"/partners/{hana.pk}/commitments/new/",
        {
            "what": "Co-host a breakfast",
            "owed_by": "us",
            "owner": alice.pk,
            "due_on": due_on.isoformat(),
            "status": "open",
        },
    )
    assert response.status_code == 302
    page = client.get(f"/partners/{hana.pk}/").content.decode()
    assert "Co-host a breakfast" in page
    assert f"goes {due_on:%b} {due_on.day}, {due_on.year}" in page


def test_a_missing_date_is_an_error_next_to_the_field_input_kept(client, alice, hana):
    client.force_login(alice)
    response = client.post(
        f"/partners/{hana.pk}/commitments/new/",
        {"what": "Co-host a breakfast", "owed_by": "us", "owner": alice.pk},
    )
    assert response.status_code == 400
    assert "due_on" in response.context["form"].errors
    assert 'value="Co-host a breakfast"' in response.content.decode()
    assert not Commitment.objects.exists()


def test_a_rep_cannot_give_a_commitment_to_another_rep(client, alice, bob, hana):
    client.force_login(alice)
    response = client.post(
        f"/partners/{hana.pk}/commitments/new/",
        {
            "what": "X",
            "owed_by": "us",
            "owner": bob.pk,
            "due_on": "2027-01-05",
            "status": "open",
        },
    )
    assert response.status_code == 400
    assert "owner" in response.context["form"].errors


def test_a_rep_gets_404_on_another_reps_partner_and_commitment(
    client, alice, dave, hana
):
    commitment = commit(hana, alice, timezone.localdate())
    client.force_login(dave)
    assert client.get(f"/partners/{hana.pk}/commitments/new/").status_code == 404
    assert client.get(f"/partners/commitments/{commitment.pk}/").status_code == 404
    refused = client.post(
        f"/partners/commitments/{commitment.pk}/",
        {"what": "X", "owed_by": "us", "owner": dave.pk, "due_on": "2027-01-05"},
    )
    assert refused.status_code == 404


def test_the_plan_says_how_many_were_kept_on_time(client, alice, hana):
    today = timezone.localdate()
    kept = commit(hana, alice, today - timedelta(days=10), what="Kept")
    commitment_change(
        commitment=kept, status="done", done_on=today - timedelta(days=12)
    )
    late = commit(hana, alice, today - timedelta(days=10), what="Late")
    commitment_change(commitment=late, status="done", done_on=today - timedelta(days=2))
    commit(hana, alice, today - timedelta(days=1), what="Still open")
    client.force_login(alice)
    response = client.get(f"/partners/{hana.pk}/")
    page = response.content.decode()
    assert "1 of 2 done kept on time" in page
    assert "1 overdue" in page
    assert [c.what for c in response.context["plan"]["commitments"]] == [
        "Still open",
        "Kept",
        "Late",
    ]


def test_todays_list_has_the_users_commitments_due_within_a_week(
    client, alice, bob, hana
):
    today = timezone.localdate()
    commit(hana, alice, today - timedelta(days=2), what="Overdue one")
    commit(hana, alice, today, what="Due today")
    commit(hana, alice, today + timedelta(days=6), what="Next week")
    commit(hana, alice, today + timedelta(days=9), what="Later")
    commit(hana, bob, today, what="Bob's")
    done = commit(hana, alice, today, what="Done already")
    commitment_change(commitment=done, status="done")
    client.force_login(alice)
    response = client.get("/")
    assert [c.what for c in response.context["commitments"]] == [
        "Overdue one",
        "Due today",
        "Next week",
    ]
    page = response.content.decode()
    assert "Partner commitments due" in page


def test_today_shows_no_commitments_block_without_any(client, alice):
    client.force_login(alice)
    assert "Partner commitments due" not in client.get("/").content.decode()


def test_the_digest_lists_the_commitments_due_by_today(alice, hana, smtp_sink):
    from referrals.digests import digest_send

    today = timezone.localdate()
    commit(hana, alice, today - timedelta(days=2), what="Send the deck")
    commit(hana, alice, today + timedelta(days=3), what="Not yet")
    assert digest_send(user=alice, now=timezone.now())
    [message] = [m for m in smtp_sink.parsed() if "Today" in m["Subject"]]
    assert message["Subject"] == "Today: 1 commitment due"
    assert "- Hana Payroll: Send the deck (owed by us, OVERDUE since" in plain(message)
    assert "Not yet" not in plain(message)
    shown, _ = html_read(html(message))
    assert "Hana Payroll: Send the deck (owed by us, overdue since" in shown


def test_only_referral_partners_and_sources_with_a_plan_show_one(client, alice):
    customer = PartnerFactory(owner=alice, kind=Partner.Kind.CUSTOMER)
    client.force_login(alice)
    assert (
        "Partnership plan"
        not in client.get(f"/partners/{customer.pk}/").content.decode()
    )
    commit(customer, alice, timezone.localdate())
    assert (
        "Partnership plan" in client.get(f"/partners/{customer.pk}/").content.decode()
    )


def test_a_date_moved_in_the_form_moves_the_reminder_with_a_new_message(
    client, alice, hana
):
    commitment = commit(hana, alice, timezone.localdate() + timedelta(days=3))
    reminder = commitment.reminder
    CommitmentReminder.objects.filter(pk=reminder.pk).update(
        status="sent", sent_at=timezone.now()
    )
    later = timezone.localdate() + timedelta(days=20)
    client.force_login(alice)
    response = client.post(
        f"/partners/commitments/{commitment.pk}/",
        {
            "what": commitment.what,
            "owed_by": "us",
            "owner": alice.pk,
            "due_on": later.isoformat(),
            "status": "open",
        },
    )
    assert response.status_code == 302
    moved = CommitmentReminder.objects.get(pk=reminder.pk)
    assert moved.status == "scheduled"
    assert moved.due_at == reminder_due_at(due_on=later, owner=alice)
    assert moved.message_token != reminder.message_token


def test_a_commitments_owner_is_someone_who_sees_the_partner(
    client, alice, bob, carol, hana
):
    client.force_login(carol)
    form = client.get(f"/partners/{hana.pk}/commitments/new/").context["form"]
    # Alice owns the partner, Carol manages her team; Bob cannot see it.
    assert set(form.fields["owner"].queryset) == {alice, carol}
    assert form.fields["owner"].initial == alice.pk
    client.force_login(alice)
    form = client.get(f"/partners/{hana.pk}/commitments/new/").context["form"]
    assert list(form.fields["owner"].queryset) == [alice]


def test_a_rep_keeps_the_managers_commitment_when_editing_it(
    client, alice, carol, hana
):
    commitment = commit(hana, carol, timezone.localdate() + timedelta(days=3))
    client.force_login(alice)
    response = client.post(
        f"/partners/commitments/{commitment.pk}/",
        {
            "what": "Renamed",
            "owed_by": "us",
            "owner": carol.pk,
            "due_on": commitment.due_on.isoformat(),
            "status": "open",
        },
    )
    assert response.status_code == 302
    commitment.refresh_from_db()
    assert (commitment.what, commitment.owner) == ("Renamed", carol)


def test_today_leaves_out_a_commitment_on_a_partner_the_user_cannot_see(
    client, bob, hana
):
    # Made around the form (which offers only those who see the partner).
    Commitment.objects.create(
        partner=hana, owner=bob, what="Hidden", due_on=timezone.localdate()
    )
    client.force_login(bob)
    assert client.get("/").context["commitments"] == []

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from accounts.models import User
from partners.models import Partner
from referrals.management.commands.seed_demo import (
    DEMO_LOGINS_LIVE,
    REFUSE_IN_PRODUCTION,
)
from referrals.models import Activity, Criterion, Referral, StageChange, ValueStatement
from thanks.models import ThankYou


@pytest.fixture(autouse=True)
def development(settings):
    settings.DEBUG = True  # the test runner turns DEBUG off; seed_demo is for dev


def test_seed_demo_creates_the_demo_logins_and_data(db):
    call_command("seed_demo", partners=8, referrals=30)
    logins = {
        "rep@example.com": ("Rep", "North"),
        "rep2@example.com": ("Rep", "North"),
        "rep3@example.com": ("Rep", "South"),
        "manager@example.com": ("Manager", "North"),
        "admin@example.com": ("Admin", None),
    }
    for email, (role, team) in logins.items():
        user = User.objects.get(email=email)
        assert user.check_password("demo")
        assert user.role == role
        assert (user.team.name if user.team else None) == team
    assert (
        User.objects.get(email="manager@example.com").managed_teams.get().name
        == "North"
    )
    assert Partner.objects.count() == 8
    assert Referral.objects.count() == 30
    # Every source was thanked for every referral, once; no old email waits
    # to be sent when `make run` starts the worker.
    assert ThankYou.objects.filter(moment="received").count() == 30
    assert not ThankYou.objects.filter(channel="email", status="scheduled").exists()
    # Every referral's history starts at Received and ends at its current stage.
    for referral in Referral.objects.prefetch_related("stage_changes"):
        changes = list(referral.stage_changes.all())
        assert changes[0].to_stage.name == "Received"
        assert changes[-1].to_stage == referral.stage


def test_seed_demo_is_idempotent(db):
    call_command("seed_demo", partners=5, referrals=10)
    call_command("seed_demo", partners=5, referrals=10)
    assert User.objects.count() == 5
    assert Referral.objects.count() == 10
    assert StageChange.objects.filter(to_stage__name="Received").count() == 10


def test_seed_demo_refuses_in_production_and_says_what_it_would_do(db, settings):
    settings.DEBUG = False
    with pytest.raises(CommandError) as refused:
        call_command("seed_demo", partners=7, referrals=9)
    assert str(refused.value) == REFUSE_IN_PRODUCTION.format(
        count=5,
        logins="rep@example.com, rep2@example.com, rep3@example.com, "
        "manager@example.com, admin@example.com",
        partners=7,
        referrals=9,
    )
    assert "password 'demo'" in str(refused.value)
    assert "seed_demo --force" in str(refused.value)
    assert "createsuperuser" in str(refused.value)
    assert not User.objects.exists()
    assert not Partner.objects.exists()


def test_seed_demo_forced_in_production_creates_it_and_warns(db, settings):
    settings.DEBUG = False
    out, err = StringIO(), StringIO()
    call_command(
        "seed_demo", "--force", partners=2, referrals=3, stdout=out, stderr=err
    )
    assert User.objects.count() == 5
    assert User.objects.get(email="admin@example.com").check_password("demo")
    assert Referral.objects.count() == 3
    assert "Demo data created." in out.getvalue()
    assert DEMO_LOGINS_LIVE in err.getvalue()
    # Nothing for the worker to send to the made-up sources.
    assert not ThankYou.objects.filter(channel="email", status="scheduled").exists()
    assert not Partner.objects.exclude(
        email__regex=r"@example\.(com|org|net)$"
    ).exists()


def test_seed_demo_in_development_does_not_warn(db):
    err = StringIO()
    call_command("seed_demo", partners=2, referrals=2, stderr=err)
    assert DEMO_LOGINS_LIVE not in err.getvalue()


def test_demo_reps_log_in_with_the_documented_password(client, db):
    call_command("seed_demo", partners=2, referrals=2)
    response = client.post(
        "/accounts/login/", {"username": "rep@example.com", "password": "demo"}
    )
    assert response.status_code == 302


def test_demo_referrals_start_as_moves_would_leave_them(db):
    """Milestone dates come from the stages' milestones, not their names, and
    each thank-you owed matches the moment a move would owe."""
    from referrals.models import Stage

    Stage.objects.filter(name="Contacted").update(name="Reached out")
    Stage.objects.filter(name="Meeting held").update(name="Met")
    call_command("seed_demo", partners=8, referrals=60)
    met = Referral.objects.filter(stage_changes__to_stage__name="Met").distinct()
    assert met.exists()
    for referral in met:
        assert referral.first_contacted_at and referral.meeting_held_at
        assert referral.thank_yous.filter(moment="meeting").exists()
    for referral in Referral.objects.filter(stage__kind="won"):
        assert referral.closed_at == referral.stage_entered_at
        assert referral.thank_yous.filter(moment="won").exists()
    never_met = Referral.objects.filter(meeting_held_at__isnull=True)
    assert not ThankYou.objects.filter(referral__in=never_met, moment="meeting")


def test_seed_demo_writes_the_criteria_and_assesses_most_referrals(db):
    call_command("seed_demo", partners=8, referrals=30)
    assert Criterion.objects.filter(team=None).count() == 4
    assert ValueStatement.objects.filter(team=None).count() == 3
    assessed = Referral.objects.exclude(label="unassessed")
    assert 18 <= assessed.count() < 30  # most, through the service
    assert Activity.objects.filter(kind="assessment").count() == assessed.count()
    assert set(assessed.values_list("label", flat=True)) >= {"qualified", "cold"}

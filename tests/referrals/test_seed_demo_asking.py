"""The demo data has customers to ask and customers to leave for now, for
every demo rep (seed_demo's OUTCOMES, through the services)."""

from django.core.management import call_command

from accounts.models import User
from partners.asking import not_now_customers, ready_customers
from partners.models import Outcome


def test_every_demo_rep_has_customers_ready_and_not_now(db, settings):
    settings.DEBUG = True
    call_command("seed_demo", partners=40, referrals=20)
    for email in ("rep@example.com", "rep2@example.com", "rep3@example.com"):
        rep = User.objects.get(email=email)
        assert ready_customers(user=rep).exists(), email
        assert not_now_customers(user=rep).exists(), email
    assert (
        Outcome.objects.filter(referral__isnull=True).count() == Outcome.objects.count()
    )
    call_command("seed_demo", partners=40, referrals=20)  # again: nothing more
    assert Outcome.objects.count() <= 15

"""The dashboard's "Asking for referrals": asks made in the period per
channel, the customers asked and the referrals that followed within 90 days
(partners.asking.asks_summary), scoped as every other figure."""

import re
from datetime import timedelta
from html import unescape

import pytest
import time_machine

from partners.services import ask_create
from tests.dashboard.helpers import NOW, at, get, log
from tests.dashboard.test_dashboard import TEAM_DASHBOARD_QUERIES
from tests.factories import PartnerFactory

SECTION = re.compile(r'<section[^>]*aria-labelledby="asks-h".*?</section>', re.S)


def asks_text(response) -> str:
    """The "Asking for referrals" block as a reader sees it: its text, one
    space between words."""
    section = SECTION.search(response.content.decode())
    assert section, "no Asking for referrals block"
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", section.group())).split())


def ask(customer, when, channel="in_person"):
    with time_machine.travel(at(when), tick=False):
        return ask_create(
            partner=customer, user=customer.owner, channel=channel, note=""
        )


@pytest.fixture
def customers(alice, bob, dave):
    return {
        "sam": PartnerFactory(owner=alice, name="Sam Customer", kind="customer"),
        "uma": PartnerFactory(owner=bob, name="Uma Customer", kind="customer"),
        "val": PartnerFactory(owner=dave, name="Val Customer", kind="customer"),
    }


@pytest.fixture
def asked(customers):
    """In the last 90 days (the default period): alice's customer asked by
    email twice and in person once, bob's by phone; dave's (South) by email
    and by phone."""
    sam, uma, val = customers["sam"], customers["uma"], customers["val"]
    ask(sam, "2026-09-01T10:00:00", "email")
    ask(sam, "2026-10-15T10:00:00", "email")
    ask(sam, "2026-11-02T10:00:00", "in_person")
    ask(uma, "2026-11-03T10:00:00", "phone")
    ask(val, "2026-11-04T10:00:00", "email")
    ask(val, "2026-11-05T10:00:00", "phone")
    return customers


def test_asks_are_counted_by_channel(client, carol, asked):
    text = asks_text(get(client, carol))

    assert "Asks made 4 2 email · 1 in person · 1 phone" in text
    assert "Customers asked 2" in text


def test_a_manager_sees_the_teams_asks_not_another_teams(client, carol, dave, asked):
    response = get(client, carol)

    figures = response.context["asks"]
    assert (figures["asks"], figures["customers"]) == (4, 2)  # not dave's two


def test_a_rep_picked_shows_that_reps_asks_only(client, carol, alice, bob, asked):
    # The rep filter offers the reps who own a referral.
    log(alice, asked["sam"], "2026-06-01T10:00:00", 100, "Alice's")
    log(bob, asked["uma"], "2026-06-01T10:00:00", 100, "Bob's")

    alices = asks_text(get(client, carol, rep=alice.pk))
    bobs = asks_text(get(client, carol, rep=bob.pk))

    assert "Asks made 3 2 email · 1 in person · 0 phone" in alices
    assert "Asks made 1 0 email · 0 in person · 1 phone" in bobs


def test_an_admin_sees_every_team_or_one(client, admin, south, asked):
    everyone = asks_text(get(client, admin))
    south_only = asks_text(get(client, admin, team=south.pk))

    assert "Asks made 6 3 email · 1 in person · 2 phone" in everyone
    assert "Customers asked 3" in everyone
    assert "Asks made 2 1 email · 0 in person · 1 phone" in south_only


def test_a_rep_has_no_dashboard(client, alice, asked):
    assert get(client, alice).status_code == 403


def test_the_periods_first_and_last_day_count_and_not_a_moment_beyond(
    client, carol, customers
):
    sam = customers["sam"]
    ask(sam, "2026-10-31T23:59:59", "email")  # the day before
    ask(sam, "2026-11-01T00:00:00", "email")  # the first moment
    ask(sam, "2026-11-10T23:59:59", "phone")  # the last day's last second
    ask(sam, "2026-11-11T00:00:00", "phone")  # the day after

    text = asks_text(
        get(client, carol, period="custom", start="2026-11-01", end="2026-11-10")
    )

    assert "Asks made 2 1 email · 0 in person · 1 phone" in text


def test_referrals_that_followed_within_90_days_count_once(client, carol, customers):
    sam, uma = customers["sam"], customers["uma"]
    ask(sam, "2026-05-10T10:00:00")
    ask(sam, "2026-05-20T10:00:00")
    ask(uma, "2026-05-25T10:00:00")
    log(sam.owner, sam, "2026-05-09T10:00:00", 100, "Before the asks")
    log(sam.owner, sam, "2026-05-22T10:00:00", 100, "After both asks")  # once
    log(sam.owner, sam, "2026-08-17T10:00:00", 100, "89 days after the 2nd")
    log(sam.owner, sam, "2026-08-18T10:00:00", 100, "90 days after the 2nd")
    log(uma.owner, uma, "2026-09-01T10:00:00", 100, "99 days after uma's")

    response = get(client, carol, period="custom", start="2026-05-01", end="2026-05-31")

    text = asks_text(response)
    assert "Referrals that followed 2 0.67 per ask" in text
    assert response.context["asks"]["referrals_followed"] == 2


def test_a_period_without_asks_says_so(client, carol, customers):
    ask(customers["sam"], "2026-06-01T10:00:00")  # before the last 90 days

    text = asks_text(get(client, carol))

    assert "No asks in this period." in text
    assert "Asks made" not in text


def test_a_view_of_another_source_kind_says_customers_are_asked(client, carol, asked):
    text = asks_text(get(client, carol, source_kind="partner"))

    assert "customers are asked for referrals" in text
    assert "Asks made" not in text
    customers_only = asks_text(get(client, carol, source_kind="customer"))
    assert "Asks made 4" in customers_only


def test_every_teams_snapshot_holds_the_asks_as_of_its_time(
    client, admin, asked, settings
):
    settings.DASHBOARD_SNAPSHOT_SECONDS = 300
    first = get(client, admin)
    ask(asked["sam"], "2026-11-20T12:01:00", "phone")
    client.force_login(admin)
    with time_machine.travel(NOW + timedelta(minutes=2), tick=False):
        later = client.get("/dashboard/")
    with time_machine.travel(NOW + timedelta(minutes=6), tick=False):
        recounted = client.get("/dashboard/")

    assert "Asks made 6" in asks_text(first)
    assert "Asks made 6" in asks_text(later)  # as of 12:00, as the page says
    assert "as of 12:00" in later.content.decode()
    assert "Asks made 7 3 email · 1 in person · 3 phone" in asks_text(recounted)


@pytest.mark.parametrize("extra", [0, 30])
def test_asks_add_one_query_whatever_their_number(
    client, carol, customers, django_assert_num_queries, extra
):
    for n in range(extra):
        customer = PartnerFactory(owner=customers["sam"].owner, kind="customer")
        ask(customer, f"2026-11-{1 + n % 15:02d}T10:00:00", ["email", "phone"][n % 2])
        log(customer.owner, customer, f"2026-11-{1 + n % 15:02d}T11:00:00", 10, "F")
    client.force_login(carol)
    # The team dashboard's queries (test_dashboard.TEAM_DASHBOARD_QUERIES),
    # the asks' among them.
    with (
        time_machine.travel(NOW, tick=False),
        django_assert_num_queries(TEAM_DASHBOARD_QUERIES),
    ):
        response = client.get("/dashboard/")
    assert response.status_code == 200
    assert response.context["asks"]["asks"] == extra


def test_another_source_kind_reads_no_asks(
    client, carol, asked, django_assert_num_queries
):
    client.force_login(carol)
    with (
        time_machine.travel(NOW, tick=False),
        django_assert_num_queries(TEAM_DASHBOARD_QUERIES - 1),
    ):
        client.get("/dashboard/", {"source_kind": "partner"})

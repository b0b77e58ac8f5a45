"""Ready to ask (partners.asking): each reason in and out, prospects and
non-customers never, the one scoping rule, a constant number of queries,
and the figures the dashboard reads (asks_summary)."""

from datetime import timedelta

import pytest
from django.utils import timezone

from partners import asking
from partners.models import Ask, Outcome, Partner
from partners.services import WON
from referrals.models import Stage
from tests.factories import PartnerFactory, ReferralFactory, stage

NOW = timezone.now()
TODAY = timezone.localdate(NOW)


def days_ago(days: int):
    return TODAY - timedelta(days=days)


def delivered(partner, *, ago=10, late=False, **fields) -> Outcome:
    """An outcome delivered `ago` days ago, as promised unless told."""
    values = {
        "promised": "Migrate 40 mailboxes",
        "promised_by": days_ago(ago) + timedelta(days=-2 if late else 3),
        "delivered": "40 mailboxes migrated",
        "delivered_on": days_ago(ago),
        "in_full": "yes",
        "on_budget": "yes",
        "satisfaction": 5,
        **fields,
    }
    return Outcome.objects.create(partner=partner, **values)


def asked(partner, *, ago: int, channel="in_person"):
    return Ask.objects.create(
        partner=partner, channel=channel, asked_at=NOW - timedelta(days=ago)
    )


@pytest.fixture
def customer(alice):
    return PartnerFactory(
        owner=alice, name="Cleo Customer", company="Cleo & Co", kind="customer"
    )


def nothing(customer):
    pass


# Each case: what the customer has, ready or not, and a phrase of the reason.
CASES = {
    "delivered as promised": (
        lambda c: delivered(c),
        True,
        "delivered on",
    ),
    "satisfaction 4": (lambda c: delivered(c, satisfaction=4), True, "satisfaction 4"),
    "delivered 90 days ago": (lambda c: delivered(c, ago=90), True, "on time"),
    "asked 91 days ago": (
        lambda c: (delivered(c), asked(c, ago=91)),
        True,
        "Last asked",
    ),
    "an old late outcome is forgotten": (
        lambda c: (delivered(c), delivered(c, ago=200, late=True)),
        True,
        "Never asked",
    ),
    "satisfaction 3": (
        lambda c: delivered(c, satisfaction=3),
        False,
        "satisfaction is 3 of 5",
    ),
    "late": (lambda c: delivered(c, late=True), False, "was delivered late"),
    "short": (lambda c: delivered(c, in_full="no"), False, "short of what was"),
    "over budget": (lambda c: delivered(c, on_budget="no"), False, "over budget"),
    "satisfaction not asked": (
        lambda c: delivered(c, satisfaction=None),
        False,
        "record the customer's satisfaction",
    ),
    "budget not known": (
        lambda c: delivered(c, on_budget="unknown"),
        False,
        "record whether it was on budget",
    ),
    "delivered 91 days ago": (
        lambda c: delivered(c, ago=91),
        False,
        "No outcome delivered in the last 90 days",
    ),
    "asked 30 days ago": (
        lambda c: (delivered(c), asked(c, ago=30, channel="phone")),
        False,
        "(phone): not again before",
    ),
    "asked not to be asked": (
        lambda c: (
            delivered(c),
            Partner.objects.filter(pk=c.pk).update(do_not_ask=True),
        ),
        False,
        "asked not to be asked",
    ),
    "good, but another is overdue": (
        lambda c: (
            delivered(c),
            Outcome.objects.create(
                partner=c, promised="Train the team", promised_by=days_ago(1)
            ),
        ),
        False,
        "“Train the team” was promised by",
    ),
    "good, but another was late": (
        lambda c: (delivered(c, ago=5), delivered(c, ago=40, late=True)),
        False,
        "was delivered late",
    ),
    "only in progress": (
        lambda c: Outcome.objects.create(
            partner=c, promised="Train the team", promised_by=days_ago(-10)
        ),
        False,
        "ask once it is delivered",
    ),
    "no outcome": (nothing, False, "No outcome recorded yet"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_each_reason_in_and_out(alice, customer, case):
    setup, ready, phrase = CASES[case]
    setup(customer)
    in_ready = asking.ready_customers(user=alice, now=NOW).filter(pk=customer.pk)
    assert in_ready.exists() is ready
    page = asking.customer_asking(partner=Partner.objects.get(pk=customer.pk), now=NOW)
    assert page["ready"] is ready
    if ready:
        assert phrase in page["why"] and page["why_not"] == []
    else:
        assert page["why"] == ""
        assert any(phrase in reason for reason in page["why_not"]), page["why_not"]
    # Today says why not of each customer with a recent outcome not ready.
    recent = customer.outcomes.filter(
        asking.outcome_conditions(TODAY)["recent"]
    ).exists()
    in_not_now = asking.not_now_customers(user=alice, now=NOW).filter(pk=customer.pk)
    assert in_not_now.exists() is (recent and not ready)
    lists = asking.today_lists(user=alice, now=NOW)
    shown = {row["pk"]: row for row in lists["ready"] + lists["not_now"]}
    if ready or recent:
        assert shown[customer.pk]["ready"] is ready
        reasons = shown[customer.pk]["why"] or " ".join(shown[customer.pk]["why_not"])
        assert phrase in reasons
    else:
        assert customer.pk not in shown


@pytest.mark.parametrize("kind", ["partner", "network", "other"])
def test_only_customers_are_ever_suggested(alice, kind):
    source = PartnerFactory(owner=alice, kind=kind)
    delivered(source)  # not possible through the services; here to prove the rule
    assert not asking.ready_customers(user=alice, now=NOW).exists()
    assert not asking.not_now_customers(user=alice, now=NOW).exists()
    page = asking.customer_asking(partner=source, now=NOW)
    assert not page["ready"]
    assert "Only customers are asked for referrals." in page["why_not"]


def test_open_prospects_never_appear(alice, customer):
    """A prospect is not a source: an open referral's prospect, even with
    everything a customer would need, is in neither list."""
    delivered(customer)
    for stage_name in ("Received", "Contacted", "Meeting held"):
        ReferralFactory(
            source=customer, prospect_name=f"Open {stage_name}", stage=stage(stage_name)
        )
    lists = asking.today_lists(user=alice, now=NOW)
    names = [row["name"] for row in lists["ready"] + lists["not_now"]]
    assert names == ["Cleo Customer"]
    assert set(asking.ready_customers(user=alice, now=NOW)) == {customer}


@pytest.mark.parametrize("stage_name", ["Meeting held", "Lost"])
def test_an_outcome_of_a_referral_no_longer_won_does_not_count(
    client, alice, stage_name
):
    """A won referral's prospect becomes a customer with its outcome; moved
    back out of Won (a mistake put right, a deal that fell through), the
    prospect is not a customer we delivered to: no list suggests asking them."""
    prospect = PartnerFactory(owner=alice, name="Pia Prospect", kind="customer")
    referral = ReferralFactory(owner=alice, stage=stage("Won"))
    delivered(prospect, referral=referral)
    assert set(asking.ready_customers(user=alice, now=NOW)) == {prospect}

    type(referral).objects.filter(pk=referral.pk).update(stage=stage(stage_name))
    assert not asking.ready_customers(user=alice, now=NOW).exists()
    assert not asking.not_now_customers(user=alice, now=NOW).exists()
    page = asking.customer_asking(partner=prospect, now=NOW)
    assert not page["ready"]
    assert any("no longer won" in reason for reason in page["why_not"])
    client.force_login(alice)
    assert "Pia Prospect" not in client.get("/").content.decode()
    listed = client.get("/partners/?ready=on").content.decode()
    assert "Pia Prospect" not in listed


def test_the_referrals_won_kind_is_the_one_partners_checks():
    assert WON == Stage.Kind.WON


@pytest.mark.parametrize(
    ("who", "sees"),
    [
        ("alice", {"alice"}),
        ("bob", {"bob"}),
        ("carol", {"alice", "bob"}),
        ("dave", {"dave"}),
        ("admin", {"alice", "bob", "dave"}),
    ],
)
def test_the_lists_follow_the_scoping_rule(
    request, alice, bob, carol, dave, admin, who, sees
):
    owners = {"alice": alice, "bob": bob, "dave": dave}
    for name, owner in owners.items():
        ready = PartnerFactory(owner=owner, name=f"{name} ready", kind="customer")
        delivered(ready)
        late = PartnerFactory(owner=owner, name=f"{name} late", kind="customer")
        delivered(late, late=True)
    user = request.getfixturevalue(who)
    ready = asking.ready_customers(user=user, now=NOW)
    assert {p.name.split()[0] for p in ready} == sees
    assert {p.name for p in ready} == {f"{name} ready" for name in sees}
    not_now = asking.not_now_customers(user=user, now=NOW)
    assert {p.name for p in not_now} == {f"{name} late" for name in sees}


@pytest.mark.parametrize("count", [2, 12])
def test_todays_lists_read_a_constant_number_of_queries(
    alice, django_assert_num_queries, count
):
    for n in range(count):
        ready = PartnerFactory(owner=alice, name=f"Ready {n}", kind="customer")
        delivered(ready, ago=n + 1)
        delivered(ready, ago=n + 2)
        late = PartnerFactory(owner=alice, name=f"Late {n}", kind="customer")
        delivered(late, late=True)
        asked(late, ago=100)
    assert alice.role  # read with the user on a page
    # 1 the customers shown (both lists, with their last ask, and how many
    # each list holds), 2 their outcomes.
    with django_assert_num_queries(2):
        lists = asking.today_lists(user=alice, now=NOW)
    shown = min(count, asking.TODAY_ROWS)
    assert len(lists["ready"]) == len(lists["not_now"]) == shown
    assert lists["ready_count"] == lists["not_now_count"] == count
    # The freshest outcome first.
    assert lists["ready"][0]["name"] == "Ready 0"


def test_no_outcome_is_read_when_no_customer_has_one(alice, django_assert_num_queries):
    PartnerFactory(owner=alice, kind="customer")
    assert alice.role  # read with the user on a page
    with django_assert_num_queries(1):
        assert asking.today_lists(user=alice, now=NOW) == {
            "ready": [],
            "not_now": [],
            "ready_count": 0,
            "not_now_count": 0,
        }


def test_a_customers_page_reads_three_queries(
    alice, customer, django_assert_num_queries
):
    for n in range(5):
        delivered(customer, ago=n + 1)
        asked(customer, ago=100 + n)
    # 1 readiness and last ask, 2 the outcomes, 3 the asks with their emails.
    with django_assert_num_queries(3):
        page = asking.customer_asking(partner=customer, now=NOW)
    assert len(page["outcomes"]) == 5
    assert [entry["kind"] for entry in page["timeline"]].count("ask") == 5


# -- The dashboard's figures -----------------------------------------------------


def test_asks_summary_counts_asks_and_the_referrals_that_followed(
    alice, bob, dave, customer
):
    start, end = NOW - timedelta(days=30), NOW
    first = asked(customer, ago=20, channel="email")
    asked(customer, ago=10, channel="in_person")
    asked(customer, ago=40, channel="phone")  # before the period
    other = PartnerFactory(owner=bob, kind="customer")
    asked(other, ago=5, channel="phone")
    far = PartnerFactory(owner=dave, kind="customer")
    asked(far, ago=5, channel="phone")

    def referral_from(source, *, days_after_first):
        referral = ReferralFactory(source=source)
        type(referral).objects.filter(pk=referral.pk).update(
            created_at=first.asked_at + timedelta(days=days_after_first)
        )

    referral_from(customer, days_after_first=3)  # after both asks: counted once
    referral_from(customer, days_after_first=-1)  # before any ask
    referral_from(customer, days_after_first=120)  # long after
    referral_from(other, days_after_first=18)  # after bob's ask

    everyone = asking.asks_summary(owner_ids=None, start=start, end=end)
    assert everyone == {
        "asks": 4,
        "email": 1,
        "in_person": 1,
        "phone": 2,
        "customers": 3,
        "referrals_followed": 2,
    }
    north = asking.asks_summary(owner_ids=[alice.pk, bob.pk], start=start, end=end)
    assert (north["asks"], north["customers"], north["referrals_followed"]) == (3, 2, 2)
    alone = asking.asks_summary(owner_ids=[alice.pk], start=start, end=end)
    assert (alone["asks"], alone["referrals_followed"]) == (2, 1)

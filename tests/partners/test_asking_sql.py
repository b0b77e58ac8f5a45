"""Ready to ask is written twice: in the ORM (partners.asking: the partner
list, a customer's page, the counts) and as SQL text for Today's lists
(partners.sql.today_ranked). On a mix of customers, each case of the rule
among them, the two pick the same customers ready and not now, rank them the
same and count them the same, for a rep, a manager and an admin."""

import random

import pytest

from partners import asking
from partners.models import Partner
from tests.factories import PartnerFactory, ReferralFactory, stage
from tests.partners.test_asking_rule import CASES, NOW, asked, delivered


@pytest.fixture
def mix(alice, bob, dave):
    """Every case of the rule, for customers of three reps in two teams,
    several cases on some customers, a won referral's outcome and one moved
    back out of Won, a partner with outcomes (not a customer)."""
    chosen = random.Random(26)
    cases = list(CASES.values())
    for n in range(45):
        owner = (alice, bob, dave)[n % 3]
        customer = PartnerFactory(owner=owner, name=f"C{n:02d}", kind="customer")
        for setup, _, _ in chosen.sample(cases, chosen.choice([1, 1, 2])):
            setup(customer)
    won = ReferralFactory(owner=alice, stage=stage("Won"))
    delivered(PartnerFactory(owner=alice, name="Won", kind="customer"), referral=won)
    moved = ReferralFactory(owner=alice, stage=stage("Lost"))
    delivered(
        PartnerFactory(owner=alice, name="Moved", kind="customer"), referral=moved
    )
    opted = PartnerFactory(owner=bob, name="Opted", kind="customer", do_not_ask=True)
    delivered(opted)
    asked(PartnerFactory(owner=dave, name="Asked", kind="customer"), ago=10)
    delivered(PartnerFactory(owner=alice, name="Partner", kind="partner"))


def orm_lists(user) -> tuple[list[str], list[str]]:
    """Each list in Today's order, by the ORM's rule."""
    order = ("-latest_outcome_on", "name", "pk")
    read = [
        [p.name for p in asking.with_readiness(customers, now=NOW).order_by(*order)]
        for customers in (
            asking.ready_customers(user=user, now=NOW),
            asking.not_now_customers(user=user, now=NOW),
        )
    ]
    return read[0], read[1]


@pytest.mark.parametrize("who", ["alice", "carol", "admin"])
def test_the_sql_and_the_orm_pick_rank_and_count_alike(
    request, monkeypatch, mix, carol, admin, who
):
    user = request.getfixturevalue(who)
    ready, not_now = orm_lists(user)
    assert ready and not_now  # each list has customers to compare
    monkeypatch.setattr(asking, "TODAY_ROWS", 4)  # cut, as on a full page
    lists = asking.today_lists(user=user, now=NOW)
    assert [row["name"] for row in lists["ready"]] == ready[:4]
    assert [row["name"] for row in lists["not_now"]] == not_now[:4]
    assert (lists["ready_count"], lists["not_now_count"]) == (len(ready), len(not_now))
    assert Partner.objects.filter(name="Partner").exists()  # never in a list
    assert "Partner" not in ready + not_now

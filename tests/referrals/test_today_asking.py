"""Today's Ready to ask: customers delivered as promised with why, those not
now with why not, failed ask emails with Retry; prospects never."""

from datetime import timedelta

import pytest
from django.utils import timezone

from partners.models import Ask, Outcome
from referrals.services import referral_log
from tests.factories import PartnerFactory, ReferralFactory, stage
from thanks.models import AskEmail

TODAY = timezone.localdate()


def delivered(partner, *, ago=10, late=False, **fields):
    return Outcome.objects.create(
        partner=partner,
        promised=fields.pop("promised", "Migrate 40 mailboxes"),
        promised_by=TODAY - timedelta(days=ago) + timedelta(days=-2 if late else 3),
        delivered="Done",
        delivered_on=TODAY - timedelta(days=ago),
        in_full="yes",
        on_budget="yes",
        satisfaction=5,
        **fields,
    )


@pytest.fixture
def customers(alice):
    ready = PartnerFactory(owner=alice, name="Rita Ready", kind="customer")
    delivered(ready)
    late = PartnerFactory(owner=alice, name="Larry Late", kind="customer")
    delivered(late, late=True, promised="Train the team")
    return ready, late


def test_today_lists_who_to_ask_and_why_and_who_not_and_why_not(
    client, alice, customers
):
    ready, late = customers
    client.force_login(alice)
    response = client.get("/")
    page = response.content.decode()
    assert response.context["counts"]["ready_to_ask"] == 1
    assert response.context["counts"]["not_now"] == 1
    [row] = response.context["asking"]["ready"]
    assert row["name"] == "Rita Ready"
    assert "“Migrate 40 mailboxes” delivered on" in row["why"]
    assert f'href="/partners/{ready.pk}/ask/"' in page
    [not_now] = response.context["asking"]["not_now"]
    assert not_now["name"] == "Larry Late"
    assert "“Train the team” was delivered late" in " ".join(not_now["why_not"])
    assert "was delivered late" in page
    assert f'href="/partners/{late.pk}/ask/"' not in page


def test_a_customer_asked_leaves_the_list_and_says_when(client, alice, customers):
    ready, _ = customers
    client.force_login(alice)
    client.post(f"/partners/{ready.pk}/ask/", {"channel": "in_person"})
    response = client.get("/")
    assert response.context["asking"]["ready"] == []
    reasons = {
        row["name"]: " ".join(row["why_not"])
        for row in response.context["asking"]["not_now"]
    }
    assert "(in person): not again before" in reasons["Rita Ready"]


def test_open_prospects_and_other_reps_customers_never_appear(
    client, alice, bob, customers
):
    other = PartnerFactory(owner=bob, name="Bob's Customer", kind="customer")
    delivered(other)
    referrer = PartnerFactory(owner=alice, name="Rita Referrer", kind="partner")
    delivered(referrer)  # not through the services: only customers count
    for name in ("Received", "Contacted", "Meeting held", "Proposal sent"):
        ReferralFactory(
            source=referrer, stage=stage(name), prospect_name=f"Open {name}"
        )
    client.force_login(alice)
    response = client.get("/")
    listed = [
        row["name"]
        for row in response.context["asking"]["ready"]
        + response.context["asking"]["not_now"]
    ]
    assert sorted(listed) == ["Larry Late", "Rita Ready"]
    assert "Bob&#x27;s Customer" not in response.content.decode()


def test_a_failed_ask_email_shows_on_today_with_retry(client, alice, customers):
    ready, _ = customers
    ask = Ask.objects.create(partner=ready, channel="email", asked_by=alice)
    failed = AskEmail.objects.create(
        ask=ask,
        source=ready,
        status="failed",
        attempts=5,
        last_error="The mail server refused it: 550 No such user",
    )
    client.force_login(alice)
    page = client.get("/").content.decode()
    assert "Ask emails that failed" in page
    assert "550 No such user" in page
    assert f'action="/thanks/asks/{failed.pk}/retry/"' in page
    response = client.post(f"/thanks/asks/{failed.pk}/retry/", {"next": "/"})
    assert response["Location"] == "/"
    failed.refresh_from_db()
    assert failed.status == "scheduled"
    assert "Ask emails that failed" not in client.get("/").content.decode()


def test_with_nothing_to_ask_today_reads_no_more(client, alice, alice_partner):
    referral_log(user=alice, source=alice_partner, prospect_name="P")
    client.force_login(alice)
    page = client.get("/").content.decode()
    assert "No customer to ask right now." in page


@pytest.mark.parametrize("count", [3, 30])
def test_today_with_customers_to_ask_runs_a_constant_number_of_queries(
    client, alice, alice_partner, django_assert_num_queries, count
):
    for n in range(count):
        referral_log(user=alice, source=alice_partner, prospect_name=f"P{n}")
        ready = PartnerFactory(owner=alice, name=f"Ready {n}", kind="customer")
        delivered(ready, ago=n % 80 + 1)
        late = PartnerFactory(owner=alice, name=f"Late {n}", kind="customer")
        delivered(late, late=True)
        ask = Ask.objects.create(partner=late, channel="email", asked_by=alice)
        AskEmail.objects.create(ask=ask, source=late, status="failed", attempts=5)
    client.force_login(alice)
    # Today's 8 (tests/referrals/test_today.py: the customers shown in both
    # lists among them), then 9 their outcomes, 10 the failed ask emails.
    with django_assert_num_queries(10):
        response = client.get("/")
    assert len(response.context["asking"]["ready"]) == min(count, 10)
    assert len(response.context["failed_asks"]) == min(count, 25)


@pytest.mark.parametrize(("who", "sees"), [("carol", 2), ("erin", 1), ("admin", 3)])
def test_a_managers_and_an_admins_lists_follow_the_scoping_rule(
    client, request, alice, bob, dave, erin, who, sees
):
    for rep in (alice, bob, dave):
        delivered(PartnerFactory(owner=rep, name=f"{rep} ready", kind="customer"))
    client.force_login(request.getfixturevalue(who))
    response = client.get("/")
    assert response.context["counts"]["ready_to_ask"] == sees
    assert len(response.context["asking"]["ready"]) == sees

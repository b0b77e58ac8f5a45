"""Ready to ask on the partner pages: a customer's Asking card (why or why
not, outcomes, the timeline of asks), the list's "Ready to ask only", and
"do not ask" on the source's form."""

from datetime import timedelta

import pytest
from django.utils import timezone

from partners.models import Ask, Outcome, Partner
from tests.factories import PartnerFactory
from thanks.models import AskEmail

TODAY = timezone.localdate()


def delivered(partner, *, ago=10, late=False, promised="Migrate 40 mailboxes"):
    return Outcome.objects.create(
        partner=partner,
        promised=promised,
        promised_by=TODAY - timedelta(days=ago) + timedelta(days=-2 if late else 3),
        delivered="Done",
        delivered_on=TODAY - timedelta(days=ago),
        in_full="yes",
        on_budget="yes",
        satisfaction=5,
    )


@pytest.fixture
def ready(alice):
    customer = PartnerFactory(owner=alice, name="Rita Ready", kind="customer")
    delivered(customer)
    return customer


def test_a_ready_customers_page_says_why_and_offers_the_ask(client, alice, ready):
    outcome = ready.outcomes.get()
    client.force_login(alice)
    page = client.get(f"/partners/{ready.pk}/").content.decode()
    assert "Asking for referrals" in page
    assert "Ready to ask." in page and "“Migrate 40 mailboxes” delivered on" in page
    assert f'href="/partners/{ready.pk}/ask/">Ask for referrals</a>' in page
    assert f'href="/partners/{ready.pk}/outcomes/new/"' in page
    assert f'href="/partners/outcomes/{outcome.pk}/"' in page


def test_a_customer_not_ready_says_why_not(client, alice):
    late = PartnerFactory(owner=alice, name="Larry Late", kind="customer")
    delivered(late, late=True, promised="Train the team")
    client.force_login(alice)
    page = client.get(f"/partners/{late.pk}/").content.decode()
    assert "Not suggested now." in page
    assert "“Train the team” was delivered late" in page
    assert f'href="/partners/{late.pk}/ask/">Record an ask</a>' in page


def test_the_timeline_shows_each_ask_and_its_emails_fate(client, alice, ready):
    sent = Ask.objects.create(
        partner=ready,
        channel="email",
        asked_by=alice,
        asked_at=timezone.now() - timedelta(days=200),
    )
    AskEmail.objects.create(ask=sent, source=ready, status="sent")
    failed = Ask.objects.create(
        partner=ready,
        channel="email",
        asked_by=alice,
        asked_at=timezone.now() - timedelta(days=100),
    )
    AskEmail.objects.create(
        ask=failed, source=ready, status="failed", last_error="550 No such user"
    )
    Ask.objects.create(
        partner=ready,
        channel="phone",
        note="She thought of Dan & Co",
        asked_at=timezone.now() - timedelta(days=95),
    )
    client.force_login(alice)
    page = client.get(f"/partners/{ready.pk}/").content.decode()
    assert page.count("Asked for referrals by email by Alice Rep") == 2
    assert "Sent</span>" in page and "Failed</span> 550 No such user" in page
    assert "Asked for referrals by phone" in page
    assert "She thought of Dan &amp; Co" in page
    assert "Outcome recorded" in page


@pytest.mark.parametrize("kind", ["partner", "network", "other"])
def test_a_source_that_is_not_a_customer_has_no_asking_card(client, alice, kind):
    source = PartnerFactory(owner=alice, kind=kind)
    client.force_login(alice)
    page = client.get(f"/partners/{source.pk}/").content.decode()
    assert "Asking for referrals" not in page
    assert f"/partners/{source.pk}/ask/" not in page
    assert "/outcomes/new/" not in page


def test_a_customer_who_asked_not_to_be_is_marked_and_offered_no_ask(
    client, alice, ready
):
    Partner.objects.filter(pk=ready.pk).update(do_not_ask=True)
    client.force_login(alice)
    page = client.get(f"/partners/{ready.pk}/").content.decode()
    assert "Do not ask" in page
    assert "They asked not to be asked for referrals." in page
    assert f'href="/partners/{ready.pk}/ask/"' not in page


def test_do_not_ask_is_set_on_the_sources_form(client, alice, ready):
    client.force_login(alice)
    form = client.get(f"/partners/{ready.pk}/edit/").context["form"]
    data = {
        name: value
        for name, value in form.initial.items()
        if value is not None and name in form.fields
    }
    response = client.post(f"/partners/{ready.pk}/edit/", {**data, "do_not_ask": "on"})
    assert response.status_code == 302
    ready.refresh_from_db()
    assert ready.do_not_ask


# -- The partner list's Ready to ask -----------------------------------------------


def test_the_list_shows_the_customers_ready_to_ask_with_why(client, alice, ready):
    late = PartnerFactory(owner=alice, name="Larry Late", kind="customer")
    delivered(late, late=True)
    PartnerFactory(owner=alice, name="Nora Nothing", kind="customer")
    client.force_login(alice)
    response = client.get("/partners/", {"ready": "on"})
    assert [p.name for p in response.context["page"].object_list] == ["Rita Ready"]
    page = response.content.decode()
    assert "“Migrate 40 mailboxes” delivered on" in page
    assert f'href="/partners/{ready.pk}/ask/"' in page
    assert 'name="ready" checked' in page
    everyone = client.get("/partners/").context["page"].object_list
    assert len(everyone) == 3


def test_the_list_says_when_none_is_ready(client, alice):
    client.force_login(alice)
    page = client.get("/partners/", {"ready": "on"}).content.decode()
    assert "No customer is ready to ask right now" in page


def test_the_ready_list_follows_the_scoping_rule(client, bob, ready):
    client.force_login(bob)
    assert not client.get("/partners/", {"ready": "on"}).context["page"].object_list


@pytest.mark.parametrize("count", [3, 30])
def test_the_ready_list_runs_a_constant_number_of_queries(
    client, alice, django_assert_num_queries, count
):
    for n in range(count):
        delivered(PartnerFactory(owner=alice, name=f"Ready {n}", kind="customer"))
    client.force_login(alice)
    # 1 the session, 2 the user, 3 how many sources, 4 the page of sources,
    # 5 their figures; the Ready to ask list's 6 readiness and 7 outcomes.
    with django_assert_num_queries(7):
        response = client.get("/partners/", {"ready": "on"})
    assert len(response.context["page"].object_list) == count

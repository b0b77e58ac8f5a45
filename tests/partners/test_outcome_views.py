"""Outcomes on a customer's page: /partners/<id>/outcomes/new/ and
/partners/outcomes/<id>/ (customers only, the one scoping rule)."""

from datetime import timedelta

import pytest
from django.utils import timezone

from partners.models import Outcome
from tests.factories import PartnerFactory
from tests.helpers import PERSONAS, SEES_ALICES

TODAY = timezone.localdate()


@pytest.fixture
def customer(alice):
    return PartnerFactory(owner=alice, name="Cleo Customer", kind="customer")


@pytest.fixture
def outcome(customer):
    return Outcome.objects.create(
        partner=customer, promised="Onboard 12 people", promised_by=TODAY
    )


def form(**overrides):
    return {
        "promised": "Onboard 12 people",
        "promised_by": TODAY.isoformat(),
        "delivered": "",
        "delivered_on": "",
        "in_full": "unknown",
        "on_budget": "unknown",
        "satisfaction": "",
        **overrides,
    }


def test_an_outcome_is_recorded_on_the_customers_page(client, alice, customer):
    client.force_login(alice)
    assert client.get(f"/partners/{customer.pk}/outcomes/new/").status_code == 200
    response = client.post(f"/partners/{customer.pk}/outcomes/new/", form())
    assert response.status_code == 302
    assert response["Location"] == f"/partners/{customer.pk}/"
    outcome = Outcome.objects.get()
    assert (outcome.partner, outcome.recorded_by, outcome.referral) == (
        customer,
        alice,
        None,
    )


def test_its_delivery_is_recorded_later(client, alice, outcome):
    client.force_login(alice)
    response = client.post(
        f"/partners/outcomes/{outcome.pk}/",
        form(
            delivered="12 onboarded",
            delivered_on=(TODAY - timedelta(days=1)).isoformat(),
            in_full="yes",
            on_budget="no",
            satisfaction="4",
        ),
    )
    assert response.status_code == 302
    outcome.refresh_from_db()
    assert (outcome.delivered, outcome.on_budget, outcome.satisfaction) == (
        "12 onboarded",
        "no",
        4,
    )


@pytest.mark.parametrize("kind", ["partner", "network", "other"])
def test_no_outcome_page_for_a_source_that_is_not_a_customer(client, alice, kind):
    source = PartnerFactory(owner=alice, kind=kind)
    client.force_login(alice)
    assert client.get(f"/partners/{source.pk}/outcomes/new/").status_code == 404
    response = client.post(f"/partners/{source.pk}/outcomes/new/", form())
    assert response.status_code == 404
    assert not Outcome.objects.exists()


def test_bad_input_is_said_next_to_its_field_and_kept(client, alice, outcome):
    client.force_login(alice)
    response = client.post(
        f"/partners/outcomes/{outcome.pk}/",
        form(promised="Kept & typed", delivered_on=TODAY.isoformat()),
    )
    assert response.status_code == 400
    assert list(response.context["form"].errors) == ["delivered"]
    assert "Kept &amp; typed" in response.content.decode()
    outcome.refresh_from_db()
    assert outcome.promised == "Onboard 12 people"  # nothing saved


@pytest.mark.parametrize("page", ["new", "edit"])
@pytest.mark.parametrize("persona", PERSONAS)
def test_outcome_pages_follow_the_scoping_rule(
    client, request, customer, outcome, persona, page
):
    if persona != "anonymous":
        client.force_login(request.getfixturevalue(persona))
    url = (
        f"/partners/{customer.pk}/outcomes/new/"
        if page == "new"
        else f"/partners/outcomes/{outcome.pk}/"
    )
    assert client.get(url).status_code == SEES_ALICES[persona]
    response = client.post(url, form(promised="Changed"))
    assert response.status_code == {200: 302, 302: 302, 404: 404}[SEES_ALICES[persona]]
    changed = Outcome.objects.filter(promised="Changed").exists()
    assert changed == (SEES_ALICES[persona] == 200)

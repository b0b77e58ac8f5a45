"""A won referral's outcomes (/referrals/<id>/outcome/): its prospect's
customer source found or made, the outcome recorded there; a referral that
is not won offers nothing and is refused."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from partners.models import Outcome, Partner
from partners.services import DELIVERED_IN_FUTURE, NOT_WON
from referrals.outcomes import referral_customer, referral_outcome_record
from tests.factories import PartnerFactory, ReferralFactory, stage
from tests.helpers import PERSONAS, SEES_ALICES

TODAY = timezone.localdate()


@pytest.fixture
def referrer(alice):
    """Who sent the referrals: a referral partner (not a customer)."""
    return PartnerFactory(owner=alice, name="Rita Referrer", kind="partner")


@pytest.fixture
def won(referrer):
    return ReferralFactory(
        source=referrer,
        stage=stage("Won"),
        prospect_name="Paula O'Prospect",
        prospect_company="Globex & Sons",
        prospect_email="Paula@Globex.example",
        prospect_phone="+1 555 0100",
        prospect_title="COO",
    )


def form(**overrides):
    return {
        "promised": "Onboard 12 people by March",
        "promised_by": (TODAY - timedelta(days=5)).isoformat(),
        "delivered": "",
        "delivered_on": "",
        "in_full": "unknown",
        "on_budget": "unknown",
        "satisfaction": "",
        **overrides,
    }


@pytest.fixture
def everyone(alice, bob, carol, dave, erin, admin):
    return {"alice": alice, "bob": bob, "carol": carol, "dave": dave}


def test_a_won_referrals_prospect_becomes_a_customer_with_the_outcome(
    client, carol, alice, won
):
    client.force_login(carol)  # a manager records it for alice's referral
    response = client.post(
        f"/referrals/{won.pk}/outcome/",
        form(
            delivered="12 people onboarded",
            delivered_on=(TODAY - timedelta(days=6)).isoformat(),
            in_full="yes",
            on_budget="yes",
            satisfaction="5",
        ),
    )
    customer = Partner.objects.get(kind="customer")
    assert response.status_code == 302
    assert response["Location"] == f"/partners/{customer.pk}/"
    assert (
        customer.name,
        customer.company,
        customer.email,
        customer.phone,
        customer.title,
        customer.owner,
    ) == (
        "Paula O'Prospect",
        "Globex & Sons",
        "paula@globex.example",
        "+1 555 0100",
        "COO",
        alice,  # the referral's owner, not who recorded it
    )
    outcome = Outcome.objects.get()
    assert (outcome.partner, outcome.referral, outcome.recorded_by) == (
        customer,
        won,
        carol,
    )
    assert (outcome.satisfaction, outcome.delivered) == (5, "12 people onboarded")
    page = client.get(response["Location"]).content.decode()
    assert "Outcome recorded for Paula O&#x27;Prospect, the customer." in page


def test_a_second_outcome_goes_to_the_same_customer(alice, won):
    first = referral_outcome_record(
        referral=won, user=alice, promised="A", promised_by=TODAY
    )
    # Even once the customer's email changed.
    Partner.objects.filter(pk=first.partner_id).update(email="new@globex.example")
    second = referral_outcome_record(
        referral=won, user=alice, promised="B", promised_by=TODAY
    )
    assert second.partner_id == first.partner_id
    assert Partner.objects.filter(kind="customer").count() == 1


def test_a_customer_with_the_prospects_email_is_found(alice, won):
    existing = PartnerFactory(
        owner=alice, name="Paula P.", email="paula@globex.example", kind="customer"
    )
    assert referral_customer(referral=won, user=alice) == existing
    outcome = referral_outcome_record(
        referral=won, user=alice, promised="A", promised_by=TODAY
    )
    assert outcome.partner == existing


def test_a_customer_the_user_may_not_see_is_not_used(alice, dave, won):
    PartnerFactory(owner=dave, email="paula@globex.example", kind="customer")
    assert referral_customer(referral=won, user=alice) is None
    outcome = referral_outcome_record(
        referral=won, user=alice, promised="A", promised_by=TODAY
    )
    assert outcome.partner.owner == alice


def test_a_partner_with_the_prospects_email_is_not_a_customer(alice, won):
    PartnerFactory(owner=alice, email="paula@globex.example", kind="partner")
    assert referral_customer(referral=won, user=alice) is None


@pytest.mark.parametrize(
    "stage_name", ["Received", "Contacted", "Meeting held", "Lost"]
)
def test_no_outcome_for_a_referral_that_is_not_won(client, alice, referrer, stage_name):
    referral = ReferralFactory(source=referrer, stage=stage(stage_name))
    with pytest.raises(ValidationError) as refused:
        referral_outcome_record(
            referral=referral, user=alice, promised="A", promised_by=TODAY
        )
    assert refused.value.messages == [NOT_WON.format(stage=stage_name)]
    client.force_login(alice)
    # Its page offers no outcome and no ask...
    page = client.get(f"/referrals/{referral.pk}/").content.decode()
    assert "Record an outcome" not in page and "/outcome/" not in page
    assert "/ask/" not in page
    # ...and the address refuses, saying why, with nothing made.
    for response in (
        client.get(f"/referrals/{referral.pk}/outcome/", follow=True),
        client.post(f"/referrals/{referral.pk}/outcome/", form(), follow=True),
    ):
        assert response.redirect_chain == [(f"/referrals/{referral.pk}/", 302)]
        assert NOT_WON.format(stage=stage_name) in response.content.decode()
    assert not Outcome.objects.exists()
    assert not Partner.objects.filter(kind="customer").exists()


def test_a_referral_moved_out_of_won_since_the_form_was_shown_is_refused(alice, won):
    stale_copy = type(won).objects.get(pk=won.pk)
    type(won).objects.filter(pk=won.pk).update(stage=stage("Contacted"))
    with pytest.raises(ValidationError):
        referral_outcome_record(
            referral=stale_copy, user=alice, promised="A", promised_by=TODAY
        )
    assert not Partner.objects.filter(kind="customer").exists()


def test_a_won_referrals_page_offers_the_outcome_and_shows_those_recorded(
    client, alice, won
):
    client.force_login(alice)
    page = client.get(f"/referrals/{won.pk}/").content.decode()
    assert f'href="/referrals/{won.pk}/outcome/"' in page
    outcome = referral_outcome_record(
        referral=won, user=alice, promised="Onboard 12 people", promised_by=TODAY
    )
    page = client.get(f"/referrals/{won.pk}/").content.decode()
    assert "Onboard 12 people" in page and "Not delivered yet" in page
    assert f'href="/partners/{outcome.partner_id}/"' in page


def test_a_won_referrals_page_shows_only_outcomes_of_customers_the_user_may_see(
    client, alice, bob, admin, won
):
    """A customer given to another rep since keeps its outcomes (and its
    name) off the referral's page for its old owner; an admin sees them."""
    outcome = referral_outcome_record(
        referral=won, user=alice, promised="Onboard 12 people", promised_by=TODAY
    )
    Partner.objects.filter(pk=outcome.partner_id).update(owner=bob)
    client.force_login(alice)
    page = client.get(f"/referrals/{won.pk}/").content.decode()
    assert "Onboard 12 people" not in page
    assert f'href="/partners/{outcome.partner_id}/"' not in page
    client.force_login(admin)
    page = client.get(f"/referrals/{won.pk}/").content.decode()
    assert "Onboard 12 people" in page


def test_a_won_referrals_page_reads_one_query_more(
    client, alice, won, django_assert_num_queries
):
    for n in range(5):
        referral_outcome_record(
            referral=won, user=alice, promised=f"P{n}", promised_by=TODAY
        )
    client.force_login(alice)
    # The referral page's 9 (tests/referrals/test_referral_detail.py), and
    # 10 its outcomes with their customer.
    with django_assert_num_queries(10):
        response = client.get(f"/referrals/{won.pk}/")
    assert response.content.decode().count("Promised by") == 5


def test_bad_input_is_said_next_to_its_field_and_kept(client, alice, won):
    client.force_login(alice)
    response = client.post(
        f"/referrals/{won.pk}/outcome/",
        form(
            promised="Onboard 12 & more",
            promised_by="",
            delivered_on=(TODAY + timedelta(days=3)).isoformat(),
            delivered="Soon",
            satisfaction="7",
        ),
    )
    assert response.status_code == 400
    errors = response.context["form"].errors
    assert set(errors) == {"promised_by", "satisfaction"}
    assert "Onboard 12 &amp; more" in response.content.decode()
    response = client.post(
        f"/referrals/{won.pk}/outcome/",
        form(delivered_on=(TODAY + timedelta(days=3)).isoformat(), delivered="Soon"),
    )
    assert response.status_code == 400
    assert response.context["form"].errors == {"delivered_on": [DELIVERED_IN_FUTURE]}
    response = client.post(
        f"/referrals/{won.pk}/outcome/", form(delivered_on=TODAY.isoformat())
    )
    assert list(response.context["form"].errors) == ["delivered"]
    assert not Outcome.objects.exists()


@pytest.mark.parametrize("persona", PERSONAS)
def test_the_outcome_page_follows_the_scoping_rule(
    client, request, alice, won, persona
):
    if persona != "anonymous":
        client.force_login(request.getfixturevalue(persona))
    url = f"/referrals/{won.pk}/outcome/"
    assert client.get(url).status_code == SEES_ALICES[persona]
    response = client.post(url, form())
    assert response.status_code == {200: 302, 302: 302, 404: 404}[SEES_ALICES[persona]]
    assert Outcome.objects.exists() == (SEES_ALICES[persona] == 200)

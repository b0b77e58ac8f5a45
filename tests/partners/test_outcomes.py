"""Recording outcomes and asks (partners.services): customers only, and a
referral's outcome only once it is won."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from partners.models import Ask, Outcome
from partners.services import (
    DELIVERED_IN_FUTURE,
    DO_NOT_ASK,
    NOT_A_CUSTOMER,
    NOT_WON,
    ask_create,
    outcome_record,
    outcome_update,
    partner_no_asks,
)
from tests.factories import PartnerFactory, ReferralFactory, stage

TODAY = timezone.localdate()


@pytest.fixture
def customer(alice):
    return PartnerFactory(owner=alice, name="Cleo Customer", kind="customer")


def record(partner, user, **fields):
    return outcome_record(
        partner=partner,
        user=user,
        promised=fields.pop("promised", "  Onboard 12 people  "),
        promised_by=fields.pop("promised_by", TODAY),
        **fields,
    )


def test_an_outcome_is_recorded_on_a_customer(alice, customer):
    outcome = record(customer, alice)
    assert outcome.pk and outcome.promised == "Onboard 12 people"
    assert (outcome.partner, outcome.recorded_by) == (customer, alice)
    assert (outcome.in_full, outcome.on_budget, outcome.satisfaction) == (
        "unknown",
        "unknown",
        None,
    )


@pytest.mark.parametrize("kind", ["partner", "network", "other"])
def test_no_outcome_and_no_ask_for_a_source_that_is_not_a_customer(alice, kind):
    source = PartnerFactory(owner=alice, name="Pat Partner", kind=kind)
    expected = NOT_A_CUSTOMER.format(
        name="Pat Partner", kind=source.get_kind_display().lower()
    )
    with pytest.raises(ValidationError) as refused:
        record(source, alice)
    assert refused.value.messages == [expected]
    with pytest.raises(ValidationError) as refused:
        ask_create(partner=source, user=alice, channel="in_person")
    assert refused.value.messages == [expected]
    assert not Outcome.objects.exists() and not Ask.objects.exists()


@pytest.mark.parametrize("stage_name", ["Received", "Contacted", "Lost"])
def test_no_outcome_for_a_referral_that_is_not_won(alice, customer, stage_name):
    referral = ReferralFactory(source=customer, stage=stage(stage_name))
    with pytest.raises(ValidationError) as refused:
        record(customer, alice, referral=referral)
    assert refused.value.messages == [NOT_WON.format(stage=stage_name)]
    assert not Outcome.objects.exists()


def test_a_won_referrals_outcome_remembers_the_referral(alice, customer):
    referral = ReferralFactory(source=customer, stage=stage("Won"))
    assert record(customer, alice, referral=referral).referral == referral


def test_a_delivery_in_the_future_is_refused_next_to_its_field(alice, customer):
    with pytest.raises(ValidationError) as refused:
        record(
            customer,
            alice,
            delivered="Done",
            delivered_on=TODAY + timedelta(days=1),
        )
    assert refused.value.message_dict == {"delivered_on": [DELIVERED_IN_FUTURE]}


def test_a_delivery_date_needs_what_was_delivered(alice, customer):
    with pytest.raises(ValidationError) as refused:
        record(customer, alice, delivered_on=TODAY)
    assert list(refused.value.message_dict) == ["delivered"]


def test_satisfaction_is_one_to_five(alice, customer):
    with pytest.raises(ValidationError) as refused:
        record(customer, alice, satisfaction=6)
    assert list(refused.value.message_dict) == ["satisfaction"]


def test_an_outcome_is_updated_when_delivered(alice, customer):
    outcome = record(customer, alice)
    outcome_update(
        outcome=outcome,
        user=alice,
        delivered=" Onboarded 12 ",
        delivered_on=TODAY,
        in_full="yes",
        on_budget="yes",
        satisfaction=5,
    )
    outcome.refresh_from_db()
    assert (outcome.delivered, outcome.delivered_on, outcome.satisfaction) == (
        "Onboarded 12",
        TODAY,
        5,
    )


def test_no_ask_of_a_customer_who_asked_not_to_be(alice, customer):
    assert partner_no_asks(partner=customer)
    assert not partner_no_asks(partner=customer)  # already
    customer.refresh_from_db()
    with pytest.raises(ValidationError) as refused:
        ask_create(partner=customer, user=alice, channel="phone")
    assert refused.value.messages == [DO_NOT_ASK.format(name="Cleo Customer")]


def test_an_ask_is_recorded(alice, customer):
    ask = ask_create(partner=customer, user=alice, channel="phone", note=" Said yes ")
    assert (ask.partner, ask.asked_by, ask.channel, ask.note) == (
        customer,
        alice,
        "phone",
        "Said yes",
    )

"""Log referral with input its columns cannot hold (issue 22, item 8)."""

import re

import pytest
from django.core.exceptions import ValidationError
from django.db import transaction

from partners.models import Partner
from referrals.forms import ReferralLogForm
from referrals.models import Referral
from referrals.services import referral_log
from tests import helpers

URL = "/referrals/new/"
# A well-formed address longer than any email column (254).
LONG_EMAIL = "a" * 248 + "@example.com"


def form_data(**overrides):
    """The new-referral form with a new source (tests.helpers.form_data's)."""
    new_source = {
        "new_source_name": "Sam Source",
        "new_source_company": "Partner Co",
        "new_source_kind": "partner",
    }
    return helpers.form_data(**{**new_source, **overrides})


def counts():
    return Referral.objects.count(), Partner.objects.count()


def test_a_too_long_new_source_email_is_said_next_to_it(client, alice):
    assert len(LONG_EMAIL) == 260
    client.force_login(alice)
    before = counts()
    response = client.post(URL, form_data(new_source_email=LONG_EMAIL))
    assert response.status_code == 200
    form = response.context["form"]
    assert "new_source_email" in form.errors
    assert form["prospect_name"].value() == "Nora Newman"
    assert form["new_source_name"].value() == "Sam Source"
    assert 'value="Initech"' in response.content.decode()
    assert counts() == before


def test_a_too_long_prospect_email_is_said_next_to_it(client, alice, alice_partner):
    client.force_login(alice)
    before = counts()
    response = client.post(
        URL,
        form_data(
            source=alice_partner.pk,
            new_source_name="",
            new_source_company="",
            prospect_email=LONG_EMAIL,
        ),
    )
    assert response.status_code == 200
    form = response.context["form"]
    assert "prospect_email" in form.errors
    assert form["prospect_name"].value() == "Nora Newman"
    assert form["note"].value() == "Looking for a new payroll provider by March."
    assert counts() == before


# Every Log referral field typed into a model column: a new source's into
# Partner's, a prospect's into Referral's.
TYPED = [
    name
    for name in ReferralLogForm.base_fields
    if name.startswith(("new_source_", "prospect_")) and name != "new_source_kind"
]


def column_of(form_field: str):
    if form_field.startswith("new_source_"):
        return Partner._meta.get_field(form_field.removeprefix("new_source_"))
    return Referral._meta.get_field(form_field)


@pytest.mark.parametrize("form_field", TYPED)
def test_each_field_has_its_columns_length(alice, form_field):
    field = ReferralLogForm(user=alice).fields[form_field]
    assert field.max_length == column_of(form_field).max_length


def test_referred_by_is_marked_required_yet_a_picked_source_needs_no_text(
    client, alice, alice_partner
):
    client.force_login(alice)
    page = client.get(URL).content.decode()
    label = re.search(r'<label\s+for="id_source_query".*?</label>', page, re.S)
    assert label and '<span class="asteriskField">*</span>' in label.group()

    response = client.post(
        URL,
        form_data(
            source=alice_partner.pk,
            source_query="",
            new_source_name="",
            new_source_company="",
        ),
    )
    assert response.status_code == 302
    assert Referral.objects.get().source == alice_partner


def test_the_service_checks_lengths_itself(alice, alice_partner):
    # Its own savepoint, as the view has: referral_log takes none, so its
    # failure rolls back the caller's transaction (here, the test's).
    with pytest.raises(ValidationError) as raised, transaction.atomic():
        referral_log(
            user=alice,
            source=alice_partner,
            prospect_name="Nora Newman",
            prospect_email=LONG_EMAIL,
        )
    assert "prospect_email" in raised.value.message_dict
    assert not Referral.objects.exists()

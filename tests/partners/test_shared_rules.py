"""Rules written once in core and used by partners and referrals."""

from core.forms import valid_data
from core.text import clean_email, clean_name
from partners.forms import PartnerFilterForm
from partners.services import partner_create
from referrals.forms import ReferralFilterForm
from referrals.services import referral_log


def test_clean_name_and_clean_email():
    assert clean_name("  Ada Lovelace \n") == "Ada Lovelace"
    assert clean_email(" Ada@Example.COM ") == "ada@example.com"


def test_a_source_and_a_prospect_are_cleaned_by_the_same_rule(alice):
    source = partner_create(
        owner=alice, name=" Sam ", email=" Sam@X.Example ", company=" Co "
    )
    referral = referral_log(
        user=alice,
        source=source,
        prospect_name=" Sam ",
        prospect_email=" Sam@X.Example ",
        prospect_company=" Co ",
    )
    assert (source.name, source.email, source.company) == (
        referral.prospect_name,
        referral.prospect_email,
        referral.prospect_company,
    )


def test_valid_data_leaves_out_an_invalid_field_and_keeps_its_error():
    form = PartnerFilterForm({"q": "sam", "kind": "nonsense", "sort": "-referrals"})
    data = valid_data(form)
    assert data == {
        "q": "sam",
        "sort": "-referrals",
        "ready": False,
        "fit": "",
        "dormant": False,
    }
    assert "kind" in form.errors


def test_valid_data_of_an_unbound_form_is_empty(alice):
    assert valid_data(PartnerFilterForm()) == {}
    assert valid_data(ReferralFilterForm(user=alice)) == {}


def test_the_partner_filters_are_the_valid_ones():
    form = PartnerFilterForm({"q": " sam ", "kind": "nonsense", "sort": "bogus"})
    assert form.values() == {
        "query": "sam",
        "kind": "",
        "sort": "name",
        "ready": False,
        "fit": "",
        "dormant": False,
    }

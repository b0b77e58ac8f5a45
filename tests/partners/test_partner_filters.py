"""The partner list's filters and the source search take what the address
holds: a NUL byte (PostgreSQL refuses it in a query) or an unknown choice is a
form error, never a server error (issue 22, item 9)."""

import pytest
from django.urls import reverse

from partners.models import Partner
from tests.factories import PartnerFactory

LIST = "/partners/"
NUL = "Null characters are not allowed."
BAD_CHOICE = "Select a valid choice."


@pytest.fixture
def sources(alice, alice_partner):
    other = PartnerFactory(owner=alice, name="Kim Partner", kind=Partner.Kind.PARTNER)
    return {alice_partner.name, other.name}


def listed(response):
    return {partner.name for partner in response.context["page"].object_list}


def test_a_nul_byte_in_the_search_is_a_form_error(client, alice, sources):
    client.force_login(alice)
    response = client.get(LIST, {"q": "a\x00b"})
    assert response.status_code == 200
    assert response.context["form"].errors["q"] == [NUL]
    assert listed(response) == sources


@pytest.mark.parametrize("kind", ["\x00", "bogus"])
def test_an_unknown_kind_is_a_form_error_and_the_list_unfiltered(
    client, alice, sources, kind
):
    client.force_login(alice)
    response = client.get(LIST, {"kind": kind})
    assert response.status_code == 200
    assert response.context["form"].errors["kind"][0].startswith(BAD_CHOICE)
    assert listed(response) == sources


def test_a_valid_kind_still_filters(client, alice, sources):
    client.force_login(alice)
    response = client.get(LIST, {"kind": Partner.Kind.PARTNER})
    assert not response.context["form"].errors
    assert listed(response) == {"Kim Partner"}


def test_an_unknown_sort_is_a_form_error_and_the_list_by_name(client, alice, sources):
    client.force_login(alice)
    response = client.get(LIST, {"sort": "bogus"})
    assert response.status_code == 200
    assert response.context["form"].errors["sort"][0].startswith(BAD_CHOICE)
    assert response.context["sort"] == "name"
    assert listed(response) == sources


def test_a_nul_byte_in_the_source_search_is_said_in_the_results(
    client, alice, alice_partner
):
    client.force_login(alice)
    response = client.get(reverse("partner_search"), {"source_query": "\x00"})
    assert response.status_code == 200
    assert NUL in response.content.decode()


@pytest.mark.parametrize(
    "params, error", [({"q": "a\x00b"}, NUL), ({"kind": "bogus"}, BAD_CHOICE)]
)
def test_the_filter_error_is_shown_on_the_page(client, alice, sources, params, error):
    client.force_login(alice)
    assert error in client.get(LIST, params).content.decode()

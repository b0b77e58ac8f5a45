"""A referral partner's health (issue 27): the last referral received and
given, the last contact, commitments kept on time, and dormant partners
(no referral either way for PARTNER_DORMANT_DAYS), listed for their owner
and their manager."""

from datetime import timedelta

import pytest
from django.utils import timezone

from partners.models import Partner
from partners.services import given_referral_record
from tests.factories import PartnerFactory, ReferralFactory
from thanks.services import commitment_change, commitment_record

TODAY = timezone.localdate()


def partner(owner, name, *, known_for=200, kind=Partner.Kind.PARTNER):
    """A source we have known for `known_for` days."""
    source = PartnerFactory(owner=owner, name=name, kind=kind)
    Partner.objects.filter(pk=source.pk).update(
        created_at=timezone.now() - timedelta(days=known_for)
    )
    source.refresh_from_db()
    return source


def received(source, days_ago):
    ReferralFactory(source=source, received_on=TODAY - timedelta(days=days_ago))


def given(source, days_ago):
    given_referral_record(
        partner=source,
        user=source.owner,
        introduced="Ivo Ng",
        given_on=TODAY - timedelta(days=days_ago),
    )


def test_the_partners_page_shows_its_health(client, alice):
    hana = partner(alice, "Hana")
    received(hana, 40)
    given(hana, 20)
    kept = commitment_record(
        partner=hana, owner=alice, what="Kept", due_on=TODAY - timedelta(days=30)
    )
    commitment_change(
        commitment=kept, status="done", done_on=TODAY - timedelta(days=31)
    )
    late = commitment_record(
        partner=hana, owner=alice, what="Late", due_on=TODAY - timedelta(days=30)
    )
    commitment_change(commitment=late, status="done", done_on=TODAY - timedelta(days=5))
    client.force_login(alice)
    response = client.get(f"/partners/{hana.pk}/")
    health = response.context["health"]
    assert health["last_received_on"] == TODAY - timedelta(days=40)
    assert health["last_given_on"] == TODAY - timedelta(days=20)
    assert health["last_contact_on"] == TODAY - timedelta(days=5)  # the late one done
    assert (health["kept_on_time"], health["done"]) == (1, 2)
    assert not health["dormant"]
    page = response.content.decode()
    assert "Partner health" in page and "1 of 2" in page
    assert "Dormant" not in page


def test_a_partner_with_nothing_either_way_for_90_days_is_dormant(client, alice):
    quiet = partner(alice, "Quiet")
    received(quiet, 120)
    given(quiet, 95)
    client.force_login(alice)
    response = client.get(f"/partners/{quiet.pk}/")
    assert response.context["health"]["dormant"]
    assert "No referral either way in 90 days" in response.content.decode()


@pytest.fixture
def partners(alice, bob, dave):
    """Alice's: Quiet (dormant), Got (received 30 days ago), Gave (given 89
    days ago), New (known for 30 days: not dormant yet), a customer (never
    dormant); Bob's Sleepy (dormant); Dave's (South) Far (dormant)."""
    quiet = partner(alice, "Quiet")
    received(quiet, 91)
    received(partner(alice, "Got"), 30)
    given(partner(alice, "Gave"), 89)
    partner(alice, "New", known_for=30)
    partner(alice, "Cust", kind=Partner.Kind.CUSTOMER)
    partner(bob, "Sleepy")
    partner(dave, "Far")


def dormant(client, user, **query) -> list[str]:
    client.force_login(user)
    response = client.get("/partners/", {"dormant": "on", **query})
    return [p.name for p in response.context["page"].object_list]


def test_the_list_shows_the_dormant_partners_to_their_owner(client, alice, partners):
    assert dormant(client, alice) == ["Quiet"]


def test_and_to_their_manager_for_the_whole_team(client, carol, partners):
    assert dormant(client, carol) == ["Quiet", "Sleepy"]


def test_an_admin_sees_every_teams(client, admin, partners):
    assert dormant(client, admin) == ["Far", "Quiet", "Sleepy"]


def test_the_number_of_days_is_a_setting(client, alice, partners, settings):
    settings.PARTNER_DORMANT_DAYS = 25
    # Gave's (89 days ago) and Got's (30) referrals, and New (known for 30
    # days), are past it now.
    assert dormant(client, alice) == ["Gave", "Got", "New", "Quiet"]


def test_no_dormant_partner_says_so(client, alice):
    client.force_login(alice)
    page = client.get("/partners/", {"dormant": "on"}).content.decode()
    assert "No dormant referral partner" in page


@pytest.mark.parametrize("count", [3, 30])
def test_the_dormant_list_runs_a_constant_number_of_queries(
    client, alice, django_assert_num_queries, count
):
    for number in range(count):
        partner(alice, f"Quiet {number}")
    client.force_login(alice)
    # 1 the session, 2 the user, 3 the count, 4 the page's partners, 5 their
    # figures.
    with django_assert_num_queries(5):
        response = client.get("/partners/", {"dormant": "on"})
    assert len(response.context["page"].object_list) == count

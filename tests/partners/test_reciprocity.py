"""Reciprocity (issue 27): the referrals we give a partner, set against
those they send us, on the partner's page and in the partner list."""

from datetime import timedelta

import pytest
from django.utils import timezone

from partners.models import GivenReferral, Partner
from partners.selectors import balance_words
from partners.services import given_referral_record
from tests.factories import PartnerFactory, ReferralFactory, stage


@pytest.fixture
def hana(alice):
    return PartnerFactory(owner=alice, name="Hana Payroll", kind=Partner.Kind.PARTNER)


def give(partner, user, introduced="Ivo Ng", **fields):
    return given_referral_record(
        partner=partner,
        user=user,
        introduced=introduced,
        given_on=fields.pop("given_on", timezone.localdate()),
        **fields,
    )


@pytest.mark.parametrize(
    "balance, words",
    [
        (0, "Even"),
        (1, "They sent 1 more referral than we gave"),
        (3, "They sent 3 more referrals than we gave"),
        (-1, "We gave 1 more referral than they sent"),
        (-2, "We gave 2 more referrals than they sent"),
    ],
)
def test_the_balance_in_words(balance, words):
    assert balance_words(balance) == words


def test_a_rep_records_a_referral_given_and_sees_it_on_the_partners_page(
    client, alice, hana
):
    client.force_login(alice)
    response = client.post(
        f"/partners/{hana.pk}/given/new/",
        {
            "introduced": " Ivo O'Neil & Co ",
            "company": "Βήτα Α.Ε.",
            "given_on": timezone.localdate().isoformat(),
            "note": "Needs payroll for 80 people",
            "result": "open",
        },
    )
    assert response.status_code == 302
    given = GivenReferral.objects.get()
    assert (given.introduced, given.company, given.given_by) == (
        "Ivo O'Neil & Co",
        "Βήτα Α.Ε.",
        alice,
    )
    page = client.get(f"/partners/{hana.pk}/").content.decode()
    assert "Ivo O&#x27;Neil &amp; Co" in page
    assert "Βήτα Α.Ε." in page
    assert "We gave 1 more referral than they sent" in page


def test_given_against_received_with_the_won_value_received(client, alice, hana):
    ReferralFactory.create_batch(3, source=hana)
    ReferralFactory(source=hana, stage=stage("Won"), estimated_value=12_500)
    give(hana, alice, result=GivenReferral.Result.WON)
    client.force_login(alice)
    response = client.get(f"/partners/{hana.pk}/")
    shown = response.context["reciprocity"]
    assert (shown["received_count"], shown["given_count"], shown["given_won"]) == (
        4,
        1,
        1,
    )
    assert shown["received_won_value"] == 12_500
    page = response.content.decode()
    assert "They sent 3 more referrals than we gave" in page
    assert "(won USD 12,500)" in page


def test_a_date_in_the_future_is_an_error_next_to_the_field_input_kept(
    client, alice, hana
):
    client.force_login(alice)
    tomorrow = timezone.localdate() + timedelta(days=1)
    response = client.post(
        f"/partners/{hana.pk}/given/new/",
        {"introduced": "Ivo Ng", "given_on": tomorrow.isoformat(), "result": "open"},
    )
    assert response.status_code == 400
    assert response.context["form"].errors["given_on"] == [
        "A referral given cannot be dated in the future."
    ]
    assert 'value="Ivo Ng"' in response.content.decode()
    assert not GivenReferral.objects.exists()


def test_whom_we_introduced_is_required(client, alice, hana):
    client.force_login(alice)
    response = client.post(
        f"/partners/{hana.pk}/given/new/",
        {"introduced": "  ", "given_on": "2026-01-05", "result": "open"},
    )
    assert response.status_code == 400
    assert "introduced" in response.context["form"].errors


def test_the_outcome_is_filled_in_later(client, alice, hana):
    given = give(hana, alice, given_on=timezone.localdate() - timedelta(days=30))
    client.force_login(alice)
    response = client.post(
        f"/partners/given/{given.pk}/",
        {
            "introduced": given.introduced,
            "given_on": given.given_on.isoformat(),
            "result": "won",
        },
    )
    assert response.status_code == 302
    given.refresh_from_db()
    assert given.result == GivenReferral.Result.WON


def test_a_rep_gets_404_on_another_reps_partner_and_referral_given(
    client, alice, bob, hana
):
    given = give(hana, alice)
    client.force_login(bob)
    assert client.get(f"/partners/{hana.pk}/given/new/").status_code == 404
    assert client.get(f"/partners/given/{given.pk}/").status_code == 404
    refused = client.post(
        f"/partners/given/{given.pk}/",
        {"introduced": "Changed", "given_on": "2026-01-05", "result": "lost"},
    )
    assert refused.status_code == 404
    given.refresh_from_db()
    assert given.introduced == "Ivo Ng"


def test_a_manager_records_one_for_a_team_members_partner(client, carol, hana):
    client.force_login(carol)
    assert client.get(f"/partners/{hana.pk}/given/new/").status_code == 200


@pytest.fixture
def ledger(alice, hana):
    """Hana sent 3 and got 1; Kim sent 1 and got 3; Lee is even (1 and 1)."""
    kim = PartnerFactory(owner=alice, name="Kim Partner", kind=Partner.Kind.PARTNER)
    lee = PartnerFactory(owner=alice, name="Lee Partner", kind=Partner.Kind.PARTNER)
    for source, sent, given in ((hana, 3, 1), (kim, 1, 3), (lee, 1, 1)):
        ReferralFactory.create_batch(sent, source=source)
        for number in range(given):
            give(source, alice, introduced=f"Person {number}")
    return alice


def listed(response) -> list[tuple[str, int, int]]:
    return [
        (p.name, p.referral_count, p.given_count)
        for p in response.context["page"].object_list
    ]


def test_the_list_shows_given_beside_sent_and_sorts_by_the_balance(client, ledger):
    client.force_login(ledger)
    they_send_more = client.get("/partners/", {"sort": "-balance"})
    assert listed(they_send_more) == [
        ("Hana Payroll", 3, 1),
        ("Lee Partner", 1, 1),
        ("Kim Partner", 1, 3),
    ]
    we_give_more = client.get("/partners/", {"sort": "balance"})
    assert [row[0] for row in listed(we_give_more)] == [
        "Kim Partner",
        "Lee Partner",
        "Hana Payroll",
    ]
    by_name = client.get("/partners/")
    assert listed(by_name) == [
        ("Hana Payroll", 3, 1),
        ("Kim Partner", 1, 3),
        ("Lee Partner", 1, 1),
    ]


@pytest.mark.parametrize("sort", ["name", "-balance"])
def test_the_list_runs_a_constant_number_of_queries(
    client, ledger, django_assert_num_queries, sort
):
    client.force_login(ledger)
    # 1 the session, 2 the user, 3 the count; by name, 4 the page's sources
    # and 5 their figures (given included); by the balance, 4 every source
    # counted and the page kept.
    with django_assert_num_queries(5 if sort == "name" else 4):
        response = client.get("/partners/", {"sort": sort})
    assert len(response.context["page"].object_list) == 3


def test_the_partners_page_runs_a_constant_number_of_queries(
    client, alice, hana, django_assert_num_queries
):
    for number in range(15):
        give(hana, alice, introduced=f"Person {number}")
    client.force_login(alice)
    # 1 the session, 2 the user, 3 the source, 4 its figures, 5 its
    # referrals (no team's focus read: Hana's focus is not recorded), 6 the
    # latest referrals given (with who gave them), 7 how many given and won,
    # 8 its plan's commitments.
    with django_assert_num_queries(8):
        response = client.get(f"/partners/{hana.pk}/")
    assert len(response.context["reciprocity"]["given"]) == 10
    assert "The latest 10 of 15." in response.content.decode()

from datetime import date

import pytest
from django.utils import timezone

from partners.models import Partner
from tests.factories import PartnerFactory, ReferralFactory, stage


def rows(response):
    return {p.name: p for p in response.context["page"].object_list}


@pytest.fixture
def history(alice, alice_partner):
    ReferralFactory(
        source=alice_partner, received_on=date(2026, 10, 1), estimated_value=1000
    )
    ReferralFactory(
        source=alice_partner,
        received_on=date(2026, 11, 2),
        estimated_value=5000,
        stage=stage("Won"),
    )
    ReferralFactory(
        source=alice_partner,
        received_on=date(2026, 9, 2),
        stage=stage("Lost"),
        lost_reason="Budget",
    )
    return PartnerFactory(owner=alice, name="Quiet Quinn", company="Nobody Inc")


def test_the_list_shows_what_each_source_sent(client, alice, history):
    client.force_login(alice)
    listed = rows(client.get("/partners/"))
    priya = listed["Priya Source"]
    assert (priya.referral_count, priya.won_count, priya.won_value) == (3, 1, 5000)
    assert priya.last_referral_on == date(2026, 11, 2)
    quinn = listed["Quiet Quinn"]
    assert (
        quinn.referral_count,
        quinn.won_count,
        quinn.won_value,
        quinn.last_referral_on,
    ) == (0, 0, 0, None)


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("quinn", ["Quiet Quinn"]),
        ("ACME", ["Priya Source"]),
        ("", ["Priya Source", "Quiet Quinn"]),
    ],
)
def test_the_list_searches_name_company_and_email(client, alice, history, q, expected):
    client.force_login(alice)
    assert list(rows(client.get("/partners/", {"q": q}))) == expected


def test_the_list_sorts_by_most_referrals(client, alice, history):
    client.force_login(alice)
    assert list(rows(client.get("/partners/", {"sort": "-referrals"}))) == [
        "Priya Source",
        "Quiet Quinn",
    ]


def test_the_source_page_shows_each_referral_with_its_outcome(
    client, alice, alice_partner, history
):
    client.force_login(alice)
    response = client.get(f"/partners/{alice_partner.pk}/")
    page = response.content.decode()
    assert response.context["stats"].won_value == 5000
    assert "Won" in page and "Lost" in page and "Budget" in page
    assert len(response.context["referrals"]) == 3


def test_adding_a_source(client, alice):
    client.force_login(alice)
    response = client.post(
        "/partners/new/",
        {
            "name": "Nina New",
            "email": "Nina@Example.org",
            "kind": "partner",
            "email_consent": "in",
        },
    )
    partner = Partner.objects.get()
    assert response["Location"] == f"/partners/{partner.pk}/"
    assert (partner.owner, partner.email, partner.email_consent_at is not None) == (
        alice,
        "nina@example.org",
        True,
    )


def test_an_invalid_source_keeps_what_was_typed(client, alice):
    client.force_login(alice)
    response = client.post(
        "/partners/new/",
        {"name": "", "company": "Typed Co", "kind": "partner", "email": "bad"},
    )
    page = response.content.decode()
    assert "This field is required." in page
    assert "Enter a valid email address." in page
    assert 'value="Typed Co"' in page
    assert not Partner.objects.exists()


def test_opting_out_records_when(client, alice, alice_partner):
    client.force_login(alice)
    before = timezone.now()
    client.post(
        f"/partners/{alice_partner.pk}/edit/",
        {
            "name": alice_partner.name,
            "email": alice_partner.email,
            "kind": "customer",
            "email_consent": "out",
        },
    )
    alice_partner.refresh_from_db()
    assert alice_partner.email_consent == "out"
    assert alice_partner.email_consent_at >= before


def test_a_rep_cannot_give_a_source_to_another_rep(client, alice, bob, alice_partner):
    client.force_login(alice)
    client.post(
        f"/partners/{alice_partner.pk}/edit/",
        {"name": "Renamed", "kind": "customer", "email_consent": "in", "owner": bob.pk},
    )
    alice_partner.refresh_from_db()
    assert (alice_partner.name, alice_partner.owner) == ("Renamed", alice)


@pytest.mark.parametrize("count", [10, 200])
@pytest.mark.parametrize(
    ("sort", "queries"),
    # 1 the session, 2 the user with role and team, 3 the count; by name or
    # fit, 4 the page's sources then 5 their figures; by a figure, 4 every
    # source counted and the page kept.
    [("name", 5), ("-fit", 5), ("-referrals", 4), ("-won_value", 4), ("-last", 4)],
)
def test_the_list_runs_a_constant_number_of_queries(
    client, alice, django_assert_num_queries, count, sort, queries
):
    partners = [PartnerFactory(owner=alice) for _ in range(count // 5)]
    for i in range(count):
        ReferralFactory(source=partners[i % len(partners)])
    client.force_login(alice)
    with django_assert_num_queries(queries):
        response = client.get("/partners/", {"sort": sort})
    assert response.status_code == 200
    listed = response.context["page"].object_list
    assert sum(partner.referral_count for partner in listed) == count


@pytest.mark.parametrize("sort", ["name", "-referrals", "-won_value", "-last"])
def test_a_managers_second_page_has_each_sources_own_figures(
    client, alice, bob, carol, dave, sort
):
    """60 team sources (and one of another team's), 2 pages: whatever the
    sort, each row carries its own source's figures."""
    for number in range(60):
        owner = alice if number % 2 else bob
        source = PartnerFactory(owner=owner, name=f"Source {number:02}")
        ReferralFactory.create_batch(
            number % 4, source=source, received_on=date(2026, 1, 1 + number % 28)
        )
        if number % 3 == 0:
            ReferralFactory(
                source=source,
                stage=stage("Won"),
                estimated_value=100 * number,
                received_on=date(2026, 2, 1),
            )
    PartnerFactory(owner=dave, name="Source of the south")
    client.force_login(carol)
    pages = [
        client.get("/partners/", {"sort": sort, "page": page}).context["page"]
        for page in (1, 2)
    ]
    listed = [partner for page in pages for partner in page.object_list]
    assert pages[0].paginator.count == 60
    assert sorted(p.name for p in listed) == [f"Source {n:02}" for n in range(60)]
    for partner in listed:
        number = int(partner.name.split()[-1])
        won = number % 3 == 0
        assert (partner.referral_count, partner.won_count, partner.won_value) == (
            number % 4 + won,
            int(won),
            100 * number if won else 0,
        )
        if won:
            last = date(2026, 2, 1)
        else:
            last = date(2026, 1, 1 + number % 28) if number % 4 else None
        assert partner.last_referral_on == last
    if sort == "name":
        assert [p.name for p in listed] == [f"Source {n:02}" for n in range(60)]


@pytest.mark.parametrize("count", [10, 200])
def test_the_source_page_runs_a_constant_number_of_queries(
    client, alice, alice_partner, django_assert_num_queries, count
):
    ReferralFactory.create_batch(count, source=alice_partner)
    client.force_login(alice)
    # 1 the session, 2 the user with role and team, 3 the source (with when
    # last thanked, and whether ready to ask), 4 its figures, 5 its
    # referrals, 6 the latest referrals given them and 7 how many, 8 its
    # plan's commitments (issue 27); a customer's, 9 its outcomes and 10 its
    # asks (issue 26).
    with django_assert_num_queries(10):
        response = client.get(f"/partners/{alice_partner.pk}/")
    assert response.status_code == 200


def test_the_list_header_counts_sources_with_thousands_separated(client, alice):
    Partner.objects.bulk_create(
        Partner(owner=alice, name=f"Source {number:04}") for number in range(1001)
    )
    client.force_login(alice)
    page = client.get("/partners/").content.decode()
    assert '<span class="text-muted fs-6">1,001</span></h1>' in page


def test_a_rep_cannot_opt_an_unsubscribed_source_back_in(client, alice):
    source = PartnerFactory(owner=alice, email_consent="out")
    client.force_login(alice)
    client.post(
        f"/partners/{source.pk}/edit/",
        {"name": source.name, "kind": "customer", "email_consent": "in"},
    )
    source.refresh_from_db()
    assert source.email_consent == "out"

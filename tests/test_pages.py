"""Pages render with a constant number of queries, however many rows they show."""

import pytest

from tests.factories import PartnerFactory, ReferralFactory


def make_referrals(owner, count):
    partners = [PartnerFactory(owner=owner) for _ in range(5)]
    for i in range(count):
        ReferralFactory(source=partners[i % 5])


# Every page starts with 4 queries: session, user, the user's groups (role) and
# team (navbar). Then its own; the bound is the same for 5 rows and for 60.
PAGES = {
    "/": 4 + 3,  # stages with an SLA, not contacted, stale
    "/referrals/": 4 + 2,  # count, one page of rows
    "/partners/": 4 + 2,  # count, one page of rows with their counts
    "/referrals/board/": 4 + 2,  # stage totals, stages
}


@pytest.mark.parametrize("rows", [5, 60])
@pytest.mark.parametrize(("path", "queries"), PAGES.items())
def test_list_pages_run_a_constant_number_of_queries(
    client, alice, django_assert_max_num_queries, path, queries, rows
):
    make_referrals(alice, rows)
    client.force_login(alice)
    with django_assert_max_num_queries(queries):
        response = client.get(path)
    assert response.status_code == 200


def test_referral_page_shows_the_referral(client, alice, alice_referral):
    client.force_login(alice)
    page = client.get(f"/referrals/{alice_referral.pk}/").content.decode()
    assert "Paula Prospect" in page
    assert "Priya Source" in page


def test_dashboard_shows_pipeline_value_per_stage(client, carol, alice_partner):
    ReferralFactory.create_batch(3, source=alice_partner, estimated_value=1000)
    client.force_login(carol)
    response = client.get("/dashboard/")
    received = next(
        r for r in response.context["summary"] if r["stage"].name == "Received"
    )
    assert received["count"] == 3
    assert received["total"] == 3000
    assert received["weighted"] == 300  # Received is 10% likely to win

from datetime import timedelta

import pytest
from django.utils import timezone

from referrals.services import referral_log, referral_move
from tests.factories import PartnerFactory, ReferralFactory, stage


def test_today_lists_new_uncontacted_and_stale_referrals(client, alice, alice_partner):
    ReferralFactory(source=alice_partner, prospect_name="New Nina")
    contacted = ReferralFactory(source=alice_partner, prospect_name="Called Carl")
    referral_move(referral=contacted, to_stage=stage("Contacted"), user=alice)
    ReferralFactory(
        source=alice_partner,
        prospect_name="Stale Stan",
        stage=stage("Contacted"),
        first_contacted_at=timezone.now(),
        stage_entered_at=timezone.now() - timedelta(days=8),  # Contacted allows 7
    )
    ReferralFactory(source=alice_partner, prospect_name="Won Wanda", stage=stage("Won"))
    client.force_login(alice)
    response = client.get("/")
    assert [r.prospect_name for r in response.context["not_contacted"]] == ["New Nina"]
    assert [r.prospect_name for r in response.context["stale"]] == ["Stale Stan"]


def test_today_shows_only_the_users_referrals(client, alice, bob, alice_referral):
    ReferralFactory(source=PartnerFactory(owner=bob), prospect_name="Bobs prospect")
    client.force_login(alice)
    page = client.get("/").content.decode()
    assert "Paula Prospect" in page
    assert "Bobs prospect" not in page


@pytest.mark.parametrize("rows", [10, 200])
def test_today_runs_a_constant_number_of_queries(
    client, alice, alice_partner, django_assert_max_num_queries, rows
):
    for _ in range(rows):
        referral_log(user=alice, source=alice_partner, prospect_name="P")  # + thanks
    client.force_login(alice)
    # session, user with role and team; thank-yous due, stages with an SLA,
    # not contacted, stale
    with django_assert_max_num_queries(6):
        client.get("/")

"""Today's "Not assessed yet" (issue 26): open referrals still without a
label a day after they were logged, in the user's view only."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from referrals.models import Label
from referrals.selectors import TODAY_ROWS
from referrals.services import criterion_create, referral_assess
from tests.factories import PartnerFactory, ReferralFactory, stage


def logged(source, name, *, ago, **fields):
    """A referral of `source`'s owner, logged `ago` before now."""
    return ReferralFactory(
        source=source, prospect_name=name, created_at=timezone.now() - ago, **fields
    )


def nudged(client, user):
    client.force_login(user)
    response = client.get(reverse("today"))
    assert response.status_code == 200
    return response, [row["prospect_name"] for row in response.context["unassessed"]]


def test_an_open_referral_not_assessed_a_day_after_it_was_logged_is_listed(
    client, alice, alice_partner
):
    old = logged(alice_partner, "Two days old", ago=timedelta(days=2))
    logged(alice_partner, "Logged this morning", ago=timedelta(hours=3))
    logged(alice_partner, "Not quite a day", ago=timedelta(hours=23))
    logged(
        alice_partner,
        "Assessed already",
        ago=timedelta(days=3),
        label=Label.LUKEWARM,
        score=50,
    )
    logged(
        alice_partner,
        "Won already",
        ago=timedelta(days=3),
        stage=stage("Won"),
        closed_at=timezone.now(),
    )
    logged(
        alice_partner,
        "Lost already",
        ago=timedelta(days=3),
        stage=stage("Lost"),
        closed_at=timezone.now(),
    )
    response, names = nudged(client, alice)

    assert names == ["Two days old"]
    assert response.context["counts"]["unassessed"] == 1
    page = response.content.decode()
    section = page[page.index('id="unassessed"') :].split("</section>")[0]
    assert "Not assessed yet" in section
    # Linked to the referral's page, where the criteria are answered.
    assert f'<a href="/referrals/{old.pk}/">Two days old</a>' in section
    assert "Logged this morning" not in section


def test_another_reps_referral_is_not_their_nudge_but_their_managers(
    client, alice, bob, carol, dave
):
    for rep in (alice, bob, dave):
        logged(
            PartnerFactory(owner=rep),
            f"{rep.display_name.split()[0]}'s",
            ago=timedelta(days=2),
        )

    assert nudged(client, alice)[1] == ["Alice's"]
    # The manager sees their team's (Alice and Bob, North), not the South's.
    assert sorted(nudged(client, carol)[1]) == ["Alice's", "Bob's"]


def test_assessing_a_referral_takes_it_off_the_list(client, alice, alice_partner):
    question = criterion_create(team=None, question="Has a budget?", weight=1)
    referral = logged(alice_partner, "Waiting", ago=timedelta(days=2))
    assert nudged(client, alice)[1] == ["Waiting"]

    referral_assess(referral=referral, user=alice, answers={question.pk: False})

    response, names = nudged(client, alice)
    assert names == []
    assert response.context["counts"]["unassessed"] == 0
    assert "Every referral older than a day has its label." in (
        response.content.decode()
    )


def test_it_shows_the_oldest_25_and_counts_them_all(client, alice, alice_partner):
    stages = [stage("Received"), stage("Contacted"), stage("Meeting held")]
    for n in range(TODAY_ROWS + 5):
        logged(
            alice_partner,
            f"Prospect {n:02}",
            ago=timedelta(days=40 - n),
            stage=stages[n % 3],
            first_contacted_at=timezone.now(),
        )
    response, names = nudged(client, alice)

    # Oldest logged first, across the stages.
    assert names == [f"Prospect {n:02}" for n in range(TODAY_ROWS)]
    assert response.context["counts"]["unassessed"] == TODAY_ROWS + 5
    page = response.content.decode()
    assert 'Not assessed yet <span class="badge text-bg-secondary">30</span>' in page
    link = "/referrals/?label=unassessed&amp;stage_kind=open&amp;sort=received"
    assert f'<a href="{link}">See every open referral not assessed' in page


def test_the_see_all_link_lists_the_open_referrals_not_assessed(
    client, alice, alice_partner
):
    logged(alice_partner, "Open, not assessed", ago=timedelta(days=2))
    logged(alice_partner, "Open, qualified", ago=timedelta(days=2), label="qualified")
    logged(
        alice_partner,
        "Won, not assessed",
        ago=timedelta(days=2),
        stage=stage("Won"),
        closed_at=timezone.now(),
    )
    client.force_login(alice)
    response = client.get(
        reverse("referral_list"),
        {"label": "unassessed", "stage_kind": "open", "sort": "received"},
    )
    names = [row["prospect_name"] for row in response.context["page"].object_list]
    assert names == ["Open, not assessed"]


@pytest.mark.parametrize("rows", [3, 60])
def test_the_nudge_keeps_todays_query_count_whatever_its_length(
    client, alice, alice_partner, django_assert_num_queries, rows
):
    for n in range(rows):
        logged(alice_partner, f"P{n}", ago=timedelta(days=2 + n))
    client.force_login(alice)
    # 1 the session, 2 the user; 3 the stages; 4 how many of each list (the
    # not assessed among them); 5 the customers to ask or not now; 6 the
    # thank-yous, 7 the not contacted, the stale and the not assessed (one
    # statement), 8 the commitments due.
    with django_assert_num_queries(8):
        response = client.get(reverse("today"))
    assert len(response.context["unassessed"]) == min(rows, TODAY_ROWS)

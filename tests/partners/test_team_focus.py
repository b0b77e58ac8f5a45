"""The team's focus and each referral partner's fit against it (issue 27,
"Fit and focus"): who sets the focus, the stored figure kept current, the
partner page's reasons, the list's sort and filter."""

import pytest

from partners.fit import TEAM_FOCUS_MISSING
from partners.models import Partner, TeamFocus
from partners.services import partner_create
from tests.factories import PartnerFactory

FOCUS = "/partners/focus/"
NORTH_FOCUS = {
    "focus_roles": "HR director, Head of people",
    "focus_industries": "Software",
    "focus_size_min": "50",
    "focus_size_max": "500",
}


def partner(owner, name, **fields):
    """A referral partner added as the partner form adds one (its fit
    measured against the team's focus, when there is one)."""
    return partner_create(owner=owner, name=name, kind=Partner.Kind.PARTNER, **fields)


@pytest.fixture
def hr_partner(alice):
    return partner(
        alice,
        "Hana Payroll",
        focus_roles="HR directors",
        focus_industries="Software, Retail",
        focus_size_min=20,
        focus_size_max=200,
        trust=4,
        click=5,
    )


def test_a_manager_sets_the_focus_and_the_teams_partners_fit_is_measured(
    client, carol, alice, bob, dave, hr_partner
):
    miner = partner(bob, "Mo Mining", focus_roles="Plant manager", trust=2)
    customer = PartnerFactory(owner=alice, focus_roles="HR director")
    elsewhere = partner(dave, "South Partner", focus_roles="HR director")
    assert hr_partner.fit_score is None  # no focus to measure against yet
    client.force_login(carol)
    response = client.post(FOCUS, NORTH_FOCUS)
    assert response.status_code == 302
    focus = TeamFocus.objects.get(team=carol.managed_teams.get())
    assert (focus.focus_roles, focus.updated_by) == (NORTH_FOCUS["focus_roles"], carol)
    for each in (hr_partner, miner, customer, elsewhere):
        each.refresh_from_db()
    # 35 + 25 + 20, and 18 of 20 for click 5 and trust 4.
    assert hr_partner.fit_score == 98
    assert miner.fit_score == 8  # no overlap: trust 2 of 5 alone
    assert customer.fit_score is None  # only referral partners have a fit
    assert elsewhere.fit_score is None  # another team's partner
    page = client.get(response["Location"]).content.decode()
    assert "North&#x27;s focus saved" in page


def test_the_partner_page_shows_the_fit_and_its_reasons(
    client, carol, alice, hr_partner
):
    client.force_login(carol)
    client.post(FOCUS, NORTH_FOCUS)
    client.force_login(alice)
    page = client.get(f"/partners/{hr_partner.pk}/").content.decode()
    assert "Strong fit · 98/100" in page
    for reason in (
        "Same buyer: HR directors",
        "Same industries: Software",
        "Sizes overlap 50-200",
        "Trust 4/5",
        "Click 5/5",
    ):
        assert f"<li>{reason}</li>" in page


def test_the_partner_page_says_plainly_when_focuses_do_not_overlap(
    client, carol, alice
):
    client.force_login(carol)
    client.post(FOCUS, NORTH_FOCUS)
    miner = partner(alice, "Mo Mining", focus_roles="Plant manager")
    client.force_login(alice)
    page = client.get(f"/partners/{miner.pk}/").content.decode()
    assert "No overlap" in page
    assert "Focuses do not overlap: they serve Plant manager, we sell to" in page


def test_without_a_team_focus_the_partner_page_says_it_is_not_set(
    client, alice, hr_partner
):
    client.force_login(alice)
    page = client.get(f"/partners/{hr_partner.pk}/").content.decode()
    assert "Fit unknown" in page
    assert TEAM_FOCUS_MISSING.replace("'", "&#x27;") in page


def test_editing_a_partners_focus_measures_the_fit_again(
    client, carol, alice, hr_partner
):
    client.force_login(carol)
    client.post(FOCUS, NORTH_FOCUS)
    client.force_login(alice)
    response = client.post(
        f"/partners/{hr_partner.pk}/edit/",
        {
            "name": hr_partner.name,
            "kind": "partner",
            "email_consent": "in",
            "focus_roles": "Plant manager",
            "trust": "1",
        },
    )
    assert response.status_code == 302
    hr_partner.refresh_from_db()
    assert hr_partner.fit_score == 4  # no overlap, trust 1 of 5


def test_a_size_range_upside_down_is_an_error_next_to_the_field_input_kept(
    client, carol
):
    client.force_login(carol)
    response = client.post(
        FOCUS, {**NORTH_FOCUS, "focus_size_min": "900", "focus_size_max": "50"}
    )
    assert response.status_code == 400
    form = response.context["form"]
    assert form.errors["focus_size_max"] == [
        "The smallest size cannot be above the largest."
    ]
    page = response.content.decode()
    assert 'value="HR director, Head of people"' in page
    assert 'value="900"' in page
    assert not TeamFocus.objects.exists()


def test_a_rep_reads_the_focus_and_cannot_change_it(client, carol, alice):
    client.force_login(carol)
    client.post(FOCUS, NORTH_FOCUS)
    client.force_login(alice)
    response = client.get(FOCUS)
    assert response.status_code == 200
    assert response.context["form"] is None
    assert "HR director, Head of people" in response.content.decode()
    refused = client.post(FOCUS, {**NORTH_FOCUS, "focus_roles": "CFO"})
    assert refused.status_code == 403
    assert TeamFocus.objects.get().focus_roles == NORTH_FOCUS["focus_roles"]


def test_a_manager_cannot_set_another_teams_focus(client, carol, erin, south):
    client.force_login(carol)
    response = client.post(FOCUS, {**NORTH_FOCUS, "team": south.pk})
    assert response.status_code == 404
    assert not TeamFocus.objects.filter(team=south).exists()


def test_an_admin_sets_any_teams_focus(client, admin, north, south, dave):
    south_partner = partner(dave, "South Partner", focus_roles="CFO")
    client.force_login(admin)
    response = client.get(FOCUS, {"team": south.pk})
    assert [team.name for team in response.context["teams"]] == ["North", "South"]
    client.post(FOCUS, {"team": south.pk, "focus_roles": "CFOs"})
    south_partner.refresh_from_db()
    assert south_partner.fit_score == 35


@pytest.fixture
def measured(client, carol, alice, bob, hr_partner):
    """North's focus set, and partners of each fit."""
    client.force_login(carol)
    client.post(FOCUS, NORTH_FOCUS)
    partner(bob, "Some Fit", focus_roles="Head of people", focus_size_min=100)
    partner(alice, "No Overlap", focus_roles="Plant manager")
    partner(alice, "Unknown Fit")
    PartnerFactory(owner=alice, name="A Customer")
    return client


def listed(response) -> list[str]:
    return [p.name for p in response.context["page"].object_list]


def test_the_list_sorts_partners_by_fit_those_not_measured_last(measured):
    response = measured.get("/partners/", {"sort": "-fit"})
    assert listed(response) == [
        "Hana Payroll",
        "Some Fit",
        "No Overlap",
        "A Customer",
        "Unknown Fit",
    ]
    page = response.content.decode()
    assert 'class="fit fit-strong" title="98 of 100">Strong fit' in page
    assert 'class="fit fit-unknown">Fit unknown' in page


@pytest.mark.parametrize(
    "fit, names",
    [
        ("strong", ["Hana Payroll"]),
        ("some", ["Hana Payroll", "Some Fit"]),
        ("weak", ["No Overlap"]),
        ("unknown", ["Unknown Fit"]),
    ],
)
def test_the_list_filters_by_fit(measured, fit, names):
    response = measured.get("/partners/", {"fit": fit})
    assert sorted(listed(response)) == sorted(names)


def test_an_unknown_fit_filter_is_a_form_error_and_the_list_unfiltered(measured):
    response = measured.get("/partners/", {"fit": "bogus"})
    assert response.context["form"].errors["fit"][0].startswith("Select a valid")
    assert len(listed(response)) == 5


def test_a_partners_page_runs_a_constant_number_of_queries(
    client, alice, hr_partner, django_assert_num_queries
):
    client.force_login(alice)
    # 1 the session, 2 the user with role and team, 3 the source with its
    # owner and team, 4 its figures, 5 its referrals, 6 the team's focus, 7
    # the latest referrals given them and 8 how many, 9 its plan.
    with django_assert_num_queries(9):
        response = client.get(f"/partners/{hr_partner.pk}/")
    assert response.status_code == 200


def test_a_rep_gets_404_on_another_reps_partner(client, bob, hr_partner):
    client.force_login(bob)
    assert client.get(f"/partners/{hr_partner.pk}/").status_code == 404


def test_a_rep_reads_their_own_teams_focus_from_the_partner_pages_link(
    client, carol, alice, hana_partner_with_focus
):
    client.force_login(alice)
    response = client.get(FOCUS, {"team": alice.team_id})
    assert response.status_code == 200
    assert response.context["form"] is None
    assert client.get(FOCUS, {"team": alice.team_id + 1000}).status_code == 404


@pytest.fixture
def hana_partner_with_focus(hr_partner):
    return hr_partner


def test_a_managers_own_partners_are_measured_against_the_team_they_manage(
    client, carol
):
    own = partner(carol, "Carol's partner", focus_roles="CFO")
    client.force_login(carol)
    client.post(FOCUS, {**NORTH_FOCUS, "focus_roles": "CFO"})
    own.refresh_from_db()
    assert own.fit_score == 35  # the buyers shared; nothing else said
    page = client.get(f"/partners/{own.pk}/").content.decode()
    assert "Same buyer: CFO" in page


def test_saving_a_focus_in_the_admin_measures_the_partners_again(
    client, admin, north, hr_partner
):
    client.force_login(admin)
    response = client.post(
        "/admin/partners/teamfocus/add/",
        {"team": north.pk, **NORTH_FOCUS},
    )
    assert response.status_code == 302
    hr_partner.refresh_from_db()
    assert hr_partner.fit_score == 98

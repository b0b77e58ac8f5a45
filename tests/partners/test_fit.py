"""A referral partner's fit with the team (issue 27, "Fit and focus"): the
figure and its reasons from the two focuses, click and trust."""

import pytest

from partners.fit import (
    PARTNER_FOCUS_MISSING,
    TEAM_FOCUS_MISSING,
    Focus,
    fit,
    fit_level,
    terms,
)

OURS = Focus(
    roles=("HR director", "Head of people"),
    industries=("Software", "Healthcare"),
    size_min=50,
    size_max=500,
)


def test_terms_are_the_items_typed_trimmed_without_repeats():
    assert terms(" HR directors, CFO;; HR directors\nSoftware ") == (
        "HR directors",
        "CFO",
        "Software",
    )
    assert terms("") == ()


def test_a_partner_serving_the_same_buyers_sizes_and_industries_fits_strongly():
    theirs = Focus(
        roles=("HR Directors", "Office managers"),
        industries=("software",),
        size_min=20,
        size_max=300,
    )
    found = fit(OURS, theirs, click=4, trust=4)
    # 35 (buyers) + 25 (industries) + 20 (sizes) + 16 (8 of 10 for click and trust)
    assert found.score == 96
    assert found.level == "strong"
    assert found.label == "Strong fit"
    assert found.reasons == [
        "same buyer: HR Directors",
        "same industries: software",
        "sizes overlap 50-300",
        "trust 4/5",
        "click 4/5",
    ]


def test_focuses_that_do_not_overlap_are_said_plainly():
    theirs = Focus(roles=("Plant manager",), industries=("Mining",), size_min=1000)
    found = fit(OURS, theirs, trust=5)
    assert not found.overlaps
    assert found.level == "none"
    assert found.label == "No overlap"
    assert found.score == 20  # trust alone
    assert found.reasons[0] == (
        "focuses do not overlap: they serve Plant manager; Mining; 1000+ people, "
        "we sell to HR director, Head of people; Software, Healthcare; "
        "50-500 people"
    )
    assert "trust 5/5" in found.reasons


def test_sizes_that_meet_only_at_the_edge_overlap_and_disjoint_ones_do_not():
    assert fit(OURS, Focus(size_min=500, size_max=900)).reasons[0] == (
        "sizes overlap 500"
    )
    assert not fit(OURS, Focus(size_min=501)).overlaps
    assert fit(OURS, Focus(size_max=60)).reasons[0] == "sizes overlap 50-60"


def test_an_open_ended_size_on_both_sides_overlaps_from_the_larger_minimum():
    found = fit(Focus(size_min=10), Focus(size_min=200), click=None)
    assert found.reasons[0] == "sizes overlap 200+"


def test_without_ratings_the_fit_says_click_and_trust_are_not_rated():
    found = fit(OURS, Focus(roles=("head of people",)))
    assert found.score == 35
    assert found.level == "weak"
    assert found.reasons[-1] == "click and trust not rated yet"


@pytest.mark.parametrize(
    "team, partner, reason",
    [
        (None, Focus(roles=("CFO",)), TEAM_FOCUS_MISSING),
        (Focus(), Focus(roles=("CFO",)), TEAM_FOCUS_MISSING),
        (OURS, Focus(), PARTNER_FOCUS_MISSING),
    ],
)
def test_no_figure_without_both_focuses_and_the_reason_says_whose(
    team, partner, reason
):
    found = fit(team, partner, click=5, trust=5)
    assert found.score is None
    assert found.level == "unknown"
    assert found.reasons == [reason]


@pytest.mark.parametrize(
    "score, level",
    [
        (None, "unknown"),
        (0, "weak"),
        (39, "weak"),
        (40, "some"),
        (69, "some"),
        (70, "strong"),
        (100, "strong"),
    ],
)
def test_levels_of_a_stored_score(score, level):
    assert fit_level(score) == level

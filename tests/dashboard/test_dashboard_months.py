"""Dashboard figures over whole months: read from the monthly summaries, with
the partial months at the period's edges counted from the referrals, and the
same as counting every referral."""

import re
from datetime import date
from decimal import Decimal

import pytest
from django.core.management import call_command

from dashboard.queries import month_pieces
from tests.dashboard.helpers import get, log, move
from tests.factories import PartnerFactory, ReferralFactory


def test_a_period_splits_into_whole_months_and_edge_pieces():
    assert month_pieces(date(2026, 8, 26), date(2026, 11, 23)) == (
        (date(2026, 9, 1), date(2026, 10, 1)),
        [
            (date(2026, 8, 26), date(2026, 8, 31), date(2026, 8, 1)),
            (date(2026, 11, 1), date(2026, 11, 23), date(2026, 11, 1)),
        ],
    )
    assert month_pieces(date(2026, 1, 1), date(2026, 10, 31)) == (
        (date(2026, 1, 1), date(2026, 10, 1)),
        [],
    )
    # No whole month: pieces still stop at the month's end.
    assert month_pieces(date(2026, 10, 15), date(2026, 11, 10)) == (
        None,
        [
            (date(2026, 10, 15), date(2026, 10, 31), date(2026, 10, 1)),
            (date(2026, 11, 1), date(2026, 11, 10), date(2026, 11, 1)),
        ],
    )
    assert month_pieces(date(2025, 12, 20), date(2026, 2, 3), whole_months=False)[
        1
    ] == [
        (date(2025, 12, 20), date(2025, 12, 31), date(2025, 12, 1)),
        (date(2026, 1, 1), date(2026, 1, 31), date(2026, 1, 1)),
        (date(2026, 2, 1), date(2026, 2, 3), date(2026, 2, 1)),
    ]


@pytest.fixture
def year(alice, bob, dave):
    """Referrals over four months of 2026; the dashboard is read on Nov 20."""
    sam = PartnerFactory(owner=alice, kind="customer")
    uma = PartnerFactory(owner=bob, kind="customer")
    r1 = log(alice, sam, "2026-08-10T09:00:00", 900, "R1")
    move(r1, alice, "2026-08-11T09:00:00", "Contacted")
    move(r1, alice, "2026-09-02T09:00:00", "Won", final_value=Decimal(1000))
    r2 = log(alice, sam, "2026-09-30T09:00:00", 300, "R2")
    move(r2, alice, "2026-10-01T09:00:00", "Lost", lost_reason="Budget")
    log(bob, uma, "2026-10-31T23:00:00", 200, "R3")
    r4 = log(alice, sam, "2026-11-02T09:00:00", 400, "R4")
    move(r4, alice, "2026-11-05T09:00:00", "Won", final_value=Decimal(500))
    r5 = log(bob, uma, "2026-10-15T09:00:00", 600, "R5")
    # 02:00 UTC on Nov 1 is still October 31 in New York.
    move(r5, bob, "2026-11-01T02:00:00", "Won", final_value=Decimal(700))
    log(dave, PartnerFactory(owner=dave), "2026-09-12T09:00:00", 5, "South")


def figures(context) -> dict:
    """What a manager reads off the dashboard for the period."""
    return {
        "funnel": [
            (row["stage"].name, row["count"]) for row in context["funnel"]["rows"]
        ],
        "lost": [
            (row["lost_reason"], row["count"])
            for row in context["funnel"]["lost_reasons"]
        ],
        "reps": {
            row["rep"].email: (row["received"], row["won"], row["won_value"])
            for row in context["reps"]
        },
        "received": {
            b["start"]: b["received"]
            for b in context["trend"]["buckets"]
            if b["received"]
        },
        "won": {
            b["start"]: b["won_value"]
            for b in context["trend"]["buckets"]
            if b["won_value"]
        },
    }


def test_whole_months_and_edges_add_up(client, carol, year):
    context = get(client, carol, period="this_year").context
    assert context["trend"]["unit"] == "month"
    assert figures(context) == {
        "funnel": [
            ("Received", 5),
            ("Contacted", 3),
            ("Meeting held", 3),
            ("Proposal sent", 3),
            ("Won", 3),
        ],
        "lost": [("Budget", 1)],
        "reps": {
            "alice@example.com": (3, 2, Decimal(1500)),
            "bob@example.com": (2, 1, Decimal(700)),
        },
        "received": {
            date(2026, 8, 1): 1,
            date(2026, 9, 1): 1,
            date(2026, 10, 1): 2,
            date(2026, 11, 1): 1,
        },
        "won": {date(2026, 9, 1): Decimal(1000), date(2026, 11, 1): Decimal(1200)},
    }


def test_the_summaries_agree_with_counting_every_referral(client, carol, year):
    """A source-kind filter counts every referral (the summaries have no
    source kind); every source here is a customer, so the figures must match."""
    summed = get(client, carol, period="this_year").context
    counted = get(client, carol, period="this_year", source_kind="customer").context
    assert figures(summed) == figures(counted)
    for period in ("last_90", "this_quarter", "this_month"):
        assert figures(get(client, carol, period=period).context) == figures(
            get(client, carol, period=period, source_kind="customer").context
        ), period


def test_a_manager_in_another_time_zone_sees_sales_in_their_own_months(
    client, carol, year
):
    carol.time_zone = "America/New_York"
    carol.save(update_fields=["time_zone"])
    won = figures(get(client, carol, period="this_year").context)["won"]
    assert won == {
        date(2026, 9, 1): Decimal(1000),
        date(2026, 10, 1): Decimal(700),  # Oct 31, 22:00 in New York
        date(2026, 11, 1): Decimal(500),
    }


def test_referrals_imported_behind_the_applications_back_count_after_a_rebuild(
    client, carol, alice, year
):
    ReferralFactory(owner=alice, received_on=date(2026, 9, 15))
    received = figures(get(client, carol, period="this_year").context)["received"]
    assert received[date(2026, 9, 1)] == 1  # September is read from the summary
    call_command("rollups_rebuild", verbosity=0)
    received = figures(get(client, carol, period="this_year").context)["received"]
    assert received[date(2026, 9, 1)] == 2


def test_a_sale_counts_in_the_week_it_closed_where_the_manager_is(client, carol, alice):
    """Won on Monday Nov 16 at 02:00 UTC: still Sunday in New York, so in
    the week of Monday Nov 9 there, and in the week of Nov 16 in UTC."""
    referral = log(alice, PartnerFactory(owner=alice), "2026-11-02T09:00:00", 400, "S")
    move(referral, alice, "2026-11-16T02:00:00", "Won", final_value=Decimal(400))

    def won_weeks():
        buckets = get(client, carol, period="last_30").context["trend"]["buckets"]
        return {b["start"]: b["won_value"] for b in buckets if b["won_value"]}

    assert won_weeks() == {date(2026, 11, 16): Decimal(400)}
    carol.time_zone = "America/New_York"
    carol.save(update_fields=["time_zone"])
    assert won_weeks() == {date(2026, 11, 9): Decimal(400)}


def test_beyond_three_years_the_trend_is_per_year(client, carol, year):
    """27 years in months were 324 bars a few pixels wide, labelled like two
    years. Each year's bar is its months added up, and links to its days."""
    context = get(
        client, carol, period="custom", start="2000-01-01", end="2026-11-20"
    ).context
    assert context["trend"]["unit"] == "year"
    buckets = context["trend"]["buckets"]
    assert [b["start"].year for b in buckets] == list(range(2000, 2027))
    this_year = buckets[-1]
    assert (this_year["received"], this_year["won_value"]) == (5, Decimal(2200))
    assert (this_year["first"], this_year["last"]) == (
        date(2026, 1, 1),
        date(2026, 11, 20),
    )
    page = get(client, carol, period="custom", start="2000-01-01", end="2026-11-20")
    html = page.content.decode()
    assert "Referrals received per year" in html
    assert ">2026</text>" in html and "received_from=2026-01-01" in html
    # Three years or less stay in months.
    shorter = get(client, carol, period="custom", start="2024-01-01", end="2026-11-20")
    assert shorter.context["trend"]["unit"] == "month"


def test_months_of_two_years_carry_their_year(client, carol, year):
    # Nov 2025 to Nov 2026: "Nov" twice would read as one month.
    html = get(
        client, carol, period="custom", start="2025-11-01", end="2026-11-20"
    ).content.decode()
    labels = re.findall(r'class="chart-label">([^<]+)</text>', html)
    assert "Nov ’25" in labels and "Nov ’26" in labels
    this_year = get(client, carol, period="this_year").content.decode()
    assert "Aug</text>" in this_year and "’" not in "".join(
        re.findall(r'class="chart-label">([^<]+)</text>', this_year)
    )

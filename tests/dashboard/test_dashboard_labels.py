"""The dashboard by label (issue 26): the funnel and win rate per label, the
best sources by qualified share, their drill-down links, CSVs, snapshots,
the query count and who sees what. Labels are set through referral_assess,
as a rep's answers set them."""

from datetime import timedelta

import pytest
import time_machine

from partners.models import Partner
from partners.selectors import with_referral_stats
from referrals.models import Label
from tests.dashboard.helpers import (
    NOW,
    assess,
    get,
    linked_amounts,
    linked_numbers,
    log,
    move,
)
from tests.dashboard.test_dashboard import TEAM_DASHBOARD_QUERIES
from tests.factories import PartnerFactory, stage
from tests.helpers import csv_rows

Q, L, C, NA = Label.QUALIFIED, Label.LUKEWARM, Label.COLD, Label.UNASSESSED


@pytest.fixture
def labelled(data, alice, bob, dave):
    """The dashboard's data set, assessed: R1 (won, 1,000, past the meeting)
    and R3 (open) qualified, R2 (lost) lukewarm, R4 (contacted) cold; in
    South, dave's R5 qualified."""
    referrals = {r.prospect_name: r for r in data["sam"].referrals.all()}
    referrals.update({r.prospect_name: r for r in data["uma"].referrals.all()})
    assess(referrals["R1"], alice, Q)
    assess(referrals["R2"], alice, L)
    assess(data["r3"], alice, Q)
    assess(referrals["R4"], bob, C)
    assess(data["r5"], dave, Q)
    return {**data, **referrals}


def by_label(context) -> dict:
    return {
        row["label"]: (
            row["received"],
            row["meeting"],
            row["won"],
            row["closed"],
            row["win_rate"],
            row["won_value"],
        )
        for row in context["labels"]["rows"]
    }


# The team's figures by label: (received, first meeting, won, closed, win
# rate, won value).
NORTH = {
    Q: (2, 1, 1, 1, 1.0, 1000),  # R1 won after its meeting; R3 open
    L: (1, 0, 0, 1, 0.0, 0),  # R2 lost
    C: (1, 0, 0, 0, None, 0),  # R4 still open: no win rate
    NA: (0, 0, 0, 0, None, 0),
}


@pytest.mark.parametrize(
    "params",
    [
        {},  # the last 90 days: November's days counted from the referrals
        {"period": "custom", "start": "2026-11-01", "end": "2026-11-30"},  # a
        # whole month: from the summaries
        {"period": "this_year"},
    ],
)
def test_the_funnel_and_win_rate_by_label(client, carol, labelled, params):
    context = get(client, carol, **params).context
    assert by_label(context) == NORTH
    assert [row["name"] for row in context["labels"]["rows"]] == [
        "Qualified",
        "Lukewarm",
        "Cold",
        "Not assessed",
    ]
    assert context["labels"]["meeting_stage"] == stage("Meeting held")


def test_a_new_label_moves_the_referral_in_the_figures(client, carol, alice, labelled):
    whole_month = {"period": "custom", "start": "2026-11-01", "end": "2026-11-30"}
    assess(labelled["r3"], alice, C)  # revised: qualified -> cold
    for params in ({}, whole_month):
        figures = by_label(get(client, carol, **params).context)
        assert figures[Q][0] == 1 and figures[C][0] == 2, params


def test_referrals_nobody_assessed_are_not_assessed(client, carol, data):
    figures = by_label(get(client, carol).context)
    assert figures[NA] == (4, 1, 1, 2, 0.5, 1000)
    assert figures[Q] == figures[L] == figures[C] == (0, 0, 0, 0, None, 0)


def test_a_manager_sees_only_their_teams_labels(client, erin, labelled):
    figures = by_label(get(client, erin).context)
    assert figures[Q] == (1, 0, 0, 0, None, 0)  # dave's R5, not North's two
    assert sum(row[0] for row in figures.values()) == 1
    best = get(client, erin).context["sources"]["best"]
    assert [(p.sent, p.qualified, p.assessed) for p in best] == [(1, 1, 1)]


def test_an_admin_sees_every_team_or_one(client, admin, south, labelled, settings):
    settings.DASHBOARD_SNAPSHOT_SECONDS = 0
    assert by_label(get(client, admin).context)[Q][0] == 3
    assert by_label(get(client, admin, team=south.pk).context)[Q][0] == 1


def test_the_page_shows_the_labels_and_explains_the_figures(client, carol, labelled):
    html = get(client, carol).content.decode()
    section = html[html.index('id="labels-h"') : html.index('id="trend-h"')]
    assert '<th scope="row"><span class="lb lb-qualified">Qualified</span></th>' in (
        section
    )
    assert '100% <span class="small text-muted">of 1 closed</span>' in section
    assert '– <span class="small text-muted">of 0 closed</span>' in section
    assert "reached Meeting held or a later stage" in section


def test_without_a_meeting_stage_the_first_meeting_is_not_counted(
    client, carol, labelled
):
    meeting = stage("Meeting held")
    meeting.milestone = ""
    meeting.save()
    response = get(client, carol)
    assert {row["meeting"] for row in response.context["labels"]["rows"]} == {None}
    assert "no stage marks the first meeting held" in response.content.decode()


# -- The sources by qualified share --------------------------------------------


def test_the_best_sources_show_their_qualified_share(client, carol, labelled):
    best = get(client, carol).context["sources"]["best"]
    shares = {p.name: (p.qualified, p.assessed, p.qualified_share) for p in best}
    assert shares == {
        "Sam Source": (1, 2, 0.5),  # R1 qualified, R2 lukewarm
        "Tia Source": (1, 1, 1.0),
        "Uma Source": (0, 1, 0.0),
    }


@pytest.fixture
def many_assessed(alice, data):
    """Sources with several referrals assessed this month (received Nov 2-8)."""

    def source(name, labels):
        partner = PartnerFactory(owner=alice, name=name, kind="customer")
        for n, label in enumerate(labels):
            referral = log(
                alice, partner, f"2026-11-{2 + n:02d}T09:00:00", 100, f"{name} {n}"
            )
            if label != NA:
                assess(referral, alice, label)
        return partner

    return {
        "vera": source("Vera", [Q, Q, C]),  # 2 of 3
        "walt": source("Walt", [Q, Q, Q, Q]),  # 4 of 4
        "yuri": source("Yuri", [Q, Q, Q, NA, NA]),  # 3 of 3, 5 sent
        "xena": source("Xena", [Q]),  # 1 of 1: too few assessed to rank
        "zoe": source("Zoe", [Q, Q, NA, NA, NA, NA]),  # 2 assessed: too few
    }


def test_sources_by_qualified_share_need_three_assessed(client, carol, many_assessed):
    by_share = get(client, carol).context["sources"]["by_share"]
    assert [(p.name, p.qualified, p.assessed, p.sent) for p in by_share] == [
        ("Walt", 4, 4, 4),  # 100%, more qualified first
        ("Yuri", 3, 3, 5),
        ("Vera", 2, 3, 3),  # 67%
    ]
    # By volume, Zoe and Yuri lead (6 and 5 sent): the two lists differ.
    best = get(client, carol).context["sources"]["best"]
    assert [p.name for p in best[:2]] == ["Zoe", "Yuri"]


def test_the_qualified_share_is_the_source_pages_own(client, carol, many_assessed):
    """The dashboard's SQL restates partners.selectors.with_referral_stats'
    rule (the qualified of the assessed): over every day, the two agree."""
    ever = {"period": "custom", "start": "1900-01-01", "end": "2199-12-31"}
    best = get(client, carol, **ever).context["sources"]["best"]
    stats = {
        p.pk: (p.qualified_count, p.assessed_count, p.qualified_share)
        for p in with_referral_stats(
            Partner.objects.filter(pk__in=[p.pk for p in best])
        )
    }
    assert len(best) == 8
    for partner in best:
        qualified, assessed, share = stats[partner.pk]
        assert (partner.qualified, partner.assessed) == (qualified, assessed)
        if share is None:  # nothing assessed (Sam, Tia and Uma here)
            assert partner.qualified_share is None
        else:
            assert partner.qualified_share == pytest.approx(share)


def test_a_lucky_source_with_few_assessed_is_left_out_and_the_page_says_why(
    client, carol, labelled
):
    response = get(client, carol)
    assert response.context["sources"]["by_share"] == []  # 2 assessed at most
    html = response.content.decode()
    assert "sources with at least 3 referrals assessed in the period" in html
    assert "No source has enough referrals assessed in this period." in html


# -- Drill-down links ----------------------------------------------------------


@pytest.mark.parametrize(
    ("who", "params"),
    [
        ("carol", {}),
        ("carol", {"period": "custom", "start": "2026-11-01", "end": "2026-11-30"}),
        ("carol", {"source_kind": "customer"}),
        ("erin", {}),
        ("admin", {}),
    ],
)
def test_every_number_by_label_opens_the_referrals_it_counts(
    client, request, labelled, many_assessed, settings, who, params
):
    settings.DASHBOARD_SNAPSHOT_SECONDS = 0
    user = request.getfixturevalue(who)
    html = get(client, user, **params).content.decode()
    numbers = [(url, n) for url, n in linked_numbers(html) if "label=" in url]
    urls = " ".join(url for url, _ in numbers)
    for part in ("label=qualified", "label=cold", "reached=", "stage_kind=won"):
        assert part in urls
    assert any(n for _, n in numbers)
    client.force_login(user)
    with time_machine.travel(NOW, tick=False):
        for url, number in numbers:
            listed = client.get(url)
            assert listed.context["page"].paginator.count == number, url
            for row in listed.context["page"]:
                if "label=qualified" in url:
                    assert row["label"] == Q


def test_the_value_won_by_label_opens_the_referrals_it_adds_up(client, carol, labelled):
    html = get(client, carol).content.decode()
    ((url, shown),) = [
        (url, shown)
        for kind, url, shown in linked_amounts(html)
        if "label=qualified" in url
    ]
    assert shown == "1,000"
    assert "stage_kind=won" in url and "received_from=2026-08-23" in url
    client.force_login(carol)
    with time_machine.travel(NOW, tick=False):
        listed = client.get(url)
    assert [r["prospect_name"] for r in listed.context["page"]] == ["R1"]


# -- CSV -----------------------------------------------------------------------


def test_the_labels_table_exports_to_csv(client, carol, labelled):
    rows = csv_rows(get(client, carol, export="labels"))
    assert rows == [
        [
            "Label",
            "Received",
            "First meeting",
            "Won",
            "Closed",
            "Win rate",
            "Won value",
        ],
        ["Qualified", "2", "1", "1", "1", "100%", "1000.00"],
        ["Lukewarm", "1", "0", "0", "1", "0%", "0"],
        ["Cold", "1", "0", "0", "0", "–", "0"],
        ["Not assessed", "0", "0", "0", "0", "–", "0"],
    ]


def test_the_sources_csvs_carry_the_qualified_share(
    client, carol, many_assessed, django_assert_num_queries
):
    best = csv_rows(get(client, carol, export="sources"))
    header = best[0]
    assert header[3:7] == ["Sent", "Qualified", "Assessed", "Qualified share"]
    walt = next(row for row in best if row[0] == "Walt")
    assert walt[3:7] == ["4", "4", "4", "100%"]
    by_share = csv_rows(get(client, carol, export="qualified-sources"))
    assert by_share[0] == [
        "Source",
        "Company",
        "Kind",
        "Qualified share",
        "Qualified",
        "Assessed",
        "Sent",
        "Won",
    ]
    assert [(row[0], row[3]) for row in by_share[1:]] == [
        ("Walt", "100%"),
        ("Yuri", "100%"),
        ("Vera", "67%"),
    ]
    client.force_login(carol)
    # As many queries as for none (test_dashboard.CSV_QUERIES): every field
    # a row shows is read with it.
    with time_machine.travel(NOW, tick=False), django_assert_num_queries(5):
        response = client.get("/dashboard/", {"export": "qualified-sources"})
        assert len(csv_rows(response)) == 1 + 3
    assert response["Content-Disposition"] == (
        'attachment; filename="dashboard-qualified-sources-2026-08-23-to-2026-11-20.csv"'
    )


# -- Queries and snapshots -------------------------------------------------------


def test_labelled_data_keeps_the_team_dashboards_queries(
    client, carol, labelled, many_assessed, django_assert_num_queries
):
    # The same as without labels (test_dashboard.TEAM_DASHBOARD_QUERIES):
    # the figures by label come from the period's grouped read, the sources
    # by qualified share from the sources' one statement.
    client.force_login(carol)
    with (
        time_machine.travel(NOW, tick=False),
        django_assert_num_queries(TEAM_DASHBOARD_QUERIES),
    ):
        response = client.get("/dashboard/", {"period": "last_90"})
    assert by_label(response.context)[Q][0] == 2 + 12  # R1, R3 and the 12 above


def test_every_teams_snapshot_has_the_figures_by_label(client, admin, alice, labelled):
    def qualified_received(response) -> str:
        html = response.content.decode()
        section = html[html.index('id="labels-h"') :]
        row = section[section.index("lb-qualified") :]
        return row.split("</a>", 1)[0].rsplit(">", 1)[1]

    client.force_login(admin)
    with time_machine.travel(NOW, tick=False):
        first = client.get("/dashboard/", {"period": "this_month"})
    assert qualified_received(first) == "3"
    assess(labelled["R4"], alice, Q)  # cold -> qualified
    with time_machine.travel(NOW + timedelta(minutes=1), tick=False):
        kept = client.get("/dashboard/", {"period": "this_month"})
        assert qualified_received(kept) == "3"  # the snapshot, as of 12:00
        client.post("/dashboard/refresh/", {"view": "period=this_month"})
        counted = client.get("/dashboard/", {"period": "this_month"})
    assert "figures as of 12:01" in counted.content.decode()
    assert qualified_received(counted) == "4"


def test_a_move_keeps_the_label_in_the_figures(client, carol, alice, labelled):
    move(labelled["r3"], alice, "2026-11-18T09:00:00", "Meeting held")
    whole_month = {"period": "custom", "start": "2026-11-01", "end": "2026-11-30"}
    for params in ({}, whole_month):
        assert by_label(get(client, carol, **params).context)[Q][:2] == (2, 2)

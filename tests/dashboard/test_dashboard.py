"""The dashboard's numbers, checked one by one on a small known data set."""

import re
from datetime import timedelta
from decimal import Decimal
from html import unescape

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from core.templatetags.numbers import amount
from referrals.models import Referral, Stage
from referrals.services import referral_log
from tests.dashboard.helpers import (
    NOW,
    at,
    get,
    linked_amounts,
    linked_numbers,
    log,
    move,
)
from tests.factories import PartnerFactory, UserFactory, stage
from tests.helpers import csv_rows


def test_pipeline_now(client, carol, data):
    response = get(client, carol)
    rows = {r["stage"].name: r for r in response.context["pipeline"]["rows"]}
    assert (
        rows["Received"]["count"],
        rows["Received"]["total"],
        rows["Received"]["weighted"],
    ) == (1, 2000, 200)
    assert (rows["Contacted"]["count"], rows["Contacted"]["weighted"]) == (1, 100)
    assert (rows["Won"]["count"], rows["Won"]["total"]) == (1, 1000)
    assert (rows["Lost"]["count"], rows["Lost"]["total"]) == (1, 300)
    assert response.context["pipeline"]["forecast"] == 300  # open stages only


def test_funnel_and_lost_reasons(client, carol, data):
    funnel = get(client, carol).context["funnel"]
    steps = [(r["stage"].name, r["count"]) for r in funnel["rows"]]
    assert steps == [
        ("Received", 4),
        ("Contacted", 3),
        ("Meeting held", 1),
        ("Proposal sent", 1),
        ("Won", 1),
    ]
    conversions = [r["conversion"] for r in funnel["rows"]]
    assert conversions == [None, 0.75, 1 / 3, 1.0, 1.0]
    lost = [(r["lost_reason"], r["count"]) for r in funnel["lost_reasons"]]
    assert lost == [("Budget", 1)]


def test_sources(client, carol, data):
    sources = get(client, carol).context["sources"]
    best = [
        (p.name, p.sent, p.won_count, p.won_value, p.conversion)
        for p in sources["best"]
    ]
    assert best == [
        ("Sam Source", 2, 1, 1000, 0.5),
        ("Tia Source", 1, 0, 0, 0.0),
        ("Uma Source", 1, 0, 0, 0.0),
    ]
    sam = sources["best"][0]
    assert sam.median_days_to_close == pytest.approx(
        9.0
    )  # logged Nov 1 09:00, won Nov 10 09:00
    assert sam.last_thanked_at == at(
        "2026-11-10T09:05:00"
    )  # the won thanks, 10 min early
    assert [p.name for p in sources["neglected"]] == ["Tia Source", "Uma Source"]


def test_reps(client, carol, alice, bob, data):
    reps = {r["rep"]: r for r in get(client, carol).context["reps"]}
    assert set(reps) == {alice, bob}  # carol's team only; carol has no referrals
    a, b = reps[alice], reps[bob]
    assert (a["received"], a["won"], a["conversion"]) == (3, 1, 1 / 3)
    assert a["hours_to_contact"] == pytest.approx(2.0)  # median of 3 h and 1 h
    assert (a["open_count"], a["open_value"], a["won_value"]) == (1, 2000, 1000)
    assert (a["thanks_total"], a["thanks_share"]) == (5, 0.6)
    assert (b["received"], b["won"], b["hours_to_contact"]) == (
        1,
        0,
        pytest.approx(5.0),
    )
    assert (b["thanks_total"], b["thanks_share"]) == (1, 0.0)


def test_thank_you_compliance(client, carol, data):
    compliance = get(client, carol).context["compliance"]
    moments = {
        m["moment"]: (m["total"], m["on_time"], m["skipped"])
        for m in compliance["moments"]
    }
    assert moments == {"received": (4, 2, 1), "meeting": (1, 0, 0), "won": (1, 1, 0)}
    assert (compliance["total"], compliance["on_time"], compliance["share"]) == (
        6,
        3,
        0.5,
    )
    assert [t.referral.prospect_name for t in compliance["overdue_first"]] == ["R3"]
    assert compliance["overdue_count"] == 1


def test_the_overdue_count_is_every_one_and_the_page_lists_the_ten_oldest(
    client, carol, alice
):
    source = PartnerFactory(owner=alice, email_consent="out")  # thanked by a call
    for day in range(1, 13):
        log(alice, source, f"2026-11-{day:02d}T09:00:00", 0, f"Late {day}")
    page = get(client, carol)
    assert page.context["compliance"]["overdue_count"] == 12
    html = page.content.decode()
    html = html[html.index('id="thanks-h"') : html.index('id="stale-h"')]
    assert "Overdue now (12)" in html
    assert "Late 1</a>" in html and "Late 10</a>" in html
    assert "Late 11</a>" not in html  # the ten most overdue on the page
    exported = client.get("/dashboard/", {"export": "overdue"})
    rows = csv_rows(exported)
    assert len(rows) == 1 + 12  # the CSV has every one


def test_stale_and_trend(client, carol, data):
    context = get(client, carol).context
    assert context["stale"]["count"] == 1
    assert [r.prospect_name for r in context["stale"]["oldest"]] == ["R3"]
    buckets = context["trend"]["buckets"]
    assert context["trend"]["unit"] == "week"
    received = {b["start"]: b["received"] for b in buckets if b["received"]}
    # Monday weeks: R1 on Sunday Nov 1, R2 on Thursday Nov 5, R3 and R4
    # on Tuesday Nov 10 and Sunday Nov 15.
    assert received == {
        at("2026-10-26T00:00:00").date(): 1,
        at("2026-11-02T00:00:00").date(): 1,
        at("2026-11-09T00:00:00").date(): 2,
    }
    assert sum(b["won_value"] for b in buckets) == 1000
    won_week = next(b for b in buckets if b["won_value"])
    assert won_week["start"] == at("2026-11-09T00:00:00").date()  # the Monday of Nov 10


def test_filters_rep_and_source_kind(client, carol, alice, data):
    context = get(client, carol, rep=alice.pk, source_kind="partner").context
    assert context["funnel"]["rows"][0]["count"] == 1  # R3, from Tia (a partner)
    assert [p.name for p in context["sources"]["best"]] == ["Tia Source"]


def test_an_admin_sees_all_or_one_team(client, admin, south, data):
    received = get(client, admin).context["funnel"]["rows"][0]["count"]
    assert received == 5
    only_south = get(client, admin, team=south.pk).context
    assert only_south["funnel"]["rows"][0]["count"] == 1


def test_a_manager_never_sees_another_team(client, erin, data):
    context = get(client, erin).context
    assert context["funnel"]["rows"][0]["count"] == 1  # dave's R5 only
    assert "team" not in context["form"].fields  # no team picker for managers


def test_periods(client, carol, data):
    this_month = get(client, carol, period="this_month").context
    assert (str(this_month["filters"].start), str(this_month["filters"].end)) == (
        "2026-11-01",
        "2026-11-20",
    )
    custom = get(
        client, carol, period="custom", start="2026-11-05", end="2026-11-12"
    ).context
    assert custom["funnel"]["rows"][0]["count"] == 2  # R2, R3
    bad = get(client, carol, period="custom", start="2026-11-12", end="2026-11-05")
    assert "The start date must be before the end date." in bad.content.decode()


def test_every_table_exports_to_csv(client, carol, data):
    response = get(client, carol, export="sources")
    assert (
        response["Content-Disposition"]
        == 'attachment; filename="dashboard-sources-2026-08-23-to-2026-11-20.csv"'
    )
    rows = csv_rows(response)
    assert rows[0][:4] == ["Source", "Company", "Kind", "Sent"]
    assert rows[1][0] == "Sam Source" and rows[1][3] == "2"
    for table in (
        "pipeline",
        "funnel",
        "labels",
        "qualified-sources",
        "neglected",
        "reps",
        "compliance",
        "overdue",
        "stale",
        "trend",
    ):
        assert get(client, carol, export=table).status_code == 200, table


def test_numbers_drill_down_to_the_list(client, carol, data):
    page = get(client, carol).content.decode()
    reached = stage("Meeting held").pk
    assert f"reached={reached}" in page
    client.force_login(carol)
    with time_machine.travel(NOW, tick=False):
        listed = client.get(
            "/referrals/",
            {
                "received_from": "2026-08-23",
                "received_to": "2026-11-20",
                "reached": reached,
            },
        )
    assert [r["prospect_name"] for r in listed.context["page"]] == ["R1"]


def test_charts_are_svg_with_their_numbers_in_text(client, carol, data):
    page = get(client, carol).content.decode()
    assert '<svg class="chart"' in page
    # The trend's two charts are told apart on the page, not only to readers.
    assert ">Referrals received per week</h3>" in page
    assert ">Value won per week (USD)</h3>" in page
    assert "Funnel: referrals received in the period" in page
    assert (
        "Received: 4; Contacted: 3; Meeting held: 1" in page
    )  # the chart's description


# A manager's team dashboard, whatever the period and however many rows:
# session; user with role; the owners in view; the stages; one statement of
# every section's grouped reads (pipeline per owner and stage, the period's
# referrals per owner/stage/furthest/lost reason/label, value won per owner, thanks
# due per owner and moment, median speed to contact, and the trend per day
# or per month); the sources (best, by qualified share, never thanked,
# medians to close); the
# overdue thank-yous' first rows with their count; the stale referrals;
# the asks of the period and the referrals that followed (asks_summary);
# the one-sided partnerships (referrals received and given per partner);
# the rep choices (the filter form).
TEAM_DASHBOARD_QUERIES = 11


@pytest.mark.parametrize("extra", [0, 40])  # 40: overdue rows fill the page
@pytest.mark.parametrize("period", ["last_90", "this_year"])
def test_a_team_dashboard_runs_a_fixed_number_of_queries(
    client, carol, alice, data, django_assert_num_queries, extra, period
):
    source = PartnerFactory(owner=alice)
    for i in range(extra):
        log(alice, source, f"2026-11-{1 + i % 15:02d}T09:00:00", 100, f"Extra {i}")
    client.force_login(carol)
    with (
        time_machine.travel(NOW, tick=False),
        django_assert_num_queries(TEAM_DASHBOARD_QUERIES),
    ):
        response = client.get("/dashboard/", {"period": period})
    assert response.status_code == 200


def test_every_teams_dashboard_counted_live_runs_a_fixed_number_of_queries(
    client, admin, data, settings, django_assert_num_queries
):
    settings.DASHBOARD_SNAPSHOT_SECONDS = 0  # counted on each visit
    client.force_login(admin)
    # session; user with role; the stages; the sections' grouped reads (one
    # statement); the sources; the overdue thank-yous with their count; the
    # stale referrals; the asks; the one-sided partnerships; every user, for
    # the reps' table (an admin's owners are not read: everyone's); the team
    # and the rep choices (the form).
    with time_machine.travel(NOW, tick=False), django_assert_num_queries(12):
        response = client.get("/dashboard/", {"period": "this_year"})
    assert response.status_code == 200


def test_csv_links_keep_the_view(client, carol, data):
    page = get(client, carol, period="this_month").content.decode()
    assert 'href="?period=this_month&amp;export=sources"' in page


# Session, user with role, then what each table's section reads (the page
# runs 11; every CSV is counted live).
CSV_QUERIES = {
    # the owners in view; the pipeline summary; the stages
    "pipeline": 5,
    # the stages; the owners; the period's referrals per owner/stage/furthest
    "funnel": 5,
    # the stages; the owners; the period's referrals per owner/stage/furthest/
    # lost reason/label
    "labels": 5,
    # the stages; the owners; the sources' one statement (the three lists,
    # medians)
    "sources": 5,
    "qualified-sources": 5,
    "neglected": 5,
    # the owners; the stages; the reps' grouped reads in one statement
    "reps": 5,
    # the owners; thanks due per owner and moment; the first overdue rows
    # with their count
    "compliance": 5,
    # the owners; every overdue thank-you
    "overdue": 4,
    # the owners; the stages; the stale referrals with their count
    "stale": 5,
    # the stages; the owners; the trend per day
    "trend": 5,
    # the owners; the partners' referrals received and given, both lists
    "one-sided": 4,
}


@pytest.mark.parametrize(("table", "queries"), CSV_QUERIES.items())
def test_a_tables_csv_counts_that_table_alone(
    client, carol, data, django_assert_num_queries, table, queries
):
    client.force_login(carol)
    with time_machine.travel(NOW, tick=False), django_assert_num_queries(queries):
        response = client.get("/dashboard/", {"export": table})
        csv_rows(response)  # read to the end
    assert response.status_code == 200


def csv_queries(client, carol, table) -> int:
    with time_machine.travel(NOW, tick=False), CaptureQueriesContext(connection) as run:
        csv_rows(client.get("/dashboard/", {"export": table}))  # read to the end
    return len(run.captured_queries)


@pytest.mark.parametrize("table", ["overdue", "stale", "sources", "neglected"])
def test_a_csv_runs_as_many_queries_for_many_rows_as_for_few(
    client, carol, north, table
):
    """Every field a row shows is read with it: no query per row, even for a
    rep without a display name (shown by email)."""
    rep = UserFactory(team=north, display_name="")
    client.force_login(carol)

    def rows(count):
        for i in range(count):
            source = PartnerFactory(owner=rep, kind="partner", email_consent="out")
            log(rep, source, f"2026-10-{1 + i:02d}T09:00:00", 100, f"Quiet {i}")

    rows(2)
    few = csv_queries(client, carol, table)
    rows(3)
    many = csv_queries(client, carol, table)

    assert many == few
    lines = csv_rows(client.get("/dashboard/", {"export": table}))
    assert len(lines) > 5  # header and the five rows at least


def view_html(client, request, who: str, params: dict) -> str:
    """The dashboard as `who` sees it with `params`; "alice" in a rep or
    team parameter stands for her id or her team's."""
    values = {
        "rep": lambda: request.getfixturevalue("alice").pk,
        "team": lambda: request.getfixturevalue("alice").team_id,
    }
    params = {k: values[k]() if k in values else v for k, v in params.items()}
    return get(client, request.getfixturevalue(who), **params).content.decode()


@pytest.mark.parametrize(
    ("who", "params"),
    [
        ("carol", {}),
        ("carol", {"rep": "alice"}),
        ("carol", {"source_kind": "customer"}),
        ("admin", {}),
        ("admin", {"team": "north"}),
        ("admin", {"team": "north", "source_kind": "customer", "period": "this_month"}),
    ],
)
def test_every_linked_number_is_the_count_of_the_list_it_opens(
    client, request, data, settings, who, params
):
    settings.DASHBOARD_SNAPSHOT_SECONDS = 0  # the admin's figures counted now
    html = view_html(client, request, who, params)
    numbers = linked_numbers(html)
    urls = " ".join(url for url, _ in numbers)
    for kind in ("stage_kind=won", "stage_kind=open", "lost_reason=Budget", "reached="):
        assert kind in urls

    with time_machine.travel(NOW, tick=False):
        for url, number in numbers:
            listed = client.get(url)
            assert listed.context["page"].paginator.count == number, url


@pytest.mark.parametrize(
    ("who", "params"),
    [
        ("carol", {}),
        ("carol", {"rep": "alice"}),
        ("admin", {"team": "north", "period": "this_month"}),
        ("carol", {"period": "this_year"}),  # whole months from the summaries
        ("carol", {"source_kind": "customer", "period": "this_year"}),
    ],
)
def test_every_linked_amount_is_the_value_of_the_list_it_opens(
    client, request, data, settings, who, params
):
    """Totals and won values open the referrals they add up (a rep's won value
    and the won-value chart: those closed in the period or the bar's days);
    weighted values open the referrals whose value times their stage's
    probability they add up."""
    settings.DASHBOARD_SNAPSHOT_SECONDS = 0
    html = view_html(client, request, who, params)
    amounts = linked_amounts(html)
    urls = " ".join(url for _, url, _ in amounts)
    assert "closed_from=" in urls and "stage_kind=won" in urls
    assert {kind for kind, _, _ in amounts} == {"value", "weighted"}
    assert any(shown != "0" for _, _, shown in amounts)

    with time_machine.travel(NOW, tick=False):
        for kind, url, shown in amounts:
            rows = client.get(url).context["page"].paginator.object_list
            listed = Referral.objects.filter(pk__in=[row["pk"] for row in rows])
            total = sum(
                (r.estimated_value or 0)
                * (r.stage.probability if kind == "weighted" else 100)
                / 100
                for r in listed.select_related("stage")
            )
            assert amount(total) == shown, url


def test_a_won_value_lists_the_referrals_closed_in_the_period(client, carol, alice):
    """Received long ago, won this month: in the rep's won value for this
    month, and in the list it opens; won last month: in neither."""
    source = PartnerFactory(owner=alice)
    for name, won_at in (
        ("Old win", "2026-11-10T10:00:00"),
        ("Earlier", "2026-10-20T10:00:00"),
    ):
        referral = log(alice, source, "2026-01-05T09:00:00", 1000, name)
        move(referral, alice, won_at, "Won", final_value=Decimal(1000))
    html = get(client, carol, period="this_month").content.decode()
    ((url, shown),) = [
        (url, shown)
        for _, url, shown in linked_amounts(html)
        if f"owner={alice.pk}" in url and "closed_from" in url
    ]
    assert shown == "1,000"
    with time_machine.travel(NOW, tick=False):
        listed = client.get(url)
    assert [r["prospect_name"] for r in listed.context["page"]] == ["Old win"]
    assert "Closed Nov 1, 2026 – Nov 20, 2026" in listed.content.decode()


def test_referrals_in_an_archived_stage_stay_in_the_pipeline_and_its_forecast(
    client, carol, data
):
    """Contacted archived while R4 is in it: still listed (marked archived),
    still in the forecast, and the forecast's link opens referrals whose
    weighted values add up to it. An archived stage left empty is not listed."""
    Stage.objects.filter(name__in=["Contacted", "Proposal sent"]).update(
        is_archived=True
    )
    response = get(client, carol)
    rows = {r["stage"].name: r for r in response.context["pipeline"]["rows"]}
    assert rows["Contacted"]["count"] == 1
    assert "Proposal sent" not in rows
    assert response.context["pipeline"]["forecast"] == 300
    html = response.content.decode()
    assert "20% · archived" in html
    ((url, shown),) = [
        (url, shown)
        for kind, url, shown in linked_amounts(html)
        if kind == "weighted" and "stage_kind=open" in url
    ]
    with time_machine.travel(NOW, tick=False):
        listed = client.get(url).context["page"].paginator.object_list
    weighted = sum(
        r.estimated_value * r.stage.probability / 100
        for r in Referral.objects.filter(pk__in=[row["pk"] for row in listed])
    )
    assert shown == amount(weighted) == "300"


@pytest.mark.parametrize(
    "start, end, field",
    [("2026-01-01", "9999-12-31", "end"), ("0001-01-01", "2026-11-20", "start")],
)
def test_a_date_out_of_range_is_said_next_to_its_field(
    client, carol, data, start, end, field
):
    # Both were a server error (the month arithmetic overflowed).
    response = get(client, carol, period="custom", start=start, end=end)
    assert response.status_code == 200
    form = response.context["form"]
    assert form.errors == {field: ["Pick a date between 1900 and 2199."]}
    page = response.content.decode()
    assert f'id="id_{field}_error"' in page  # under the field, as the others
    assert f'value="{start}"' in page and f'value="{end}"' in page  # kept
    # The figures are the default period's, and the box says so
    assert response.context["filters"].period == "last_90"


@pytest.mark.parametrize("period", [None, "bogus"])
def test_the_period_box_shows_the_period_the_figures_are_for(
    client, carol, alice, data, period
):
    # A shared link with only a rep (no period), or a period not offered.
    params = {"rep": alice.pk} | ({"period": period} if period else {})
    response = get(client, carol, **params)
    assert response.context["filters"].period == "last_90"
    selected = re.findall(
        r'<select name="period"[^>]*>.*?</select>', response.content.decode(), re.S
    )[0]
    assert re.findall(r'<option value="([^"]*)" selected', selected) == ["last_90"]


def test_a_rep_who_left_keeps_a_row_and_can_be_picked(client, carol, alice, data):
    """Their referrals count in every total; the Reps table and the rep
    filter must show them too, or their open deals have no owner row."""
    before = get(client, carol).context
    alice.is_active = False
    alice.save()
    response = get(client, carol)
    context = response.context
    rows = {row["rep"].email: row for row in context["reps"]}
    was = {row["rep"].email: row for row in before["reps"]}[alice.email]
    assert rows[alice.email]["received"] == was["received"] > 0
    assert rows[alice.email]["open_count"] == was["open_count"]
    page = response.content.decode()
    assert "Alice Rep (inactive)</option>" in page
    assert '<span class="badge text-bg-secondary">inactive</span>' in page
    only_alice = get(client, carol, rep=alice.pk).context
    assert not only_alice["form"].errors
    assert only_alice["funnel"]["rows"][0]["count"] == was["received"]
    # Still the manager's own team only.
    assert set(rows) <= {alice.email, "bob@example.com", carol.email}


def test_the_stale_csv_lists_every_stale_referral(client, carol, alice, data):
    """The page lists the 25 oldest; its CSV has them all, as the overdue one."""
    source = PartnerFactory(owner=alice)
    with time_machine.travel(NOW - timedelta(days=60), tick=False):
        for n in range(27):
            referral_log(user=alice, source=source, prospect_name=f"Cold {n:02d}")
    page = get(client, carol).context["stale"]
    assert page["count"] >= 27 and len(page["oldest"]) == 25
    rows = csv_rows(get(client, carol, export="stale"))
    assert len(rows) - 1 == page["count"]  # the header, then every one
    assert sum(row[0].startswith("Cold ") for row in rows) == 27


def test_the_header_names_every_filter_and_the_reps_table_says_what_won_counts(
    client, carol, alice, data
):
    page = unescape(
        get(client, carol, rep=alice.pk, source_kind="partner").content.decode()
    )
    assert "Aug 23, 2026 – Nov 20, 2026 · Alice Rep · Referral partner sources" in page
    assert "Won value</strong>: deals won in the period, whenever" in page
    assert "Referral partner sources" not in unescape(
        get(client, carol).content.decode()
    )


def test_a_csv_file_name_says_which_view_it_is_of(client, admin, alice, north, data):
    response = get(
        client,
        admin,
        export="reps",
        period="custom",
        start="2026-10-01",
        end="2026-10-31",
        team=north.pk,
        rep=alice.pk,
        source_kind="partner",
    )
    assert response["Content-Disposition"] == (
        'attachment; filename="dashboard-reps-2026-10-01-to-2026-10-31'
        '-north-alice-rep-partner.csv"'
    )


def test_a_csv_file_name_keeps_a_team_named_in_another_script(
    client, admin, north, alice, data
):
    north.name = "Βόρεια"
    north.save()
    response = get(client, admin, export="reps", team=north.pk)
    assert response["Content-Disposition"] == (
        "attachment; filename*=utf-8''dashboard-reps-2026-08-23-to-2026-11-20-"
        "%CE%B2%CF%8C%CF%81%CE%B5%CE%B9%CE%B1.csv"
    )
    # A name with nothing to spell leaves no dangling hyphen; an email-only
    # rep is named by what comes before the @.
    north.name = "★★"
    north.save()
    alice.display_name = ""
    alice.save()
    response = get(client, admin, export="reps", team=north.pk, rep=alice.pk)
    assert response["Content-Disposition"] == (
        'attachment; filename="dashboard-reps-2026-08-23-to-2026-11-20-alice.csv"'
    )


def test_a_link_with_dates_and_no_period_means_those_dates(client, carol, data):
    response = get(client, carol, start="2026-11-05", end="2026-11-12")
    filters = response.context["filters"]
    assert (filters.period, str(filters.start), str(filters.end)) == (
        "custom",
        "2026-11-05",
        "2026-11-12",
    )
    assert response.context["funnel"]["rows"][0]["count"] == 2  # R2, R3
    # A preset named beside dates is still the preset (the help line says so).
    preset = get(client, carol, period="this_month", start="2026-11-05").context
    assert preset["filters"].period == "this_month"


def test_a_rep_not_on_the_team_picked_is_said_next_to_the_rep(
    client, admin, north, alice, dave, data
):
    both = get(client, admin, team=north.pk, rep=dave.pk)
    assert both.context["form"].errors == {"rep": ["Dave Rep is not on team North."]}
    page = both.content.decode()
    assert 'id="id_rep_error"' in page
    assert re.search(rf'<option value="{dave.pk}" selected>Dave Rep</option>', page)
    # The team's figures, not a page of zeros for nobody.
    north_only = get(client, admin, team=north.pk).context
    assert both.context["filters"].rep is None
    assert (
        both.context["funnel"]["rows"][0]["count"]
        == north_only["funnel"]["rows"][0]["count"]
        > 0
    )
    assert not get(client, admin, team=north.pk, rep=alice.pk).context["form"].errors
    dave.is_active = False
    dave.save()
    left = get(client, admin, team=north.pk, rep=dave.pk).context["form"].errors
    assert left == {"rep": ["Dave Rep (inactive) is not on team North."]}

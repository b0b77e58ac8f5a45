"""How the dashboard's figures are shown: charts with drill-down links, CSV tables."""

from functools import partial

from django.conf import settings
from django.http import QueryDict
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.safestring import SafeString

from core.charts import bar_chart, hbar_chart, svg
from core.templatetags.numbers import amount
from core.urls_for_rows import url_maker
from dashboard import queries
from dashboard.queries import DashboardFilters


def list_links(filters: DashboardFilters):
    """The referral list behind each number, as a function of the number's
    own filters: the dashboard's slice plus `extra`. The slice is the
    referrals received in the period, those closed in it ("closed"), or
    every referral of the view ("now": the pipeline, stale referrals, and
    a chart's bar, which gives its own dates). The list's path is reversed
    and each slice encoded once for the hundred links a view has: a link
    encodes only its own filters (urlencode was a tenth of the rendering)."""
    path = reverse("referral_list")
    encoded = {
        of: urlencode(filters.as_query(of)) for of in ("received", "closed", "now")
    }

    def link(of: str = "received", **extra) -> str:
        own = urlencode(
            {key: value for key, value in extra.items() if value is not None}
        )
        return f"{path}?{'&'.join(part for part in (encoded[of], own) if part)}"

    return link


def drill_down(data: dict, link) -> None:
    """Set on each row of the figures the links of its numbers (`link`:
    list_links()), and each partner's and referral's own page (no reverse()
    per row)."""
    partner_url, referral_url = (
        url_maker("partner_detail"),
        url_maker("referral_detail"),
    )
    data["links"] = {
        "received": link(),
        "open": link("now", stage_kind="open"),
        "stale": link("now", stale="on"),
    }
    for row in data["pipeline"]["rows"]:
        row["url"] = link("now", stage=row["stage"].pk)
    for row in data["funnel"]["lost_reasons"]:
        if row["lost_reason"]:
            row["url"] = link(stage_kind="lost", lost_reason=row["lost_reason"])
    for partner in (*data["sources"]["best"], *data["sources"]["neglected"]):
        partner.url = partner_url(partner.pk)
        partner.sent_url = link(source=partner.pk)
        partner.won_url = link(source=partner.pk, stage_kind="won")
    for row in data["reps"]:
        rep = row["rep"].pk
        row["open_url"] = link("now", owner=rep, stage_kind="open")
        row["received_url"] = link(owner=rep)
        row["won_url"] = link(owner=rep, stage_kind="won")
        row["won_value_url"] = link("closed", owner=rep, stage_kind="won")
    for referral in data["stale"]["oldest"]:
        referral.url = referral_url(referral.pk)
    for touchpoint in data["compliance"]["overdue_first"]:
        touchpoint.referral_url = referral_url(touchpoint.referral_id)


def _percent(value) -> str:
    return "–" if value is None else f"{value:.0%}"


def dashboard_charts(data: dict, list_url) -> dict:
    """The funnel and trend charts, each bar linked (`list_url`: list_links())."""
    funnel = [
        (row["stage"].name, row["count"], list_url(reached=row["stage"].pk))
        for row in data["funnel"]["rows"]
    ]
    unit = data["trend"]["unit"]
    buckets = data["trend"]["buckets"]
    # The year too when the bars cross into another year ("Nov ’25").
    years = {b["start"].year for b in buckets}
    label = {"year": "%Y", "month": "%b", "week": "%b %-d"}[unit]
    if unit != "year" and len(years) > 1:
        label += " ’%y"
    funnel_chart = hbar_chart(
        funnel, title="Funnel: referrals received in the period", fmt="{:,}".format
    )
    received = bar_chart(
        [
            (
                b["start"].strftime(label),
                b["received"],
                list_url("now", received_from=b["first"], received_to=b["last"]),
            )
            for b in buckets
        ],
        title=f"Referrals received per {unit}",
    )
    won = bar_chart(
        [
            (
                b["start"].strftime(label),
                b["won_value"],
                list_url(
                    "now",
                    stage_kind="won",
                    closed_from=b["first"],
                    closed_to=b["last"],
                ),
            )
            for b in buckets
        ],
        title=f"Value won per {unit}",
        fmt=amount,  # as the tables write values
    )
    return {
        "funnel": svg(funnel_chart, "funnel-chart"),
        "received": svg(received, "received-chart"),
        "won": svg(won, "won-chart"),
    }


def figures_html(filters, view: str) -> SafeString:
    """Count the view's figures and render them: what a snapshot keeps, so
    nothing of the request (its user, its CSRF token) goes in."""
    data = queries.dashboard(filters)
    link = list_links(filters)
    drill_down(data, link)
    return render_to_string(
        "dashboard/_dashboard_figures.html",
        {
            "filters": filters,
            "view_query": QueryDict(view),
            "currency": settings.CURRENCY,
            "charts": dashboard_charts(data, link),
            **data,
        },
    )


def _pipeline(pipeline):
    header = ["Stage", "Referrals", "Total value", "Weighted value"]
    rows = [
        [r["stage"].name, r["count"], r["total"], f"{r['weighted']:.2f}"]
        for r in pipeline["rows"]
    ]
    return header, rows


def _funnel(funnel):
    header = ["Step", "Referrals", "Conversion from previous step"]
    return header, [
        [r["stage"].name, r["count"], _percent(r["conversion"])] for r in funnel["rows"]
    ]


def _sources(sources):
    header = [
        "Source",
        "Company",
        "Kind",
        "Sent",
        "Won",
        "Won value",
        "Conversion",
        "Median days to close",
        "Last thanked",
    ]
    rows = [
        [
            p.name,
            p.company,
            p.get_kind_display(),
            p.sent,
            p.won_count,
            p.won_value,
            _percent(p.conversion),
            "" if p.median_days_to_close is None else f"{p.median_days_to_close:.1f}",
            p.last_thanked_at.isoformat() if p.last_thanked_at else "never",
        ]
        for p in sources["best"]
    ]
    return header, rows


def _neglected(sources):
    return ["Source", "Company", "Referrals sent"], [
        [p.name, p.company, p.sent] for p in sources["neglected"]
    ]


def _reps(reps):
    header = [
        "Rep",
        "Received",
        "Won",
        "Conversion",
        "Median hours to first contact",
        "Open referrals",
        "Open value",
        "Won value",
        "Thank-yous on time",
    ]
    rows = [
        [
            r["rep"].get_full_name(),
            r["received"],
            r["won"],
            _percent(r["conversion"]),
            "" if r["hours_to_contact"] is None else f"{r['hours_to_contact']:.1f}",
            r["open_count"],
            r["open_value"],
            r["won_value"],
            _percent(r["thanks_share"]),
        ]
        for r in reps
    ]
    return header, rows


def _compliance(compliance):
    header = ["Moment", "Due", "On time", "Skipped", "Share on time"]
    rows = [
        [m["label"], m["total"], m["on_time"], m["skipped"], _percent(m["share"])]
        for m in compliance["moments"]
    ]
    return header, rows


def _overdue(overdue):
    header = ["Moment", "Source", "Prospect", "Rep", "Channel", "Deadline", "Status"]
    rows = [
        [
            t.get_moment_display(),
            t.source_name,
            t.prospect_name,
            t.owner_name,
            t.get_channel_display(),
            t.deadline_at.isoformat(),
            t.get_status_display(),
        ]
        for t in overdue.iterator()
    ]
    return header, rows


def _stale(stale):
    header = ["Prospect", "Company", "Stage", "Days in stage", "Owner", "Source"]
    rows = [
        [
            r.prospect_name,
            r.prospect_company,
            r.stage_name,
            r.days_in_stage(),
            r.owner_name,
            r.source_name,
        ]
        for r in stale["oldest"]
    ]
    return header, rows


def _trend(trend):
    header = [
        f"{trend['unit'].title()} starting",
        "Referrals received",
        "Value won",
    ]
    return header, [
        [b["start"].isoformat(), b["received"], b["won_value"]]
        for b in trend["buckets"]
    ]


# Each table's CSV: the dashboard section it is made from (counted alone),
# and its rows.
DASHBOARD_TABLES = {
    "pipeline": (queries.pipeline_now, _pipeline),
    "funnel": (queries.funnel, _funnel),
    "sources": (queries.sources, _sources),
    "neglected": (queries.sources, _neglected),
    "reps": (queries.reps, _reps),
    "compliance": (queries.thank_you_compliance, _compliance),
    "overdue": (queries.overdue_thanks, _overdue),
    # Every stale referral, not the 25 the page lists (as the overdue CSV).
    "stale": (partial(queries.stale_referrals, limit=None), _stale),
    "trend": (queries.trend, _trend),
}

"""How the dashboard's figures are shown: charts with drill-down links, CSV tables."""

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import partial
from operator import attrgetter, itemgetter
from typing import Any

from django.conf import settings
from django.http import QueryDict
from django.template.defaultfilters import date as date_filter
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.html import conditional_escape, format_html
from django.utils.http import urlencode
from django.utils.safestring import SafeString, mark_safe

from core.charts import bar_chart, hbar_chart, svg
from core.templatetags.numbers import amount, count, percent, tenths
from core.urls_for_rows import url_maker
from dashboard import queries
from dashboard.queries import DashboardFilters
from referrals.models import Label


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
    sources = data["sources"]
    for partner in (*sources["best"], *sources["by_share"], *sources["neglected"]):
        partner.url = partner_url(partner.pk)
        partner.sent_url = link(source=partner.pk)
        partner.won_url = link(source=partner.pk, stage_kind="won")
        partner.qualified_url = link(source=partner.pk, label=Label.QUALIFIED)
    meeting = data["labels"]["meeting_stage"]
    for row in data["labels"]["rows"]:
        label = row["label"]
        row["received_url"] = link(label=label)
        row["meeting_url"] = link(reached=meeting.pk, label=label) if meeting else None
        row["won_url"] = link(stage_kind="won", label=label)
    for row in data["reps"]:
        rep = row["rep"].pk
        row["open_url"] = link("now", owner=rep, stage_kind="open")
        row["received_url"] = link(owner=rep)
        row["won_url"] = link(owner=rep, stage_kind="won")
        row["won_value_url"] = link("closed", owner=rep, stage_kind="won")
    for partner in (*data["one_sided"]["they_send"], *data["one_sided"]["we_give"]):
        partner.url = partner_url(partner.pk)
        partner.received_url = link(source=partner.pk)
    for referral in data["stale"]["oldest"]:
        referral.url = referral_url(referral.pk)
    for thank_you in data["compliance"]["overdue_first"]:
        thank_you.referral_url = referral_url(thank_you.referral_id)


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
            "tables": {
                "pipeline": PIPELINE.page(data["pipeline"]),
                "labels": LABELS.page(data["labels"]),
                "sources": SOURCES.page(data["sources"]),
                "by_share": BY_SHARE.page(data["sources"]),
                "reps": REPS.page(data["reps"]),
                "compliance": COMPLIANCE.page(data["compliance"]),
            },
            **data,
        },
    )


# -- The tables: each defined once, for the page and for its CSV -------------


@dataclass(frozen=True)
class Column:
    """One column of a dashboard table: its header, its CSV value, and its
    cell on the page (`html`; None: in the CSV only, the page shows it in
    another column). `header` may depend on the section (the trend's unit)."""

    header: str | Callable[[dict], str]
    value: Callable[[Any], Any]
    html: Callable[[Any], str] | None = None
    numeric: bool = False  # right-aligned on the page
    row_header: bool = False  # the row's name: a <th scope="row">

    def title(self, section) -> str:
        return self.header(section) if callable(self.header) else self.header

    def cell(self, row) -> SafeString:
        # As format_html would, without its formatting (a few hundred cells
        # a page): the content escaped unless already safe.
        content = conditional_escape(self.html(row))
        if self.row_header:
            return mark_safe(f'<th scope="row">{content}</th>')
        css = ' class="text-end"' if self.numeric else ""
        return mark_safe(f"<td{css}>{content}</td>")


@dataclass(frozen=True)
class Table:
    """A dashboard table: the section it is made from (counted alone for its
    CSV), the section's rows, and its columns."""

    section: Callable[[DashboardFilters], Any]
    rows: Callable[[Any], Iterable]
    columns: tuple[Column, ...]

    def csv(self, section) -> tuple[list[str], Iterable[list]]:
        header = [column.title(section) for column in self.columns]
        return header, (
            [column.value(row) for column in self.columns] for row in self.rows(section)
        )

    def page(self, section) -> dict:
        """Its headers and rendered rows, for dashboard/_dashboard_table.html."""
        shown = [column for column in self.columns if column.html]
        return {
            "columns": [(c.title(section), c.numeric) for c in shown],
            "rows": [[c.cell(row) for c in shown] for row in self.rows(section)],
        }


def _link(url: str, text, css: str = "") -> SafeString:
    if css:
        return format_html('<a class="{}" href="{}">{}</a>', css, url, text)
    return format_html('<a href="{}">{}</a>', url, text)


def _linked(title: str, value: Callable, url: Callable, *, money=False) -> Column:
    """A figure that links to the list of the referrals it counts: `value`
    and `url` read them off a row (itemgetter for dicts, attrgetter for
    objects); `money`: an amount (styled as the value drill-downs)."""
    if money:
        return Column(
            title,
            value,
            lambda row: _link(url(row), amount(value(row)), "drill-value"),
            numeric=True,
        )
    return Column(
        title, value, lambda row: _link(url(row), count(value(row))), numeric=True
    )


def _share(value) -> str:
    """A share as the page writes it ("–" for none)."""
    return "–" if value is None else f"{percent(value)}%"


def _one_decimal(value) -> str:
    return "" if value is None else f"{value:.1f}"


def _stage_name(row) -> SafeString:
    stage = row["stage"]
    archived = " · archived" if stage.is_archived else ""
    return format_html(
        '{} <span class="small text-muted">{}%{}</span>',
        stage.name,
        stage.probability,
        archived,
    )


PIPELINE = Table(
    queries.pipeline_now,
    lambda pipeline: pipeline["rows"],
    (
        Column("Stage", lambda r: r["stage"].name, _stage_name, row_header=True),
        _linked("Referrals", itemgetter("count"), itemgetter("url")),
        _linked("Total value", itemgetter("total"), itemgetter("url"), money=True),
        Column(
            "Weighted value",
            lambda r: f"{r['weighted']:.2f}",
            lambda r: _link(r["url"], amount(r["weighted"]), "drill-weighted"),
            numeric=True,
        ),
    ),
)


def _last_thanked(p) -> SafeString:
    if p.last_thanked_at:
        return date_filter(timezone.localtime(p.last_thanked_at), "M j")
    return mark_safe('<span class="text-danger">never</span>')


def _source_name(p) -> SafeString:
    return format_html(
        '{} <span class="small text-muted">{}</span>', _link(p.url, p.name), p.company
    )


# The sources' columns both tables show.
SOURCE = Column("Source", lambda p: p.name, _source_name)
COMPANY = Column("Company", lambda p: p.company)
KIND = Column("Kind", lambda p: p.get_kind_display())
SENT = _linked("Sent", attrgetter("sent"), attrgetter("sent_url"))
QUALIFIED = _linked("Qualified", attrgetter("qualified"), attrgetter("qualified_url"))
ASSESSED_CSV = Column("Assessed", lambda p: p.assessed)  # on the page: "of N"
WON = _linked("Won", attrgetter("won_count"), attrgetter("won_url"))

SOURCES = Table(
    queries.sources,
    lambda sources: sources["best"],
    (
        SOURCE,
        COMPANY,
        KIND,
        SENT,
        QUALIFIED,
        ASSESSED_CSV,
        Column(
            "Qualified share",
            lambda p: _percent(p.qualified_share),
            lambda p: format_html(
                '{} <span class="small text-muted">of {}</span>',
                _share(p.qualified_share),
                count(p.assessed),
            ),
            numeric=True,
        ),
        WON,
        _linked(
            "Won value", attrgetter("won_value"), attrgetter("won_url"), money=True
        ),
        Column(
            "Conversion",
            lambda p: _percent(p.conversion),
            lambda p: _share(p.conversion),
            numeric=True,
        ),
        Column(
            "Median days to close",
            lambda p: _one_decimal(p.median_days_to_close),
            lambda p: tenths(p.median_days_to_close) or "–",
            numeric=True,
        ),
        Column(
            "Last thanked",
            lambda p: p.last_thanked_at.isoformat() if p.last_thanked_at else "never",
            _last_thanked,
        ),
    ),
)


# Sources by qualified share: those with enough referrals assessed
# (queries.QUALIFIED_SHARE_MIN_ASSESSED), the best share first.
BY_SHARE = Table(
    queries.sources,
    lambda sources: sources["by_share"],
    (
        SOURCE,
        COMPANY,
        KIND,
        Column(
            "Qualified share",
            lambda p: _percent(p.qualified_share),
            lambda p: _share(p.qualified_share),
            numeric=True,
        ),
        QUALIFIED,
        Column(
            "Assessed", lambda p: p.assessed, lambda p: count(p.assessed), numeric=True
        ),
        SENT,
        WON,
    ),
)


def _label_name(row) -> SafeString:
    return format_html('<span class="lb lb-{}">{}</span>', row["label"], row["name"])


def _meeting(row) -> SafeString:
    if row["meeting"] is None:  # no stage marks the first meeting
        return mark_safe("–")
    return _link(row["meeting_url"], count(row["meeting"]))


LABELS = Table(
    queries.labels,
    lambda labels: labels["rows"],
    (
        Column("Label", lambda r: r["name"], _label_name, row_header=True),
        _linked("Received", itemgetter("received"), itemgetter("received_url")),
        Column(
            "First meeting",
            lambda r: "" if r["meeting"] is None else r["meeting"],
            _meeting,
            numeric=True,
        ),
        _linked("Won", itemgetter("won"), itemgetter("won_url")),
        Column("Closed", lambda r: r["closed"]),  # on the page: "of N closed"
        Column(
            "Win rate",
            lambda r: _percent(r["win_rate"]),
            lambda r: format_html(
                '{} <span class="small text-muted">of {} closed</span>',
                _share(r["win_rate"]),
                count(r["closed"]),
            ),
            numeric=True,
        ),
        _linked(
            "Won value", itemgetter("won_value"), itemgetter("won_url"), money=True
        ),
    ),
)


def _rep_name(r) -> SafeString:
    if r["rep"].is_active:
        return format_html("{}", r["rep"])
    inactive = '<br><span class="badge text-bg-secondary">inactive</span>'
    return format_html("{}{}", r["rep"], mark_safe(inactive))


REPS = Table(
    queries.reps,
    lambda reps: reps,
    (
        Column("Rep", lambda r: r["rep"].get_full_name(), _rep_name, row_header=True),
        Column(
            "Median hours to first contact",
            lambda r: _one_decimal(r["hours_to_contact"]),
            lambda r: tenths(r["hours_to_contact"]) or "–",
            numeric=True,
        ),
        _linked("Open referrals", itemgetter("open_count"), itemgetter("open_url")),
        _linked(
            "Open value", itemgetter("open_value"), itemgetter("open_url"), money=True
        ),
        _linked("Received", itemgetter("received"), itemgetter("received_url")),
        _linked("Won", itemgetter("won"), itemgetter("won_url")),
        _linked(
            "Won value",
            itemgetter("won_value"),
            itemgetter("won_value_url"),
            money=True,
        ),
        Column(
            "Conversion",
            lambda r: _percent(r["conversion"]),
            lambda r: _share(r["conversion"]),
            numeric=True,
        ),
        Column(
            "Thank-yous on time",
            lambda r: _percent(r["thanks_share"]),
            lambda r: format_html(
                '{} <span class="small text-muted">of {}</span>',
                _share(r["thanks_share"]),
                count(r["thanks_total"]),
            ),
            numeric=True,
        ),
    ),
)

COMPLIANCE = Table(
    queries.thank_you_compliance,
    lambda compliance: compliance["moments"],
    (
        Column("Moment", lambda m: m["label"], lambda m: m["label"], row_header=True),
        Column("Due", lambda m: m["total"], lambda m: count(m["total"]), numeric=True),
        Column(
            "On time",
            lambda m: m["on_time"],
            lambda m: count(m["on_time"]),
            numeric=True,
        ),
        Column("Skipped", lambda m: m["skipped"]),
        Column(
            "Share on time",
            lambda m: _percent(m["share"]),
            lambda m: f"{percent(m['share'])}%",
            numeric=True,
        ),
    ),
)

# The tables the page lists otherwise (a chart, a list): their CSV only.
FUNNEL = Table(
    queries.funnel,
    lambda funnel: funnel["rows"],
    (
        Column("Step", lambda r: r["stage"].name),
        Column("Referrals", lambda r: r["count"]),
        Column("Conversion from previous step", lambda r: _percent(r["conversion"])),
    ),
)

NEGLECTED = Table(
    queries.sources,
    lambda sources: sources["neglected"],
    (
        Column("Source", lambda p: p.name),
        Column("Company", lambda p: p.company),
        Column("Referrals sent", lambda p: p.sent),
    ),
)

OVERDUE = Table(
    queries.overdue_thanks,
    lambda overdue: overdue.iterator(),
    (
        Column("Moment", lambda t: t.get_moment_display()),
        Column("Source", lambda t: t.source_name),
        Column("Prospect", lambda t: t.prospect_name),
        Column("Rep", lambda t: t.owner_name),
        Column("Channel", lambda t: t.get_channel_display()),
        Column("Deadline", lambda t: t.deadline_at.isoformat()),
        Column("Status", lambda t: t.get_status_display()),
    ),
)

ONE_SIDED = Table(
    # Every one-sided partnership of the view, both ways (the page lists 5 of
    # each).
    partial(queries.one_sided, limit=None),
    lambda one_sided: [*one_sided["they_send"], *one_sided["we_give"]],
    (
        Column("Partner", lambda p: p.name),
        Column("Company", lambda p: p.company),
        Column("Referrals received", lambda p: p.received),
        Column("Referrals given", lambda p: p.given),
        Column("Balance (received less given)", lambda p: p.balance),
    ),
)

STALE = Table(
    # Every stale referral, not the 25 the page lists (as the overdue CSV).
    partial(queries.stale_referrals, limit=None),
    lambda stale: stale["oldest"],
    (
        Column("Prospect", lambda r: r.prospect_name),
        Column("Company", lambda r: r.prospect_company),
        Column("Stage", lambda r: r.stage_name),
        Column("Days in stage", lambda r: r.days_in_stage()),
        Column("Owner", lambda r: r.owner_name),
        Column("Source", lambda r: r.source_name),
    ),
)

TREND = Table(
    queries.trend,
    lambda trend: trend["buckets"],
    (
        Column(
            lambda t: f"{t['unit'].title()} starting", lambda b: b["start"].isoformat()
        ),
        Column("Referrals received", lambda b: b["received"]),
        Column("Value won", lambda b: b["won_value"]),
    ),
)

# Each table by the name its CSV link asks for (?export=).
DASHBOARD_TABLES = {
    "pipeline": PIPELINE,
    "funnel": FUNNEL,
    "labels": LABELS,
    "sources": SOURCES,
    "qualified-sources": BY_SHARE,
    "neglected": NEGLECTED,
    "reps": REPS,
    "compliance": COMPLIANCE,
    "overdue": OVERDUE,
    "stale": STALE,
    "one-sided": ONE_SIDED,
    "trend": TREND,
}

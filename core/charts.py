"""Server-rendered SVG charts: geometry computed and drawn here.

Each chart has a title and a text description listing every value, so a
screen reader (and a screenshot) gets the numbers, not only the shapes.

Drawn with format_html, not a template: a template loop over every bar's
coordinates was a large share of rendering a team's dashboard
(bench/RESULTS.md).
"""

import math
from dataclasses import dataclass

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

# About the width of a character of the charts' 11px labels and values.
LABEL_CHAR_PX = 6.5


@dataclass
class Bar:
    label: str
    value: float
    text: str
    href: str = ""
    x: float = 0
    y: float = 0
    width: float = 0
    height: float = 0
    value_x: float = 0
    short: str = ""  # the value above a vertical bar, compact so labels never overlap


def compact(value: float, text: str, start: float = 1e4) -> str:
    """20,552,000 -> 20.6M, 553,000 -> 553k; values under `start` as they are.

    Rounded to three significant digits before the suffix is chosen, so
    999,600 reads 1M, not 1e+03k.
    """
    if not start <= abs(value) < 999.5e12:  # small, or beyond "999T"
        return text
    rounded = float(f"{value:.3g}")
    for divisor, suffix in ((1e12, "T"), (1e9, "B"), (1e6, "M"), (1e3, "k")):
        if abs(rounded) >= divisor:
            return f"{rounded / divisor:.3g}{suffix}"
    return text


def _round(bar: Bar) -> None:
    """Coordinates to a tenth of a pixel: short SVG, no formatting in the template."""
    for name in ("x", "y", "width", "height", "value_x"):
        setattr(bar, name, round(getattr(bar, name), 1))


def bar_chart(
    items, *, title: str, width: int = 640, height: int = 220, fmt=str
) -> dict:
    """Vertical bars. `items`: (label, value[, href]) tuples."""
    bars = [
        Bar(label, float(value or 0), fmt(value or 0), *rest)
        for label, value, *rest in items
    ]
    top = max((bar.value for bar in bars), default=0) or 1
    # One way of writing values per chart: "4k" next to "15.5k", not "4,000".
    start = 1e3 if top >= 1e4 else 1e4
    plot_top, plot_bottom, left = 20, height - 28, 8
    slot = (width - left * 2) / max(len(bars), 1)
    for index, bar in enumerate(bars):
        bar.height = (plot_bottom - plot_top) * bar.value / top
        bar.width = max(slot * 0.7, 2)
        bar.x = left + index * slot + (slot - bar.width) / 2
        bar.y = plot_bottom - bar.height
        bar.value_x = bar.x + bar.width / 2
        bar.short = compact(bar.value, bar.text, start)
        _round(bar)
    # Label every nth bar, and write every nth value over its bar, so that
    # neither collides with the next: a label takes about LABEL_CHAR_PX per
    # character, a value ("15.5k") five characters.
    longest = max((len(str(bar.label)) for bar in bars), default=1)
    room = (width - left * 2) / (longest * LABEL_CHAR_PX + 10)  # labels that fit
    step = max(1, math.ceil(len(bars) / room))
    value_step = max(1, math.ceil((5 * LABEL_CHAR_PX + 6) / slot))
    return {
        "kind": "bars",
        "title": title,
        "desc": "; ".join(f"{bar.label}: {bar.text}" for bar in bars),
        "bars": bars,
        "label_every": step,
        "value_every": value_step,
        "width": width,
        "height": height,
        "baseline": plot_bottom,
    }


def hbar_chart(items, *, title: str, width: int = 640, row: int = 34, fmt=str) -> dict:
    """Horizontal bars with their label and value, e.g. a funnel."""
    bars = [
        Bar(label, float(value or 0), fmt(value or 0), *rest)
        for label, value, *rest in items
    ]
    top = max((bar.value for bar in bars), default=0) or 1
    label_width, value_width = 150, 110
    for index, bar in enumerate(bars):
        bar.width = (width - label_width - value_width) * bar.value / top
        bar.x, bar.y, bar.height = label_width, index * row + 6, row - 12
        bar.value_x = bar.x + bar.width + 6
        _round(bar)
    return {
        "kind": "hbars",
        "title": title,
        "desc": "; ".join(f"{bar.label}: {bar.text}" for bar in bars),
        "bars": bars,
        "width": width,
        "height": max(len(bars), 1) * row + 6,
        "label_x": label_width - 8,
        "row": row,
    }


def svg(chart: dict, chart_id: str) -> SafeString:
    """The chart as inline SVG; `chart_id` names its title and description.

    A group, not an image: its bars are links to the referrals behind them,
    and an image's content is presentational, so a link inside one is lost
    to a screen reader (axe-core's nested-interactive). Each link is named
    by its bar's title ("Sep: 12"); the drawn labels and values are hidden
    from screen readers, which read every value in the description.
    """
    draw = _bars if chart["kind"] == "bars" else _hbars
    return format_html(
        '<svg class="chart" viewBox="0 0 {} {}" role="group" '
        'aria-labelledby="{}-title" aria-describedby="{}-desc" '
        'xmlns="http://www.w3.org/2000/svg">'
        '<title id="{}-title">{}</title><desc id="{}-desc">{}</desc>{}</svg>',
        chart["width"],
        chart["height"],
        chart_id,
        chart_id,
        chart_id,
        chart["title"],
        chart_id,
        chart["desc"],
        draw(chart),
    )


def _linked(bar: Bar, shape: SafeString) -> SafeString:
    return format_html('<a href="{}">{}</a>', bar.href, shape) if bar.href else shape


def _rect(bar: Bar, rounded: bool = False) -> SafeString:
    return format_html(
        '<rect x="{}" y="{}" width="{}" height="{}"{} class="chart-bar">'
        "<title>{}: {}</title></rect>",
        bar.x,
        bar.y,
        bar.width,
        bar.height,
        SafeString(' rx="3"') if rounded else "",
        bar.label,
        bar.text,
    )


def _bars(chart: dict) -> SafeString:
    parts = [
        format_html(
            '<line x1="0" x2="{}" y1="{}" y2="{}" class="chart-axis"/>',
            chart["width"],
            chart["baseline"],
            chart["baseline"],
        )
    ]
    for index, bar in enumerate(chart["bars"]):
        shape = _rect(bar)
        # The value above the bar, in its link (every value stays in the
        # bar's tooltip and the chart's description for screen readers).
        if bar.value and index % chart["value_every"] == 0:
            shape += format_html(
                '<text aria-hidden="true" x="{}" y="{}" dy="-4" class="chart-value" '
                'text-anchor="middle">{}</text>',
                bar.value_x,
                bar.y,
                bar.short,
            )
        parts.append(_linked(bar, shape))
        if index % chart["label_every"] == 0:
            parts.append(
                format_html(
                    '<text aria-hidden="true" x="{}" y="{}" class="chart-label">{}</text>',
                    bar.x,
                    chart["height"] - 10,
                    bar.label,
                )
            )
    return SafeString("".join(parts))


def _hbars(chart: dict) -> SafeString:
    return format_html_join(
        "",
        '<text aria-hidden="true" x="{}" y="{}" class="chart-label" '
        'text-anchor="end">{}</text>{}'
        '<text aria-hidden="true" x="{}" y="{}" class="chart-value">{}</text>',
        (
            (
                chart["label_x"],
                bar.y + 14,
                bar.label,
                _linked(bar, _rect(bar, rounded=True)),
                bar.value_x,
                bar.y + 14,
                bar.text,
            )
            for bar in chart["bars"]
        ),
    )

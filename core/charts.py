"""Server-rendered SVG charts: geometry computed here, drawn by a template.

Each chart has a title and a text description listing every value, so a
screen reader (and a screenshot) gets the numbers, not only the shapes.
"""

from dataclasses import dataclass


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


def compact(value: float, text: str) -> str:
    """20,552,000 -> 20.6M, 553,000 -> 553k; small values as they are.

    Rounded to three significant digits before the suffix is chosen, so
    999,600 reads 1M, not 1e+03k.
    """
    if not 1e4 <= abs(value) < 999.5e12:  # small, or beyond "999T"
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
    plot_top, plot_bottom, left = 20, height - 28, 8
    slot = (width - left * 2) / max(len(bars), 1)
    for index, bar in enumerate(bars):
        bar.height = (plot_bottom - plot_top) * bar.value / top
        bar.width = max(slot * 0.7, 2)
        bar.x = left + index * slot + (slot - bar.width) / 2
        bar.y = plot_bottom - bar.height
        bar.value_x = bar.x + bar.width / 2
        bar.short = compact(bar.value, bar.text)
        _round(bar)
    step = max(1, len(bars) // 8)  # label every nth bar so labels never collide
    return {
        "kind": "bars",
        "title": title,
        "desc": "; ".join(f"{bar.label}: {bar.text}" for bar in bars),
        "bars": bars,
        "label_every": step,
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

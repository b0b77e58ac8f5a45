"""`{{ n|count }}` and `{{ value|amount }}`: numbers with thousands separators,
written as `intcomma` and `floatformat:0|intcomma` write them in English
(LANGUAGE_CODE is en-us and the pages are not translated); `|tenths` and
`|percent` as `floatformat:1` and `{% widthratio share 1 100 %}` do.

Those two filters go through Django's localized number formatting on every
call; the dashboard shows some 250 numbers, and they were a fifth of its
rendering.
"""

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django import template
from django.contrib.humanize.templatetags.humanize import intcomma

register = template.Library()


@register.filter
def count(value):
    """A whole number: 1234567 -> "1,234,567" (anything else as intcomma)."""
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    return intcomma(value)


@register.filter
def amount(value):
    """A value to the whole unit, halves rounded up: 1234.5 -> "1,235"
    ("" for no value, as floatformat gives)."""
    if value is None or value == "":
        return ""
    try:
        number = value if isinstance(value, Decimal) else Decimal(str(value))
        whole = number.quantize(Decimal(1), ROUND_HALF_UP)
    except (InvalidOperation, ValueError):
        return ""
    return f"{abs(whole) if whole == 0 else whole:,}"


@register.filter
def tenths(value):
    """A value to one decimal, halves rounded up, as floatformat:1 writes it
    (no thousands separator): 2.25 -> "2.3", 12 -> "12.0"; "" for no value."""
    if value is None or value == "":
        return ""
    try:
        number = value if isinstance(value, Decimal) else Decimal(str(value))
        tenth = number.quantize(Decimal("0.1"), ROUND_HALF_UP)
    except (InvalidOperation, ValueError):
        return ""
    return f"{abs(tenth) if tenth == 0 else tenth:f}"


@register.filter
def percent(share):
    """A share as a whole percentage, as {% widthratio share 1 100 %} writes
    it (Python's round: 0.125 -> "12"); "" for no share."""
    if share is None or share == "":
        return ""
    try:
        return str(round(float(share) * 100))
    except (TypeError, ValueError, OverflowError):
        return ""

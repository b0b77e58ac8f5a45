from decimal import Decimal

import pytest
from django.contrib.humanize.templatetags.humanize import intcomma
from django.template import Context, Template
from django.template.defaultfilters import floatformat

from core.templatetags.numbers import amount, count, percent, tenths

WHOLE = [0, 7, 999, 1000, 999_999, 1_000_000, 1_234_567_890, -1234]
VALUES = [
    *WHOLE,
    Decimal("0.00"),
    Decimal("0.49"),
    Decimal("0.5"),
    Decimal("-0.4"),
    Decimal("-0.5"),
    Decimal("1234.50"),
    Decimal("1235.50"),
    Decimal("999999.99"),
    Decimal("20600000.00"),
    Decimal("1E+3"),
    12.5,
    2.675,
    -1234.5,
    "3.5",
]


@pytest.mark.parametrize("value", WHOLE)
def test_count_writes_a_whole_number_as_intcomma_does(value):
    assert count(value) == intcomma(value)


@pytest.mark.parametrize("value", VALUES)
def test_amount_writes_a_value_as_floatformat_0_then_intcomma_does(value):
    assert amount(value) == intcomma(floatformat(value, 0))


def test_amount_of_no_value_is_empty_as_floatformat_gives():
    assert amount(None) == floatformat(None, 0) == ""
    assert amount("") == ""
    assert amount("not a number") == ""


@pytest.mark.parametrize("value", [None, "–", Decimal("1234.5"), 1234.5, True])
def test_count_writes_anything_else_as_intcomma_does(value):
    assert count(value) == intcomma(value)


TENTHS = [0, 12, 0.0, 0.04, 0.05, 2.25, 2.35, 12.0, 99.95, 1234.56, -0.04, 7.0 / 3]


@pytest.mark.parametrize("value", [*TENTHS, Decimal("2.25"), Decimal("0.00"), "3.45"])
def test_tenths_writes_a_value_as_floatformat_1_does(value):
    assert tenths(value) == floatformat(value, 1)


def test_tenths_of_no_value_is_empty_as_floatformat_gives():
    assert tenths(None) == floatformat(None, 1) == ""
    assert tenths("not a number") == ""


SHARES = [0, 1, 0.125, 0.135, 0.5, 2 / 3, 0.005, 0.995, 1.5, Decimal("0.25")]


@pytest.mark.parametrize("share", SHARES)
def test_percent_writes_a_share_as_widthratio_does(share):
    widthratio = Template("{% widthratio share 1 100 %}").render(
        Context({"share": share})
    )
    assert percent(share) == widthratio


def test_percent_of_no_share_is_empty():
    assert percent(None) == percent("") == percent(float("inf")) == ""

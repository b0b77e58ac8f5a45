from decimal import Decimal

import pytest
from django.contrib.humanize.templatetags.humanize import intcomma
from django.template.defaultfilters import floatformat

from core.templatetags.numbers import amount, count

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

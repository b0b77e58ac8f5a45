import pytest
from django.template import Context, Template

from core.templatetags.durations import duration


@pytest.mark.parametrize(
    ("minutes", "shown"),
    [
        (0, "0 min"),
        (1, "1 min"),
        (30, "30 min"),
        (60, "1 h"),
        (90, "1 h 30 min"),
        (240, "4 h"),
        (1440, "1 day"),
        (1500, "1 day 1 h"),
        (1441, "1 day 1 min"),
        (2880, "2 days"),
        (10_080, "7 days"),
        (2_000_000, "1,388 days 21 h 20 min"),
    ],
)
def test_minutes_read_as_days_hours_and_minutes(minutes, shown):
    assert duration(minutes) == shown


@pytest.mark.parametrize("value", [None, "", "15", 1.5, -5, True])
def test_anything_but_a_whole_number_of_minutes_shows_nothing(value):
    assert duration(value) == ""


def test_the_filter_in_a_template():
    template = Template("{% load durations %}within {{ m|duration }}")
    assert template.render(Context({"m": 1440})) == "within 1 day"

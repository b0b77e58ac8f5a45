"""The manager's dashboard on the demo data, in a real browser."""

import re
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.core.management import call_command
from playwright.sync_api import expect

from tests.browser import log_in

SCREENSHOTS = Path(django_settings.VAR_DIR) / "screenshots"


@pytest.fixture
def demo_manager(live_server, page, settings):
    """`demo_manager(referrals=N)`: the demo data, its manager logged in."""

    def seed_and_log_in(referrals: int):
        settings.DEBUG = True  # seed_demo is for development
        call_command("seed_demo", partners=referrals // 5, referrals=referrals)
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        log_in(page, live_server.url, "manager@example.com", password="demo")

    return seed_and_log_in


@pytest.mark.browser
def test_a_manager_reads_the_dashboard_and_drills_down(page, demo_manager):
    page.set_viewport_size({"width": 1400, "height": 1000})
    demo_manager(referrals=200)
    page.get_by_role("link", name="Dashboard").click()

    expect(page.get_by_role("heading", name="Pipeline now")).to_be_visible()
    expect(
        page.get_by_role("group", name="Funnel: referrals received in the period")
    ).to_be_visible()
    expect(page.get_by_role("heading", name="Best sources")).to_be_visible()
    page.screenshot(path=SCREENSHOTS / "dashboard.png", full_page=True)

    # The period is part of the URL, so the view can be shared.
    page.get_by_label("Period", exact=True).select_option(label="This year")
    page.get_by_role("button", name="Show").click()
    expect(page).to_have_url(re.compile(r"period=this_year"))

    # A count leads to the referrals behind it.
    page.locator("section", has_text="Reps").get_by_role("link").nth(1).click()
    expect(page.get_by_role("heading", name="Referrals")).to_be_visible()

    # A rep's won count opens their won referrals, and the list says so.
    page.go_back()
    reps = page.locator("section", has_text="Hours to first contact")
    first_rep = reps.locator("tbody tr").first
    won = first_rep.locator("td").nth(4)  # hours, open, open value, received, won
    count = int(won.inner_text().replace(",", ""))
    won.get_by_role("link").click()
    expect(page.get_by_text("Won referrals")).to_be_visible()
    expect(page.locator("table tbody tr")).to_have_count(min(count, 50))
    page.screenshot(path=SCREENSHOTS / "dashboard-won-drill.png", full_page=True)

    # A rep's won value opens the referrals they won that closed in the period.
    page.go_back()
    won_value = first_rep.locator("td").nth(5)  # ... won, won value
    won_value.get_by_role("link").click()
    expect(page.get_by_text("Won referrals")).to_be_visible()
    expect(page.get_by_text(re.compile(r"Closed Jan 1, \d{4} – "))).to_be_visible()
    page.screenshot(path=SCREENSHOTS / "dashboard-won-value-drill.png", full_page=True)


@pytest.mark.browser
def test_a_date_picked_makes_the_period_custom(live_server, page, carol, alice):
    log_in(page, live_server.url, carol.email)
    page.goto(live_server.url + "/dashboard/?period=this_month")
    period = page.get_by_label("Period", exact=True)

    page.get_by_label("From", exact=True).fill("2026-01-05")
    expect(period).to_have_value("custom")
    page.get_by_label("To", exact=True).fill("2026-02-10")
    page.get_by_role("button", name="Show").click()
    expect(page).to_have_url(
        re.compile(r"period=custom&start=2026-01-05&end=2026-02-10")
    )
    expect(page.get_by_text("Jan 5, 2026 – Feb 10, 2026")).to_be_visible()

    # A preset picked clears the dates, which would not count any more.
    period.select_option("last_30")
    expect(page.get_by_label("From", exact=True)).to_have_value("")
    expect(page.get_by_label("To", exact=True)).to_have_value("")
    # Custom again (arrowing through the box passes every preset) brings
    # them back.
    period.select_option("this_year")
    period.select_option("custom")
    expect(page.get_by_label("From", exact=True)).to_have_value("2026-01-05")
    expect(page.get_by_label("To", exact=True)).to_have_value("2026-02-10")


@pytest.mark.browser
def test_charts_stay_readable_on_a_phone(live_server, page, demo_manager):
    page.set_viewport_size({"width": 390, "height": 844})
    demo_manager(referrals=80)
    page.goto(live_server.url + "/dashboard/?period=this_year")
    chart = page.get_by_role("group", name=re.compile("Referrals received per"))
    chart.scroll_into_view_if_needed()
    # Its 11px labels are drawn at 80% or more (a 640-wide chart squeezed
    # into a phone's 320 px drew them at 5 px); the chart scrolls sideways.
    assert chart.bounding_box()["width"] >= 0.8 * 640
    scroller = page.locator(".chart-scroll").filter(has=chart)
    assert scroller.evaluate("e => e.scrollWidth > e.clientWidth")
    page.screenshot(path=SCREENSHOTS / "dashboard-phone.png", full_page=True)

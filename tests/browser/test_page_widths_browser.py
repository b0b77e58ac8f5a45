"""Today's lists and the partner list show every column on a laptop and a
phone, with long names and large values in them."""

from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command

from tests.browser import log_in
from tests.factories import PartnerFactory, ReferralFactory

SCREENSHOTS = Path(settings.VAR_DIR) / "screenshots"

pytestmark = pytest.mark.browser


@pytest.fixture
def long_names(alice):
    source = PartnerFactory(
        owner=alice,
        name="Bartholomew Featherstonehaugh-Cholmondeley",
        company="Internationale Speditionsgesellschaft Rheinland-Pfalz",
    )
    for n in range(3):
        ReferralFactory(
            source=source,
            prospect_name=f"Alexandria Montgomery-Fitzwilliam {n}",
            prospect_company="Vereinigte Versicherungsmaklergesellschaft",
            estimated_value=12_500_000,
        )
    call_command("rollups_rebuild", verbosity=0)  # the partner list's figures


def tables_cut(page) -> list[int]:
    """How far each table runs past its box (0: it fits)."""
    return page.evaluate(
        """() => [...document.querySelectorAll(".table-responsive")]
          .map(box => box.scrollWidth - box.clientWidth)"""
    )


def visible_headers(page) -> list[str]:
    """The column headers a person sees, without scrolling the table."""
    return page.evaluate(
        """() => [...document.querySelectorAll("thead th")]
          .filter(th => {
            const box = th.getBoundingClientRect();
            const table = th.closest(".table-responsive").getBoundingClientRect();
            return box.width > 0 && box.right <= table.right + 1;
          })
          .map(th => th.innerText.trim())"""
    )


def test_todays_lists_fit_a_laptop(live_server, page, alice, long_names):
    page.set_viewport_size({"width": 1366, "height": 900})
    log_in(page, live_server.url, alice.email)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SCREENSHOTS / "today-long-names-1366.png", full_page=True)

    assert tables_cut(page) == [0]  # not yet contacted (nothing is stale yet)


def test_a_table_that_scrolls_on_a_phone_shows_it(live_server, page, alice, long_names):
    page.set_viewport_size({"width": 390, "height": 844})
    log_in(page, live_server.url, alice.email)
    page.screenshot(path=SCREENSHOTS / "today-long-names-390.png", full_page=True)

    assert all(cut > 0 for cut in tables_cut(page))  # a phone is too narrow
    # A shadow at the edge where more of the table waits: the background
    # scrolls with the content and uncovers it (CSS only, see app.css).
    box = page.locator(".table-responsive").first
    assert "local" in box.evaluate("e => getComputedStyle(e).backgroundAttachment")


def test_a_rep_sees_each_sources_figures_on_a_phone(
    live_server, page, alice, long_names
):
    page.set_viewport_size({"width": 390, "height": 844})
    log_in(page, live_server.url, alice.email)
    page.goto(live_server.url + "/partners/")
    page.screenshot(path=SCREENSHOTS / "partners-390.png", full_page=True)

    # Every one of them is hers: no Owner column.
    assert visible_headers(page) == ["Source", "Sent", "Won", "Value (USD)", "Qual."]
    assert tables_cut(page) == [0]


def test_a_manager_sees_whose_source_it_is(live_server, page, carol, long_names):
    page.set_viewport_size({"width": 1366, "height": 900})
    log_in(page, live_server.url, carol.email)
    page.goto(live_server.url + "/partners/")
    page.screenshot(path=SCREENSHOTS / "partners-manager-1366.png", full_page=True)

    assert visible_headers(page) == [
        "Source",
        "Kind",
        "Owner",
        "Referrals sent",
        "Won",
        "Won value (USD)",
        "Qualified",
        "Given",
        "Last referral",
    ]
    assert tables_cut(page) == [0]

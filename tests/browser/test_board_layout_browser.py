"""The board on a laptop and a phone: the page ends where the board ends, never
scrolls sideways, and every card holds its text and its Move menu."""

from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from playwright.sync_api import expect

from tests.browser import log_in
from tests.factories import ReferralFactory, stage

SCREENSHOTS = Path(settings.VAR_DIR) / "screenshots"
LONG_NAME = "Maximiliane Wolfeschlegelsteinhausenbergerdorff-Ostrowski"

pytestmark = pytest.mark.browser


@pytest.fixture
def full_board(alice_partner):
    """More cards than a column shows at once, in the first and the last open
    column, and a prospect whose name has no place to break."""
    for name in ("Received", "Proposal sent"):
        ReferralFactory.create_batch(20, source=alice_partner, stage=stage(name))
    ReferralFactory(
        source=alice_partner,
        stage=stage("Proposal sent"),
        prospect_name=LONG_NAME,
        prospect_company="Internationale Handelsgesellschaftsverwaltungs GmbH",
        estimated_value=1_250_000,
    )
    call_command("rollups_rebuild", verbosity=0)  # the columns' counts


def page_overflow(page) -> dict:
    """How far the page scrolls past the viewport, and past the end of <main>
    (to the pixel: <main> may end a fraction of one past the page)."""
    return page.evaluate(
        """() => {
          const root = document.documentElement;
          const main = document.querySelector("main").getBoundingClientRect();
          return {
            sideways: root.scrollWidth - window.innerWidth,
            below_main: Math.round(
              root.scrollHeight - (main.bottom + window.scrollY)
            ),
          };
        }"""
    )


def cards_overflowing(page) -> list[str]:
    """The ids of cards whose content is wider than the card."""
    return page.evaluate(
        """() => [...document.querySelectorAll(".board-card")]
          .filter(card => card.scrollWidth > card.clientWidth)
          .map(card => card.id)"""
    )


def test_the_page_ends_with_the_board_on_a_laptop(live_server, page, alice, full_board):
    page.set_viewport_size({"width": 1366, "height": 768})
    log_in(page, live_server.url, alice.email)
    page.goto(live_server.url + "/referrals/board/")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SCREENSHOTS / "board-1366.png", full_page=True)

    assert page_overflow(page) == {"sideways": 0, "below_main": 0}
    assert cards_overflowing(page) == []


def test_a_phone_scrolls_the_board_not_the_page(live_server, page, alice, full_board):
    page.set_viewport_size({"width": 390, "height": 844})
    log_in(page, live_server.url, alice.email)
    page.goto(live_server.url + "/referrals/board/")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SCREENSHOTS / "board-390.png", full_page=True)

    assert page_overflow(page) == {"sideways": 0, "below_main": 0}
    assert cards_overflowing(page) == []
    # The move form opens in the card and fits it: its stage menu's text
    # is not cut ("Move tc" once), and the page still does not scroll sideways.
    page.get_by_role("link", name=f"Move {LONG_NAME}").click()
    menu = page.locator(".board-card select[name=stage]")
    expect(menu).to_be_visible()
    assert menu.evaluate(
        """select => {
          const style = getComputedStyle(select);
          const probe = document.createElement("span");
          probe.style.font = style.font;
          probe.textContent = select.options[select.selectedIndex].text;
          document.body.append(probe);
          const text = probe.getBoundingClientRect().width;
          probe.remove();
          const room = select.clientWidth - parseFloat(style.paddingLeft)
            - parseFloat(style.paddingRight);
          return text <= room;
        }"""
    )
    assert page_overflow(page)["sideways"] == 0
    assert cards_overflowing(page) == []

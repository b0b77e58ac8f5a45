"""The "How to refer us" card in a browser: a referrer opens the public link
without an account, copies the introduction email and prints the card on
one page; the team's people see it beside its link, on a laptop and a phone."""

import re
from pathlib import Path

import pytest
from django.conf import settings
from playwright.sync_api import expect

from referrals.services import criterion_create, statement_create
from tests.browser import log_in

SCREENSHOTS = Path(settings.VAR_DIR) / "screenshots" / "card"
AXE = Path(__file__).parent / "vendor" / "axe-core" / "axe.min.js"
# A4's width less the 10 mm margins of the print style sheet, in CSS pixels:
# the width the printed card is laid out at.
A4_PRINTED_WIDTH = 718

pytestmark = pytest.mark.browser


@pytest.fixture
def card(north, carol):
    """North's card: its criteria (some long), its statements, Carol its contact."""
    for question, weight in [
        ("Is the prospect the decision maker or their direct report?", 3),
        ("Company of 50 to 2,000 people, in Germany, Austria or Switzerland", 2),
        ("Do they have a need this year, with a budget or a deadline?", 3),
        ("Introduced with context: why now and what they need, not just a name", 1),
        ("Has the company worked with a consultancy before?", 1),
    ]:
        criterion_create(team=north, question=question, weight=weight)
    for text in [
        "We answer the same day, and the person who answers can decide.",
        "Onboarding took weeks, not months, and nobody had to chase us.",
        "They tell us what will not work before we pay for it.",
    ]:
        statement_create(team=north, text=text)
    north.refresh_from_db()
    return north


def pdf_pages(pdf: bytes) -> int:
    return len(re.findall(rb"/Type\s*/Page\b(?!s)", pdf))


def test_a_referrer_opens_copies_and_prints_the_public_card(live_server, browser, card):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    context = browser.new_context(
        permissions=["clipboard-read", "clipboard-write"], bypass_csp=True
    )
    page = context.new_page()
    page.set_viewport_size({"width": 1366, "height": 900})
    page.goto(live_server.url + card.card_path())  # no login

    expect(page.get_by_role("heading", name="How to refer us")).to_be_visible()
    checklist = page.locator(".refer-checklist li")
    expect(checklist).to_have_count(5)
    expect(checklist.first).to_have_text(
        "The prospect is the decision maker or their direct report"
    )
    expect(checklist.nth(2)).to_have_text(
        "They have a need this year, with a budget or a deadline"
    )
    expect(page.get_by_text("They tell us what will not work")).to_be_visible()
    expect(page.get_by_text("North · Carol Manager, carol@example.com")).to_be_visible()
    assert page.locator("nav").count() == 0
    assert page.get_by_role("link").all_inner_texts() == [
        "carol@example.com",
        "carol@example.com",
    ]
    page.screenshot(path=SCREENSHOTS / "public-1366.png", full_page=True)

    page.get_by_role("button", name="Copy the email").click()
    expect(page.get_by_role("status").first).to_have_text("Copied.")
    copied = page.evaluate("navigator.clipboard.readText()")
    assert copied.startswith(
        "Subject: Introduction: [their name], meet Carol Manager (North)"
    )
    assert "Why now: [" in copied and "What they need: [" in copied

    page.add_script_tag(path=AXE)
    results = page.evaluate("() => axe.run(document, {resultTypes: ['violations']})")
    blocking = [
        v["id"] for v in results["violations"] if v["impact"] in ("critical", "serious")
    ]
    assert blocking == []

    # Printed: the card alone, on one page.
    page.emulate_media(media="print")
    expect(page.get_by_role("button", name="Copy the email")).to_be_hidden()
    expect(page.get_by_role("button", name="Print or save as PDF")).to_be_hidden()
    expect(checklist.first).to_be_visible()
    page.set_viewport_size({"width": A4_PRINTED_WIDTH, "height": 1000})
    page.screenshot(path=SCREENSHOTS / "public-print.png", full_page=True)
    for size in ("A4", "Letter"):
        pdf = page.pdf(format=size, path=SCREENSHOTS / f"public-{size}.pdf")
        assert pdf_pages(pdf) == 1, size
    context.close()


def test_ten_long_criteria_and_five_statements_still_print_on_one_page(
    live_server, browser, north, carol
):
    for n in range(10):
        criterion_create(
            team=north,
            question="Is the prospect somebody who runs a department of fifty"
            f" people or more, with a budget of their own ({n})?",
            weight=1,
        )
    for n in range(5):
        statement_create(
            team=north,
            text="They answered the same day, every time, and the person who"
            f" answered could decide; onboarding took weeks, not months ({n}).",
        )
    north.refresh_from_db()
    page = browser.new_page()
    page.goto(live_server.url + north.card_path())
    for size in ("A4", "Letter"):
        assert pdf_pages(page.pdf(format=size)) == 1, size
    page.close()


def test_the_public_card_fits_a_phone(live_server, browser, card):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    context = browser.new_context(viewport={"width": 390, "height": 844})
    page = context.new_page()
    page.goto(live_server.url + card.card_path())
    expect(page.get_by_role("heading", name="How to refer us")).to_be_visible()
    sideways = page.evaluate(
        "() => document.documentElement.scrollWidth - window.innerWidth"
    )
    assert sideways <= 0
    page.screenshot(path=SCREENSHOTS / "public-390.png", full_page=True)
    context.close()


def test_a_manager_prints_the_card_without_the_app_around_it(live_server, page, card):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    log_in(page, live_server.url, "carol@example.com")
    for width, height in ((1366, 900), (390, 844)):
        page.set_viewport_size({"width": width, "height": height})
        page.goto(live_server.url + "/referrals/card/")
        expect(page.get_by_label("Public link")).to_have_value(
            live_server.url + card.card_path()
        )
        page.screenshot(path=SCREENSHOTS / f"card-{width}.png", full_page=True)
    page.get_by_text("Revoke and make a new link").first.click()  # opens the details
    expect(
        page.get_by_role("button", name="Revoke and make a new link")
    ).to_be_visible()

    page.emulate_media(media="print")
    expect(page.get_by_role("navigation", name="Main")).to_be_hidden()
    expect(page.get_by_label("Public link")).to_be_hidden()
    for button in page.get_by_role("button").all():
        expect(button).to_be_hidden()
    expect(page.get_by_role("heading", name="How to refer us")).to_be_visible()
    page.set_viewport_size({"width": A4_PRINTED_WIDTH, "height": 1000})
    page.screenshot(path=SCREENSHOTS / "card-print.png", full_page=True)
    assert pdf_pages(page.pdf(format="A4")) == 1

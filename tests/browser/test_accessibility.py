"""axe-core on every main page, at a laptop's and a phone's width, as each
persona who sees it: no violation with a critical or serious impact, and no
page that scrolls sideways.

axe-core is vendored under tests/browser/vendor/axe-core/ (see its README)
and injected into each page, never loaded from a CDN.
"""

from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.urls import path
from django.utils import timezone

from core.errors import database_unavailable
from partners.models import Partner
from partners.services import given_referral_record, partner_create
from referrals.models import Referral
from referrals_crm.urls import urlpatterns as app_urlpatterns
from tests.browser import log_in
from thanks.services import commitment_record

AXE = Path(__file__).parent / "vendor" / "axe-core" / "axe.min.js"
SCREENSHOTS = Path(settings.VAR_DIR) / "screenshots" / "accessibility"
WIDTHS = {1366: 900, 390: 844}  # a laptop, a phone
BLOCKING = ("critical", "serious")

# A Content-Security-Policy would keep the injected axe-core script out.
pytestmark = [pytest.mark.browser, pytest.mark.browser_context_args(bypass_csp=True)]


def broken(request):
    raise RuntimeError("a bug, to see the 500 page")


def database_down(request):
    return database_unavailable()  # the page every request gets in an outage


urlpatterns = [
    path("broken/", broken),
    path("database-down/", database_down),
    *app_urlpatterns,
]


def blocking_violations(page, url: str, who: str) -> list[str]:
    """Each critical or serious axe violation on `url`, at every width, and
    the page scrolling sideways."""
    found = []
    page.goto(url)
    page.add_script_tag(path=AXE)
    for width, height in WIDTHS.items():
        page.set_viewport_size({"width": width, "height": height})
        results = page.evaluate(
            "() => axe.run(document, {resultTypes: ['violations']})"
        )
        for violation in results["violations"]:
            if violation["impact"] in BLOCKING:
                found.append(_describe(url, width, violation))
        # Reflow (WCAG 1.4.10): content that scrolls sideways does so in its
        # own box (a wide table, the board), never the whole page.
        sideways = page.evaluate(
            "() => document.documentElement.scrollWidth - window.innerWidth"
        )
        if sideways > 0:
            found.append(
                f"{url} at {width} px: the page scrolls {sideways} px sideways"
            )
        name = url.split("//", 1)[1].split("/", 1)[1].strip("/").replace("/", "-")
        page.screenshot(
            path=SCREENSHOTS / f"{who}-{name or 'today'}-{width}.png", full_page=True
        )
    return found


def _describe(url: str, width: int, violation: dict) -> str:
    nodes = violation["nodes"]
    examples = "\n".join(
        f"      {node['target']}: {node['failureSummary'].splitlines()[-1].strip()}"
        for node in nodes[:3]
    )
    return (
        f"{url} at {width} px: {violation['id']} ({violation['impact']}), "
        f"{violation['help']}; {len(nodes)} element(s), e.g.\n{examples}"
    )


def assert_no_blocking_violations(page, base_url: str, paths: list, who: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    found = [
        violation
        for path in paths
        for violation in blocking_violations(page, base_url + path, who)
    ]
    assert not found, "axe-core found:\n" + "\n".join(found)


@pytest.fixture
def demo(live_server, page, settings):
    """The demo data; `demo(email)` logs that demo user in."""
    settings.DEBUG = True  # seed_demo is for development
    call_command("seed_demo", partners=12, referrals=60)
    settings.DEBUG = False  # the pages as in production (404.html, not the debug page)

    def log_in_as(email: str) -> str:
        log_in(page, live_server.url, email, password="demo")
        return live_server.url

    return log_in_as


@pytest.mark.urls(__name__)
def test_pages_anyone_sees(live_server, page):
    paths = ["/accounts/login/", "/no-such-page/", "/broken/", "/database-down/"]
    assert_no_blocking_violations(page, live_server.url, paths, "anyone")


def test_a_reps_pages(page, demo):
    base_url = demo("rep@example.com")
    referral = Referral.objects.filter(owner__email="rep@example.com").first()
    partner = Partner.objects.filter(owner__email="rep@example.com").first()
    # Ready to ask (issue 26): a customer delivered as promised (seed_demo's
    # outcomes), its outcome, and a won referral.
    customer = Partner.objects.filter(
        owner__email="rep@example.com", outcomes__satisfaction=5
    ).first()
    outcome = customer.outcomes.first()
    won = Referral.objects.filter(
        owner__email="rep@example.com", stage__kind="won"
    ).first()
    # A referral partner: their fit with the team (issue 27), as the
    # partner form adds one.
    referral_partner = partner_create(
        owner=customer.owner,
        name="Hana Payroll",
        company="Payroll & Co",
        kind=Partner.Kind.PARTNER,
        focus_roles="HR directors, Office managers",
        focus_industries="Software",
        focus_size_min=20,
        focus_size_max=200,
        click=4,
        trust=5,
    )
    given = given_referral_record(
        partner=referral_partner,
        user=customer.owner,
        introduced="Ivo O'Neil",
        company="Βήτα & Co",
        given_on=timezone.localdate(),
        note="Needs payroll for 80 people from March.",
    )
    commitment = commitment_record(
        partner=referral_partner,
        owner=customer.owner,
        what="Introduce two HR directors",
        owed_by="them",
        due_on=timezone.localdate(),
    )
    paths = [
        "/",
        "/referrals/board/",
        "/referrals/",
        f"/referrals/{referral.pk}/",
        "/referrals/new/",
        "/referrals/criteria/",
        "/referrals/card/",
        "/partners/",
        f"/partners/{partner.pk}/",
        "/partners/?ready=on",
        f"/partners/{customer.pk}/",
        f"/partners/{customer.pk}/ask/",
        f"/partners/{customer.pk}/outcomes/new/",
        f"/partners/outcomes/{outcome.pk}/",
        f"/partners/{referral_partner.pk}/",
        f"/partners/{referral_partner.pk}/edit/",
        f"/partners/{referral_partner.pk}/given/new/",
        f"/partners/given/{given.pk}/",
        f"/partners/{referral_partner.pk}/commitments/new/",
        f"/partners/commitments/{commitment.pk}/",
        "/partners/?sort=-balance",
        "/partners/?dormant=on",
        "/partners/focus/",
        f"/referrals/{won.pk}/",
        f"/referrals/{won.pk}/outcome/",
        "/accounts/profile/",
        "/no-such-page/",
    ]
    assert_no_blocking_violations(page, base_url, paths, "rep")


def test_a_managers_pages(page, demo):
    base_url = demo("manager@example.com")
    paths = [
        "/",
        "/dashboard/",
        "/referrals/criteria/",
        "/partners/focus/",
        "/partners/?sort=-fit",
    ]
    assert_no_blocking_violations(page, base_url, paths, "manager")


def test_an_admins_pages(page, demo):
    base_url = demo("admin@example.com")
    paths = [
        "/dashboard/",
        "/thanks/settings/",
        "/thanks/settings/received/",
        "/thanks/settings/meeting/",
        "/thanks/settings/ask/",
        "/referrals/stages/",
        "/referrals/criteria/",
    ]
    assert_no_blocking_violations(page, base_url, paths, "admin")


def test_a_sources_unsubscribe_pages(page, live_server, demo):
    """A referral source never logs in: the unsubscribe link, before and
    after they opted out."""
    from thanks.services import ask_unsubscribe_url, unsubscribe_url

    opted_in, opted_out = Partner.objects.exclude(email="")[:2]
    Partner.objects.filter(pk=opted_out.pk).update(
        email_consent=Partner.Consent.OPTED_OUT
    )
    paths = [
        unsubscribe_url(partner).removeprefix(settings.SITE_URL)
        for partner in (opted_in, opted_out)
    ]
    # The ask email's link (issue 26), before and after.
    Partner.objects.filter(pk=opted_out.pk).update(do_not_ask=True)
    paths += [
        ask_unsubscribe_url(partner).removeprefix(settings.SITE_URL)
        for partner in (opted_in, opted_out)
    ]
    assert_no_blocking_violations(page, live_server.url, paths, "source")

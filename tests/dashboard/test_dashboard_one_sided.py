"""The dashboard's "One-sided partnerships" (issue 27, reciprocity): the
referral partners who sent us referrals we did not return, and those we gave
referrals who sent few back, in the period and the view (the one scoping
rule), with drill-down and a CSV."""

import re
from datetime import date
from html import unescape

import pytest
import time_machine

from partners.models import Partner
from partners.services import given_referral_record
from tests.dashboard.helpers import NOW, log
from tests.factories import PartnerFactory
from tests.helpers import csv_rows

SECTION = re.compile(r'<section[^>]*aria-labelledby="one-sided-h".*?</section>', re.S)


def section_text(response) -> str:
    section = SECTION.search(response.content.decode())
    assert section, "no One-sided partnerships block"
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", section.group())).split())


def items(response) -> list[str]:
    """The block's list items as read: their text, tags removed."""
    section = SECTION.search(response.content.decode()).group()
    return [
        unescape(re.sub(r"<[^>]+>", "", item))
        for item in re.findall(r"<li>(.*?)</li>", section)
    ]


def give(partner, on: str, introduced="Ivo Ng"):
    return given_referral_record(
        partner=partner,
        user=partner.owner,
        introduced=introduced,
        given_on=date.fromisoformat(on),
    )


def partner(owner, name):
    return PartnerFactory(
        owner=owner, name=name, company=f"{name} & Co", kind=Partner.Kind.PARTNER
    )


@pytest.fixture
def ledger(alice, bob, dave):
    """In November 2026 (the dashboard's this month at NOW): Hana sent 3 and
    got 1, Kim sent none and got 2, Lee 1 and 1 (even); a customer sent 4
    (customers are not partners); Old sent 2 in May (another period); Sud,
    a South partner, sent 5 (another team)."""
    hana, kim, lee = (
        partner(alice, "Hana"),
        partner(bob, "Kim"),
        partner(alice, "Lee"),
    )
    for number in range(3):
        log(alice, hana, f"2026-11-0{number + 2}T10:00:00", 100, f"H{number}")
    give(hana, "2026-11-04")
    give(kim, "2026-11-05")
    give(kim, "2026-11-06", introduced="Ana Ruiz")
    log(alice, lee, "2026-11-07T10:00:00", 100, "L1")
    give(lee, "2026-11-08")
    customer = PartnerFactory(owner=alice, name="Cam", kind=Partner.Kind.CUSTOMER)
    for number in range(4):
        log(alice, customer, f"2026-11-1{number}T10:00:00", 100, f"C{number}")
    old = partner(alice, "Old")
    log(alice, old, "2026-05-04T10:00:00", 100, "O1")
    log(alice, old, "2026-05-05T10:00:00", 100, "O2")
    sud = partner(dave, "Sud")
    for number in range(5):
        log(dave, sud, f"2026-11-0{number + 2}T10:00:00", 100, f"S{number}")
    return {"hana": hana, "kim": kim, "lee": lee}


def dashboard(client, user, **query):
    client.force_login(user)
    with time_machine.travel(NOW, tick=False):
        return client.get("/dashboard/", {"period": "this_month", **query})


def test_a_manager_sees_the_teams_one_sided_partnerships_both_ways(
    client, carol, ledger
):
    response = dashboard(client, carol)
    one_sided = response.context["one_sided"]
    assert [(p.name, p.received, p.given) for p in one_sided["they_send"]] == [
        ("Hana", 3, 1)
    ]
    assert [(p.name, p.received, p.given) for p in one_sided["we_give"]] == [
        ("Kim", 0, 2)
    ]
    assert items(response) == [
        "Hana (Hana & Co): sent 3, given 1",
        "Kim (Kim & Co): given 2, sent 0",
    ]


def test_each_partner_links_to_its_page_and_its_referrals_of_the_period(
    client, carol, ledger
):
    page = unescape(dashboard(client, carol).content.decode())
    hana = ledger["hana"]
    assert f'<a href="/partners/{hana.pk}/">Hana</a>' in page
    link = re.search(rf'sent <a href="([^"]*source={hana.pk}[^"]*)">3</a>', page)
    assert link, "no drill-down to Hana's referrals"
    listed = client.get(link.group(1))
    assert listed.context["page"].paginator.count == 3


def test_an_admin_sees_every_teams_and_a_rep_filter_narrows_it(
    client, admin, alice, carol, ledger, settings
):
    settings.DASHBOARD_SNAPSHOT_SECONDS = 0  # counted on each visit
    everyone = dashboard(client, admin)
    assert [p.name for p in everyone.context["one_sided"]["they_send"]] == [
        "Sud",
        "Hana",
    ]
    only_alice = dashboard(client, carol, rep=alice.pk)
    assert [p.name for p in only_alice.context["one_sided"]["we_give"]] == []


def test_a_view_of_customers_only_counts_no_partnership(client, carol, ledger):
    response = dashboard(client, carol, source_kind="customer")
    assert response.context["one_sided"]["kind_counted"] is False
    assert "Reciprocity is counted for referral partners" in section_text(response)


def test_the_csv_lists_every_one_sided_partnership(client, carol, ledger):
    client.force_login(carol)
    with time_machine.travel(NOW, tick=False):
        rows = csv_rows(
            client.get("/dashboard/", {"period": "this_month", "export": "one-sided"})
        )
    assert rows == [
        [
            "Partner",
            "Company",
            "Referrals received",
            "Referrals given",
            "Balance (received less given)",
        ],
        ["Hana", "Hana & Co", "3", "1", "2"],
        ["Kim", "Kim & Co", "0", "2", "-2"],
    ]

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from core.csv import csv_safe
from referrals import views
from referrals.search import TOO_SHORT
from tests.factories import PartnerFactory, ReferralFactory, stage
from tests.helpers import csv_rows

URL = "/referrals/"


def names(response):
    return [r["prospect_name"] for r in response.context["page"].object_list]


@pytest.fixture
def three(alice, alice_partner):
    other = PartnerFactory(owner=alice, name="Otto Other")
    ReferralFactory(
        source=alice_partner,
        prospect_name="Ann",
        prospect_company="Alpha",
        received_on=date(2026, 9, 1),
        estimated_value=100,
    )
    ReferralFactory(
        source=other,
        prospect_name="Ben",
        prospect_company="Beta",
        received_on=date(2026, 10, 1),
        estimated_value=300,
        stage=stage("Contacted"),
    )
    ReferralFactory(
        source=alice_partner,
        prospect_name="Cat",
        prospect_company="Gamma",
        received_on=date(2026, 11, 1),
        estimated_value=200,
        stage_entered_at=timezone.now() - timedelta(days=10),
    )
    return other


def test_newest_first_by_default(client, alice, three):
    client.force_login(alice)
    assert names(client.get(URL)) == ["Cat", "Ben", "Ann"]


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"q": "beta"}, ["Ben"]),
        ({"q": "otto"}, ["Ben"]),  # the source's name
        ({"q": "ann"}, ["Ann"]),
        ({"received_from": "2026-09-15", "received_to": "2026-10-15"}, ["Ben"]),
        ({"stale": "on"}, ["Cat"]),
        ({"sort": "-value"}, ["Ben", "Cat", "Ann"]),
        ({"sort": "prospect"}, ["Ann", "Ben", "Cat"]),
    ],
)
def test_filters_search_and_sort(client, alice, three, params, expected):
    client.force_login(alice)
    assert names(client.get(URL, params)) == expected


def test_filter_by_stage_and_source(client, alice, three):
    client.force_login(alice)
    assert names(client.get(URL, {"stage": stage("Contacted").pk})) == ["Ben"]
    assert names(client.get(URL, {"source": three.pk})) == ["Ben"]


def test_a_bad_date_range_says_so_and_keeps_the_rest(client, alice, three):
    client.force_login(alice)
    response = client.get(
        URL, {"q": "ann", "received_from": "2026-10-01", "received_to": "2026-09-01"}
    )
    assert "The start date must be before the end date." in response.content.decode()
    assert 'value="ann"' in response.content.decode()


def test_a_term_too_short_is_said_next_to_the_box(client, alice, three):
    client.force_login(alice)
    response = client.get(URL, {"q": "a"})
    page = response.content.decode()
    assert response.status_code == 200
    assert TOO_SHORT in page
    assert 'aria-invalid="true"' in page and 'value="a"' in page
    assert names(response) == ["Cat", "Ben", "Ann"]  # not searched, not hidden


def test_managers_filter_by_owner(client, alice, bob, carol, alice_partner):
    ReferralFactory(source=alice_partner, prospect_name="Alices")
    ReferralFactory(source=PartnerFactory(owner=bob), prospect_name="Bobs")
    client.force_login(carol)
    assert sorted(names(client.get(URL))) == ["Alices", "Bobs"]
    assert names(client.get(URL, {"owner": bob.pk})) == ["Bobs"]


def test_the_list_paginates(client, alice, alice_partner):
    ReferralFactory.create_batch(55, source=alice_partner)
    client.force_login(alice)
    assert len(names(client.get(URL))) == 50
    assert len(names(client.get(URL, {"page": 2}))) == 5


def test_csv_export_follows_the_filters_and_the_scoping_rule(client, alice, bob, three):
    ReferralFactory(
        source=PartnerFactory(owner=bob), prospect_name="Bobs", prospect_company="Beta"
    )
    client.force_login(alice)
    response = client.get("/referrals/export.csv", {"q": "beta"})
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert "attachment" in response["Content-Disposition"]
    rows = csv_rows(response)
    assert rows[0][:3] == ["Prospect", "Company", "Email"]
    assert [row[0] for row in rows[1:]] == ["Ben"]


def test_csv_export_escapes_formulas(client, alice, alice_partner):
    ReferralFactory(
        source=alice_partner,
        prospect_name='=HYPERLINK("http://x")',
        prospect_company="+1 Corp",
    )
    client.force_login(alice)
    response = client.get("/referrals/export.csv")
    rows = csv_rows(response)
    assert rows[1][0] == '\'=HYPERLINK("http://x")'
    assert rows[1][1] == "'+1 Corp"


@pytest.mark.parametrize("value", ["=1+1", "+1", "-1", "@SUM(A1)", "\tx"])
def test_csv_safe_neutralises_formula_starts(value):
    assert csv_safe(value) == "'" + value


def test_csv_safe_keeps_plain_text():
    assert csv_safe("Acme") == "Acme"
    assert csv_safe(None) == ""


@pytest.mark.parametrize(
    "value, written", [(-2, "-2"), (Decimal("-12.50"), "-12.50"), (-0.5, "-0.5")]
)
def test_csv_safe_writes_a_negative_number_as_a_number(value, written):
    # A number typed by no one cannot be a formula: a balance of -2 stays -2
    # (the text "-2" stays neutralised above).
    assert csv_safe(value) == written


@pytest.mark.parametrize("rows", [10, 200])
@pytest.mark.parametrize("params", [{}, {"q": "prospect"}], ids=["all", "searched"])
def test_the_list_runs_a_constant_number_of_queries(
    client, carol, alice, bob, django_assert_num_queries, rows, params
):
    for owner in (alice, bob):
        partner = PartnerFactory(owner=owner)
        # Every prospect's email is prospectN@example.net: all are found.
        ReferralFactory.create_batch(rows // 2, source=partner)
    client.force_login(carol)
    # 1 the session, 2 the user with role, 3 the manager's team (its ids);
    # 4 the count (not when searching), 5 the stages (for staleness), 6 the
    # rows (picked, then joined, in one statement; a search's sources in
    # it); 7-8 the filter bar's stage and owner choices.
    searched = bool(params)
    with django_assert_num_queries(7 if searched else 8):
        response = client.get(URL, params)
    assert response.status_code == 200
    page = response.context["page"]
    # A search is counted only once its last page is read.
    counted = rows if not searched or rows <= 50 else None
    assert page.paginator.count == counted
    assert len(page.object_list) == min(rows, 50)


@pytest.mark.parametrize("params", [{}, {"q": "prospect"}], ids=["all", "searched"])
def test_an_admins_list_runs_as_many_queries(
    client, admin, alice_partner, django_assert_num_queries, params
):
    ReferralFactory.create_batch(60, source=alice_partner)
    client.force_login(admin)
    # As a manager's, without the team: everyone's referrals.
    with django_assert_num_queries(6 if params else 7):
        response = client.get(URL, params)
    assert response.status_code == 200
    assert response.context["page"].paginator.count == (None if params else 60)
    assert len(response.context["page"].object_list) == 50


def test_a_reps_list_runs_as_many_queries_searched_or_not(
    client, alice, alice_partner, django_assert_num_queries
):
    ReferralFactory.create_batch(3, source=alice_partner)
    client.force_login(alice)
    for params in ({}, {"q": "prospect"}, {"q": "nobody"}):
        # session, user; the count (not when searching); stages, rows; the
        # stage choices (a rep has no owner filter).
        with django_assert_num_queries(5 if params else 6):
            response = client.get(URL, params)
        assert response.status_code == 200, params


def test_a_long_list_is_counted_up_to_a_cap(client, alice, alice_partner, monkeypatch):
    """Past COUNT_CAP rows (10,000) the list says "10,000+" and its pages
    stop there, saying so on the last one."""
    monkeypatch.setattr(views, "COUNT_CAP", 5)
    monkeypatch.setattr(views, "PER_PAGE", 2)
    ReferralFactory.create_batch(7, source=alice_partner)
    client.force_login(alice)
    first = client.get(URL)
    assert first.context["page"].paginator.count == 5
    page = first.content.decode()
    assert '<span class="text-muted fs-6">5+</span>' in page
    assert "Page 1 of 3+" in page
    assert "The pages stop after" not in page
    last = client.get(URL, {"page": 3}).content.decode()
    assert "The pages stop after the first 5 referrals." in last
    assert len(names(client.get(URL, {"page": 3}))) == 1


def test_a_search_is_not_counted_until_its_last_page(
    client, alice, alice_partner, monkeypatch
):
    """A search's pages say "2+" (at least one more) until the last, which
    has the exact total; a list that is not searched is counted at once."""
    monkeypatch.setattr(views, "PER_PAGE", 2)
    ReferralFactory.create_batch(5, source=alice_partner)
    client.force_login(alice)
    first = client.get(URL, {"q": "prospect"})
    assert first.context["page"].paginator.count is None
    page = first.content.decode()
    assert '<span class="text-muted fs-6">2+</span>' in page
    assert "Page 1</span>" in page
    assert 'href="?q=prospect&amp;page=2"' in page
    second = client.get(URL, {"q": "prospect", "page": 2}).content.decode()
    assert '<span class="text-muted fs-6">4+</span>' in second
    last = client.get(URL, {"q": "prospect", "page": 3})
    assert last.context["page"].paginator.count == 5
    assert '<span class="text-muted fs-6">5</span>' in last.content.decode()
    assert "Page 3 of 3</span>" in last.content.decode()
    assert 'page=4"' not in last.content.decode()
    assert len(names(last)) == 1
    beyond = client.get(URL, {"q": "prospect", "page": 9})  # the first page
    assert beyond.context["page"].number == 1
    listed = client.get(URL)  # not searched: counted
    assert listed.context["page"].paginator.count == 5
    assert '<span class="text-muted fs-6">5</span>' in listed.content.decode()


def test_a_search_stops_at_its_cap(client, alice, alice_partner, monkeypatch):
    monkeypatch.setattr(views, "SEARCH_CAP", 3)
    monkeypatch.setattr(views, "PER_PAGE", 2)
    ReferralFactory.create_batch(4, source=alice_partner)
    client.force_login(alice)
    last = client.get(URL, {"q": "prospect", "page": 2})
    assert len(names(last)) == 1
    page = last.content.decode()
    assert '<span class="text-muted fs-6">3+</span>' in page
    assert "The pages stop after the first 3 referrals." in page
    assert 'page=3"' not in page
    assert client.get(URL, {"q": "prospect", "page": 5}).context["page"].number == 2


def test_paging_and_export_keep_the_filters(client, alice, alice_partner):
    ReferralFactory.create_batch(55, source=alice_partner, prospect_company="Acme")
    client.force_login(alice)
    page = client.get(URL, {"q": "acme", "sort": "prospect"}).content.decode()
    assert 'href="?q=acme&amp;sort=prospect&amp;page=2"' in page
    assert 'href="/referrals/export.csv?q=acme&amp;sort=prospect"' in page


def test_a_bad_filter_does_not_drop_the_others(client, alice, alice_partner):
    # Fixed companies: a random one ("Annis Ltd") would match the search too.
    ReferralFactory(source=alice_partner, prospect_name="Ann", prospect_company="Acme")
    ReferralFactory(
        source=alice_partner, prospect_name="Ben", prospect_company="Globex"
    )
    client.force_login(alice)
    for params in (
        {"q": "Ann", "received_from": "notadate"},
        {"q": "Ann", "sort": "bogus"},
    ):
        names = [
            r["prospect_name"]
            for r in client.get("/referrals/", params).context["page"]
        ]
        assert names == ["Ann"], params


def test_highest_value_puts_referrals_without_value_last(client, alice, alice_partner):
    ReferralFactory(source=alice_partner, prospect_name="None", estimated_value=None)
    ReferralFactory(source=alice_partner, prospect_name="Big", estimated_value=9000)
    client.force_login(alice)
    for sort in ("-value", "value"):
        names = [
            r["prospect_name"]
            for r in client.get("/referrals/", {"sort": sort}).context["page"]
        ]
        assert names[-1] == "None", sort

"""Which labels a source's referrals earn (issue 26): on the source's page
and in the partner list (a Qualified column, and a sort by it)."""

from datetime import date

import pytest
from django.urls import reverse

from partners import selectors
from referrals.models import Label
from referrals.services import criterion_create, referral_assess
from tests.factories import PartnerFactory, ReferralFactory


@pytest.fixture
def question(db):
    return criterion_create(
        team=None, question="Speaks to the decision maker?", weight=1
    )


def assessed(source, question, user, *answers):
    """One referral of `source` per answer: True qualified, False cold,
    None not assessed; labelled through referral_assess."""
    for answer in answers:
        referral = ReferralFactory(source=source)
        if answer is not None:
            referral_assess(referral=referral, user=user, answers={question.pk: answer})


def test_the_labels_counted_are_the_referrals_labels():
    """partners sits below referrals and names the labels itself."""
    assert {
        selectors.QUALIFIED,
        selectors.LUKEWARM,
        selectors.COLD,
        selectors.UNASSESSED,
    } == set(Label.values)


def test_the_source_page_shows_its_referrals_by_label_and_its_qualified_share(
    client, alice, alice_partner, question
):
    assessed(alice_partner, question, alice, True, True, True, False, False, None)
    ReferralFactory(source=alice_partner, label=Label.LUKEWARM, score=50)
    client.force_login(alice)
    response = client.get(reverse("partner_detail", args=[alice_partner.pk]))
    stats = response.context["stats"]

    assert (
        stats.qualified_count,
        stats.lukewarm_count,
        stats.cold_count,
        stats.unassessed_count,
        stats.assessed_count,
    ) == (3, 1, 2, 1, 6)
    page = response.content.decode()
    assert (
        "<strong>50% qualified</strong> "
        '<span class="text-muted">(3 of 6 assessed)</span>' in page
    )
    # Each count opens those referrals in the referral list.
    for label, shown in [
        ("qualified", '<span class="lb lb-qualified">Qualified</span> 3'),
        ("lukewarm", '<span class="lb lb-lukewarm">Lukewarm</span> 1'),
        ("cold", '<span class="lb lb-cold">Cold</span> 2'),
        ("unassessed", '<span class="lb lb-unassessed">Not assessed</span> 1'),
    ]:
        link = f"/referrals/?source={alice_partner.pk}&amp;label={label}"
        assert f'<a class="text-decoration-none" href="{link}">{shown}</a>' in page


def test_a_source_with_nothing_assessed_says_so(client, alice, alice_partner):
    ReferralFactory.create_batch(2, source=alice_partner)
    client.force_login(alice)
    page = client.get(reverse("partner_detail", args=[alice_partner.pk])).content
    assert "None of its referrals assessed yet" in page.decode()
    assert "% qualified" not in page.decode()


def test_a_source_with_no_referral_shows_no_labels(client, alice, alice_partner):
    client.force_login(alice)
    page = client.get(reverse("partner_detail", args=[alice_partner.pk])).content
    assert 'id="source-labels"' not in page.decode()


def test_another_reps_source_page_is_a_404(client, bob, alice_partner, question):
    assessed(alice_partner, question, alice_partner.owner, True)
    client.force_login(bob)
    response = client.get(reverse("partner_detail", args=[alice_partner.pk]))
    assert response.status_code == 404


@pytest.mark.parametrize("count", [12, 200])
def test_the_source_page_with_labels_runs_a_constant_number_of_queries(
    client, alice, alice_partner, django_assert_num_queries, count
):
    for n in range(count):
        ReferralFactory(source=alice_partner, label=Label.values[n % 4])
    client.force_login(alice)
    # 1 the session, 2 the user, 3 the source, 4 its figures with its labels,
    # 5 its referrals, 6 and 7 the referrals given them (reciprocity), 8 its
    # plan's commitments; a customer's, 9 its outcomes and 10 its asks
    # (Ready to ask, tests/partners/test_asking_pages.py).
    with django_assert_num_queries(10):
        response = client.get(reverse("partner_detail", args=[alice_partner.pk]))
    assert response.context["stats"].unassessed_count == count // 4


def listed(client, **params):
    response = client.get(reverse("partner_list"), params)
    assert response.status_code == 200
    return response


def test_the_list_shows_each_sources_qualified_share(client, alice, question):
    best = PartnerFactory(owner=alice, name="Best Bea")
    assessed(best, question, alice, True, True, False, None)
    silent = PartnerFactory(owner=alice, name="Silent Sam")
    ReferralFactory(source=silent)
    client.force_login(alice)
    response = listed(client)

    rows = {p.name: p for p in response.context["page"].object_list}
    assert (rows["Best Bea"].qualified_count, rows["Best Bea"].assessed_count) == (2, 3)
    assert rows["Silent Sam"].qualified_share is None
    page = response.content.decode()
    bea = page[page.index("Best Bea") :].split("</tr>")[0]
    assert '67%<div class="small text-muted d-none d-md-block">2 of 3</div>' in bea
    sam = page[page.index("Silent Sam") :].split("</tr>")[0]
    assert '–</span><span class="visually-hidden"> none assessed</span>' in sam
    assert '<option value="-qualified">Most qualified</option>' in page


def test_the_list_sorts_by_qualified_share_with_nothing_assessed_last(
    client, alice, question
):
    def source(name, *answers):
        assessed(PartnerFactory(owner=alice, name=name), question, alice, *answers)

    source("Aaron, none assessed", None, None)
    source("Betty, no referrals")
    source("Chris, half of two", True, False)
    source("Dana, half of four", True, True, False, False, None)
    source("Eve, all of one", True)
    source("Fred, none of three", False, False, False)
    client.force_login(alice)
    response = listed(client, sort="-qualified")

    assert [p.name for p in response.context["page"].object_list] == [
        "Eve, all of one",
        # Equal shares: the more qualified first.
        "Dana, half of four",
        "Chris, half of two",
        "Fred, none of three",
        # Nothing assessed: last, by name.
        "Aaron, none assessed",
        "Betty, no referrals",
    ]
    assert (
        '<option value="-qualified" selected>Most qualified</option>'
        in response.content.decode()
    )


@pytest.mark.parametrize("count", [12, 200])
@pytest.mark.parametrize(("sort", "queries"), [("name", 5), ("-qualified", 4)])
def test_the_list_with_labels_runs_a_constant_number_of_queries(
    client, alice, django_assert_num_queries, count, sort, queries
):
    partners = [PartnerFactory(owner=alice) for _ in range(count // 5)]
    for n in range(count):
        ReferralFactory(source=partners[n % len(partners)], label=Label.values[n % 4])
    client.force_login(alice)
    # 1 the session, 2 the user, 3 how many sources; by name: 4 the page of
    # sources, 5 their figures; by a figure: 4 the page with its figures.
    with django_assert_num_queries(queries):
        response = listed(client, sort=sort)
    page = response.context["page"].object_list
    assert sum(partner.qualified_count for partner in page) == count // 4


@pytest.mark.parametrize("sort", ["name", "-referrals", "-qualified"])
def test_a_managers_second_page_has_each_sources_own_labels(
    client, alice, bob, carol, dave, sort
):
    """60 team sources over two pages, and another team's: whatever the sort,
    each row carries its own source's label counts."""
    for number in range(60):
        source = PartnerFactory(
            owner=alice if number % 2 else bob, name=f"Source {number:02}"
        )
        for n in range(number % 5):
            ReferralFactory(
                source=source,
                label=Label.QUALIFIED if n < number % 3 else Label.COLD,
                received_on=date(2026, 1, 1 + n),
            )
    ReferralFactory(source=PartnerFactory(owner=dave), label=Label.QUALIFIED)
    client.force_login(carol)
    pages = [listed(client, sort=sort, page=page).context["page"] for page in (1, 2)]
    rows = [partner for page in pages for partner in page.object_list]

    assert sorted(p.name for p in rows) == [f"Source {n:02}" for n in range(60)]
    for partner in rows:
        number = int(partner.name.split()[-1])
        qualified = min(number % 3, number % 5)
        assert (partner.qualified_count, partner.assessed_count) == (
            qualified,
            number % 5,
        )
    if sort == "-qualified":
        shares = [p.qualified_share for p in rows]
        known = [share for share in shares if share is not None]
        assert known == sorted(known, reverse=True)
        assert shares[len(known) :] == [None] * (len(shares) - len(known))

from datetime import timedelta

import pytest
from django.utils import timezone

from referrals import selectors
from referrals.services import referral_log, referral_move
from tests.factories import PartnerFactory, ReferralFactory, UserFactory, stage


def test_today_lists_new_uncontacted_and_stale_referrals(client, alice, alice_partner):
    nina = ReferralFactory(source=alice_partner, prospect_name="New Nina")
    contacted = ReferralFactory(source=alice_partner, prospect_name="Called Carl")
    referral_move(referral=contacted, to_stage=stage("Contacted"), user=alice)
    ReferralFactory(
        source=alice_partner,
        prospect_name="Stale Stan",
        stage=stage("Contacted"),
        first_contacted_at=timezone.now(),
        stage_entered_at=timezone.now() - timedelta(days=8),  # Contacted allows 7
    )
    ReferralFactory(source=alice_partner, prospect_name="Won Wanda", stage=stage("Won"))
    client.force_login(alice)
    response = client.get("/")
    assert [r["prospect_name"] for r in response.context["not_contacted"]] == [
        "New Nina"
    ]
    assert [r["prospect_name"] for r in response.context["stale"]] == ["Stale Stan"]
    row = response.content.decode().split(
        f'<a href="/referrals/{nina.pk}/">New Nina</a>'
    )
    assert len(row) == 2  # linked, once
    assert row[1].split("</tr>")[0].count(f"<td>{alice_partner.name}</td>") == 1


def test_today_shows_only_the_users_referrals(client, alice, bob, alice_referral):
    ReferralFactory(source=PartnerFactory(owner=bob), prospect_name="Bobs prospect")
    client.force_login(alice)
    page = client.get("/").content.decode()
    assert "Paula Prospect" in page
    assert "Bobs prospect" not in page


@pytest.mark.parametrize("rows", [10, 200])
def test_today_runs_a_constant_number_of_queries(
    client, alice, alice_partner, django_assert_num_queries, rows
):
    for _ in range(rows):
        referral_log(user=alice, source=alice_partner, prospect_name="P")  # + thanks
    client.force_login(alice)
    # 1 the session, 2 the user with role and team; 3 the stages; 4 how many
    # of each list; 5 the customers to ask or not now (none here: their
    # outcomes are not read); 6 the thank-yous due, 7 the referrals not
    # contacted, the stale and those not assessed a day after they were
    # logged, the three lists in one statement; 8 the commitments to
    # partners due (issue 27).
    with django_assert_num_queries(8):
        response = client.get("/")
    assert response.status_code == 200


@pytest.mark.parametrize(("who", "statements"), [("carol", 9), ("admin", 8)])
def test_a_managers_and_an_admins_today_run_a_constant_number_of_queries(
    client, request, django_assert_num_queries, alice, bob, dave, who, statements
):
    """A manager's page reads their team's ids once (one statement more),
    and every other statement has them written out."""
    for rep in (alice, bob, dave):
        source = PartnerFactory(owner=rep, email_consent="out")
        for n in range(3):
            referral_log(user=rep, source=source, prospect_name=f"{rep} {n}")
        ReferralFactory(
            source=source,
            stage=stage("Contacted"),
            first_contacted_at=timezone.now(),
            stage_entered_at=timezone.now() - timedelta(days=8),
        )
    client.force_login(request.getfixturevalue(who))
    # 1 the session, 2 the user with role and team; (a manager's: their
    # team's ids); the stages; how many of each list; the customers to ask or
    # not now; the thank-yous due; the not contacted, the stale and the not
    # assessed (one statement); the user's commitments due.
    with django_assert_num_queries(statements) as queries:
        response = client.get("/")
    assert response.status_code == 200
    assert len(response.context["thanks"]) == (9 if who == "admin" else 6)
    team = "accounts_team"
    assert sum(team in query["sql"] for query in queries.captured_queries) == (
        2 if who == "carol" else 1  # the user's own team, and the team's ids
    )


@pytest.mark.parametrize("who", ["alice", "carol", "erin", "admin", "gone"])
def test_the_team_written_out_is_what_the_scoping_rule_shows(
    request, alice, bob, carol, dave, erin, admin, who
):
    """in_view with a manager's team_ids() picks the rows scope_for_user
    picks, for every role: a member who left still counts for their
    manager (their records stay in view), an inactive user sees nothing."""
    from accounts.scoping import scope_for_user
    from referrals.models import Referral
    from thanks.selectors import in_view, team_ids

    gone = UserFactory(email="gone@example.com", team=alice.team, is_active=False)
    for owner in (alice, bob, carol, dave, erin, gone):
        referral_log(
            user=owner, source=PartnerFactory(owner=owner), prospect_name=str(owner)
        )
    user = gone if who == "gone" else request.getfixturevalue(who)
    expected = set(scope_for_user(Referral.objects.all(), user))
    assert set(in_view(Referral.objects.all(), user, team_ids(user))) == expected
    assert (team_ids(user) is None) == (who != "carol" and who != "erin")
    assert len(expected) == {"alice": 1, "carol": 4, "erin": 2, "admin": 6}.get(who, 0)


def test_today_rows_show_the_day_as_the_date_filter_writes_it(
    client, alice, alice_partner
):
    """The day received is written once per date in Python, the text
    {{ day|date:"M j" }} gives."""
    from django.template import Context, Template

    today = timezone.localdate()
    for days in (0, 0, 3, 40):
        ReferralFactory(source=alice_partner, received_on=today - timedelta(days))
    client.force_login(alice)
    rows = client.get("/").context["not_contacted"]
    by_filter = Template('{{ day|date:"M j" }}')
    assert len(rows) == 4
    for row in rows:
        assert row["received"] == by_filter.render(Context({"day": row["received_on"]}))


@pytest.mark.parametrize("who", ["carol", "admin"])
def test_a_managers_and_an_admins_today_lists_the_oldest_across_stages(
    client, request, monkeypatch, alice, bob, dave, who
):
    """Each list is every open stage's referrals in one order, the oldest
    first, TODAY_ROWS at most (here 20, fewer than each stage holds, so each
    stage's branch stops at its own oldest 20): a manager's of their team,
    an admin's of everyone."""
    monkeypatch.setattr(selectors, "TODAY_ROWS", 20)
    now = timezone.now()
    today = timezone.localdate()
    for order, rep in enumerate((alice, bob, dave)):
        source = PartnerFactory(owner=rep)
        for days in range(30):
            ReferralFactory(  # not contacted, in Received or (moved back) Contacted
                source=source,
                prospect_name=f"{rep.display_name} new {days:02}",
                stage=stage(["Received", "Contacted"][days % 2]),
                received_on=today - timedelta(days=days),
            )
            ReferralFactory(  # stale: Received allows 2 days, Contacted 7
                source=source,
                prospect_name=f"{rep.display_name} stale {days:02}",
                stage=stage(["Received", "Contacted"][days % 2]),
                first_contacted_at=now,
                stage_entered_at=now - timedelta(days=8 + days, minutes=order),
            )
        ReferralFactory(
            source=source,
            prospect_name=f"{rep.display_name} lost",
            stage=stage("Lost"),
            received_on=today - timedelta(days=40),
        )
    reps = [alice, bob] if who == "carol" else [alice, bob, dave]
    client.force_login(request.getfixturevalue(who))
    context = client.get("/").context
    waiting = [r["prospect_name"] for r in context["not_contacted"]]
    stale = [r["prospect_name"] for r in context["stale"]]
    assert len(waiting) == len(stale) == 20
    names = dict(enumerate(rep.display_name for rep in reps))
    rows = [(days, order) for order in names for days in range(30)]
    # Oldest received first, ties in the order logged (alice's first)...
    first_received = sorted(rows, key=lambda row: (-row[0], row[1]))[:20]
    assert waiting == [f"{names[o]} new {d:02}" for d, o in first_received]
    # ... and longest in their stage first (each later rep's a minute longer).
    first_entered = sorted(rows, key=lambda row: (-row[0], -row[1]))[:20]
    assert stale == [f"{names[o]} stale {d:02}" for d, o in first_entered]


def test_today_counts_every_one_owed_and_the_rest_is_a_page_or_a_link_away(
    client, monkeypatch, alice, bob, carol, dave
):
    """The badges say how many there are in the manager's view, not how many
    rows are shown: the thank-yous come a few at a time, the referral lists
    link to the referral list filtered the same way (and nothing of another
    team counts, nor a referral lost before anyone called)."""
    monkeypatch.setattr(selectors, "TODAY_ROWS", 3)
    monkeypatch.setattr(selectors, "TODAY_THANKS", 2)
    now = timezone.now()
    sources = {}
    for rep, new, stale in ((alice, 3, 2), (bob, 2, 2), (dave, 4, 4)):
        source = sources[rep] = PartnerFactory(owner=rep, email_consent="out")
        for n in range(new):  # each owes its "received" thank-you (a call)
            referral_log(user=rep, source=source, prospect_name=f"{rep} new {n}")
        for n in range(stale):
            ReferralFactory(
                source=source,
                prospect_name=f"{rep} cold {n}",
                stage=stage("Contacted"),  # allows 7 days
                first_contacted_at=now,
                stage_entered_at=now - timedelta(days=10 + n),
            )
    called = referral_log(user=alice, source=sources[alice], prospect_name="Called")
    referral_move(referral=called, to_stage=stage("Contacted"), user=alice)
    ReferralFactory(  # never contacted, but no longer open
        source=sources[alice], prospect_name="Lost early", stage=stage("Lost")
    )
    client.force_login(carol)

    page = client.get("/")
    assert page.context["counts"]["thanks"] == 6
    assert page.context["counts"]["not_contacted"] == 5
    assert page.context["counts"]["stale"] == 4
    html = page.content.decode()
    assert 'Thank-yous <span class="badge text-bg-primary">6</span>' in html
    assert "1–2 of 6, soonest deadline first" in html

    assert len(page.context["not_contacted"]) == len(page.context["stale"]) == 3
    for filters, count in (
        ("not_contacted=on&sort=received", 5),
        ("stale=on&sort=in_stage", 4),
    ):
        assert f'?{filters.replace("&", "&amp;")}">See all {count} in' in html
        listed = client.get(f"/referrals/?{filters}")
        assert listed.context["page"].paginator.count == count
    listed = client.get("/referrals/?not_contacted=on").content.decode()
    assert "Not yet contacted" in listed
    assert "Called" not in listed and "Lost early" not in listed
    # " cold ": the prospects' names, not the label filter's "Cold" (issue 26).
    assert " cold " not in listed and str(dave) not in listed


def test_thank_yous_acted_on_in_place_leave_none_skipped_on_the_next_page(
    client, monkeypatch, alice, bob
):
    """Next starts after the last one shown, so acting on rows in place
    (htmx swaps only the row) does not push unseen ones past the page."""
    monkeypatch.setattr(selectors, "TODAY_THANKS", 2)
    source = PartnerFactory(owner=alice, email_consent="out")  # thanked by call
    for n in range(5):
        referral_log(user=alice, source=source, prospect_name=f"P{n}")
    client.force_login(alice)
    first = client.get("/")
    order = [t["pk"] for t in first.context["thanks"]]
    assert len(order) == 2 and f'href="/?after={order[-1]}">Next' in (
        first.content.decode()
    )
    client.post(
        f"/thanks/{order[0]}/",
        {"action": "done", "note": "Called"},
        headers={"HX-Request": "true"},
    )
    seen, page = [order[0], order[1]], client.get(f"/?after={order[-1]}")
    assert "2–3 of 4, soonest deadline first" in page.content.decode()
    while True:
        rows = [t["pk"] for t in page.context["thanks"]]
        seen += rows
        if page.context["thanks_next"] is None:
            break
        page = client.get(f"/?after={page.context['thanks_next']}")
    pending = list(selectors.pending_thanks(user=alice).values_list("pk", flat=True))
    assert sorted(seen) == sorted([order[0], *pending])  # every one, once
    assert len(seen) == len(set(seen)) == 5

    for junk in ("abc", "0", "-3", ""):
        assert [t["pk"] for t in client.get(f"/?after={junk}").context["thanks"]] == (
            pending[:2]
        )
    gone = client.get("/?after=987654321").content.decode()
    assert "Nothing owed after the last one you saw" in gone
    someone_elses = referral_log(
        user=bob, source=PartnerFactory(owner=bob), prospect_name="Bob's"
    ).thank_yous.get()
    page = client.get(f"/?after={someone_elses.pk}").content.decode()
    assert "Nothing owed after the last one you saw" in page  # not a cursor


def test_each_thank_you_form_posts_the_token_and_comes_back_to_its_page(
    client, monkeypatch, alice
):
    """The CSRF and "next" fields are rendered once for all the rows (and
    by the row itself when an action sends it back alone)."""
    monkeypatch.setattr(selectors, "TODAY_THANKS", 2)
    source = PartnerFactory(owner=alice, email_consent="out")
    for n in range(4):
        referral_log(user=alice, source=source, prospect_name=f"P{n}")
    client.force_login(alice)
    first = client.get("/").context["thanks"][0]["pk"]
    page = client.get(f"/?after={first}")
    rows = page.content.decode().split('<li class="list-group-item thanks-row')[1:]
    token = page.context["csrf_token"]
    assert len(rows) == 2
    for row in rows:
        form = row.split("</form>")[0]
        assert f'name="csrfmiddlewaretoken" value="{token}"' in form
        assert f'name="next" value="/?after={first}"' in form


def test_today_shows_the_25_most_urgent_of_each_and_the_rest_a_click_away(
    client, alice
):
    """25 thank-yous, then Next; the 25 waiting longest, then See all."""
    source = PartnerFactory(owner=alice, email_consent="out")
    for n in range(26):
        referral_log(user=alice, source=source, prospect_name=f"P{n:02}")
    client.force_login(alice)
    page = client.get("/")
    html = page.content.decode()
    assert len(page.context["thanks"]) == len(page.context["not_contacted"]) == 25
    assert "1–25 of 26, soonest deadline first" in html
    assert f'href="/?after={page.context["thanks"][-1]["pk"]}">Next' in html
    assert "The 25 waiting longest." in html and "See all 26 in" in html

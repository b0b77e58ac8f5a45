"""The "How to refer us" card (issue 26): the criteria in plain words, the
value statements and an introduction email to copy, for the team's people
(/referrals/card/) and behind each team's public link (/refer/<token>/)."""

import re

import pytest
from django.urls import reverse

from accounts.models import Team
from referrals.card import introduction_email, plain_sentence
from referrals.services import criterion_create, criterion_save, statement_create
from referrals.views import CARD_RENEWED
from tests.factories import TeamFactory, UserFactory

CARD = "/referrals/card/"
RENEW = "/referrals/card/renew/"


def public_path(team: Team) -> str:
    team.refresh_from_db()
    return f"/refer/{team.card_token}/"


def checklist(response) -> list[str]:
    """The items of "A great introduction…", as a person reads them."""
    html = response.content.decode()
    items = html.split('class="refer-checklist">', 1)[1].split("</ul>", 1)[0]
    return [item.strip() for item in re.findall(r"<li>(.*?)</li>", items, re.S)]


@pytest.fixture
def lists(north):
    """The organisation's list, and North's own (South has none)."""
    criterion_create(team=None, question="Company of 50 to 2,000 people", weight=2)
    criterion_create(team=None, question="Do they have a need this year?", weight=3)
    criterion_create(
        team=north, question="Is the prospect the decision maker?", weight=3
    )
    criterion_create(team=north, question="Introduced with context", weight=1)
    statement_create(team=None, text="We answer the same day.")
    statement_create(team=north, text="North fixed it in a week.")


# Plain words ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("question", "sentence"),
    [
        # A fragment reads as written.
        ("Company of 50 to 2,000 people", "Company of 50 to 2,000 people"),
        ("speaks to the decision maker", "Speaks to the decision maker"),
        # A question turned round when its subject is certain.
        ("Is the prospect the decision maker?", "The prospect is the decision maker"),
        ("Are there fewer than 2,000 staff ?", "There are fewer than 2,000 staff"),
        ("Has the company   asked for help?", "The company has asked for help"),
        ("Can they decide alone?", "They can decide alone"),
        ("Do they have a budget?", "They have a budget"),
        ("Does the company have a budget?", "The company has a budget"),
        ("Does the prospect need it this year?", "The prospect needs it this year"),
        ("Does the client fix things?", "The client fixes things"),
        ("Does the buyer try it?", "The buyer tries it"),
        ("Does the buyer pay?", "The buyer pays"),
        # Any other question as written: a wrong sentence is worse.
        ("Is the decision maker on the call?", "Is the decision maker on the call?"),
        ("Has a need this year?", "Has a need this year?"),
        ("Did they ask for us?", "Did they ask for us?"),
    ],
)
def test_a_criterion_reads_as_a_plain_sentence_where_it_can(question, sentence):
    assert plain_sentence(question) == sentence


def test_the_email_says_whom_it_introduces_why_now_and_what_they_need():
    email = introduction_email(
        team_name="North", contact_name="Carol Manager", contact_short="Carol"
    )
    assert email.startswith(
        "Subject: Introduction: [their name], meet Carol Manager (North)"
    )
    assert (
        "[Their first name], meet Carol Manager of North. Carol, meet [their name],"
        " [their role] at [their company]." in email
    )
    assert "Why now: [" in email
    assert "What they need: [" in email
    # No contact, no team: a placeholder, never "None".
    email = introduction_email(team_name="", contact_name="", contact_short="")
    assert "Subject: Introduction: [their name], meet [your contact with us]\n" in email
    assert (
        "[Their first name], meet [your contact with us]. [Your contact with us],"
        " meet [their name]" in email
    )
    assert "None" not in email


# The card page ----------------------------------------------------------------


def test_a_rep_sees_their_teams_criteria_in_order(client, alice, carol, lists):
    client.force_login(alice)
    response = client.get(CARD)
    assert response.status_code == 200
    assert "How to refer us" in response.text
    assert checklist(response) == [
        "The prospect is the decision maker",
        "Introduced with context",
    ]
    assert "North fixed it in a week." in response.text
    assert "We answer the same day." not in response.text  # North has its own
    assert "Carol Manager" in response.text
    assert 'href="mailto:carol@example.com"' in response.text
    assert "[their name], meet Carol Manager (North)" in response.text


def test_a_team_without_criteria_shows_the_organisations(client, dave, lists):
    client.force_login(dave)
    response = client.get(CARD)
    assert checklist(response) == [
        "Company of 50 to 2,000 people",
        "They have a need this year",
    ]
    assert "We answer the same day." in response.text


def test_archived_criteria_are_not_on_the_card(client, alice, north, lists):
    archived = north.criteria.get(question="Introduced with context")
    criterion_save(criterion=archived, data={"is_archived": True})
    client.force_login(alice)
    assert checklist(client.get(CARD)) == ["The prospect is the decision maker"]
    assert "Introduced with context" not in client.get(public_path(north)).text


def test_no_criteria_yet_says_something_general_and_who_writes_them(client, alice):
    client.force_login(alice)
    response = client.get(CARD)
    assert checklist(response) == [
        "Is to someone you know well, who has a need we can meet and expects "
        "to hear from us"
    ]
    assert "Your manager or an admin writes them." in response.text


def test_an_admin_without_a_team_sees_the_organisations_card(client, admin, lists):
    client.force_login(admin)
    response = client.get(CARD)
    assert checklist(response)[0] == "Company of 50 to 2,000 people"
    assert "pick a team to share its card" in response.text
    assert "/refer/" not in response.text


def test_an_admin_picks_a_team(client, admin, north, south, lists):
    client.force_login(admin)
    response = client.get(CARD, {"team": north.pk})
    assert checklist(response)[0] == "The prospect is the decision maker"
    assert f"/refer/{north.card_token}/" in response.text
    assert "Revoke and make a new link" in response.text
    organisation = client.get(CARD, {"team": ""})
    assert checklist(organisation)[0] == "Company of 50 to 2,000 people"
    assert client.get(CARD, {"team": 99999}).status_code == 404


def test_a_manager_sees_the_team_they_manage_and_no_other(
    client, carol, north, south, lists
):
    client.force_login(carol)  # carol manages North without being in a team
    response = client.get(CARD)
    assert checklist(response)[0] == "The prospect is the decision maker"
    assert f"/refer/{north.card_token}/" in response.text
    assert "Revoke and make a new link" in response.text
    assert client.get(CARD, {"team": south.pk}).status_code == 404


def test_a_rep_copies_the_link_but_is_not_offered_to_revoke_it(
    client, alice, dave, north, south
):
    client.force_login(alice)
    response = client.get(CARD, {"team": south.pk})  # a rep's ?team= means nothing
    assert f"http://testserver/refer/{north.card_token}/" in response.text
    assert south.card_token not in response.text
    assert "Revoke and make a new link" not in response.text


def test_the_card_page_needs_a_login(client, db):
    response = client.get(CARD)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


# The public card --------------------------------------------------------------


def test_the_public_card_opens_without_login_and_shows_nothing_of_the_app(
    client, alice, bob, carol, north, lists
):
    response = client.get(public_path(north))
    assert response.status_code == 200
    assert checklist(response) == [
        "The prospect is the decision maker",
        "Introduced with context",
    ]
    assert "North fixed it in a week." in response.text
    assert '<meta name="robots" content="noindex">' in response.text
    assert response["X-Robots-Tag"] == "noindex"
    assert "no-store" in response["Cache-Control"]
    # No navigation, no link into the app: only the contact's mailto.
    links = re.findall(r'href="([^"]*)"', response.text)
    assert [link for link in links if not link.startswith("/static/")] == [
        "mailto:carol@example.com",
        "mailto:carol@example.com",
    ]
    assert "<nav" not in response.text
    assert "<form" not in response.text
    # No one's email but the contact's.
    emails = set(re.findall(r"[\w.+-]+@[\w-]+\.[\w.]+", response.text))
    assert emails == {"carol@example.com"}


def test_signed_in_the_public_card_still_shows_no_navigation(client, alice, north):
    client.force_login(alice)
    response = client.get(public_path(north))
    assert response.status_code == 200
    assert "Log out" not in response.text
    assert "<nav" not in response.text


def test_a_team_without_a_manager_has_a_card_with_no_contact(client, south):
    response = client.get(public_path(south))
    assert response.status_code == 200
    assert "mailto:" not in response.text
    assert "meet [your contact with us] (South)" in response.text


@pytest.mark.parametrize(
    "token", ["not-a-token", "x" * 43, "%20", "a/b"], ids=["short", "43", "space", "/"]
)
def test_a_wrong_token_is_a_plain_404(client, north, token):
    response = client.get(f"/refer/{token}/")
    assert response.status_code == 404
    assert north.name not in response.text


def test_each_team_has_its_own_link(north, south):
    assert north.card_token != south.card_token
    assert len(north.card_token) == 43  # 32 random bytes, URL-safe
    assert north.card_path() == f"/refer/{north.card_token}/"


# Revoking the link --------------------------------------------------------------


def test_a_manager_revokes_the_link_and_the_old_one_is_a_404(client, carol, north):
    old = public_path(north)
    client.force_login(carol)
    response = client.post(RENEW, {"team": north.pk}, follow=True)
    assert response.redirect_chain == [(f"{CARD}?team={north.pk}", 302)]
    assert CARD_RENEWED in response.text
    new = public_path(north)
    assert new != old
    assert new in response.text
    client.logout()
    assert client.get(old).status_code == 404
    assert client.get(new).status_code == 200


def test_an_admin_revokes_any_teams_link(client, admin, south):
    old = public_path(south)
    client.force_login(admin)
    assert client.post(RENEW, {"team": south.pk}).status_code == 302
    assert public_path(south) != old


@pytest.mark.parametrize("who", ["alice", "erin"])
def test_a_rep_and_another_teams_manager_cannot_revoke(client, request, north, who):
    old = public_path(north)
    client.force_login(request.getfixturevalue(who))
    response = client.post(RENEW, {"team": north.pk})
    assert response.status_code == 404  # outside their scope (test_card_revoke_scope)
    assert public_path(north) == old
    assert client.get(old).status_code == 200


def test_revoking_needs_a_post_a_login_and_a_team(client, admin, north):
    old = public_path(north)
    assert client.post(RENEW, {"team": north.pk}).status_code == 302  # to login
    client.force_login(admin)
    assert client.get(RENEW, {"team": north.pk}).status_code == 405
    assert client.post(RENEW, {"team": 99999}).status_code == 404
    assert client.post(RENEW).status_code == 404
    assert public_path(north) == old


def test_revoking_needs_the_csrf_token(admin, north):
    from django.test import Client

    old = public_path(north)
    client = Client(enforce_csrf_checks=True)
    client.force_login(admin)
    assert client.post(RENEW, {"team": north.pk}).status_code == 403
    assert public_path(north) == old


# Names with quotes, ampersands, angle brackets and other scripts ---------------


def test_names_and_texts_are_escaped_on_both_pages(client, db):
    manager = UserFactory(
        email="o.brien@example.com",
        display_name='Siobhán O\'Brien & "Sons" <b>',
    )
    team = TeamFactory(name='Zürich & <Østfold> "Команда" 東京', manager=manager)
    rep = UserFactory(email="rep1@example.com", team=team)
    criterion_create(
        team=team, question="Kennt <script>alert(1)</script> & „uns“?", weight=1
    )
    statement_create(team=team, text="Они ответили в тот же день & <i>fast</i>")
    client.force_login(rep)
    for response in (client.get(CARD), client.get(public_path(team))):
        text = response.content.decode()
        assert "Zürich &amp; &lt;Østfold&gt; &quot;Команда&quot; 東京" in text
        assert "Siobhán O&#x27;Brien &amp; &quot;Sons&quot; &lt;b&gt;" in text
        assert "Kennt &lt;script&gt;alert(1)&lt;/script&gt; &amp; „uns“?" in text
        assert "Они ответили в тот же день &amp; &lt;i&gt;fast&lt;/i&gt;" in text
        assert "<script>alert" not in text and "<b>" not in text


# Queries ------------------------------------------------------------------------


def many(team, n):
    for i in range(n):
        criterion_create(team=team, question=f"Is the prospect ready {i}?", weight=1)
        statement_create(team=team, text=f"Reason {i}")


@pytest.mark.parametrize("n", [1, 8])
def test_the_public_card_takes_three_queries(
    client, carol, north, n, django_assert_num_queries
):
    many(north, n)
    path = public_path(north)
    # The team and its manager, its criteria, its statements.
    with django_assert_num_queries(3):
        assert client.get(path).status_code == 200


@pytest.mark.parametrize("n", [1, 8])
def test_the_card_page_takes_a_fixed_number_of_queries(
    client, alice, carol, north, n, django_assert_num_queries
):
    many(north, n)
    client.force_login(alice)
    # The session, the user (with team and role), the team and its manager,
    # the criteria, the statements.
    with django_assert_num_queries(5):
        assert client.get(CARD).status_code == 200


@pytest.mark.parametrize("n", [1, 8])
def test_an_admins_card_page_takes_a_fixed_number_of_queries(
    client, admin, north, south, n, django_assert_num_queries
):
    many(north, n)
    TeamFactory(name="West")
    client.force_login(admin)
    # The session, the user, every team (the picker), the criteria, the
    # statements.
    with django_assert_num_queries(5):
        assert client.get(CARD, {"team": north.pk}).status_code == 200


# The partner page's link ---------------------------------------------------------


def test_the_partner_page_has_the_teams_link_to_copy(
    client, alice, alice_partner, north
):
    client.force_login(alice)
    response = client.get(reverse("partner_detail", args=[alice_partner.pk]))
    assert f'value="http://testserver/refer/{north.card_token}/"' in response.text
    assert f'href="{CARD}"' in response.text


def test_the_partner_page_of_a_user_in_no_team_has_no_link(
    client, admin, alice_partner
):
    client.force_login(admin)
    response = client.get(reverse("partner_detail", args=[alice_partner.pk]))
    assert "/refer/" not in response.text
    assert f'href="{CARD}"' in response.text

"""Referral criteria (issue 26): the scoring rule, assessing a referral,
the lists a team uses, and who keeps them."""

import pytest
from django.urls import reverse
from django.utils import timezone

from referrals.criteria import assess
from referrals.models import (
    Activity,
    CriteriaSettings,
    Criterion,
    Label,
    Referral,
    ReferralAnswer,
    Stage,
    ValueStatement,
)
from referrals.selectors import criteria_in_use, referral_assessment, thresholds
from referrals.services import (
    criterion_create,
    criterion_save,
    list_shift,
    referral_assess,
    referral_log,
    thresholds_save,
)
from tests.factories import PartnerFactory, ReferralFactory
from tests.helpers import csv_rows, form_data


def org_criteria(*weights):
    return [
        criterion_create(team=None, question=f"Question {n}", weight=w)
        for n, w in enumerate(weights)
    ]


# The rule --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("answers", "expected"),
    [
        ([], (None, Label.UNASSESSED)),
        ([(1, True)], (100, Label.QUALIFIED)),
        ([(1, False)], (0, Label.COLD)),
        # 7 of 10: exactly at Qualified's edge; 6.9 of 10 is not.
        ([(7, True), (3, False)], (70, Label.QUALIFIED)),
        ([(69, True), (31, False)], (69, Label.LUKEWARM)),
        # 4 of 10: exactly Lukewarm; 39 of 100: Cold.
        ([(4, True), (6, False)], (40, Label.LUKEWARM)),
        ([(39, True), (61, False)], (39, Label.COLD)),
        # Rounded down: 2 of 3 is 66, never shown as 67 and labelled below it.
        ([(2, True), (1, False)], (66, Label.LUKEWARM)),
    ],
)
def test_the_score_is_the_weight_answered_yes_of_the_weight_answered(answers, expected):
    assert assess(answers) == expected


def test_the_thresholds_are_the_callers():
    answers = [(1, True), (1, False)]  # 50
    assert assess(answers, qualified_from=50, lukewarm_from=20)[1] == Label.QUALIFIED
    assert assess(answers, qualified_from=51, lukewarm_from=50)[1] == Label.LUKEWARM
    assert assess(answers, qualified_from=90, lukewarm_from=51)[1] == Label.COLD


# Assessing -------------------------------------------------------------------


def test_assessing_saves_the_answers_the_label_and_a_timeline_entry(
    alice, alice_referral
):
    a, b, c, d = org_criteria(3, 2, 3, 1)
    assert alice_referral.label == Label.UNASSESSED
    changed = referral_assess(
        referral=alice_referral,
        user=alice,
        answers={a.pk: True, b.pk: True, c.pk: False, d.pk: True},
    )
    assert changed
    alice_referral.refresh_from_db()
    assert (alice_referral.score, alice_referral.label) == (66, Label.LUKEWARM)
    entry = Activity.objects.get(referral=alice_referral, kind="assessment")
    assert entry.text == "Label: Not assessed → Lukewarm (3 of 4 yes)"
    assert entry.author == alice

    referral_assess(referral=alice_referral, user=alice, answers={c.pk: True})
    alice_referral.refresh_from_db()
    assert (alice_referral.score, alice_referral.label) == (100, Label.QUALIFIED)
    assert ReferralAnswer.objects.filter(referral=alice_referral).count() == 4
    latest = Activity.objects.filter(kind="assessment").order_by("-pk").first()
    assert latest.text == "Label: Lukewarm → Qualified (4 of 4 yes)"
    # The same answers again: nothing written.
    assert not referral_assess(
        referral=alice_referral, user=alice, answers={c.pk: True}
    )
    assert Activity.objects.filter(kind="assessment").count() == 2


def test_an_assessment_is_no_contact_so_stale_stays(alice, alice_referral):
    (a,) = org_criteria(1)
    referral_assess(referral=alice_referral, user=alice, answers={a.pk: True})
    alice_referral.refresh_from_db()
    assert alice_referral.last_activity_at is None


def test_the_label_changes_only_when_the_answers_are_edited(alice, alice_referral):
    a, b = org_criteria(1, 1)
    referral_assess(
        referral=alice_referral, user=alice, answers={a.pk: True, b.pk: False}
    )
    alice_referral.refresh_from_db()
    assert alice_referral.label == Label.LUKEWARM  # 50
    thresholds_save(team=None, qualified_from=50, lukewarm_from=10)
    criterion_save(criterion=b, data={"weight": 5})
    criterion_create(team=None, question="New question", weight=5)
    alice_referral.refresh_from_db()
    assert (alice_referral.score, alice_referral.label) == (50, Label.LUKEWARM)
    # The same answer again is no edit; a changed one is, and is worked out
    # with today's weights and thresholds.
    assert not referral_assess(
        referral=alice_referral, user=alice, answers={a.pk: True}
    )
    referral_assess(referral=alice_referral, user=alice, answers={b.pk: True})
    alice_referral.refresh_from_db()
    assert (alice_referral.score, alice_referral.label) == (100, Label.QUALIFIED)


def test_archived_criteria_stay_on_the_referrals_that_answered_them(
    alice, alice_referral, alice_partner
):
    a, b = org_criteria(1, 1)
    referral_assess(
        referral=alice_referral, user=alice, answers={a.pk: True, b.pk: False}
    )
    criterion_save(criterion=b, data={"is_archived": True})
    rows = referral_assessment(referral=alice_referral)
    assert [(r["criterion"], r["answer"]) for r in rows] == [(a, True), (b, False)]
    # Still revisable on that referral, and still counted.
    referral_assess(referral=alice_referral, user=alice, answers={b.pk: True})
    alice_referral.refresh_from_db()
    assert alice_referral.score == 100
    # A new referral is not asked it.
    new = ReferralFactory(source=alice_partner)
    assert [r["criterion"] for r in referral_assessment(referral=new)] == [a]
    with pytest.raises(Exception, match="not one this referral is asked"):
        referral_assess(referral=new, user=alice, answers={b.pk: True})
    assert not ReferralAnswer.objects.filter(referral=new).exists()


def test_a_team_with_criteria_of_its_own_uses_them(north, south, alice, dave):
    org = org_criteria(1)
    own = criterion_create(team=north, question="North's own", weight=2)
    assert criteria_in_use(team_id=north.pk) == [own]
    assert criteria_in_use(team_id=south.pk) == org
    assert criteria_in_use(team_id=None) == org
    criterion_save(criterion=own, data={"is_archived": True})
    assert criteria_in_use(team_id=north.pk) == org  # none in use: the org's

    thresholds_save(team=None, qualified_from=80, lukewarm_from=50)
    thresholds_save(team=north, qualified_from=60, lukewarm_from=30)
    assert thresholds(team_id=north.pk) == {"qualified_from": 60, "lukewarm_from": 30}
    assert thresholds(team_id=south.pk) == {"qualified_from": 80, "lukewarm_from": 50}


def test_another_teams_criterion_is_refused(alice, alice_referral, south):
    org_criteria(1)
    theirs = criterion_create(team=south, question="South's", weight=1)
    with pytest.raises(Exception, match="not one this referral is asked"):
        referral_assess(referral=alice_referral, user=alice, answers={theirs.pk: True})


def test_reordering_swaps_neighbours_in_the_list(db):
    a, b, c = org_criteria(1, 1, 1)
    list_shift(row=c, up=True)
    assert list(Criterion.objects.order_by("position")) == [a, c, b]
    list_shift(row=a, up=True)  # already first
    assert list(Criterion.objects.order_by("position")) == [a, c, b]


# Logging with answers ----------------------------------------------------------


def test_logging_with_answers_assesses_in_the_same_transaction(alice, alice_partner):
    a, b = org_criteria(3, 1)
    referral = referral_log(
        user=alice,
        source=alice_partner,
        prospect_name="P",
        answers={a.pk: True, b.pk: False},
    )
    referral.refresh_from_db()
    assert (referral.score, referral.label) == (75, Label.QUALIFIED)
    assert referral.activities.get(kind="assessment").text == (
        "Label: Not assessed → Qualified (1 of 2 yes)"
    )


def test_logging_without_answers_leaves_it_not_assessed(alice, alice_partner):
    org_criteria(1)
    referral = referral_log(user=alice, source=alice_partner, prospect_name="P")
    referral.refresh_from_db()
    assert (referral.score, referral.label) == (None, Label.UNASSESSED)
    assert not referral.activities.exists()


def test_the_log_form_shows_the_checklist_and_saves_what_was_answered(
    client, alice, alice_partner
):
    a, b, c = org_criteria(1, 1, 1)
    client.force_login(alice)
    page = client.get(reverse("referral_new")).content.decode()
    assert "Referral criteria" in page and "Question 0" in page
    response = client.post(
        reverse("referral_new"),
        form_data(
            source=alice_partner.pk,
            **{f"criterion_{a.pk}": "yes", f"criterion_{b.pk}": "no"},
        ),
    )
    assert response.status_code == 302
    referral = Referral.objects.get()
    assert referral.label == Label.LUKEWARM  # 1 of 2 answered; c unanswered
    assert set(referral.answers.values_list("criterion", "yes")) == {
        (a.pk, True),
        (b.pk, False),
    }


def test_the_log_form_without_criteria_has_no_checklist(client, alice):
    client.force_login(alice)
    assert (
        "Referral criteria" not in client.get(reverse("referral_new")).content.decode()
    )


# The referral page ------------------------------------------------------------


def test_the_referral_page_fills_and_revises_the_answers(client, alice, alice_referral):
    a, b = org_criteria(1, 1)
    client.force_login(alice)
    url = reverse("referral_assess", args=[alice_referral.pk])
    page = client.get(alice_referral.get_absolute_url()).content.decode()
    assert 'class="lb lb-unassessed" id="referral-label">Not assessed' in page

    # Without JavaScript: back to the page.
    response = client.post(url, {f"criterion_{a.pk}": "yes"})
    assert response.status_code == 302
    alice_referral.refresh_from_db()
    assert alice_referral.label == Label.QUALIFIED

    # htmx: the card, the label and the timeline in place.
    response = client.post(
        url,
        {f"criterion_{a.pk}": "yes", f"criterion_{b.pk}": "no"},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="assessment-panel"' in html
    assert 'id="referral-label" hx-swap-oob="true">Lukewarm' in html
    assert 'id="activity-panel" hx-swap-oob="true"' in html
    assert "Label: Qualified → Lukewarm (1 of 2 yes)" in html
    assert 'value="no" autocomplete="off" checked' in html


def test_a_rep_gets_404_assessing_another_reps_referral(client, alice, bob, carol):
    (a,) = org_criteria(1)
    bobs = ReferralFactory(source=PartnerFactory(owner=bob))
    url = reverse("referral_assess", args=[bobs.pk])
    client.force_login(alice)
    assert client.post(url, {f"criterion_{a.pk}": "yes"}).status_code == 404
    client.force_login(carol)  # bob's manager may
    assert client.post(url, {f"criterion_{a.pk}": "yes"}).status_code == 302
    bobs.refresh_from_db()
    assert bobs.label == Label.QUALIFIED


# The board, the list, the CSV ---------------------------------------------------


def test_the_label_shows_on_the_board_and_in_the_list(client, alice, alice_partner):
    (a,) = org_criteria(1)
    hot = referral_log(
        user=alice, source=alice_partner, prospect_name="Hot", answers={a.pk: True}
    )
    referral_log(user=alice, source=alice_partner, prospect_name="Unknown")
    client.force_login(alice)
    board = client.get(reverse("board")).content.decode()
    assert f'id="card-{hot.pk}"' in board
    assert '<i class="lb-qualified">Qualified</i>' in board
    assert "Not assessed" not in board  # a card says nothing: kept light
    listed = client.get(reverse("referral_list")).content.decode()
    assert '<span class="lb lb-qualified">Qualified</span>' in listed


def test_a_full_board_of_labelled_cards_stays_under_80_kb(client, alice):
    """120 cards (every column full), long names, each labelled Lukewarm
    (the longest label): the board still weighs under 80 KB."""
    sources = [PartnerFactory(owner=alice, name="S" * 60) for _ in range(5)]
    stages = list(Stage.objects.order_by("position"))
    for n in range(400):
        stage = stages[n % len(stages)]
        ReferralFactory(
            owner=alice,
            source=sources[n % 5],
            prospect_name=f"Prospect with a long name {n:04d}",
            prospect_company="Company of a long name, Incorporated",
            stage=stage,
            closed_at=timezone.now() if stage.is_closed else None,
        )
    Referral.objects.update(label=Label.LUKEWARM, score=55)
    client.force_login(alice)
    response = client.get(reverse("board"))
    cards = sum(len(column["cards"]) for column in response.context["columns"])
    assert cards == 120
    assert response.content.decode().count(">Lukewarm</i>") == 120
    assert len(response.content) < 80_000


def test_the_list_filters_and_sorts_by_label(client, alice, alice_partner):
    a, b = org_criteria(1, 1)

    def logged(name, answers):
        return referral_log(
            user=alice, source=alice_partner, prospect_name=name, answers=answers
        )

    cold = logged("Cold one", {a.pk: False, b.pk: False})
    none = logged("Nothing yet", {})
    hot = logged("Hot one", {a.pk: True, b.pk: True})
    warm = logged("Warm one", {a.pk: True, b.pk: False})
    client.force_login(alice)

    def names(**params):
        response = client.get(reverse("referral_list"), params)
        return [row["prospect_name"] for row in response.context["page"].object_list]

    assert names(label="qualified") == ["Hot one"]
    assert names(label="unassessed") == ["Nothing yet"]
    assert names(sort="label") == ["Hot one", "Warm one", "Cold one", "Nothing yet"]
    assert {hot.pk, warm.pk, cold.pk, none.pk}


def test_the_csv_export_carries_the_label(client, alice, alice_partner):
    (a,) = org_criteria(1)
    referral_log(
        user=alice, source=alice_partner, prospect_name="Hot", answers={a.pk: True}
    )
    referral_log(user=alice, source=alice_partner, prospect_name="Unknown")
    client.force_login(alice)
    header, *rows = csv_rows(client.get(reverse("referral_export")))
    label, score = header.index("Label"), header.index("Score")
    found = {row[0]: (row[label], row[score]) for row in rows}
    assert found == {"Hot": ("Qualified", "100"), "Unknown": ("Not assessed", "")}


# Managing the criteria ----------------------------------------------------------


def test_a_rep_reads_the_criteria_and_may_not_change_them(client, alice, north):
    criterion_create(team=None, question="Has a need this year", weight=3)
    client.force_login(alice)
    page = client.get(reverse("criteria"))
    assert page.status_code == 200
    html = page.content.decode()
    content = html.split("</nav>", 1)[1]  # not the menu's logout form
    assert "Has a need this year" in content and 'method="post"' not in content
    add = {"team": "", "new-question": "Mine", "new-weight": "1"}
    assert client.post(reverse("criterion_add"), add).status_code == 403
    add["team"] = north.pk
    assert client.post(reverse("criterion_add"), add).status_code == 403
    assert not Criterion.objects.filter(question="Mine").exists()


def test_a_manager_keeps_their_teams_list_only(client, carol, north, south):
    client.force_login(carol)
    page = client.get(reverse("criteria"))
    assert page.context["team"] == north  # their team by default
    response = client.post(
        reverse("criterion_add"),
        {"team": north.pk, "new-question": "North asks", "new-weight": "2"},
    )
    assert response.status_code == 302
    assert Criterion.objects.get(question="North asks").team == north
    for team in ("", south.pk):  # the organisation's or another team's: no
        response = client.post(
            reverse("criterion_add"),
            {"team": team, "new-question": "Not mine", "new-weight": "2"},
        )
        assert response.status_code == 403
    response = client.post(
        reverse("thresholds_update"),
        {"team": north.pk, "qualified_from": "60", "lukewarm_from": "30"},
    )
    assert response.status_code == 302
    assert CriteriaSettings.objects.get(team=north).qualified_from == 60
    # The organisation's list looked at by a manager: read-only.
    html = client.get(reverse("criteria"), {"team": ""}).content.decode()
    assert 'name="new-question"' not in html


def test_an_admin_keeps_the_organisations_list_and_any_teams(client, admin, south):
    client.force_login(admin)
    assert client.get(reverse("criteria")).context["team"] is None
    client.post(
        reverse("criterion_add"),
        {"team": "", "new-question": "  Has a   need  ", "new-weight": "3"},
    )
    criterion = Criterion.objects.get()
    assert (criterion.team, criterion.question) == (None, "Has a need")
    response = client.post(
        reverse("criterion_update", args=[criterion.pk]),
        {
            "team": "",
            f"c{criterion.pk}-question": "Has a need this year",
            f"c{criterion.pk}-weight": "9",
        },
    )
    assert response.status_code == 400  # weight 1 to 5, said next to it
    response = client.post(
        reverse("criterion_update", args=[criterion.pk]),
        {
            "team": "",
            f"c{criterion.pk}-question": "Has a need this year",
            f"c{criterion.pk}-weight": "4",
            f"c{criterion.pk}-is_archived": "on",
        },
    )
    assert response.status_code == 302
    criterion.refresh_from_db()
    assert (criterion.question, criterion.weight, criterion.is_archived) == (
        "Has a need this year",
        4,
        True,
    )
    client.post(reverse("statement_add"), {"team": south.pk, "newv-text": "Fast."})
    statement = ValueStatement.objects.get()
    assert statement.team == south
    client.post(
        reverse("statement_update", args=[statement.pk]),
        {"team": south.pk, "delete": "1"},
    )
    assert not ValueStatement.objects.exists()
    response = client.post(
        reverse("thresholds_update"),
        {"team": "", "qualified_from": "40", "lukewarm_from": "60"},
    )
    assert response.status_code == 400
    assert "Lukewarm must start below Qualified." in response.content.decode()


def test_a_criterion_of_another_list_is_not_found_through_this_one(
    client, admin, north
):
    (a,) = org_criteria(1)
    client.force_login(admin)
    url = reverse("criterion_reorder", args=[a.pk])
    assert client.post(url, {"team": north.pk, "direction": "up"}).status_code == 404

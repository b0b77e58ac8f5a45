import socket
import threading
import time
from datetime import timedelta

import pytest
from django.utils import timezone

from referrals.rollups import rollups_rebuild
from referrals.services import (
    FINAL_VALUE_REQUIRED,
    LOST_REASON_REQUIRED,
    referral_log,
    referral_move,
)
from tests.factories import PartnerFactory, ReferralFactory, stage
from tests.helpers import broker_unreachable

URL = "/referrals/board/"


def move_url(referral):
    return f"/referrals/{referral.pk}/move/"


def columns(response):
    return {c["stage"].name: c for c in response.context["columns"]}


def test_the_board_has_a_column_per_stage_with_count_and_value(
    client, alice, alice_partner
):
    ReferralFactory.create_batch(2, source=alice_partner, estimated_value=1500)
    ReferralFactory(
        source=alice_partner, stage=stage("Proposal sent"), estimated_value=9000
    )
    # The open columns count from the summaries the services keep current;
    # the factory writes referrals without them.
    rollups_rebuild()
    client.force_login(alice)
    response = client.get(URL)
    board = columns(response)
    assert list(board) == [
        "Received",
        "Contacted",
        "Meeting held",
        "Proposal sent",
        "Won",
        "Lost",
    ]
    assert (board["Received"]["count"], board["Received"]["total"]) == (2, 3000)
    assert (board["Proposal sent"]["count"], board["Proposal sent"]["total"]) == (
        1,
        9000,
    )
    assert "3,000" in response.content.decode()


def test_a_card_past_its_stage_sla_is_marked_stale(client, alice, alice_partner):
    ReferralFactory(
        source=alice_partner,
        prospect_name="Old Olga",
        stage_entered_at=timezone.now() - timedelta(days=3),  # Received allows 2
    )
    ReferralFactory(source=alice_partner, prospect_name="Fresh Fred")
    client.force_login(alice)
    page = client.get(URL).content.decode()
    olga = page[page.index("Old Olga") - 400 : page.index("Old Olga")]
    fred = page[page.index("Fresh Fred") - 400 : page.index("Fresh Fred")]
    assert "is-stale" in olga
    assert "is-stale" not in fred
    assert "3 d in stage" in page


def test_recent_activity_keeps_a_referral_from_going_stale(
    client, alice, alice_partner
):
    """Past the SLA but called yesterday: not stale on the board or in the list."""
    now = timezone.now()
    ReferralFactory(
        source=alice_partner,
        prospect_name="Called Carla",
        stage_entered_at=now - timedelta(days=5),  # Received allows 2
        last_activity_at=now - timedelta(days=1),
    )
    ReferralFactory(
        source=alice_partner,
        prospect_name="Quiet Quinn",
        stage_entered_at=now - timedelta(days=5),
        last_activity_at=now - timedelta(days=4),  # before the 2-day limit
    )
    client.force_login(alice)
    page = client.get(URL).content.decode()
    carla = page[page.index("Called Carla") - 400 : page.index("Called Carla")]
    quinn = page[page.index("Quiet Quinn") - 400 : page.index("Quiet Quinn")]
    assert "is-stale" not in carla
    assert "is-stale" in quinn
    listed = client.get("/referrals/?stale=on").content.decode()
    assert "Quiet Quinn" in listed and "Called Carla" not in listed


def test_won_and_lost_columns_show_the_last_30_days(client, alice, alice_partner):
    now = timezone.now()
    ReferralFactory(
        source=alice_partner, stage=stage("Won"), closed_at=now - timedelta(days=5)
    )
    ReferralFactory(
        source=alice_partner, stage=stage("Won"), closed_at=now - timedelta(days=90)
    )
    client.force_login(alice)
    assert columns(client.get(URL))["Won"]["count"] == 1


def test_moving_with_htmx_returns_the_board(client, alice, alice_referral):
    client.force_login(alice)
    response = client.post(
        move_url(alice_referral),
        {"stage": stage("Contacted").pk, "from": "board"},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    assert response.templates[0].name == "referrals/_board.html"
    assert "Paula Prospect moved to Contacted." in response.content.decode()
    alice_referral.refresh_from_db()
    assert alice_referral.stage.name == "Contacted"


def test_moving_without_javascript_redirects_back(client, alice, alice_referral):
    client.force_login(alice)
    response = client.post(
        move_url(alice_referral),
        {"stage": stage("Meeting held").pk, "next": "/referrals/board/"},
    )
    assert response.status_code == 302
    assert response["Location"] == "/referrals/board/"
    alice_referral.refresh_from_db()
    assert alice_referral.meeting_held_at is not None


def test_an_outside_next_url_is_ignored(client, alice, alice_referral):
    client.force_login(alice)
    response = client.post(
        move_url(alice_referral),
        {"stage": stage("Contacted").pk, "next": "https://evil.example/"},
    )
    assert response["Location"] == f"/referrals/{alice_referral.pk}/"


def test_won_asks_for_the_final_value_on_the_card(client, alice, alice_referral):
    client.force_login(alice)
    won = stage("Won").pk
    response = client.post(
        move_url(alice_referral),
        {"stage": won, "from": "board"},
        HTTP_HX_REQUEST="true",
    )
    assert response["HX-Retarget"] == f"#move-{alice_referral.pk}"
    page = response.content.decode()
    assert FINAL_VALUE_REQUIRED in page
    assert f'<option value="{won}" selected>' in page  # the choice is kept
    response = client.post(
        move_url(alice_referral),
        {"stage": won, "final_value": "25000", "from": "board"},
        HTTP_HX_REQUEST="true",
    )
    alice_referral.refresh_from_db()
    assert (alice_referral.stage.name, alice_referral.estimated_value) == ("Won", 25000)


def test_lost_without_javascript_asks_for_a_reason_on_a_page(
    client, alice, alice_referral
):
    client.force_login(alice)
    response = client.post(
        move_url(alice_referral),
        {"stage": stage("Lost").pk, "next": "/referrals/board/"},
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert LOST_REASON_REQUIRED in page
    assert 'value="/referrals/board/"' in page  # still goes back to the board after
    alice_referral.refresh_from_db()
    assert alice_referral.stage.name == "Received"


def test_opening_the_move_form_moves_nothing(client, alice, bob, alice_referral):
    client.force_login(alice)
    assert client.get(move_url(alice_referral)).status_code == 200
    alice_referral.refresh_from_db()
    assert alice_referral.stage.name == "Received"
    client.force_login(bob)  # another rep's card: not even its form
    assert client.get(move_url(alice_referral)).status_code == 404


def test_another_rep_cannot_move_a_card(client, bob, alice_referral):
    client.force_login(bob)
    response = client.post(
        move_url(alice_referral), {"stage": stage("Won").pk, "final_value": 1}
    )
    assert response.status_code == 404
    alice_referral.refresh_from_db()
    assert alice_referral.stage.name == "Received"


def test_an_archived_stage_is_not_offered(client, alice, alice_referral):
    proposal = stage("Proposal sent")
    proposal.is_archived = True
    proposal.save()
    client.force_login(alice)
    response = client.get(URL)
    assert "Proposal sent" not in response.content.decode()
    response = client.get(move_url(alice_referral), HTTP_HX_REQUEST="true")
    assert "Proposal sent" not in response.content.decode()
    response = client.post(move_url(alice_referral), {"stage": proposal.pk})
    assert response.status_code == 400


def make(owner, count):
    partners = [PartnerFactory(owner=owner) for _ in range(5)]
    for i in range(count):
        ReferralFactory(
            source=partners[i % 5],
            stage=stage(
                ["Received", "Contacted", "Proposal sent", "Won", "Lost"][i % 5]
            ),
            closed_at=timezone.now() if i % 5 >= 3 else None,
        )


@pytest.mark.parametrize("rows", [10, 200])
def test_the_board_runs_a_constant_number_of_queries(
    client, alice, django_assert_num_queries, rows
):
    make(alice, rows)
    rollups_rebuild()
    client.force_login(alice)
    # 1 the session, 2 the user with role and team; 3 the stages, 4 every
    # column's count and value, 5 the cards.
    with django_assert_num_queries(5):
        response = client.get(URL)
    assert response.status_code == 200
    assert sum(c["count"] for c in response.context["columns"]) == rows


def test_open_counts_follow_what_the_services_change(client, alice, alice_partner):
    """Logged and moved through the app: the columns count it at once."""
    referral = referral_log(
        user=alice,
        source=alice_partner,
        prospect_name="Nina New",
        received_on=timezone.localdate(),
        estimated_value=4000,
    )
    client.force_login(alice)
    assert (columns(client.get(URL))["Received"]["count"]) == 1
    referral_move(referral=referral, to_stage=stage("Contacted"), user=alice)
    board = columns(client.get(URL))
    assert (board["Received"]["count"], board["Contacted"]["count"]) == (0, 1)
    assert board["Contacted"]["total"] == 4000
    assert [card["prospect_name"] for card in board["Contacted"]["cards"]] == [
        "Nina New"
    ]


def test_each_column_shows_its_oldest_cards_and_a_manager_their_teams(
    client, alice, bob, carol, dave
):
    now = timezone.now()
    # Each rep an hour older than the one before (not their id: on
    # PostgreSQL ids grow across the whole test run, and a few hundred hours
    # put the Won cards past the board's 30 days).
    for hours, owner in enumerate((alice, bob, dave)):
        source = PartnerFactory(owner=owner)
        for days in range(30):  # 30 each in Received, 1 to 30 days in it
            ReferralFactory(
                source=source,
                prospect_name=f"{owner.display_name} {days}",
                stage_entered_at=now - timedelta(days=days + 1, hours=hours),
            )
        ReferralFactory(
            source=source,
            prospect_name=f"{owner.display_name} won",
            stage=stage("Won"),
            closed_at=now - timedelta(days=1, hours=hours),  # alice's latest
        )
    rollups_rebuild()
    client.force_login(carol)
    board = columns(client.get(URL))
    received = board["Received"]
    assert received["count"] == 60  # alice's and bob's, not dave's
    shown = [card["prospect_name"] for card in received["cards"]]
    # The 25 oldest: both reps' 18 to 29 days, then bob's 17 (his hour older).
    oldest = {
        f"{rep} {days}" for rep in ("Alice Rep", "Bob Rep") for days in range(18, 30)
    }
    assert shown[0] == "Bob Rep 29"
    assert set(shown) == oldest | {"Bob Rep 17"}
    assert [card["prospect_name"] for card in board["Won"]["cards"]] == [
        "Alice Rep won",
        "Bob Rep won",
    ]
    assert board["Won"]["count"] == 2
    assert "Dave Rep" not in client.get(URL).content.decode()


@pytest.fixture
def hung_broker():
    """A TCP server that accepts connections and never answers."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    held, stop = [], threading.Event()

    def accept():
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(server.accept()[0])
            except TimeoutError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield f"redis://127.0.0.1:{server.getsockname()[1]}/0"
    stop.set()
    thread.join()
    for conn in held:
        conn.close()
    server.close()


@pytest.mark.django_db(transaction=True)
def test_a_hung_broker_does_not_hang_the_web_request(
    client, alice, alice_partner, hung_broker
):
    referral = ReferralFactory(source=alice_partner)
    client.force_login(alice)
    with broker_unreachable(hung_broker):
        started = time.monotonic()
        response = client.post(
            f"/referrals/{referral.pk}/move/",
            {"stage": stage("Won").pk, "final_value": "10"},
        )
        elapsed = time.monotonic() - started
    assert response.status_code == 302  # the sale is saved...
    assert elapsed < 15  # ...without waiting forever on the broker
    assert (
        referral.thank_yous.get(moment="won").status == "scheduled"
    )  # the sweep sends it

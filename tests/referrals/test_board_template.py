"""The board's links come from its template; the selector's cards are data.
A card is what it shows: no menu or form on it. "Move" fetches the one move
form (htmx) or opens its page."""

from django.test import Client
from django.urls import reverse

from referrals.models import Stage
from referrals.services import referral_log, stage_save
from tests.factories import PartnerFactory, ReferralFactory, stage


def test_each_card_links_to_its_page_and_its_move_form(client, alice, alice_partner):
    referrals = [
        referral_log(user=alice, source=alice_partner, prospect_name=f"P{n}")
        for n in range(3)
    ]
    client.force_login(alice)
    response = client.get(reverse("board"))
    page = response.content.decode()
    page = page[page.index('<div id="board">') :]  # not the page's logout form
    for referral in referrals:
        assert f'href="{reverse("referral_detail", args=[referral.pk])}"' in page
        move = reverse("referral_move", args=[referral.pk]) + "?from=board"
        assert f'href="{move}" hx-get="{move}"' in page
    assert "csrfmiddlewaretoken" not in page and "<select" not in page
    cards = [card for column in response.context["columns"] for card in column["cards"]]
    assert not {"url", "move_url"} & {key for card in cards for key in card}


def test_the_move_form_offers_the_stages_in_use_and_proposes_the_next(
    client, alice, alice_partner
):
    referral = referral_log(user=alice, source=alice_partner, prospect_name="P")
    archived = stage("Proposal sent")
    stage_save(stage=archived, data={"is_archived": True})
    client.force_login(alice)
    url = reverse("referral_move", args=[referral.pk]) + "?from=board"

    on_card = client.get(url, HTTP_HX_REQUEST="true")
    assert on_card["HX-Retarget"] == f"#move-{referral.pk}"
    form = on_card.content.decode()
    for offered in Stage.objects.filter(is_archived=False):
        assert f'value="{offered.pk}"' in form
    assert f'value="{archived.pk}"' not in form
    assert f'<option value="{stage("Contacted").pk}" selected>' in form
    assert 'name="from" value="board"' in form

    own_page = client.get(url)  # without JavaScript: the move page, back to the board
    assert own_page.status_code == 200
    assert 'name="next" value="/referrals/board/"' in own_page.content.decode()


def test_a_move_from_the_board_posts_with_the_forms_csrf_token(alice, alice_partner):
    referral = referral_log(user=alice, source=alice_partner, prospect_name="P")
    client = Client(enforce_csrf_checks=True)
    client.force_login(alice)
    url = reverse("referral_move", args=[referral.pk])
    form = client.get(f"{url}?from=board", HTTP_HX_REQUEST="true").content.decode()
    token = form.split('name="csrfmiddlewaretoken" value="')[1].split('"')[0]
    to = Stage.objects.filter(kind=Stage.Kind.OPEN).order_by("position")[1]
    response = client.post(url, {"csrfmiddlewaretoken": token, "stage": to.pk})
    assert response.status_code == 302
    referral.refresh_from_db()
    assert referral.stage == to


def test_a_full_board_is_light(client, alice):
    """Every column full (the most cards a board shows), with long names:
    the page stays well under 80 KB (it was 217 KB for 120 cards with a menu
    and a form on each)."""
    sources = [PartnerFactory(owner=alice, name="S" * 60) for _ in range(5)]
    for n in range(400):
        ReferralFactory(
            owner=alice,
            source=sources[n % 5],
            prospect_name=f"Prospect with a long name {n:04d}",
            prospect_company="Company of a long name, Incorporated",
            stage=Stage.objects.filter(kind=Stage.Kind.OPEN)[n % 4],
        )
    client.force_login(alice)
    response = client.get(reverse("board"))
    cards = sum(len(column["cards"]) for column in response.context["columns"])
    assert cards >= 80
    assert len(response.content) / cards < 600  # bytes per card, chrome included
    assert len(response.content) < 80_000

"""The board's links, CSRF field and move menu come from its template; the
selector's cards are data."""

from django.urls import reverse

from referrals.models import Stage
from referrals.services import referral_log, stage_save


def test_each_card_links_and_posts_through_urls_the_template_builds(
    client, alice, alice_partner
):
    referrals = [
        referral_log(user=alice, source=alice_partner, prospect_name=f"P{n}")
        for n in range(3)
    ]
    archived = Stage.objects.filter(kind=Stage.Kind.OPEN).last()
    stage_save(stage=archived, data={"is_archived": True})
    client.force_login(alice)
    response = client.get(reverse("board"))
    page = response.content.decode()
    page = page[page.index('<div id="board">') :]  # not the page's logout form
    for referral in referrals:
        assert f'href="{reverse("referral_detail", args=[referral.pk])}"' in page
        move = reverse("referral_move", args=[referral.pk])
        assert f'action="{move}" hx-post="{move}"' in page
    assert page.count('name="csrfmiddlewaretoken"') == 3
    offered = [s for s in Stage.objects.all() if not s.is_archived]
    for stage in offered:
        assert page.count(f'<option value="{stage.pk}">{stage.name}</option>') == 3
    assert f'<option value="{archived.pk}">' not in page
    cards = [card for column in response.context["columns"] for card in column["cards"]]
    assert not {"url", "move_url"} & {key for card in cards for key in card}


def test_a_move_from_the_board_posts_with_the_templates_csrf_token(
    alice, alice_partner
):
    from django.test import Client

    referral = referral_log(user=alice, source=alice_partner, prospect_name="P")
    client = Client(enforce_csrf_checks=True)
    client.force_login(alice)
    page = client.get(reverse("board")).content.decode()
    token = page.split('name="csrfmiddlewaretoken" value="')[1].split('"')[0]
    to = Stage.objects.filter(kind=Stage.Kind.OPEN).order_by("position")[1]
    response = client.post(
        reverse("referral_move", args=[referral.pk]),
        {"csrfmiddlewaretoken": token, "stage": to.pk, "from": "board"},
    )
    assert response.status_code == 302
    referral.refresh_from_db()
    assert referral.stage == to

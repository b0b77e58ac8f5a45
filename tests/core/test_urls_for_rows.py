from django.urls import reverse

from core.urls_for_rows import url_maker


def test_url_maker_gives_what_reverse_gives():
    for name in ("referral_detail", "referral_move"):
        make = url_maker(name)
        for pk in (1, 7, 42, 1_000_000):
            assert make(pk) == reverse(name, args=[pk])


def test_the_board_links_each_card_to_its_referral_and_move_form(
    client, alice, alice_referral
):
    client.force_login(alice)
    page = client.get("/referrals/board/").content.decode()
    assert f'href="{reverse("referral_detail", args=[alice_referral.pk])}"' in page
    move = reverse("referral_move", args=[alice_referral.pk])
    assert f'href="{move}?from=board"' in page  # the template's prefix + pk

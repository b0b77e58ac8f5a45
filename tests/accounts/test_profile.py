def test_a_rep_sets_signature_and_time_zone(client, alice):
    client.force_login(alice)
    response = client.post(
        "/accounts/profile/",
        {
            "display_name": "Alice R.",
            "time_zone": "Europe/Berlin",
            "signature": "Alice\nAcme",
        },
    )
    assert response.status_code == 302
    alice.refresh_from_db()
    assert (alice.display_name, alice.time_zone, alice.signature) == (
        "Alice R.",
        "Europe/Berlin",
        "Alice\nAcme",
    )


def test_an_unknown_time_zone_is_refused_and_the_rest_kept(client, alice):
    client.force_login(alice)
    response = client.post(
        "/accounts/profile/",
        {"display_name": "Typed", "time_zone": "Mars/Olympus", "signature": ""},
    )
    page = response.content.decode()
    assert "Select a valid choice" in page
    assert 'value="Typed"' in page


def test_times_show_in_the_users_time_zone(client, alice, alice_referral):
    import datetime as dt

    from django.utils import timezone

    from referrals.models import Activity

    Activity.objects.create(
        referral=alice_referral,
        kind="note",
        text="hello",
        at=timezone.datetime(2026, 11, 23, 12, 0, tzinfo=dt.UTC),
    )
    alice.time_zone = "Asia/Tokyo"
    alice.save()
    client.force_login(alice)
    page = client.get(alice_referral.get_absolute_url()).content.decode()
    assert "Nov 23, 2026 21:00" in page  # 12:00 UTC is 21:00 in Tokyo

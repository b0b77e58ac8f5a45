"""The Settings page (admins): thank-you moments and a way to the stages."""

from thanks.models import Moment, ThankYouMoment


def test_the_page_is_titled_as_the_navigation_names_it(client, admin):
    client.force_login(admin)
    html = client.get("/thanks/settings/").content.decode()

    assert "<title>Settings · Referral CRM</title>" in html
    assert '<h1 class="h3 page-title">Settings</h1>' in html
    assert '<h2 id="thank-yous" class="h5">Thank-yous</h2>' in html
    assert 'href="/referrals/stages/">Edit pipeline stages</a>' in html
    assert 'aria-current="page" href="/thanks/settings/">Settings</a>' in html


def test_the_settings_pages_below_it_keep_settings_current(client, admin):
    client.force_login(admin)
    for path in ("/thanks/settings/received/", "/thanks/settings/ask/"):
        html = client.get(path).content.decode()
        assert 'aria-current="page" href="/thanks/settings/">Settings</a>' in html


def test_times_read_as_a_person_reads_them(client, admin):
    ThankYouMoment.objects.filter(moment=Moment.WON).update(
        within_minutes=24 * 60, email_delay_minutes=240
    )
    ThankYouMoment.objects.filter(moment=Moment.RECEIVED).update(
        within_minutes=90, email_delay_minutes=30
    )
    client.force_login(admin)
    html = client.get("/thanks/settings/").content.decode()

    assert ">1 day</td>" in html
    assert ">after 4 h</td>" in html
    assert ">1 h 30 min</td>" in html
    assert ">after 30 min</td>" in html
    assert "1440 min" not in html


def test_every_column_has_a_header(client, admin):
    client.force_login(admin)
    html = client.get("/thanks/settings/").content.decode()

    assert '<th scope="col"></th>' not in html
    assert '<span class="visually-hidden">Edit</span></th>' in html

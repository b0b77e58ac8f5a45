"""The ask page (/partners/<id>/ask/), Today's Retry of a failed ask email,
and the ask email's settings with their preview (admins)."""

from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone

from partners.models import Ask, Outcome, Partner
from tests.factories import PartnerFactory
from tests.helpers import PERSONAS, SEES_ALICES
from thanks.models import AskEmail, AskTemplate
from thanks.views import ASKED

TODAY = timezone.localdate()


@pytest.fixture
def customer(alice):
    customer = PartnerFactory(
        owner=alice, name="Cleo Customer", company="Cleo Co", kind="customer"
    )
    Outcome.objects.create(
        partner=customer,
        promised="Migrate 40 mailboxes",
        promised_by=TODAY - timedelta(days=5),
        delivered="40 mailboxes migrated",
        delivered_on=TODAY - timedelta(days=7),
        in_full="yes",
        on_budget="yes",
        satisfaction=5,
    )
    return customer


@pytest.fixture
def everyone(alice, bob, carol, dave, erin, admin):
    return {
        "alice": alice,
        "bob": bob,
        "carol": carol,
        "dave": dave,
        "erin": erin,
        "admin": admin,
    }


@pytest.mark.parametrize("persona", PERSONAS)
def test_the_ask_page_follows_the_scoping_rule(client, everyone, customer, persona):
    if persona != "anonymous":
        client.force_login(everyone[persona])
    url = f"/partners/{customer.pk}/ask/"
    assert client.get(url).status_code == SEES_ALICES[persona]
    response = client.post(url, {"channel": "phone"})
    assert response.status_code == {200: 302, 302: 302, 404: 404}[SEES_ALICES[persona]]
    assert Ask.objects.exists() == (SEES_ALICES[persona] == 200)


def test_a_ready_customer_is_asked_by_email(client, alice, customer):
    client.force_login(alice)
    page = client.get(f"/partners/{customer.pk}/ask/")
    text = page.content.decode()
    assert "Ready to ask." in text and "“Migrate 40 mailboxes” delivered on" in text
    assert "A small favour, Cleo?" in text  # the email, as they get it
    assert settings.SITE_URL + alice.team.card_path() in text
    response = client.post(
        f"/partners/{customer.pk}/ask/", {"channel": "email", "note": "Q4"}
    )
    assert response.status_code == 302
    assert response["Location"] == f"/partners/{customer.pk}/"
    ask = Ask.objects.get()
    assert (ask.channel, ask.note, ask.asked_by) == ("email", "Q4", alice)
    assert ask.email.status == "scheduled"
    page = client.get(response["Location"]).content.decode()
    assert ASKED["email"].format(name="Cleo Customer") in page


def test_asking_twice_by_email_sends_one_email_and_says_why(client, alice, customer):
    client.force_login(alice)
    url = f"/partners/{customer.pk}/ask/"
    assert client.post(url, {"channel": "email"}).status_code == 302
    again = client.post(url, {"channel": "email", "note": "double click"})
    assert again.status_code == 400
    text = again.content.decode()
    assert "An ask email to Cleo Customer went out a moment ago" in text
    assert 'id="error_1_id_channel"' in text and "double click" in text
    assert Ask.objects.count() == AskEmail.objects.count() == 1


def test_a_customer_not_ready_is_said_so_and_may_be_asked_anyway(
    client, alice, customer
):
    Ask.objects.create(
        partner=customer, channel="phone", asked_at=timezone.now() - timedelta(days=3)
    )
    client.force_login(alice)
    text = client.get(f"/partners/{customer.pk}/ask/").content.decode()
    assert "Not suggested now." in text and "(phone): not again before" in text
    assert "Ask anyway" in text


@pytest.mark.parametrize("kind", ["partner", "network", "other"])
def test_no_page_offers_an_ask_of_a_source_that_is_not_a_customer(client, alice, kind):
    source = PartnerFactory(owner=alice, kind=kind)
    client.force_login(alice)
    assert client.get(f"/partners/{source.pk}/ask/").status_code == 404
    assert (
        client.post(f"/partners/{source.pk}/ask/", {"channel": "phone"}).status_code
        == 404
    )
    assert not Ask.objects.exists()


def test_a_customer_who_asked_not_to_be_is_offered_no_ask(client, alice, customer):
    Partner.objects.filter(pk=customer.pk).update(do_not_ask=True)
    client.force_login(alice)
    text = client.get(f"/partners/{customer.pk}/ask/").content.decode()
    assert "asked not to be asked for referrals" in text
    assert 'name="channel"' not in text
    response = client.post(f"/partners/{customer.pk}/ask/", {"channel": "phone"})
    assert response.status_code == 400
    assert not Ask.objects.exists()


def test_a_customer_who_takes_no_email_is_asked_in_person_or_by_phone(
    client, alice, customer
):
    Partner.objects.filter(pk=customer.pk).update(email_consent="out")
    client.force_login(alice)
    text = client.get(f"/partners/{customer.pk}/ask/").content.decode()
    assert 'value="email"' not in text and 'value="in_person"' in text
    assert "A small favour" not in text  # no email to preview
    response = client.post(
        f"/partners/{customer.pk}/ask/", {"channel": "email", "note": "kept"}
    )
    assert response.status_code == 400
    assert "Select a valid choice" in response.content.decode()
    assert "kept" in response.content.decode()
    assert not Ask.objects.exists()


def test_a_bad_post_keeps_what_was_typed(client, alice, customer):
    client.force_login(alice)
    response = client.post(
        f"/partners/{customer.pk}/ask/", {"note": "She thought of Dan & Co"}
    )
    assert response.status_code == 400
    text = response.content.decode()
    assert "This field is required." in text
    assert "She thought of Dan &amp; Co" in text
    too_long = client.post(
        f"/partners/{customer.pk}/ask/", {"channel": "phone", "note": "x" * 1001}
    )
    assert too_long.status_code == 400
    assert "at most 1000 characters" in too_long.content.decode()


# -- Retry of a failed ask email (Today) ------------------------------------------


@pytest.fixture
def failed(alice, customer):
    ask = Ask.objects.create(partner=customer, channel="email", asked_by=alice)
    return AskEmail.objects.create(
        ask=ask, source=customer, status="failed", attempts=5, last_error="550 no"
    )


@pytest.mark.parametrize("persona", PERSONAS)
def test_retry_follows_the_scoping_rule(client, everyone, failed, persona):
    if persona != "anonymous":
        client.force_login(everyone[persona])
    response = client.post(f"/thanks/asks/{failed.pk}/retry/", {"next": "/"})
    assert response.status_code == {200: 302, 302: 302, 404: 404}[SEES_ALICES[persona]]
    failed.refresh_from_db()
    assert (failed.status == "scheduled") == (SEES_ALICES[persona] == 200)


def test_retry_needs_a_post_and_a_failed_email(client, alice, failed):
    client.force_login(alice)
    assert client.get(f"/thanks/asks/{failed.pk}/retry/").status_code == 405
    client.post(f"/thanks/asks/{failed.pk}/retry/")
    response = client.post(f"/thanks/asks/{failed.pk}/retry/", follow=True)
    assert "This email is not waiting for a retry." in response.content.decode()


# -- The ask email's settings (admins) -----------------------------------------------


def test_only_admins_edit_the_ask_email(client, alice, carol, admin):
    for user in (alice, carol):
        client.force_login(user)
        assert client.get("/thanks/settings/ask/").status_code == 403
        assert client.post("/thanks/settings/ask/preview/", {}).status_code == 403
    client.force_login(admin)
    page = client.get("/thanks/settings/").content.decode()
    assert 'href="/thanks/settings/ask/"' in page


def test_the_settings_preview_the_email_for_a_real_customer(client, admin, customer):
    PartnerFactory(owner=customer.owner, name="Zed Notready", kind="customer")
    client.force_login(admin)
    response = client.get("/thanks/settings/ask/")
    preview = response.context["preview"]
    assert preview["customer"] == customer  # the one ready to ask first
    assert preview["subject"] == "A small favour, Cleo?"
    assert preview["card_url"] == (settings.SITE_URL + customer.owner.team.card_path())
    typed = client.post(
        "/thanks/settings/ask/preview/",
        {"subject": "Hi {{ source_company }}", "body": "Body for {{ source_name }}"},
    )
    assert typed.context["preview"]["subject"] == "Hi Cleo Co"
    assert "Body for Cleo Customer" in typed.content.decode()


def test_a_broken_template_is_refused_next_to_its_field_and_kept(client, admin):
    client.force_login(admin)
    response = client.post(
        "/thanks/settings/ask/",
        {"subject": "Hi {{ prospect_name }}", "body": "Fine", "save": "1"},
    )
    assert response.status_code == 400
    text = response.content.decode()
    assert "{{ prospect_name }} is not a placeholder" in text
    assert 'value="Hi {{ prospect_name }}"' in text
    assert AskTemplate.current().subject == "A small favour, {{ source_first_name }}?"


def test_a_saved_template_is_what_the_next_email_says(client, admin):
    client.force_login(admin)
    response = client.post(
        "/thanks/settings/ask/",
        {"subject": "A favour, {{ source_first_name }}", "body": "Hi", "save": "1"},
    )
    assert response.status_code == 302
    saved = AskTemplate.current()
    assert (saved.subject, saved.updated_by) == (
        "A favour, {{ source_first_name }}",
        admin,
    )

"""A customer who opts out on their page (do not ask, or email withdrawn)
has their ask emails not sent yet cancelled by the next sweep, as the
one-click unsubscribes do at once (issue 26): Today no longer offers Retry
for them from the moment they opt out, and a Retry is refused with why."""

import pytest
from django.utils.html import escape

from partners.models import Ask, Partner
from referrals.services import referral_log
from tests.factories import PartnerFactory
from thanks.models import AskEmail, ThankYou
from thanks.services import (
    ASK_NO_EMAIL,
    ASK_OPTED_OUT,
    ASK_RETRY_NO_EMAIL,
    ASK_RETRY_OPTED_OUT,
    partner_opt_out,
    thank_yous_sweep,
)


def sweep():
    """The sweep every minute (nothing queued: what it stops is the point)."""
    thank_yous_sweep(enqueue=lambda: None)


@pytest.fixture
def customer(alice):
    return PartnerFactory(
        owner=alice, name="Cleo O'Customer", email="cleo@example.org", kind="customer"
    )


def ask_email(customer, alice, status, **fields) -> AskEmail:
    ask = Ask.objects.create(partner=customer, channel="email", asked_by=alice)
    return AskEmail.objects.create(ask=ask, source=customer, status=status, **fields)


@pytest.fixture
def emails(customer, alice):
    """A failed ask email (on Today with Retry), one still to send, one sent."""
    return {
        "failed": ask_email(
            customer, alice, "failed", attempts=5, last_error="550 No such user"
        ),
        "scheduled": ask_email(customer, alice, "scheduled"),
        "sent": ask_email(customer, alice, "sent"),
    }


def edit(client, partner, **changes):
    """Post the source's form as shown, with `changes`."""
    form = client.get(f"/partners/{partner.pk}/edit/").context["form"]
    data = {
        name: value
        for name, value in form.initial.items()
        if value is not None and value is not False and name in form.fields
    }
    response = client.post(f"/partners/{partner.pk}/edit/", {**data, **changes})
    assert response.status_code == 302
    return response


def statuses(emails) -> dict:
    for email in emails.values():
        email.refresh_from_db()
    return {name: (email.status, email.note) for name, email in emails.items()}


def today_offers_retry(client, email) -> bool:
    page = client.get("/").content.decode()
    return f'action="/thanks/asks/{email.pk}/retry/"' in page


def test_do_not_ask_on_the_form_cancels_the_ask_emails_not_sent(
    client, alice, customer, emails
):
    client.force_login(alice)
    assert today_offers_retry(client, emails["failed"])
    edit(client, customer, do_not_ask="on")
    assert not today_offers_retry(client, emails["failed"])  # at once
    sweep()
    assert statuses(emails) == {
        "failed": ("cancelled", ASK_OPTED_OUT),
        "scheduled": ("cancelled", ASK_OPTED_OUT),
        "sent": ("sent", ""),
    }
    assert not today_offers_retry(client, emails["failed"])
    assert "Ask emails that failed" not in client.get("/").content.decode()


def test_withdrawing_email_on_the_form_cancels_them_and_thanks_by_a_call(
    client, alice, customer, emails
):
    """The email unsubscribe's path: thank-you emails become calls too."""
    referral_log(user=alice, source=customer, prospect_name="Paula")
    thank_you = ThankYou.objects.get()
    assert thank_you.channel == "email"
    client.force_login(alice)
    edit(client, customer, email_consent="out")
    assert not today_offers_retry(client, emails["failed"])  # at once
    sweep()
    assert statuses(emails) == {
        "failed": ("cancelled", ASK_NO_EMAIL),
        "scheduled": ("cancelled", ASK_NO_EMAIL),
        "sent": ("sent", ""),
    }
    thank_you.refresh_from_db()
    assert (thank_you.channel, thank_you.status) == ("call", "scheduled")
    assert not today_offers_retry(client, emails["failed"])


def test_a_change_saved_elsewhere_cancels_them_too(customer, emails):
    """The admin, or an update of the row: the sweep reads the record."""
    Partner.objects.filter(pk=customer.pk).update(email="")
    sweep()
    assert statuses(emails)["failed"] == ("cancelled", ASK_NO_EMAIL)


def test_editing_a_customer_who_has_not_opted_out_cancels_nothing(
    client, alice, customer, emails
):
    client.force_login(alice)
    edit(client, customer, phone="+44 20 7946 0000")
    sweep()
    assert statuses(emails) == {
        "failed": ("failed", ""),
        "scheduled": ("scheduled", ""),
        "sent": ("sent", ""),
    }
    assert today_offers_retry(client, emails["failed"])


def test_the_email_unsubscribe_still_cancels_them(customer, emails):
    assert partner_opt_out(partner=customer)
    assert statuses(emails)["failed"] == ("cancelled", ASK_NO_EMAIL)


@pytest.mark.parametrize(
    ("opted_out", "message", "note"),
    [
        ({"do_not_ask": True}, ASK_RETRY_OPTED_OUT, ASK_OPTED_OUT),
        ({"email_consent": "out"}, ASK_RETRY_NO_EMAIL, ASK_NO_EMAIL),
        ({"email": ""}, ASK_RETRY_NO_EMAIL, ASK_NO_EMAIL),
    ],
)
def test_retry_of_an_opted_out_customers_email_is_refused_with_why(
    client, alice, customer, emails, opted_out, message, note
):
    """Opted out without the form's save (an update of the row): Retry
    cancels it instead, and says why."""
    Partner.objects.filter(pk=customer.pk).update(**opted_out)
    client.force_login(alice)
    url = f"/thanks/asks/{emails['failed'].pk}/retry/"
    response = client.post(url, {"next": "/"}, follow=True)
    assert escape(message.format(name="Cleo O'Customer")) in response.content.decode()
    assert statuses(emails)["failed"] == ("cancelled", note)
    assert statuses(emails)["scheduled"] == ("cancelled", note)
    assert not today_offers_retry(client, emails["failed"])


def test_retry_from_a_page_shown_before_the_opt_out_says_why(
    client, alice, customer, emails
):
    client.force_login(alice)
    edit(client, customer, do_not_ask="on")  # in another tab, say
    url = f"/thanks/asks/{emails['failed'].pk}/retry/"
    response = client.post(url, {"next": "/"}, follow=True)
    expected = escape(ASK_RETRY_OPTED_OUT.format(name="Cleo O'Customer"))
    assert expected in response.content.decode()
    assert statuses(emails)["failed"] == ("cancelled", ASK_OPTED_OUT)


def test_retry_of_a_customer_who_takes_email_still_sends(
    client, alice, customer, emails
):
    client.force_login(alice)
    client.post(f"/thanks/asks/{emails['failed'].pk}/retry/", {"next": "/"})
    assert statuses(emails)["failed"] == ("scheduled", "")

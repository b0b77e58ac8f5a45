"""The ask email: recorded with the ask, sent through the thank-yous' outbox
(claimed once, retried, failed for a person to see), read by the customer
as the rep wrote it, with the team's card link and a one-click unsubscribe
that stops both email and asks."""

from datetime import timedelta
from html.parser import HTMLParser

import pytest
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import timezone

from partners.models import Ask, Partner
from partners.services import DO_NOT_ASK
from referrals.services import referral_log
from tests.factories import PartnerFactory, UserFactory
from thanks.models import AskEmail, AskTemplate, ThankYou
from thanks.services import (
    ASK_EMAIL_ON_ITS_WAY,
    ASK_NO_EMAIL,
    ASK_OPTED_OUT,
    MAX_ATTEMPTS,
    NO_EMAIL_FOR_ASK,
    NOT_FAILED,
    ask_email_dispatch,
    ask_email_retry,
    ask_record,
    partner_opt_out,
    stuck_after,
    thank_yous_dispatch_due,
    thank_yous_sweep,
)

# Every character HTML escapes, and scripts that are not Latin.
NAMES = [
    ("Tom O'Brien", "Smith & Jones", 'Rep "The Closer" <Ng>'),
    ("Ζωή Παπαδοπούλου", "Ελληνικά & Υιοί", "Γιώργος <Σ>"),
    ("山田 太郎", "株式会社 <テスト> & 'Co'", '佐藤 "花子"'),
    ("محمد عبد الله", "شركة & الشركاء", "سارة <م>"),
]


class _Text(HTMLParser):
    """The text a browser shows for an HTML part, entities decoded."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts, self.links = [], []

    def handle_starttag(self, tag, attrs):
        if tag in ("br", "p", "div"):
            self.parts.append("\n")
        if tag == "a":
            self.links.append(dict(attrs)["href"])

    def handle_data(self, data):
        self.parts.append(data)


def html_read(html: str) -> tuple[str, list[str]]:
    parser = _Text()
    parser.feed(html)
    return " ".join("".join(parser.parts).split()), parser.links


def plain(message) -> str:
    return message.get_body(("plain",)).get_content().replace("\r\n", "\n")


def html(message) -> str:
    return message.get_body(("html",)).get_content()


def unsubscribe_link(message) -> str:
    """The List-Unsubscribe URL (the header may be folded over lines)."""
    return "".join(str(message["List-Unsubscribe"]).split()).strip("<>")


@pytest.fixture
def customer(alice):
    return PartnerFactory(
        owner=alice, name="Cleo Customer", company="Cleo Co", kind="customer"
    )


def ask_by_email(partner, user, **kwargs) -> AskEmail:
    ask = ask_record(partner=partner, user=user, channel="email", **kwargs)
    return ask.email


def test_an_email_ask_is_an_ask_and_an_outbox_row_sent_on_commit(
    alice, customer, smtp_sink, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as callbacks:
        ask = ask_record(partner=customer, user=alice, channel="email", note="Q4")
    assert len(callbacks) == 1  # a dispatch is requested once the ask commits
    assert (ask.channel, ask.asked_by, ask.note) == ("email", alice, "Q4")
    assert ask.email.status == "scheduled" and ask.email.source == customer
    assert thank_yous_dispatch_due() == ({"sent": 1}, True)
    ask.email.refresh_from_db()
    assert ask.email.status == "sent" and ask.email.sent_at
    [message] = smtp_sink.parsed()
    assert message["To"] == customer.email
    assert message["From"] == "Alice Rep <crm@example.com>"  # as the rep
    assert message["Reply-To"] == "alice@example.com"
    assert message["Message-ID"] == ask.email.message_id
    assert message["Message-ID"].startswith("<ask.")
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert ask.email.subject == message["Subject"] == "A small favour, Cleo?"
    # No thank-you was made or counted: the outboxes are separate tables.
    assert not ThankYou.objects.exists()
    assert customer.last_thanked_at is None


def test_the_email_carries_the_teams_card_link_and_the_unsubscribe(
    alice, customer, smtp_sink
):
    ask_email = ask_by_email(customer, alice)
    assert ask_email_dispatch(ask_email_id=ask_email.pk) == "sent"
    [message] = smtp_sink.parsed()
    card = settings.SITE_URL + alice.team.card_path()
    unsubscribe = unsubscribe_link(message)
    assert "/u/ask/" in unsubscribe
    assert card in plain(message) and unsubscribe in plain(message)
    _, links = html_read(html(message))
    assert links == [card, unsubscribe]


def test_without_a_team_the_email_goes_without_a_card_link(db, smtp_sink):
    rep = UserFactory(display_name="Solo Rep", team=None)
    customer = PartnerFactory(owner=rep, kind="customer")
    ask_email = ask_by_email(customer, rep)
    assert ask_email_dispatch(ask_email_id=ask_email.pk) == "sent"
    [message] = smtp_sink.parsed()
    assert "/refer/" not in plain(message)
    assert "How to refer us" not in plain(message)


@pytest.mark.parametrize(("customer_name", "company", "rep_name"), NAMES)
def test_the_customer_reads_every_name_as_typed(
    db, north, smtp_sink, customer_name, company, rep_name
):
    rep = UserFactory(
        team=north, display_name=rep_name, signature=f"{rep_name}\n{company} & Co."
    )
    customer = PartnerFactory(
        owner=rep, name=customer_name, company=company, kind="customer"
    )
    AskTemplate.objects.update_or_create(
        pk=1,
        defaults={
            "subject": "A favour, {{ source_name }}?",
            "body": "Hi {{ source_first_name }} at {{ source_company }},\n\n"
            "{{ rep_signature }}",
        },
    )
    ask_email = ask_by_email(customer, rep)
    assert ask_email_dispatch(ask_email_id=ask_email.pk) == "sent"
    [message] = smtp_sink.parsed()
    first_name = customer_name.split()[0]
    assert message["Subject"].strip() == f"A favour, {customer_name}?"
    assert message["From"].addresses[0].display_name == rep_name
    text = plain(message)
    assert f"Hi {first_name} at {company}," in text
    assert f"{rep_name}\n{company} & Co." in text
    assert "&amp;" not in text and "&#x27;" not in text and "&lt;" not in text
    shown, _ = html_read(html(message))
    assert f"Hi {first_name} at {company}," in shown
    assert f"{rep_name} {company} & Co." in shown
    assert "&amp;" not in shown and "&#x27;" not in shown
    ask_email.refresh_from_db()
    assert ask_email.subject == message["Subject"].strip()


def test_in_person_and_by_phone_are_recorded_without_email(alice, customer):
    for channel in ("in_person", "phone"):
        ask = ask_record(partner=customer, user=alice, channel=channel)
        assert not AskEmail.objects.filter(ask=ask).exists()
    assert Ask.objects.count() == 2


@pytest.mark.parametrize("how", ["opted out", "no address"])
def test_no_email_ask_to_a_customer_who_takes_no_email(alice, how):
    fields = {"email_consent": "out"} if how == "opted out" else {"email": ""}
    customer = PartnerFactory(owner=alice, name="Nell", kind="customer", **fields)
    with pytest.raises(ValidationError) as refused:
        ask_record(partner=customer, user=alice, channel="email")
    assert refused.value.message_dict == {
        "channel": [NO_EMAIL_FOR_ASK.format(name="Nell")]
    }
    assert not Ask.objects.exists()
    ask_record(partner=customer, user=alice, channel="phone")  # that, they may


def test_no_ask_of_a_customer_who_asked_not_to_be(alice, customer):
    Partner.objects.filter(pk=customer.pk).update(do_not_ask=True)
    customer.refresh_from_db()
    with pytest.raises(ValidationError) as refused:
        ask_record(partner=customer, user=alice, channel="email")
    assert refused.value.messages == [DO_NOT_ASK.format(name="Cleo Customer")]
    assert not AskEmail.objects.exists()


@pytest.mark.parametrize("kind", ["partner", "network"])
def test_no_ask_of_a_source_that_is_not_a_customer(alice, kind):
    source = PartnerFactory(owner=alice, kind=kind)
    with pytest.raises(ValidationError):
        ask_record(partner=source, user=alice, channel="email")
    assert not Ask.objects.exists() and not AskEmail.objects.exists()


def test_an_ask_email_is_not_sent_twice(alice, customer, smtp_sink):
    """A double click on Ask, or the form sent again, must not email the
    customer the same ask twice."""
    first = ask_by_email(customer, alice)
    refused_message = {"channel": [ASK_EMAIL_ON_ITS_WAY.format(name="Cleo Customer")]}
    with pytest.raises(ValidationError) as refused:  # still to be sent
        ask_record(partner=customer, user=alice, channel="email")
    assert refused.value.message_dict == refused_message
    assert thank_yous_dispatch_due() == ({"sent": 1}, True)
    with pytest.raises(ValidationError) as refused:  # sent a moment ago
        ask_record(partner=customer, user=alice, channel="email")
    assert refused.value.message_dict == refused_message
    assert Ask.objects.count() == AskEmail.objects.count() == 1
    assert len(smtp_sink.messages) == 1
    ask_record(partner=customer, user=alice, channel="phone")  # that, they may
    # Long enough after, the rep may ask by email again (Ask anyway).
    AskEmail.objects.filter(pk=first.pk).update(
        sent_at=timezone.now() - timedelta(hours=1)
    )
    assert ask_by_email(customer, alice).status == "scheduled"


@pytest.mark.parametrize("status", ["failed", "cancelled"])
def test_an_ask_email_that_failed_or_was_cancelled_does_not_stop_a_new_one(
    alice, customer, status
):
    AskEmail.objects.filter(pk=ask_by_email(customer, alice).pk).update(status=status)
    assert ask_by_email(customer, alice).status == "scheduled"


def test_an_opt_out_before_the_send_cancels_it(alice, customer, smtp_sink):
    ask_email = ask_by_email(customer, alice)
    partner_opt_out(partner=customer)
    ask_email.refresh_from_db()
    assert (ask_email.status, ask_email.note) == ("cancelled", ASK_NO_EMAIL)
    assert thank_yous_dispatch_due() == ({}, True)
    assert smtp_sink.messages == []


def test_do_not_ask_set_while_the_email_waits_cancels_it(alice, customer, smtp_sink):
    ask_email = ask_by_email(customer, alice)
    Partner.objects.filter(pk=customer.pk).update(do_not_ask=True)
    assert thank_yous_dispatch_due() == ({"cancelled": 1}, True)
    ask_email.refresh_from_db()
    assert (ask_email.status, ask_email.note) == ("cancelled", ASK_OPTED_OUT)
    assert smtp_sink.messages == []


def test_it_is_claimed_once(alice, customer, smtp_sink):
    ask_email = ask_by_email(customer, alice)
    assert ask_email_dispatch(ask_email_id=ask_email.pk) == "sent"
    assert ask_email_dispatch(ask_email_id=ask_email.pk) == "not claimed"
    assert thank_yous_dispatch_due() == ({}, True)
    assert len(smtp_sink.messages) == 1


def test_a_refused_send_is_retried_then_failed_then_retried_by_hand(
    alice, customer, smtp_sink
):
    ask_email = ask_by_email(customer, alice)
    smtp_sink.refuse_data = "451 4.3.0 Try again later"
    assert ask_email_dispatch(ask_email_id=ask_email.pk) == "retry"
    ask_email.refresh_from_db()
    assert ask_email.status == "scheduled" and ask_email.next_attempt_at
    assert "451" in ask_email.last_error
    # The retries run out.
    AskEmail.objects.filter(pk=ask_email.pk).update(
        attempts=MAX_ATTEMPTS - 1, next_attempt_at=None
    )
    assert ask_email_dispatch(ask_email_id=ask_email.pk) == "failed"
    ask_email.refresh_from_db()
    assert ask_email.status == "failed"
    # A person retries it (Today's Retry): from a first attempt.
    smtp_sink.refuse_data = None
    ask_email_retry(ask_email=ask_email)
    assert (ask_email.status, ask_email.attempts) == ("scheduled", 0)
    assert thank_yous_dispatch_due() == ({"sent": 1}, True)
    with pytest.raises(ValidationError) as refused:
        ask_email_retry(ask_email=ask_email)
    assert refused.value.messages == [NOT_FAILED]


def test_a_broken_template_fails_at_once_with_its_reason(alice, customer, smtp_sink):
    # Saved around the checks (as a database edit would): the send says so.
    AskTemplate.objects.update_or_create(
        pk=1, defaults={"subject": "Hi", "body": "{{ source_name|slice:'2' }}"}
    )
    ask_email = ask_by_email(customer, alice)
    assert ask_email_dispatch(ask_email_id=ask_email.pk) == "failed"
    ask_email.refresh_from_db()
    assert ask_email.last_error.startswith("The ask email template is broken")


def test_the_sweep_revives_a_stuck_ask_email_and_counts_it_due(
    alice, customer, smtp_sink
):
    ask_email = ask_by_email(customer, alice)
    claimed = timezone.now() - stuck_after() - timedelta(seconds=5)
    AskEmail.objects.filter(pk=ask_email.pk).update(
        status="sending", claimed_at=claimed, attempts=1
    )
    queued = []
    assert thank_yous_sweep(enqueue=lambda: queued.append(1)) == 1
    assert queued == [1]
    ask_email.refresh_from_db()
    assert ask_email.status == "scheduled"
    assert thank_yous_dispatch_due() == ({"sent": 1}, True)


def test_thank_yous_go_first_and_both_kinds_drain_in_one_dispatch(
    alice, alice_partner, customer, smtp_sink
):
    ask_by_email(customer, alice)
    referral_log(user=alice, source=alice_partner, prospect_name="Paula")
    assert thank_yous_dispatch_due() == ({"sent": 2}, True)
    subjects = [message["Subject"] for message in smtp_sink.parsed()]
    assert subjects == ["Thank you for introducing Paula", "A small favour, Cleo?"]


def test_the_unsubscribe_link_stops_email_and_asks(
    client, alice, customer, alice_partner, smtp_sink
):
    referral = referral_log(user=alice, source=customer, prospect_name="Paula")
    ThankYou.objects.filter(referral=referral).update(
        due_at=timezone.now() + timedelta(hours=1)
    )
    ask_email = ask_by_email(customer, alice)
    assert ask_email_dispatch(ask_email_id=ask_email.pk) == "sent"
    [message] = smtp_sink.parsed()
    link = unsubscribe_link(message).removeprefix(settings.SITE_URL)
    page = client.get(link)
    assert page.status_code == 200
    assert "nor ask you for introductions" in page.content.decode()
    assert client.post(link).status_code == 200  # one click, no login
    customer.refresh_from_db()
    assert customer.email_consent == "out" and customer.do_not_ask
    # Their pending thanks become a call (partner_opt_out), as for a thank-you's link.
    assert referral.thank_yous.get().channel == "call"
    again = client.get(link).content.decode()
    assert "already unsubscribed" in again
    assert "<form" not in again


def test_a_thank_you_unsubscribe_link_does_not_open_the_ask_one(client, customer):
    from thanks.services import unsubscribe_url

    token = unsubscribe_url(customer).rsplit("/", 2)[-2]
    assert client.get(f"/u/ask/{token}/").status_code == 404
    assert client.get("/u/ask/not-a-token/").status_code == 404

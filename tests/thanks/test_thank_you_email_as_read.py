"""A thank-you as its reader gets it: what a referral source reads must be
exactly what the rep wrote, whatever characters the names hold.

Each message is taken from a real SMTP server and parsed; the HTML part is
read as a browser would (its text, entities decoded), not string-matched.
"""

import re
from datetime import timedelta
from html.parser import HTMLParser

import pytest
import time_machine
from django.db import connection
from django.utils import timezone

from accounts.models import User
from core.validators import LINE_BREAK
from referrals.services import referral_log, referral_move
from tests.factories import PartnerFactory, UserFactory, stage
from thanks.models import ThankYou, ThankYouMoment
from thanks.services import COPY_NOT_KEPT, thank_you_dispatch

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
        self.parts = []

    def handle_starttag(self, tag, attrs):
        if tag in ("br", "p", "div"):
            self.parts.append("\n")

    def handle_data(self, data):
        self.parts.append(data)


def html_text(html: str) -> str:
    parser = _Text()
    parser.feed(html)
    return " ".join("".join(parser.parts).split())


def plain(message) -> str:
    return message.get_body(("plain",)).get_content().replace("\r\n", "\n")


def html(message) -> str:
    return message.get_body(("html",)).get_content()


def sent_thanks(*, rep, prospect, company, moment="received"):
    source = PartnerFactory(owner=rep, name=f"{prospect} Source", company=company)
    referral = referral_log(
        user=rep, source=source, prospect_name=prospect, prospect_company=company
    )
    if moment == "won":
        referral_move(
            referral=referral, to_stage=stage("Won"), user=rep, final_value=100
        )
    thank_you = referral.thank_yous.get(moment=moment)
    assert thank_you_dispatch(thank_you_id=thank_you.pk) == "sent"
    thank_you.refresh_from_db()
    return source, thank_you


@pytest.mark.parametrize(("prospect", "company", "rep_name"), NAMES)
def test_the_source_reads_every_name_as_typed(
    db, north, smtp_sink, prospect, company, rep_name
):
    rep = UserFactory(
        team=north, display_name=rep_name, signature=f"{rep_name}\n{company} & Co."
    )
    source, thank_you = sent_thanks(rep=rep, prospect=prospect, company=company)

    [message] = smtp_sink.parsed()
    # (A subject in another script is folded onto an encoded-word line: the
    # space before it is folding, which mail programs do not show.)
    assert message["Subject"].strip() == f"Thank you for introducing {prospect}"
    assert message["From"].addresses[0].display_name == rep_name
    assert message["From"].addresses[0].addr_spec == "crm@example.com"
    assert str(message["Reply-To"]) == rep.email
    assert str(message["To"]) == source.email
    text = plain(message)
    first_name = source.name.split()[0]
    assert f"Hi {first_name}," in text
    assert f"introducing {prospect} at {company}." in text
    assert f"{rep_name}\n{company} & Co." in text
    assert "&amp;" not in text and "&#x27;" not in text and "&lt;" not in text
    # The HTML part is escaped exactly once: its text is what was typed.
    shown = html_text(html(message))
    assert f"introducing {prospect} at {company}." in shown
    assert f"{rep_name} {company} & Co." in shown
    assert "&amp;" not in shown and "&#x27;" not in shown
    # What the timeline keeps is what was sent.
    assert thank_you.subject == message["Subject"].strip()
    assert f"introducing {prospect} at {company}." in thank_you.body_text


def test_the_sale_email_carries_the_names_as_typed(db, alice, smtp_sink):
    sent_thanks(
        rep=alice, prospect="Tom O'Brien", company="Smith & Jones", moment="won"
    )
    won = smtp_sink.parsed()[-1]
    assert won["Subject"] == "Good news about Tom O'Brien"
    assert "Tom O'Brien at Smith & Jones has decided" in plain(won)
    assert "Tom O'Brien at Smith & Jones has decided" in html_text(html(won))


def test_the_digest_carries_names_as_typed(db, alice, smtp_sink):
    from referrals.digests import digest_send

    source = PartnerFactory(owner=alice, name='Ann & "Bo" <O\'Neil>')
    morning = timezone.now().replace(hour=9, minute=0)
    # Logged the evening before, so its thank-you is due by the morning's
    # digest whatever the hour the test runs at (logged at 22:00 today, it
    # was not due by 9:00).
    with time_machine.travel(morning - timedelta(hours=12), tick=False):
        referral_log(user=alice, source=source, prospect_name="Tom O'Brien")
    assert digest_send(user=alice, now=morning)
    [message] = smtp_sink.parsed()
    assert "thank Ann & \"Bo\" <O'Neil> for Tom O'Brien" in plain(message)
    assert "thank Ann & \"Bo\" <O'Neil> for Tom O'Brien" in html_text(html(message))


def test_the_preview_shows_the_names_once_escaped(client, admin, alice):
    source = PartnerFactory(owner=alice, name="Priya & Co")
    referral_log(
        user=alice, source=source, prospect_name="Tom O'Brien", prospect_company="S&J"
    )
    client.force_login(admin)
    response = client.get("/thanks/settings/received/")
    assert response.context["preview"]["subject"] == (
        "Thank you for introducing Tom O'Brien"
    )
    page = response.content.decode()
    assert "Thank you for introducing Tom O&#x27;Brien" in page  # shows O'Brien
    assert "&amp;#x27;" not in page and "&amp;amp;" not in page


# -- Message-ID: unique everywhere, the same on every attempt -------------------


def test_each_thank_you_has_its_own_random_message_id(db, alice, smtp_sink):
    _, first = sent_thanks(rep=alice, prospect="Paula", company="Globex")
    _, second = sent_thanks(rep=alice, prospect="Quinn", company="Initech")
    ids = [message["Message-ID"] for message in smtp_sink.parsed()]
    assert ids == [
        f"<thanks.{first.message_token}@example.com>",
        f"<thanks.{second.message_token}@example.com>",
    ]
    # Not derived from the row's id: a reset database, or another install
    # sending from the same domain, does not repeat it.
    assert f"touchpoint-{first.pk}@" not in ids[0]
    assert re.fullmatch(r"[0-9a-f]{32}", first.message_token)
    assert first.message_token != second.message_token


def test_a_resend_keeps_its_message_id(db, alice, smtp_sink):
    _, thank_you = sent_thanks(rep=alice, prospect="Paula", company="Globex")
    ThankYou.objects.filter(pk=thank_you.pk).update(status="scheduled")
    assert thank_you_dispatch(thank_you_id=thank_you.pk) == "sent"
    first, again = smtp_sink.parsed()
    assert first["Message-ID"] == again["Message-ID"]


# -- A send that happened is recorded, never sent again ---------------------------

REFUSE_LONG_SUBJECTS = {
    # The database refuses the copy of what was sent (as a column of 300
    # characters did): a constraint added for this test only.
    "postgresql": [
        "ALTER TABLE referrals_touchpoint ADD CONSTRAINT test_short_subject"
        " CHECK (length(subject) <= 300)"
    ],
    "sqlite": [
        "CREATE TRIGGER test_short_subject BEFORE UPDATE OF subject"
        " ON referrals_touchpoint WHEN length(NEW.subject) > 300"
        " BEGIN SELECT RAISE(ABORT, 'subject too long'); END"
    ],
}


def test_a_send_whose_copy_cannot_be_kept_is_recorded_as_sent(db, alice, smtp_sink):
    from thanks.services import thank_yous_sweep

    with connection.cursor() as cursor:
        for statement in REFUSE_LONG_SUBJECTS[connection.vendor]:
            cursor.execute(statement)
    ThankYouMoment.objects.filter(moment="received").update(
        subject="Thank you, {{ source_name }}, for introducing {{ prospect_name }}"
    )
    source = PartnerFactory(owner=alice, name="Ó'Brien & " * 20)
    referral = referral_log(user=alice, source=source, prospect_name="P & Q " * 30)
    thank_you = referral.thank_yous.get()

    assert thank_you_dispatch(thank_you_id=thank_you.pk) == "sent"
    thank_you.refresh_from_db()
    assert thank_you.status == "sent"
    assert thank_you.sent_at is not None
    assert thank_you.last_error.startswith(COPY_NOT_KEPT)
    # Nothing brings it back: not a second dispatch, not the sweep.
    thank_yous_sweep(now=timezone.now() + timezone.timedelta(hours=2))
    assert thank_you_dispatch(thank_you_id=thank_you.pk) == "not claimed"
    assert len(smtp_sink.messages) == 1


def test_a_subject_longer_than_300_characters_is_recorded_whole(db, alice, smtp_sink):
    ThankYouMoment.objects.filter(moment="received").update(
        subject="Thank you, {{ source_name }}, for introducing {{ prospect_name }}"
    )
    source = PartnerFactory(owner=alice, name="S" * 200)
    referral = referral_log(user=alice, source=source, prospect_name="P & Q " * 30)
    thank_you = referral.thank_yous.get()
    assert thank_you_dispatch(thank_you_id=thank_you.pk) == "sent"
    thank_you.refresh_from_db()
    [message] = smtp_sink.parsed()
    assert len(thank_you.subject) > 300
    assert thank_you.subject == message["Subject"]
    assert (thank_you.status, thank_you.last_error) == ("sent", "")


# -- Header fields stay on one line ---------------------------------------------


def test_a_display_name_with_a_line_break_is_refused(db, alice):
    alice.display_name = "Alice\nBcc: everyone@example.com"
    with pytest.raises(Exception) as refused:
        alice.full_clean()
    assert LINE_BREAK in str(refused.value)


def test_a_line_break_saved_before_the_rule_does_not_fail_the_send(
    db, alice, smtp_sink
):
    User.objects.filter(pk=alice.pk).update(display_name="Alice\r\nRep")
    alice.refresh_from_db()
    _, thank_you = sent_thanks(rep=alice, prospect="Paula", company="Globex")
    [message] = smtp_sink.parsed()
    assert message["From"].addresses[0].display_name == "Alice Rep"
    assert "Bcc" not in message


# -- Admin templates: only what placeholders need -------------------------------


def form(**overrides):
    return {
        "enabled": "on",
        "within_minutes": 120,
        "email_delay_minutes": 0,
        "subject": "Thanks for {{ prospect_name }}",
        "body": "Hi {{ source_first_name }}, {{ prospect_name }} is at {{ stage }}.",
        "save": "1",
        **overrides,
    }


@pytest.mark.parametrize(
    ("body", "said"),
    [
        ('{% include "base.html" %}', "“{% include %}” cannot be used"),
        ('{% extends "base.html" %}', "“{% extends %}” cannot be used"),
        ("{% url 'today' %}", "“{% url %}” cannot be used"),
        ("{% if stage == 'x' %}{% url 'today' %}{% endif %}", "“{% url %}”"),
        ("{% if stage %}{% include 'x' %}{% endif %}", "“{% include %}”"),
        ("{% debug %}", "“{% debug %}” cannot be used"),
        ("{% for x in stage %}{{ x }}{% endfor %}", "“{% for %}” cannot be used"),
        ("{% load static %}", "“{% load %}” cannot be used"),
        ('{{ stage|center:"999999999" }}', "The filter “center” cannot be used"),
        ("{{ prospect }}", "{{ prospect }} is not a placeholder"),
        ("{{ rep_signature }}" * 30, "could write 30000 characters"),
    ],
)
def test_a_template_that_could_fail_a_send_is_refused_at_save(
    client, admin, alice_referral, body, said
):
    client.force_login(admin)
    response = client.post("/thanks/settings/received/", form(body=body))
    assert response.status_code == 400
    assert said in " ".join(response.context["form"].errors["body"])
    assert response.context["form"]["body"].value() == body  # kept as typed
    assert said in response.context["preview"]["error"]
    assert ThankYouMoment.objects.get(moment="received").body != body


def test_the_allowed_language_saves_and_sends(client, admin, alice, smtp_sink):
    client.force_login(admin)
    body = (
        "Hi {{ source_first_name|default:'there' }},\n"
        "{% if prospect_company %}{{ prospect_company|upper }}{% else %}them"
        "{% endif %}{# a note for admins #}\n{{ rep_signature|truncatechars:40 }}"
    )
    response = client.post("/thanks/settings/received/", form(body=body))
    assert response.status_code == 302
    sent_thanks(rep=alice, prospect="Tom O'Brien", company="Smith & Jones")
    text = plain(smtp_sink.parsed()[0])
    assert "SMITH & JONES" in text and "a note for admins" not in text


def test_a_template_saved_before_the_rules_fails_once_with_its_reason(
    db, alice, smtp_sink
):
    ThankYouMoment.objects.filter(moment="received").update(
        body="{% if stage == 'Won' %}{% url 'today' %}{% endif %}Hi"
    )
    referral = referral_log(
        user=alice, source=PartnerFactory(owner=alice), prospect_name="P"
    )
    thank_you = referral.thank_yous.get()
    assert thank_you_dispatch(thank_you_id=thank_you.pk) == "failed"
    thank_you.refresh_from_db()
    assert "template is broken" in thank_you.last_error
    assert smtp_sink.messages == []

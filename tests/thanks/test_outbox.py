from django.core import mail
from django.core.mail import EmailMultiAlternatives

from core.mail import OutboxBackend
from core.models import OutboxMessage
from thanks.views import TEST_EMAIL_QUEUED


def test_the_outbox_backend_keeps_every_message(db):
    message = EmailMultiAlternatives(
        "Thanks for the introduction",
        "Plain body",
        "Riley <rep@example.com>",
        ["source@example.org"],
        reply_to=["rep@example.com"],
        headers={"Message-ID": "<tp-1@crm.example.com>"},
    )
    message.attach_alternative("<p>HTML body</p>", "text/html")
    assert OutboxBackend().send_messages([message]) == 1
    row = OutboxMessage.objects.get()
    assert row.subject == "Thanks for the introduction"
    assert row.to == "source@example.org"
    assert row.reply_to == "rep@example.com"
    assert row.message_id == "<tp-1@crm.example.com>"
    assert row.body_text == "Plain body"
    assert row.body_html == "<p>HTML body</p>"
    assert "Subject: Thanks for the introduction" in row.raw


def test_the_outbox_page_lists_sent_mail(client, alice, settings):
    settings.EMAIL_BACKEND = settings.OUTBOX_BACKEND
    mail.send_mail("Hello from the CRM", "Body", None, ["alice@example.com"])
    client.force_login(alice)
    page = client.get("/outbox/")
    assert "Hello from the CRM" in page.content.decode()
    message = OutboxMessage.objects.get()
    detail = client.get(f"/outbox/{message.pk}/")
    assert "alice@example.com" in detail.content.decode()
    assert 'href="/outbox/"' in page.content.decode()  # the nav link


def test_the_outbox_is_gone_when_mail_goes_over_smtp(client, alice, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    client.force_login(alice)
    assert client.get("/outbox/").status_code == 404
    assert 'href="/outbox/"' not in client.get("/").content.decode()


def test_the_test_email_requires_post(client, alice, settings):
    settings.EMAIL_BACKEND = settings.OUTBOX_BACKEND
    client.force_login(alice)
    assert client.get("/outbox/test-email/").status_code == 405


def test_the_test_email_is_queued_after_commit(
    client, alice, settings, django_capture_on_commit_callbacks
):
    settings.EMAIL_BACKEND = settings.OUTBOX_BACKEND
    client.force_login(alice)
    with django_capture_on_commit_callbacks() as callbacks:
        response = client.post("/outbox/test-email/", follow=True)
    assert TEST_EMAIL_QUEUED in response.content.decode()
    assert len(callbacks) == 1  # queued only once the request's work commits


def _thank_you(rep_email: str, subject: str) -> OutboxMessage:
    """A thank-you as the worker sends it: to the source, answered by its rep."""
    message = EmailMultiAlternatives(
        subject,
        "Thank you",
        "Referral CRM <crm@example.com>",
        ["source@example.org"],
        reply_to=[rep_email],
    )
    OutboxBackend().send_messages([message])
    return OutboxMessage.objects.get(subject=subject)


def test_the_outbox_shows_each_user_what_they_may_see(
    client, alice, bob, carol, dave, admin, settings
):
    settings.EMAIL_BACKEND = settings.OUTBOX_BACKEND
    alices = _thank_you("alice@example.com", "Alice thanks a source")
    daves = _thank_you("dave@example.com", "Dave thanks a source")
    mail.send_mail("Reset Bob's password", "Body", None, ["Bob Rep <bob@example.com>"])
    mail.send_mail("Not Bob's", "Body", None, ["jimbob@example.com"])
    mail.send_mail("Carol's digest", "Body", None, ["carol@example.com"])
    subjects = ("Alice thanks", "Dave thanks", "Reset Bob", "Not Bob", "Carol's")
    seen = {}
    for user in (alice, bob, carol, admin):
        client.force_login(user)
        page = client.get("/outbox/").content.decode().replace("&#x27;", "'")
        seen[user.email] = {subject for subject in subjects if subject in page}
    assert seen == {
        "alice@example.com": {"Alice thanks"},
        "bob@example.com": {"Reset Bob"},
        # Her team's thank-yous, not mail to them (Bob's reset link is his).
        "carol@example.com": {"Alice thanks", "Carol's"},
        "admin@example.com": set(subjects),
    }
    client.force_login(alice)
    assert client.get(f"/outbox/{alices.pk}/").status_code == 200
    assert client.get(f"/outbox/{daves.pk}/").status_code == 404

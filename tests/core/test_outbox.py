from django.core import mail
from django.core.mail import EmailMultiAlternatives

from core.mail import OutboxBackend
from core.models import OutboxMessage
from core.views import TEST_EMAIL_QUEUED


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
    mail.send_mail("Hello from the CRM", "Body", None, ["x@example.org"])
    client.force_login(alice)
    page = client.get("/outbox/")
    assert "Hello from the CRM" in page.content.decode()
    message = OutboxMessage.objects.get()
    detail = client.get(f"/outbox/{message.pk}/")
    assert "x@example.org" in detail.content.decode()
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

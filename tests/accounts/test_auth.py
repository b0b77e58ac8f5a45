import re

import time_machine
from django.urls import reverse

from accounts.forms import INVALID_LOGIN

LOGIN = "/accounts/login/"


def login(client, email, password="secret-pass-123"):
    return client.post(LOGIN, {"username": email, "password": password})


def test_a_user_logs_in_by_email_whatever_the_case(client, alice):
    response = login(client, "Alice@Example.com")
    assert response.status_code == 302
    assert response["Location"] == reverse("today")
    assert client.get("/").context["user"] == alice


def test_a_wrong_password_shows_a_message_and_keeps_the_email(client, alice):
    response = login(client, "alice@example.com", "wrong")
    assert response.status_code == 200
    assert INVALID_LOGIN.replace("'", "&#x27;") in response.content.decode()
    assert 'value="alice@example.com"' in response.content.decode()


def test_login_gives_a_new_session_id(client, alice):
    client.get(LOGIN)
    client.session.save()
    before = client.session.session_key
    login(client, "alice@example.com")
    assert client.session.session_key != before


def test_five_wrong_passwords_lock_that_email_for_15_minutes(client, alice):
    with time_machine.travel("2026-11-23 10:00Z", tick=False) as traveller:
        for _ in range(4):
            assert login(client, "alice@example.com", "wrong").status_code == 200
        locked = login(client, "alice@example.com", "wrong")
        assert locked.status_code == 429
        assert "15 minutes" in locked.content.decode()
        # Even the right password is refused during the pause...
        assert login(client, "alice@example.com").status_code == 429
        traveller.shift(60 * 14)
        assert login(client, "alice@example.com").status_code == 429
        # ...and the pause lifts by itself: never a permanent lockout.
        traveller.shift(61)
        assert login(client, "alice@example.com").status_code == 302


def test_a_lock_on_one_email_does_not_lock_another(client, alice, bob):
    for _ in range(5):
        login(client, "alice@example.com", "wrong")
    assert login(client, "alice@example.com").status_code == 429
    assert login(client, "bob@example.com").status_code == 302


def test_logout_requires_post_and_ends_the_session(client, alice):
    client.force_login(alice)
    assert client.get("/accounts/logout/").status_code == 405
    response = client.post("/accounts/logout/")
    assert response.status_code == 302
    assert client.get("/").status_code == 302


def test_password_change(client, alice):
    client.force_login(alice)
    response = client.post(
        "/accounts/password_change/",
        {
            "old_password": "secret-pass-123",
            "new_password1": "a-new-long-pass-456",
            "new_password2": "a-new-long-pass-456",
        },
    )
    assert response.status_code == 302
    alice.refresh_from_db()
    assert alice.check_password("a-new-long-pass-456")


def test_password_reset_by_email_over_smtp(client, alice, smtp_sink):
    response = client.post("/accounts/password_reset/", {"email": "alice@example.com"})
    assert response.status_code == 302
    assert len(smtp_sink.messages) == 1
    envelope = smtp_sink.messages[0]
    assert envelope.rcpt_tos == ["alice@example.com"]
    body = envelope.content.decode()
    assert "Reset your Referral CRM password" in body
    link = re.search(r"http://testserver(/accounts/reset/\S+/)", body).group(1)

    form = client.get(link, follow=True)
    assert "Choose a new password" in form.content.decode()
    done = client.post(
        form.redirect_chain[-1][0],
        {
            "new_password1": "fresh-long-pass-789",
            "new_password2": "fresh-long-pass-789",
        },
    )
    assert done.status_code == 302
    alice.refresh_from_db()
    assert alice.check_password("fresh-long-pass-789")


def test_password_reset_for_an_unknown_email_sends_nothing(client, db, smtp_sink):
    response = client.post("/accounts/password_reset/", {"email": "nobody@example.com"})
    assert response.status_code == 302
    assert smtp_sink.messages == []

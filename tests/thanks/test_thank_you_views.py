"""What a rep does with thank-yous on Today, and what a source can do."""

from datetime import timedelta

import pytest
import time_machine
from django.test import Client
from django.utils import timezone

from partners.models import Partner
from referrals.services import referral_log
from tests.factories import PartnerFactory
from thanks.models import ThankYou, ThankYouMoment
from thanks.services import SKIP_REASON_REQUIRED, unsubscribe_url


def action_url(thank_you):
    return f"/thanks/{thank_you.pk}/"


@pytest.fixture
def call_task(alice):
    source = PartnerFactory(
        owner=alice, name="Olga Optout", email_consent="out", phone="555-0101"
    )
    referral = referral_log(user=alice, source=source, prospect_name="Quentin")
    return referral.thank_yous.get()


@pytest.fixture
def email_thanks(alice, alice_partner):
    return referral_log(
        user=alice, source=alice_partner, prospect_name="Paula"
    ).thank_yous.get()


def test_today_lists_thanks_owed(client, alice, call_task, email_thanks):
    client.force_login(alice)
    page = client.get("/").content.decode()
    assert "Thank <a" in page
    assert "Olga Optout" in page and "555-0101" in page
    assert "Mark done" in page  # the call
    assert "Send now" in page  # the email not yet sent


def test_an_overdue_thanks_is_marked(client, alice, call_task):
    client.force_login(alice)
    with time_machine.travel(timezone.now() + timedelta(hours=3)):
        page = client.get("/").content.decode()
    assert "Overdue since" in page


def test_marking_a_call_done_with_a_note(client, alice, call_task):
    client.force_login(alice)
    response = client.post(
        action_url(call_task), {"action": "done", "note": "Called, she was pleased"}
    )
    assert response.status_code == 302
    call_task.refresh_from_db()
    assert (call_task.status, call_task.note, call_task.completed_by) == (
        "done",
        "Called, she was pleased",
        alice,
    )
    assert client.get("/").context["thanks"] == []  # off the Today list


def test_marking_done_with_htmx_returns_the_row(client, alice, call_task):
    client.force_login(alice)
    response = client.post(
        action_url(call_task),
        {"action": "done", "note": "Card sent"},
        HTTP_HX_REQUEST="true",
    )
    assert response.templates[0].name == "thanks/_thanks_row.html"
    assert "Marked as thanked." in response.content.decode()


def test_skipping_needs_a_reason_and_keeps_what_was_typed(client, alice, call_task):
    client.force_login(alice)
    response = client.post(
        action_url(call_task),
        {"action": "skip", "note": "", "next": "/?after=7"},
        HTTP_HX_REQUEST="true",
    )
    row = response.content.decode()
    assert SKIP_REASON_REQUIRED in row
    # The form shown again returns to the page it is on, not to this URL.
    assert 'name="next" value="/?after=7"' in row
    call_task.refresh_from_db()
    assert call_task.status == "scheduled"
    client.post(
        action_url(call_task), {"action": "skip", "note": "Thanked at lunch already"}
    )
    call_task.refresh_from_db()
    assert (call_task.status, call_task.note) == ("skipped", "Thanked at lunch already")


def test_a_handled_thanks_cannot_be_handled_again(client, alice, call_task):
    client.force_login(alice)
    client.post(action_url(call_task), {"action": "done"})
    response = client.post(
        action_url(call_task), {"action": "skip", "note": "x"}, follow=True
    )
    assert "already handled" in response.content.decode()
    call_task.refresh_from_db()
    assert call_task.status == "done"


def test_retrying_a_failed_email_starts_over_after_commit(
    client, alice, email_thanks, django_capture_on_commit_callbacks
):
    ThankYou.objects.filter(pk=email_thanks.pk).update(
        status="failed", attempts=5, last_error="SMTPDataError: 451 busy"
    )
    client.force_login(alice)
    page = client.get("/").content.decode()
    assert "Failed after 5 attempts" in page and "451 busy" in page and "Retry" in page
    with django_capture_on_commit_callbacks() as callbacks:
        client.post(action_url(email_thanks), {"action": "send"})
    email_thanks.refresh_from_db()
    assert (
        email_thanks.status,
        email_thanks.attempts,
        email_thanks.next_attempt_at,
    ) == (
        "scheduled",
        0,
        None,
    )
    assert len(callbacks) == 1


def test_a_retrying_email_says_when_it_goes_out_again(
    client, alice, email_thanks, django_capture_on_commit_callbacks
):
    """After a failed attempt the row gives the retry's time; after Send now
    (attempts kept, no retry time: the worker takes it at once) it says so,
    not "Retrying at" with no time."""
    retry_at = timezone.localtime() + timedelta(minutes=5)
    ThankYou.objects.filter(pk=email_thanks.pk).update(
        attempts=1, next_attempt_at=retry_at, last_error="451 busy"
    )
    client.force_login(alice)
    assert f"Retrying at {retry_at:%H:%M}" in client.get("/").content.decode()
    with django_capture_on_commit_callbacks():
        client.post(action_url(email_thanks), {"action": "send"})
    email_thanks.refresh_from_db()
    assert (email_thanks.attempts, email_thanks.next_attempt_at) == (1, None)
    page = client.get("/").content.decode()
    assert "Retrying now" in page and "Retrying at" not in page


def test_an_email_the_worker_has_not_sent_says_it_is_waiting(
    client, alice, email_thanks, settings, django_capture_on_commit_callbacks
):
    """Due later: when it goes out. Still scheduled two sweeps and a minute
    after its time, or its retry's (the worker or the broker behind): since
    when it has waited. Retry queues it now: not waiting."""
    settings.TOUCHPOINT_SWEEP_SECONDS = 60  # waiting after 3 minutes
    client.force_login(alice)

    def row_after(**fields) -> str:
        ThankYou.objects.filter(pk=email_thanks.pk).update(**fields)
        return client.get("/").content.decode()

    def at(minutes):
        return timezone.localtime() + timedelta(minutes=minutes)

    soon, late, retry = at(5), at(-10), at(-4)
    assert f"Goes out {soon:%b} {soon.day}, {soon:%H:%M}" in row_after(due_at=soon)
    assert "Goes out" in row_after(due_at=at(-2))  # a sweep may still be coming
    page = row_after(due_at=late)
    assert f"Waiting to go out since {late:%b} {late.day}, {late:%H:%M}" in page
    assert "Goes out" not in page
    page = row_after(attempts=1, next_attempt_at=retry)  # the retry is late too
    assert f"Waiting to go out since {retry:%b} {retry.day}, {retry:%H:%M}" in page
    page = row_after(status="failed", attempts=5, next_attempt_at=None)
    with django_capture_on_commit_callbacks():
        client.post(action_url(email_thanks), {"action": "send"})
    page = client.get("/").content.decode()  # tried again from scratch, now
    assert "Goes out" in page and "Waiting" not in page


def test_send_now_is_only_for_emails(client, alice, call_task):
    client.force_login(alice)
    response = client.post(action_url(call_task), {"action": "send"}, follow=True)
    assert "Only an email can be sent" in response.content.decode()


def test_actions_require_post_and_follow_the_scoping_rule(
    client, alice, bob, carol, call_task
):
    client.force_login(alice)
    assert client.get(action_url(call_task)).status_code == 405
    client.force_login(bob)
    assert client.post(action_url(call_task), {"action": "done"}).status_code == 404
    client.force_login(carol)  # alice's manager
    assert client.post(action_url(call_task), {"action": "done"}).status_code == 302


def test_a_reassigned_referrals_thanks_are_its_new_owners_on_today_and_to_act_on(
    client, alice, bob, carol, email_thanks
):
    referral = email_thanks.referral
    client.force_login(carol)
    client.post(
        f"/referrals/{referral.pk}/edit/",
        {
            "prospect_name": referral.prospect_name,
            "source": referral.source_id,
            "owner": bob.pk,
            "received_on": referral.received_on.isoformat(),
        },
    )
    client.force_login(alice)
    assert client.get("/").context["thanks"] == []
    assert client.post(action_url(email_thanks), {"action": "skip"}).status_code == 404
    client.force_login(bob)
    assert [t["pk"] for t in client.get("/").context["thanks"]] == [email_thanks.pk]
    response = client.post(action_url(email_thanks), {"action": "done"})
    assert response.status_code == 302
    email_thanks.refresh_from_db()
    assert email_thanks.status == "done"


def test_a_thank_you_is_whose_today_lists_it(client, alice, bob, email_thanks):
    """Today and its actions go by the owner a thank-you copies from its
    referral: one rule, so what a rep sees they can act on, and nothing else."""
    ThankYou.objects.filter(pk=email_thanks.pk).update(owner=bob)  # as if copied
    client.force_login(alice)
    assert client.get("/").context["thanks"] == []
    assert client.post(action_url(email_thanks), {"action": "done"}).status_code == 404
    client.force_login(bob)
    assert [t["pk"] for t in client.get("/").context["thanks"]] == [email_thanks.pk]
    assert client.post(action_url(email_thanks), {"action": "done"}).status_code == 302


def test_a_deleted_referrals_thank_you_cannot_be_acted_on(
    client, alice, admin, email_thanks
):
    """Its referral deleted (in the admin), a thank-you waits for the sweep
    to cancel it: it is on nobody's Today, and nobody thanks a source for it."""
    email_thanks.referral.delete()
    for user in (alice, admin):
        client.force_login(user)
        assert client.get("/").context["thanks"] == []
        response = client.post(action_url(email_thanks), {"action": "done"})
        assert response.status_code == 404
    email_thanks.refresh_from_db()
    assert email_thanks.status == "scheduled"


def test_the_timeline_and_the_source_page_show_the_thanks(client, alice, call_task):
    client.force_login(alice)
    source_page = client.get(call_task.source.get_absolute_url()).content.decode()
    assert "Never" in source_page
    client.post(action_url(call_task), {"action": "done", "note": "Called her"})
    page = client.get(call_task.referral.get_absolute_url()).content.decode()
    assert "Thanks · Referral received" in page and "Done" in page
    source_page = client.get(call_task.source.get_absolute_url()).content.decode()
    assert "Last thanked" in source_page and "Never" not in source_page
    call_task.refresh_from_db()
    call_task.source.refresh_from_db()
    assert call_task.source.last_thanked_at == call_task.completed_at


def test_a_never_thanked_source_says_so(client, alice, alice_partner):
    client.force_login(alice)
    assert "Never" in client.get(alice_partner.get_absolute_url()).content.decode()


# -- One-click unsubscribe (RFC 8058) ------------------------------------------


def test_one_click_unsubscribe_needs_no_login_or_csrf(
    db, alice, alice_partner, email_thanks
):
    url = unsubscribe_url(alice_partner).removeprefix("http://127.0.0.1:8000")
    browser = Client(enforce_csrf_checks=True)
    assert "Stop our emails?" in browser.get(url).content.decode()
    response = browser.post(url, {"List-Unsubscribe": "One-Click"})
    assert response.status_code == 200
    alice_partner.refresh_from_db()
    assert alice_partner.email_consent == Partner.Consent.OPTED_OUT
    assert alice_partner.email_consent_at is not None
    # They are still thanked, by a call from the rep.
    email_thanks.refresh_from_db()
    assert (email_thanks.channel, email_thanks.status) == ("call", "scheduled")


def test_a_forged_unsubscribe_link_is_404(client, db, alice_partner):
    url = unsubscribe_url(alice_partner).removeprefix("http://127.0.0.1:8000")
    assert client.post(url.replace("/u/", "/u/x")).status_code == 404
    assert client.post("/u/garbage/").status_code == 404


# -- Admins edit the templates, with a live preview ----------------------------


def form(**overrides):
    data = {
        "enabled": "on",
        "within_minutes": 120,
        "email_delay_minutes": 0,
        "subject": "Thanks for {{ prospect_name }}",
        "body": "Hi {{ source_first_name }}, {{ prospect_name }} is now at {{ stage }}.",
    }
    data.update(overrides)
    return data


def test_admin_edits_a_template(client, admin):
    client.force_login(admin)
    response = client.post("/thanks/settings/received/", {**form(), "save": "1"})
    assert response.status_code == 302
    config = ThankYouMoment.objects.get(moment="received")
    assert (config.subject, config.updated_by) == (
        "Thanks for {{ prospect_name }}",
        admin,
    )


def test_the_preview_uses_a_real_referral(client, admin, alice, alice_partner):
    # Logged as a rep logs it: it is owed thanks for being received.
    alice_referral = referral_log(
        user=alice,
        source=alice_partner,
        prospect_name="Paula Prospect",
        prospect_company="Globex",
    )
    client.force_login(admin)
    response = client.post(
        "/thanks/settings/received/preview/",
        {**form(), "preview_referral": alice_referral.pk},
        HTTP_HX_REQUEST="true",
    )
    page = response.content.decode()
    assert "Thanks for Paula Prospect" in page
    assert "Hi Priya, Paula Prospect is now at Received." in page


def test_a_broken_template_is_refused_with_its_error(client, admin, alice_referral):
    client.force_login(admin)
    response = client.post(
        "/thanks/settings/received/",
        {**form(body="Hi {% if %}"), "save": "1"},
    )
    assert response.status_code == 400
    assert "This template does not work" in response.content.decode()
    assert "Hi {% if %}" in response.content.decode()  # what was typed stays


def test_the_email_cannot_wait_past_the_promise(client, admin):
    client.force_login(admin)
    response = client.post(
        "/thanks/settings/won/",
        {**form(within_minutes=10, email_delay_minutes=30), "save": "1"},
    )
    assert "cannot wait longer than the promise" in response.content.decode()


def test_only_admins_edit_thanks(client, carol):
    client.force_login(carol)
    assert client.get("/thanks/settings/").status_code == 403
    assert client.post("/thanks/settings/received/preview/", form()).status_code == 403


def test_a_thanks_row_links_its_source_its_referral_and_its_actions(
    client, alice, alice_partner, email_thanks
):
    """On Today, and in the row an htmx action sends back (with a failed
    skip, which keeps the form)."""
    client.force_login(alice)
    links = [
        f'href="/partners/{alice_partner.pk}/"',
        f'href="/referrals/{email_thanks.referral_id}/"',
        f'action="{action_url(email_thanks)}" hx-post="{action_url(email_thanks)}"',
    ]
    page = client.get("/").content.decode()
    on_today = page.split(f'id="tp-{email_thanks.pk}"')[1].split("</li>")[0]
    row = client.post(
        action_url(email_thanks), {"action": "skip"}, HTTP_HX_REQUEST="true"
    ).content.decode()
    for link in links:
        assert link in on_today
        assert link in row

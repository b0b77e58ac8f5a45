"""Behaviours found in review: each one a way a rep could have been let down."""

import socket
import threading
import time
from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.utils import timezone

from referrals.digests import digests_send_due
from referrals.forms import ReferralForm
from referrals.models import Referral
from referrals.services import referral_log, referral_update
from tests.conftest import broker_unreachable
from tests.factories import PartnerFactory, ReferralFactory, stage
from thanks.models import ThankYouMoment, Touchpoint
from thanks.services import (
    GAVE_UP,
    MAX_ATTEMPTS,
    touchpoint_dispatch,
    touchpoints_sweep,
)


@pytest.fixture
def hung_broker():
    """A TCP server that accepts connections and never answers."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    held, stop = [], threading.Event()

    def accept():
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(server.accept()[0])
            except TimeoutError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield f"redis://127.0.0.1:{server.getsockname()[1]}/0"
    stop.set()
    thread.join()
    for conn in held:
        conn.close()
    server.close()


@pytest.mark.django_db(transaction=True)
def test_a_hung_broker_does_not_hang_the_web_request(
    client, alice, alice_partner, hung_broker
):
    referral = ReferralFactory(source=alice_partner)
    client.force_login(alice)
    with broker_unreachable(hung_broker):
        started = time.monotonic()
        response = client.post(
            f"/referrals/{referral.pk}/move/",
            {"stage": stage("Won").pk, "final_value": "10"},
        )
        elapsed = time.monotonic() - started
    assert response.status_code == 302  # the sale is saved...
    assert elapsed < 15  # ...without waiting forever on the broker
    assert (
        referral.touchpoints.get(moment="won").status == "scheduled"
    )  # the sweep sends it


def test_a_moment_switched_off_before_sending_is_cancelled(
    alice, alice_partner, smtp_sink
):
    touchpoint = referral_log(
        user=alice, source=alice_partner, prospect_name="P"
    ).touchpoints.get()
    ThankYouMoment.objects.filter(moment="received").update(enabled=False)
    assert touchpoint_dispatch(touchpoint_id=touchpoint.pk) == "cancelled"
    assert smtp_sink.messages == []


def test_a_send_that_keeps_dying_ends_up_failed_and_visible(alice, alice_partner):
    touchpoint = referral_log(
        user=alice, source=alice_partner, prospect_name="P"
    ).touchpoints.get()
    Touchpoint.objects.filter(pk=touchpoint.pk).update(
        status="sending",
        attempts=MAX_ATTEMPTS,
        claimed_at=timezone.now() - timedelta(hours=1),
    )
    touchpoints_sweep(enqueue=lambda: None)
    touchpoint.refresh_from_db()
    assert (touchpoint.status, touchpoint.last_error) == ("failed", GAVE_UP)


def test_a_bad_filter_does_not_drop_the_others(client, alice, alice_partner):
    # Fixed companies: a random one ("Annis Ltd") would match the search too.
    ReferralFactory(source=alice_partner, prospect_name="Ann", prospect_company="Acme")
    ReferralFactory(
        source=alice_partner, prospect_name="Ben", prospect_company="Globex"
    )
    client.force_login(alice)
    for params in (
        {"q": "Ann", "received_from": "notadate"},
        {"q": "Ann", "sort": "bogus"},
    ):
        names = [
            r["prospect_name"]
            for r in client.get("/referrals/", params).context["page"]
        ]
        assert names == ["Ann"], params


def test_highest_value_puts_referrals_without_value_last(client, alice, alice_partner):
    ReferralFactory(source=alice_partner, prospect_name="None", estimated_value=None)
    ReferralFactory(source=alice_partner, prospect_name="Big", estimated_value=9000)
    client.force_login(alice)
    for sort in ("-value", "value"):
        names = [
            r["prospect_name"]
            for r in client.get("/referrals/", {"sort": sort}).context["page"]
        ]
        assert names[-1] == "None", sort


def test_a_rep_edits_a_referral_whose_source_a_manager_owns(client, alice, carol):
    carols = PartnerFactory(owner=carol, name="Carol's source")
    referral = ReferralFactory(source=carols, owner=alice)
    client.force_login(alice)
    response = client.post(
        f"/referrals/{referral.pk}/edit/",
        {
            "prospect_name": "Renamed",
            "source": carols.pk,
            "received_on": referral.received_on.isoformat(),
        },
    )
    assert response.status_code == 302
    referral.refresh_from_db()
    assert referral.prospect_name == "Renamed"


def test_changing_the_source_moves_the_thanks_owed(client, alice, alice_partner):
    referral = referral_log(user=alice, source=alice_partner, prospect_name="P")
    other = PartnerFactory(owner=alice, name="Real Referrer", email_consent="out")
    client.force_login(alice)
    client.post(
        f"/referrals/{referral.pk}/edit/",
        {
            "prospect_name": "P",
            "source": other.pk,
            "received_on": referral.received_on.isoformat(),
        },
    )
    touchpoint = referral.touchpoints.get()
    assert (touchpoint.source, touchpoint.channel) == (other, "call")


def test_a_digest_that_fails_to_send_is_tried_again(alice, settings, smtp_sink):
    alice.time_zone = "UTC"
    alice.save()
    morning = timezone.now().replace(hour=8, minute=5)
    # Logged the evening before, so the call thanks is overdue by the morning
    # whatever the hour the test runs at.
    with time_machine.travel(morning - timedelta(hours=12), tick=False):
        referral_log(
            user=alice,
            source=PartnerFactory(owner=alice, email_consent="out"),
            prospect_name="P",
        )
    settings.EMAIL_PORT = 1  # the mail server is down
    with time_machine.travel(morning, tick=False):
        assert digests_send_due() == 0
        alice.refresh_from_db()
        assert alice.digest_sent_on is None  # the day was given back
        settings.EMAIL_PORT = smtp_sink.port
        assert digests_send_due() == 1
    assert len(smtp_sink.messages) == 1
    assert mail.outbox == []


def test_a_rep_cannot_opt_an_unsubscribed_source_back_in(client, alice):
    source = PartnerFactory(owner=alice, email_consent="out")
    client.force_login(alice)
    client.post(
        f"/partners/{source.pk}/edit/",
        {"name": source.name, "kind": "customer", "email_consent": "in"},
    )
    source.refresh_from_db()
    assert source.email_consent == "out"


def test_a_reassigned_referral_takes_its_thanks_along(
    client, carol, alice, bob, alice_partner
):
    referral = referral_log(user=alice, source=alice_partner, prospect_name="P")
    client.force_login(carol)
    client.post(
        f"/referrals/{referral.pk}/edit/",
        {
            "prospect_name": "P",
            "source": alice_partner.pk,
            "owner": bob.pk,
            "received_on": referral.received_on.isoformat(),
        },
    )
    assert referral.touchpoints.get().owner == bob


def test_a_stale_edit_form_writing_the_old_owner_back_takes_the_thanks_too(
    carol, alice, bob, alice_partner
):
    """A rep's edit form (owner disabled: the owner it was loaded with) saved
    after a manager reassigned the referral writes the old owner back: the
    thanks follow the owner written, as Today shows them by it."""
    referral = referral_log(user=alice, source=alice_partner, prospect_name="P")
    stale_form = ReferralForm(
        {
            "prospect_name": "P, renamed",
            "source": alice_partner.pk,
            "received_on": referral.received_on.isoformat(),
        },
        instance=Referral.objects.get(pk=referral.pk),  # loaded: alice's
        user=alice,
    )
    reassign = ReferralForm(
        {
            "prospect_name": "P",
            "source": alice_partner.pk,
            "owner": bob.pk,
            "received_on": referral.received_on.isoformat(),
        },
        instance=Referral.objects.get(pk=referral.pk),
        user=carol,
    )
    assert reassign.is_valid() and stale_form.is_valid()
    referral_update(referral=reassign.instance, user=carol, data=reassign.cleaned_data)
    assert referral.touchpoints.get().owner == bob
    referral_update(  # "owner" is not in its changed_data
        referral=stale_form.instance, user=alice, data=stale_form.cleaned_data
    )
    referral.refresh_from_db()
    assert referral.owner == alice
    assert referral.touchpoints.get().owner == alice


def test_a_thank_you_edited_in_the_admin_is_owned_by_its_referrals_owner(
    admin_client, alice, bob, alice_partner
):
    """Pointed at another rep's referral in the admin, a thank-you moves to
    that rep's Today (its owner is the referral's, never typed in)."""
    referral = referral_log(user=alice, source=alice_partner, prospect_name="P")
    touchpoint = referral.touchpoints.get()
    bobs = referral_log(
        user=bob, source=PartnerFactory(owner=bob), prospect_name="Bobs"
    )
    bobs.touchpoints.all().delete()  # one thank-you per referral and moment
    url = f"/admin/thanks/touchpoint/{touchpoint.pk}/change/"
    form = admin_client.get(url).context["adminform"].form
    data = {
        name: value
        for name, value in form.initial.items()
        if name in form.fields and value is not None
    }
    data["referral"] = bobs.pk
    for name in ("due_at", "deadline_at", "created_at"):  # the admin's split fields
        moment = timezone.localtime(data.pop(name))
        data[f"{name}_0"] = moment.date().isoformat()
        data[f"{name}_1"] = moment.time().strftime("%H:%M:%S")
    response = admin_client.post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    touchpoint.refresh_from_db()
    assert (touchpoint.referral, touchpoint.owner) == (bobs, bob)

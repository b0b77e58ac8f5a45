"""The thank-you preview shows a referral that has reached the moment, with a
source who takes email, and the admin may pick another (issue 22, item 6)."""

from datetime import date

import pytest

from partners.models import Partner
from referrals.services import referral_move
from tests.factories import PartnerFactory, ReferralFactory, stage
from thanks.models import Moment
from thanks.views import NO_PREVIEW

URL = "/thanks/settings/meeting/"


def met(referral, user):
    referral_move(referral=referral, to_stage=stage("Meeting held"), user=user)
    referral.refresh_from_db()
    assert referral.meeting_held_at is not None
    return referral


@pytest.fixture
def referrals(alice, alice_partner):
    """Newest first: never met, met from a source who opted out, met, met."""
    opted_out = PartnerFactory(owner=alice, email_consent=Partner.Consent.OPTED_OUT)

    def logged(day, source=alice_partner):
        return ReferralFactory(source=source, received_on=date(2026, 11, day))

    return {
        "never_met": logged(20),
        "opted_out": met(logged(15, source=opted_out), alice),
        "met": met(logged(10), alice),
        "met_earlier": met(logged(5), alice),
    }


def choices(response):
    return list(response.context["preview_choices"])


def test_the_preview_is_the_newest_referral_met_whose_source_takes_email(
    client, admin, referrals
):
    client.force_login(admin)
    response = client.get(URL)
    assert response.status_code == 200
    assert response.context["preview"]["referral"] == referrals["met"]
    assert choices(response) == [referrals["met"], referrals["met_earlier"]]


def test_the_admin_picks_another_referral_that_reached_the_moment(
    client, admin, referrals
):
    client.force_login(admin)
    picked = referrals["met_earlier"]
    response = client.get(URL, {"preview_referral": picked.pk})
    assert response.context["preview"]["referral"] == picked

    # A referral that has not reached the moment is not a choice.
    for other in (referrals["never_met"], referrals["opted_out"]):
        response = client.get(URL, {"preview_referral": other.pk})
        assert response.context["preview"]["referral"] == referrals["met"]


def test_with_no_referral_at_the_moment_the_preview_says_so(
    client, admin, alice_referral
):
    client.force_login(admin)
    response = client.get(URL)
    assert response.status_code == 200
    assert response.context["preview"] == {
        "error": NO_PREVIEW.format(moment=Moment.MEETING.label)
    }
    assert choices(response) == []


def test_the_page_takes_the_same_queries_whatever_the_referrals(
    client, admin, referrals, alice_partner, django_assert_num_queries
):
    for day in range(1, 4):
        met(
            ReferralFactory(source=alice_partner, received_on=date(2026, 10, day)),
            admin,
        )
    client.force_login(admin)
    # 1 the session, 2 the admin (with their team and role), 3 the moment's
    # settings, 4 the preview referral (with its source, stage and owner),
    # 5 the choices (the same join, every row at once, none per row).
    with django_assert_num_queries(5):
        response = client.get(URL)
    assert response.status_code == 200
    assert len(choices(response)) == 5

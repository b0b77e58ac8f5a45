"""Services take plain data: referral_log creates a new source itself,
referral_update and stage_save take field values, not forms."""

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from partners.models import Partner
from referrals.forms import ReferralLogForm, add_service_errors
from referrals.models import Referral, Stage
from referrals.services import referral_log, referral_move, referral_update, stage_save

NEW_SOURCE = {
    "name": "  Sam Source ",
    "email": " Sam@Partner.Example",
    "company": " Partner Co ",
    "phone": "",
    "kind": Partner.Kind.PARTNER,
}


def test_referral_log_creates_the_new_source_owned_by_the_referrals_owner(carol, alice):
    referral = referral_log(
        user=carol, owner=alice, new_source=NEW_SOURCE, prospect_name="Nora"
    )
    source = Partner.objects.get()
    assert referral.source == source
    # Trimmed and lower-cased by the same rule as the prospect's.
    assert (source.name, source.email, source.company, source.kind) == (
        "Sam Source",
        "sam@partner.example",
        "Partner Co",
        "partner",
    )
    assert source.owner == alice


def test_a_bad_new_source_writes_nothing_and_leaves_the_callers_transaction_usable(
    alice,
):
    with pytest.raises(ValidationError) as raised:
        referral_log(
            user=alice,
            new_source={**NEW_SOURCE, "name": "S" * 201, "email": "not an email"},
            prospect_name="Nora",
        )
    assert set(raised.value.message_dict) == {"name", "email"}
    # Still usable (the test's own transaction): the source rolled back alone.
    assert not Partner.objects.exists()
    assert not Referral.objects.exists()


def test_referral_log_takes_a_source_or_a_new_one_not_both(alice, alice_partner):
    with pytest.raises(TypeError):
        referral_log(
            user=alice,
            source=alice_partner,
            new_source=NEW_SOURCE,
            prospect_name="Nora",
        )


def test_the_new_sources_errors_land_next_to_its_fields_and_the_input_is_kept(
    alice,
):
    form = ReferralLogForm(
        {
            "new_source_name": "Sam Source",
            "new_source_email": "sam@partner.example",
            "new_source_kind": "partner",
            "prospect_name": "Nora",
            "received_on": timezone.localdate().isoformat(),
        },
        user=alice,
    )
    assert form.is_valid(), form.errors
    error = ValidationError(
        {"email": "Bad email.", "kind": "Bad kind.", "prospect_name": "Bad name."}
    )
    add_service_errors(form, error, form.SERVICE_FIELDS)
    assert form.errors == {
        "new_source_email": ["Bad email."],
        "new_source_kind": ["Bad kind."],
        "prospect_name": ["Bad name."],
    }
    assert form["new_source_name"].value() == "Sam Source"


def test_the_form_gives_the_new_source_as_the_service_takes_it(alice):
    form = ReferralLogForm(
        {
            "source_query": "",
            "new_source_name": "Sam Source",
            "new_source_email": "sam@partner.example",
            "new_source_company": "Partner Co",
            "new_source_phone": "555",
            "new_source_kind": "partner",
            "prospect_name": "Nora",
            "received_on": timezone.localdate().isoformat(),
        },
        user=alice,
    )
    assert form.is_valid(), form.errors
    assert form.new_source == {
        "name": "Sam Source",
        "email": "sam@partner.example",
        "company": "Partner Co",
        "phone": "555",
        "kind": "partner",
    }


def test_referral_update_writes_only_the_fields_it_is_given(
    alice, alice_partner, django_capture_on_commit_callbacks
):
    """A referral read before a move and edited after it keeps the move."""
    referral = referral_log(user=alice, source=alice_partner, prospect_name="P")
    stale = Referral.objects.get(pk=referral.pk)
    contacted = Stage.objects.filter(kind=Stage.Kind.OPEN).order_by("position")[1]
    with django_capture_on_commit_callbacks(execute=False):
        referral_move(referral=referral, to_stage=contacted, user=alice)
    saved = referral_update(
        referral=stale,
        user=alice,
        data={"prospect_name": " Paula ", "prospect_email": " P@Example.COM"},
    )
    stale.refresh_from_db()
    assert stale.stage == contacted
    assert (saved.prospect_name, saved.prospect_email) == ("Paula", "p@example.com")
    assert (stale.prospect_name, stale.prospect_email) == ("Paula", "p@example.com")


def test_referral_update_checks_lengths_itself(alice, alice_partner):
    referral = referral_log(user=alice, source=alice_partner, prospect_name="P")
    with pytest.raises(ValidationError) as raised:
        referral_update(
            referral=referral, user=alice, data={"prospect_title": "T" * 999}
        )
    assert "prospect_title" in raised.value.message_dict
    referral.refresh_from_db()
    assert referral.prospect_title == ""


def test_stage_save_takes_the_settings_as_data(admin):
    stage = Stage.objects.filter(kind=Stage.Kind.OPEN).first()
    stage_save(stage=stage, data={"name": "First call", "sla_days": 3})
    stage.refresh_from_db()
    assert (stage.name, stage.sla_days) == ("First call", 3)
    with pytest.raises(ValidationError):
        stage_save(stage=stage, data={"kind": "no such kind"})
    assert Stage.objects.get(pk=stage.pk).kind == Stage.Kind.OPEN

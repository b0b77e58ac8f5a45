"""Upgrading a database whose stages were renumbered by the old reorder."""

from importlib import import_module

from django.apps import apps

from referrals.models import Stage
from referrals.rollups import rollups_rebuild
from referrals.services import referral_log, referral_move
from tests.factories import stage
from tests.helpers import totals

migration = import_module("referrals.migrations.0012_furthest_from_history")


def test_the_upgrade_puts_furthest_positions_back_on_their_stages(alice, alice_partner):
    referral = referral_log(user=alice, source=alice_partner, prospect_name="P")
    referral_move(referral=referral, to_stage=stage("Meeting held"), user=alice)
    # What the old reorder did: every stage renumbered, referrals left alone.
    for each in Stage.objects.all():
        Stage.objects.filter(pk=each.pk).update(position=each.position + 10)
    rollups_rebuild()
    migration.furthest_from_history(apps, None)
    referral.refresh_from_db()
    assert referral.furthest_position == stage("Meeting held").position
    before = totals()
    rollups_rebuild()
    assert totals() == before  # the received summary was rebuilt with them

""" "Stale" is written three ways: in Python for one referral (is_stale: the
board's and list's badges), as ORM conditions (stale_per_stage: Today, the
digest, the list's filter) and as SQL (the dashboard's stale table and its
CSV). They must agree on every side of every cut-off."""

from datetime import timedelta

import time_machine
from django.utils import timezone

from referrals.models import Referral, Stage, is_stale
from referrals.selectors import referrals_needing_action, stale_filter
from tests.factories import PartnerFactory, ReferralFactory
from tests.helpers import csv_rows

MINUTE = timedelta(minutes=1)


def test_python_orm_and_dashboard_sql_agree_on_what_is_stale(client, admin, alice):
    now = timezone.now().replace(microsecond=0)
    source = PartnerFactory(owner=alice)
    open_with_sla = Stage.objects.filter(kind="open", sla_days__isnull=False)
    assert open_with_sla.count() >= 2  # the default pipeline sets SLAs
    no_sla = Stage.objects.filter(kind="open").first()
    no_sla.sla_days = None
    no_sla.save()
    stages = [*Stage.objects.filter(kind="open"), *Stage.objects.exclude(kind="open")]
    n = 0
    for stage in stages:
        cutoff = now - timedelta(days=stage.sla_days or 3)
        for entered in (cutoff - MINUTE, cutoff + MINUTE, cutoff - timedelta(days=40)):
            for activity in (None, cutoff - MINUTE, cutoff + MINUTE):
                n += 1
                ReferralFactory(
                    prospect_name=f"Case {n:03d}",
                    owner=alice,
                    source=source,
                    stage=stage,
                    stage_entered_at=entered,
                    last_activity_at=activity,
                )

    in_python = {
        r.prospect_name
        for r in Referral.objects.select_related("stage")
        if is_stale(r.stage, r.stage_entered_at, r.last_activity_at, now)
    }
    in_orm = set(
        Referral.objects.filter(stale_filter(now)).values_list(
            "prospect_name", flat=True
        )
    )
    client.force_login(admin)
    with time_machine.travel(now, tick=False):
        exported = csv_rows(client.get("/dashboard/", {"export": "stale"}))
    in_sql = {row[0] for row in exported[1:]}
    # Today's count, written out per stage (referrals.sql.STALE_IN_STAGE).
    on_today = referrals_needing_action(user=admin, now=now)["counts"]["stale"]

    assert 10 < len(in_python) < n  # some stale, some not, on each side
    assert in_python == in_orm == in_sql
    assert on_today == len(in_python)

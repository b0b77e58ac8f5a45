"""`make bench-data`: the load benchmark's data set (PostgreSQL's COPY)."""

from collections import defaultdict
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.db.models import Count, F, Max, Min, Sum
from django.utils import timezone

from accounts.models import User
from partners.models import Partner
from referrals.criteria import DEFAULT_LUKEWARM_FROM, DEFAULT_QUALIFIED_FROM
from referrals.models import Label, PipelineTotal, Referral, Stage, StageChange
from referrals.services import referral_enter
from thanks.models import ThankYou, ThankYouMoment

MILESTONE_FIELDS = (
    "first_contacted_at",
    "meeting_held_at",
    "closed_at",
    "furthest_position",
)

SMALL = {
    "referrals": 3000,
    "partners": 60,
    "teams": 2,
    "reps_per_team": 3,
    "activities_per_referral": 1.0,
}


def generate(**options) -> None:
    call_command("bench_data", **SMALL, **options, stdout=StringIO())


def fingerprint() -> list[tuple]:
    return list(
        Referral.objects.order_by("pk").values_list(
            "source_id", "owner_id", "stage_id", "estimated_value"
        )
    )


def test_bench_data_makes_a_seeded_data_set_the_pages_can_use(transactional_db):
    # (transactional_db by name: the stages and roles that data migrations
    # made, which a flush empties, are put back for the fixtures that ask.)
    if connection.vendor != "postgresql":
        with pytest.raises(CommandError, match="set DATABASE_URL"):
            generate()
        return
    generate()
    assert Referral.objects.count() == 3000
    assert Partner.objects.count() == 60
    assert User.objects.filter(email__startswith="rep").count() == 6
    assert User.objects.filter(email__startswith="manager").count() == 2

    # Real-looking names, common surnames met often, as in a real book.
    assert not Referral.objects.filter(prospect_name__startswith="Prospect").exists()
    assert Referral.objects.filter(prospect_name__endswith=" Smith").count() >= 5
    assert Partner.objects.filter(company__contains="-").exists()  # "Kemp-Smith"

    # Every column of the board has cards, recent Lost ones included.
    recent = timezone.now() - timedelta(days=30)
    for kind in (Stage.Kind.WON, Stage.Kind.LOST):
        assert Referral.objects.filter(stage__kind=kind, closed_at__gte=recent).exists()
    assert Referral.objects.filter(stage__kind=Stage.Kind.OPEN).exists()
    # Thank-yous carry their referral's owner; pending ones were never tried.
    assert not ThankYou.objects.exclude(owner=F("referral__owner")).exists()
    pending = ThankYou.objects.filter(status="scheduled")
    assert pending.exists() and not pending.exclude(attempts=0).exists()
    # Most referrals assessed, each label met; the summaries were rebuilt
    # over what COPY wrote, by label too.
    labels = dict(Referral.objects.values_list("label").annotate(Count("pk")))
    assert set(labels) == set(Label.values)
    assert 0.7 < 1 - labels[Label.UNASSESSED] / 3000 < 0.9
    # Each label's scores within its thresholds (the one rule gave them).
    scores = {
        row["label"]: (row["low"], row["high"])
        for row in Referral.objects.values("label").annotate(
            low=Min("score"), high=Max("score")
        )
    }
    assert scores[Label.UNASSESSED] == (None, None)
    assert scores[Label.QUALIFIED][0] >= DEFAULT_QUALIFIED_FROM
    assert scores[Label.LUKEWARM][0] >= DEFAULT_LUKEWARM_FROM
    assert scores[Label.LUKEWARM][1] < DEFAULT_QUALIFIED_FROM
    assert scores[Label.COLD][1] < DEFAULT_LUKEWARM_FROM
    counted = {
        (row["owner"], row["stage"], row["label"]): (row["n"], row["total"])
        for row in Referral.objects.values("owner", "stage", "label").annotate(
            n=Count("pk"), total=Sum("estimated_value")
        )
    }
    summed = {
        (row["owner"], row["stage"], row["label"]): (row["n"], row["total"])
        for row in PipelineTotal.objects.values("owner", "stage", "label").annotate(
            n=Sum("count"), total=Sum("value")
        )
        if row["n"]
    }
    assert summed == counted

    # Each referral starts as the services would have made it: its history
    # replayed through referral_enter gives the same milestone dates,
    # furthest stage and closing, and the thank-yous the enabled moments owe,
    # on the promise's terms.
    history = defaultdict(list)
    for change in StageChange.objects.select_related("to_stage").order_by("at", "pk"):
        history[change.referral_id].append(change)
    owed_on_record = defaultdict(dict)
    for thank_you in ThankYou.objects.all():
        owed_on_record[thank_you.referral_id][thank_you.moment] = thank_you
    configs = {c.moment: c for c in ThankYouMoment.objects.filter(enabled=True)}
    referrals = Referral.objects.select_related("source")
    for referral in referrals.iterator():
        replayed, owed = Referral(furthest_position=0), [("received", None)]
        for change in history[referral.pk]:
            owed += [
                (moment, change.at)
                for moment in referral_enter(replayed, change.to_stage, at=change.at)
            ]
        assert [
            getattr(referral, field)
            for field in (*MILESTONE_FIELDS, "stage_id", "stage_entered_at")
        ] == [
            getattr(replayed, field)
            for field in (*MILESTONE_FIELDS, "stage_id", "stage_entered_at")
        ]
        thanked = owed_on_record[referral.pk]
        assert set(thanked) == {moment for moment, _ in owed if moment in configs}
        for moment, at in owed:
            if moment in thanked:
                terms = configs[moment].owed(
                    at=at or referral.created_at, by_email=referral.source.can_email
                )
                assert (thanked[moment].channel, thanked[moment].due_at) == (
                    terms["channel"],
                    terms["due_at"],
                )
                assert thanked[moment].deadline_at == terms["deadline_at"]

    # Seeded: the same seed makes the same referrals, another seed others.
    first = fingerprint()
    with pytest.raises(CommandError, match="use --reset"):
        generate()
    generate(reset=True)
    assert fingerprint() == first
    generate(reset=True, seed=7)
    assert fingerprint() != first

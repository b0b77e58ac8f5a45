"""Each referral's furthest stage reached, worked out again from its history.

Reordering stages used to renumber every stage (10, 20, 30...) without moving
the referrals' furthest positions, so after a reorder the funnel counted them
at other stages. Where a referral's stored position differs from its history
(the highest position among the stages it entered, Lost aside, and the stage
it is in), it is corrected and the monthly received summary rebuilt. A
database never reordered is only read (a few seconds at a million referrals).
"""

from django.db import migrations
from django.db.models import Count, F, Max, OuterRef, Subquery, Sum
from django.db.models.functions import Coalesce, Greatest, TruncMonth


def furthest_from_history(apps, schema_editor):
    Referral = apps.get_model("referrals", "Referral")
    Stage = apps.get_model("referrals", "Stage")
    StageChange = apps.get_model("referrals", "StageChange")
    ReceivedTotal = apps.get_model("referrals", "ReceivedTotal")
    highest = (
        StageChange.objects.filter(referral=OuterRef("pk"))
        .exclude(to_stage__kind="lost")
        .order_by()
        .values("referral")
        .annotate(top=Max("to_stage__position"))
        .values("top")
    )
    current = Stage.objects.filter(pk=OuterRef("stage")).exclude(kind="lost")
    computed = Greatest(
        Coalesce(Subquery(highest), 0),
        Coalesce(Subquery(current.values("position")), 0),
    )
    wrong = Referral.objects.annotate(computed=computed).exclude(
        furthest_position=F("computed")
    )
    if not wrong.exists():
        return
    Referral.objects.filter(pk__in=wrong.values("pk")).update(
        furthest_position=computed
    )
    ReceivedTotal.objects.all().delete()
    rows = (
        Referral.objects.order_by()
        .annotate(month=TruncMonth("received_on"))
        .values("owner", "month", "stage", "furthest_position", "lost_reason")
        .annotate(count=Count("*"), value=Sum("estimated_value"))
    )
    objects = []
    for row in rows:
        row["owner_id"], row["stage_id"] = row.pop("owner"), row.pop("stage")
        if hasattr(row["month"], "date"):
            row["month"] = row["month"].date()
        row["value"] = row["value"] or 0
        objects.append(ReceivedTotal(**row))
    ReceivedTotal.objects.bulk_create(objects, batch_size=5000)


class Migration(migrations.Migration):
    dependencies = [("referrals", "0011_covering_indexes_for_dashboards")]

    operations = [
        migrations.RunPython(furthest_from_history, migrations.RunPython.noop)
    ]

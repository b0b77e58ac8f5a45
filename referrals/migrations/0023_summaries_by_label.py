"""The summary tables keyed by label too (issue 26): the dashboard's figures
by label, read without counting the referrals.

1. Each summary gains the label with a constant default, which PostgreSQL
   (11+) keeps in the catalogue without rewriting a row: every row counts
   as Not assessed.
2. Each unique key (the upserts' ON CONFLICT target) gains the label.
3. The rows of the owners who have an assessed referral are counted again
   from their referrals, by label (the others' rows are right as they are).
   The ALTERs lock the summaries until this commits, against readers too
   (the dashboard, the board's counts), and the version before this one
   cannot write to them after it (its upserts name the old keys): stop the
   web and the workers to migrate. How long at a million referrals:
   docs/operations.md, Upgrading a large database.

Going back, each key's rows are added up across labels before the old keys
return.
"""

from decimal import Decimal

from django.db import migrations, models
from django.db.models import Count, DateField, Min, Sum
from django.db.models.functions import Cast, Coalesce, TruncMonth
from django.utils import timezone

UNASSESSED = "unassessed"


def label_field() -> models.CharField:
    return models.CharField(
        choices=[
            ("unassessed", "Not assessed"),
            ("qualified", "Qualified"),
            ("lukewarm", "Lukewarm"),
            ("cold", "Cold"),
        ],
        db_default=UNASSESSED,
        default=UNASSESSED,
        max_length=10,
    )


# Each summary's key, without the label (as before this migration).
KEYS = {
    "PipelineTotal": ["owner", "stage"],
    "ReceivedTotal": ["owner", "month", "stage", "furthest_position", "lost_reason"],
    "ClosedTotal": ["owner", "month", "stage"],
}


def summaries_by_label(apps, schema_editor):
    """The owners with an assessed referral: their summary rows deleted and
    counted again from their referrals, by label, each summary in one
    INSERT ... SELECT (the database groups a million referrals faster than
    Python builds the rows, and the summaries are locked meanwhile)."""
    Referral = apps.get_model("referrals", "Referral")
    assessed = Referral.objects.exclude(label=UNASSESSED).order_by()
    if not assessed.exists():  # every row is right: all Not assessed
        return
    owners = assessed.values("owner")
    referrals = Referral.objects.filter(owner__in=owners).order_by()
    site = timezone.get_default_timezone()  # the month closed is the site's
    groups = {
        "PipelineTotal": referrals.values("owner", "stage", "label"),
        "ReceivedTotal": referrals.annotate(month=TruncMonth("received_on")).values(
            "owner", "month", "stage", "furthest_position", "lost_reason", "label"
        ),
        "ClosedTotal": referrals.filter(closed_at__isnull=False)
        .annotate(month=Cast(TruncMonth("closed_at", tzinfo=site), DateField()))
        .values("owner", "month", "stage", "label"),
    }
    connection = schema_editor.connection
    quote = connection.ops.quote_name
    for name, rows in groups.items():
        summary = apps.get_model("referrals", name)
        summary.objects.filter(owner__in=owners).delete()
        rows = rows.annotate(
            count=Count("*"), value=Coalesce(Sum("estimated_value"), Decimal(0))
        )
        # The grouped referrals' columns are named as values() and annotate()
        # name them: the summary's fields (owner, month, stage, ...).
        fields = [*KEYS[name], "label", "count", "value"]
        columns = ", ".join(quote(summary._meta.get_field(f).column) for f in fields)
        named = ", ".join(f"grouped.{quote(field)}" for field in fields)
        select, params = rows.query.sql_with_params()
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {quote(summary._meta.db_table)} ({columns}) "
                f"SELECT {named} FROM ({select}) grouped",
                params,
            )


def summaries_merged(apps, schema_editor):
    """Backwards: each old key's rows as one row, before the label goes.

    The first row of each key keeps the sums and the others are deleted:
    rows updated in their counts and deleted, not inserted, leave no
    foreign-key check pending (PostgreSQL), which would refuse the ALTERs
    that follow in this transaction."""
    for name, key in KEYS.items():
        summary = apps.get_model("referrals", name)
        if not summary.objects.exclude(label=UNASSESSED).exists():
            continue
        per_key = (
            summary.objects.order_by()
            .values(*key)
            .annotate(first=Min("pk"), count=Sum("count"), value=Sum("value"))
        )
        merged = list(per_key)
        summary.objects.exclude(pk__in=per_key.values("first")).delete()
        summary.objects.bulk_update(
            [
                summary(
                    pk=row["first"],
                    label=UNASSESSED,
                    count=row["count"],
                    value=row["value"],
                )
                for row in merged
            ],
            ["label", "count", "value"],
            batch_size=1000,
        )


class Migration(migrations.Migration):
    dependencies = [
        ("referrals", "0022_closed_covering"),
    ]

    operations = [
        *(
            migrations.AddField(model_name=model, name="label", field=label_field())
            for model in ("pipelinetotal", "receivedtotal", "closedtotal")
        ),
        migrations.AddConstraint(
            model_name="pipelinetotal",
            constraint=models.UniqueConstraint(
                fields=("owner", "stage", "label"),
                name="one_pipeline_total_per_label",
            ),
        ),
        migrations.AddConstraint(
            model_name="receivedtotal",
            constraint=models.UniqueConstraint(
                fields=(
                    "owner",
                    "month",
                    "stage",
                    "furthest_position",
                    "lost_reason",
                    "label",
                ),
                name="one_received_total_per_label",
            ),
        ),
        migrations.AddConstraint(
            model_name="closedtotal",
            constraint=models.UniqueConstraint(
                fields=("owner", "month", "stage", "label"),
                name="one_closed_total_per_label",
            ),
        ),
        migrations.RemoveConstraint(
            model_name="pipelinetotal", name="one_pipeline_total_per_owner_stage"
        ),
        migrations.RemoveConstraint(
            model_name="receivedtotal", name="one_received_total_per_key"
        ),
        migrations.RemoveConstraint(
            model_name="closedtotal", name="one_closed_total_per_key"
        ),
        migrations.RunPython(summaries_by_label, summaries_merged),
    ]

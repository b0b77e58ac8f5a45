from django.db import migrations

# name, kind, win probability (%), SLA in days (None: no SLA), milestone
DEFAULT_STAGES = [
    ("Received", "open", 10, 2, ""),
    ("Contacted", "open", 20, 7, "contacted"),
    ("Meeting held", "open", 40, 14, "meeting"),
    ("Proposal sent", "open", 60, 21, ""),
    ("Won", "won", 100, None, ""),
    ("Lost", "lost", 0, None, ""),
]


def create_stages(apps, schema_editor):
    Stage = apps.get_model("referrals", "Stage")
    for position, (name, kind, probability, sla_days, milestone) in enumerate(
        DEFAULT_STAGES
    ):
        Stage.objects.get_or_create(
            name=name,
            defaults={
                "position": position * 10,
                "kind": kind,
                "probability": probability,
                "sla_days": sla_days,
                "milestone": milestone,
            },
        )


class Migration(migrations.Migration):
    dependencies = [("referrals", "0001_initial")]
    operations = [migrations.RunPython(create_stages, migrations.RunPython.noop)]

from django.apps import AppConfig
from django.db.models.signals import post_migrate


def snapshots_forget(sender, using="default", **kwargs):
    """Every migrate (each deploy runs one) deletes the dashboard snapshots:
    figures rendered by the previous version are not shown after an upgrade."""
    from django.db import connections

    from referrals.models import DashboardSnapshot

    table = DashboardSnapshot._meta.db_table
    if table in connections[using].introspection.table_names():  # not migrated away
        DashboardSnapshot.objects.using(using).all().delete()


class ReferralsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "referrals"

    def ready(self):
        from core.health import health_check_register
        from referrals import health

        post_migrate.connect(snapshots_forget, sender=self)
        health_check_register("sweep", health.sweep_health)
        health_check_register("workers", health.workers_health)
        health_check_register("thank_yous", health.thank_yous_health)

from django.apps import AppConfig
from django.db.models.signals import post_migrate


def snapshots_forget(sender, using="default", **kwargs):
    """Every migrate (each deploy runs one) deletes the dashboard snapshots:
    figures rendered by the previous version are not shown after an upgrade."""
    from django.db import connections

    from dashboard.models import DashboardSnapshot  # models load after apps

    table = DashboardSnapshot._meta.db_table
    if table in connections[using].introspection.table_names():  # not migrated away
        DashboardSnapshot.objects.using(using).all().delete()


class DashboardConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "dashboard"

    def ready(self):
        # Every migrate (each deploy runs one) forgets the snapshots.
        post_migrate.connect(snapshots_forget, sender=self)

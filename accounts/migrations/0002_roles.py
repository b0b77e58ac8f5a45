"""The three roles as groups with permissions.

Permissions normally appear after all migrations ran (post_migrate), so this
migration creates them first for the apps it needs.
"""

from django.contrib.auth.management import create_permissions
from django.db import migrations

APPS = ["accounts", "partners", "referrals", "core"]
REP = [
    "partners.view_partner",
    "partners.add_partner",
    "partners.change_partner",
    "referrals.view_referral",
    "referrals.add_referral",
    "referrals.change_referral",
    "referrals.view_stage",
    "referrals.view_stagechange",
    "referrals.add_stagechange",
    "referrals.view_activity",
    "referrals.add_activity",
]
MANAGER = REP + [
    "referrals.delete_referral",
    "partners.delete_partner",
    "accounts.view_team",
    "accounts.view_user",
]


def create_roles(apps, schema_editor):
    for app_config in apps.get_app_configs():
        if app_config.label in APPS + ["auth", "contenttypes"]:
            app_config.models_module = True
            create_permissions(app_config, apps=apps, verbosity=0)
            app_config.models_module = None

    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")

    def perms(names):
        found = []
        for name in names:
            app_label, codename = name.split(".")
            found.append(
                Permission.objects.get(
                    content_type__app_label=app_label, codename=codename
                )
            )
        return found

    Group.objects.get_or_create(name="Rep")[0].permissions.set(perms(REP))
    Group.objects.get_or_create(name="Manager")[0].permissions.set(perms(MANAGER))
    Group.objects.get_or_create(name="Admin")[0].permissions.set(
        Permission.objects.filter(content_type__app_label__in=APPS)
    )


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("partners", "0001_initial"),
        ("referrals", "0002_default_stages"),
        ("core", "0001_initial"),
    ]
    operations = [migrations.RunPython(create_roles, migrations.RunPython.noop)]

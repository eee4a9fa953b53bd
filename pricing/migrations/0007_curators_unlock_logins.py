"""Data migration: curators can see failed sign-ins and unlock a locked-out colleague.

django-axes locks a username at an address after repeated wrong passwords. Unlocking is deleting the
access attempt in the admin (Axes > Access attempts), so curators get ``view`` and ``delete`` on
``AccessAttempt`` and ``view`` on the access logs. They still manage no accounts.
"""

from django.db import migrations

CURATORS = "curators"
PERMISSIONS = ["view_accessattempt", "delete_accessattempt", "view_accesslog", "view_accessfailurelog"]


def grant(apps, schema_editor):
    from django.contrib.auth.management import create_permissions

    # On a fresh database the permissions of apps migrated in this run do not exist yet.
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group, _ = Group.objects.get_or_create(name=CURATORS)
    found = list(Permission.objects.filter(content_type__app_label="axes", codename__in=PERMISSIONS))
    missing = set(PERMISSIONS) - {p.codename for p in found}
    if missing:
        raise RuntimeError(f"permissions not found for axes: {', '.join(sorted(missing))}")
    group.permissions.add(*found)


def revoke(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group = Group.objects.filter(name=CURATORS).first()
    if group is not None:
        group.permissions.remove(*Permission.objects.filter(content_type__app_label="axes", codename__in=PERMISSIONS))


class Migration(migrations.Migration):
    dependencies = [
        ("pricing", "0006_retirements"),
        ("axes", "0010_accessattemptexpiration"),
    ]

    operations = [migrations.RunPython(grant, revoke)]

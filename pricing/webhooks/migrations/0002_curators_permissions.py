"""Data migration: curators issue and revoke API keys, register and pause webhook subscriptions, and read the
delivery log. As everywhere in the admin, they delete nothing (a subscriber deletes its own subscriptions)."""

from django.db import migrations

CURATORS = "curators"
CODENAMES = [
    "view_apikey",
    "add_apikey",
    "change_apikey",
    "view_webhooksubscription",
    "add_webhooksubscription",
    "change_webhooksubscription",
    "view_webhookdelivery",
]


def grant(apps, schema_editor):
    from django.contrib.auth.management import create_permissions

    # On a fresh database the permissions are only created after the whole migrate run: create them now.
    app_config = apps.get_app_config("webhooks")
    app_config.models_module = True
    create_permissions(app_config, apps=apps, verbosity=0)
    app_config.models_module = None

    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group, _ = Group.objects.get_or_create(name=CURATORS)
    found = list(Permission.objects.filter(content_type__app_label="webhooks", codename__in=CODENAMES))
    missing = set(CODENAMES) - {p.codename for p in found}
    if missing:
        raise RuntimeError(f"permissions not found for webhooks: {', '.join(sorted(missing))}")
    group.permissions.add(*found)


def revoke(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group = Group.objects.filter(name=CURATORS).first()
    if group is not None:
        group.permissions.remove(*Permission.objects.filter(content_type__app_label="webhooks", codename__in=CODENAMES))


class Migration(migrations.Migration):
    dependencies = [
        ("webhooks", "0001_initial"),
        ("pricing", "0002_curators_group"),
    ]

    operations = [migrations.RunPython(grant, revoke)]

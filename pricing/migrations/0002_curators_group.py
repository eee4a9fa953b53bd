"""Data migration: the ``curators`` group with exactly the permissions curation needs.

Curators read everything the admin shows, decide on held prices, overrides, locks, aliases, merges,
tokenizers and sources (the ``change`` permission of each), create canonical models that no official
source defines, and edit the per-source beat schedules. They delete nothing and manage no accounts.
"""

from django.db import migrations

CURATORS = "curators"

PERMISSIONS = {
    "pricing": [
        "view_provider",
        "view_tokenizer",
        "view_tokenizermeasurement",
        "view_exchangerate",
        "view_scraperun",
        "view_auditentry",
        "view_price",
        "change_price",
        "view_offering",
        "change_offering",
        "view_model",
        "add_model",
        "change_model",
        "view_aliassuggestion",
        "change_aliassuggestion",
        "view_source",
        "change_source",
    ],
    "django_celery_beat": [
        "view_periodictask",
        "change_periodictask",
        "view_intervalschedule",
        "add_intervalschedule",
        "view_crontabschedule",
        "add_crontabschedule",
    ],
}


def create_curators(apps, schema_editor):
    from django.contrib.auth.management import create_permissions

    # Permissions are normally created after the whole migrate run; on a fresh database they do not
    # exist yet, so create them here (this is how Django's own data migrations do it).
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None

    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group, _ = Group.objects.get_or_create(name=CURATORS)
    wanted = []
    for app_label, codenames in PERMISSIONS.items():
        found = list(Permission.objects.filter(content_type__app_label=app_label, codename__in=codenames))
        missing = set(codenames) - {p.codename for p in found}
        if missing:
            raise RuntimeError(f"permissions not found for {app_label}: {', '.join(sorted(missing))}")
        wanted.extend(found)
    group.permissions.set(wanted)


def remove_curators(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name=CURATORS).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("pricing", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(create_curators, remove_curators)]

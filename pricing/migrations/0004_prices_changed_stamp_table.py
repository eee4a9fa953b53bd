"""The table of the "stamps" cache (settings.CACHES): when what readers see last changed.

It lives in the database, next to the prices, so it is written in the same transaction as they are
(issue 14: a stamp kept in Redis was lost, or failed the run, when Redis was down).
"""

from django.core.management import call_command
from django.db import migrations

TABLE = "pricing_stamps"


def create_table(apps, schema_editor):
    call_command("createcachetable", TABLE, database=schema_editor.connection.alias, verbosity=0)
    # Readers key their caches and ETags by the stamp; start it now, so no reader has to derive it.
    from django.core.cache import caches
    from django.utils import timezone

    caches["stamps"].add("pricing:prices-changed-at", timezone.now().isoformat(), timeout=None)


def drop_table(apps, schema_editor):
    schema_editor.execute(f"DROP TABLE IF EXISTS {schema_editor.quote_name(TABLE)}")


class Migration(migrations.Migration):
    dependencies = [("pricing", "0003_timeline_truth")]

    operations = [migrations.RunPython(create_table, drop_table)]

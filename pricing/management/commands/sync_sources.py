"""``manage.py sync_sources``: a Source row and an editable every-6-hours beat schedule per adapter."""

from typing import Any

from django.core.management.base import BaseCommand

from pricing import services


class Command(BaseCommand):
    help = "Create the Source rows and per-source beat schedules of every registered adapter."

    def handle(self, *args: Any, **options: Any) -> None:
        for source in services.sources_sync():
            self.stdout.write(f"{source.slug}: {source.name} (trust {source.trust_rank}, enabled={source.enabled})")

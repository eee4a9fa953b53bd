"""``manage.py release_locks``: the twin of the ``release_expired_locks`` task; frees run leases that
killed workers left behind once they expire."""

from typing import Any

from django.core.management.base import BaseCommand

from pricing import services


class Command(BaseCommand):
    help = "Release expired run leases of sources (a worker died mid-run)."

    def handle(self, *args: Any, **options: Any) -> None:
        released = services.locks_release_expired()
        self.stdout.write(f"{released} expired lease(s) released")

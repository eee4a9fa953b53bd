"""``manage.py release_locks``: the twin of the ``close_abandoned_runs`` task. Closes the runs that killed
workers left "running" (their lease expired) as abandoned, then frees those expired leases."""

from typing import Any

from django.core.management.base import BaseCommand

from pricing import services


class Command(BaseCommand):
    help = "Close runs abandoned by killed workers and release their expired leases."

    def handle(self, *args: Any, **options: Any) -> None:
        closed = services.runs_close_abandoned()
        released = services.locks_release_expired()
        self.stdout.write(f"{closed} abandoned run(s) closed, {released} expired lease(s) released")

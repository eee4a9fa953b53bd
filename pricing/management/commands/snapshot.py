"""``manage.py snapshot load`` (what ``make run`` does on an empty database) and ``manage.py snapshot
build --pages DIR`` (re-read dated captures with our parsers into the bundled file)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from pricing.snapshot import CaptureSpec, capture_date, snapshot_build, snapshot_load
from providers import REGISTRY

# Which adapter reads a capture, by the start of its file name.
SOURCE_BY_PREFIX = {"gemini": "google"}


class Command(BaseCommand):
    help = "Load the bundled price snapshot, or rebuild it from dated captures."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("action", choices=["load", "build"])
        parser.add_argument("--path", type=Path, default=settings.SNAPSHOT_PATH)
        parser.add_argument("--force", action="store_true", help="load even if prices exist")
        parser.add_argument("--pages", type=Path, nargs="*", default=[], help="capture folders (build)")
        parser.add_argument(
            "--curated",
            type=Path,
            default=settings.BASE_DIR / "pricing" / "snapshot" / "curated",
            help="curated history files to include (build)",
        )
        parser.add_argument(
            "--rates", type=Path, help="the ECB's rate history (eurofxref-hist.zip or .csv), for the snapshot (build)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] == "load":
            if not options["path"].exists():
                raise CommandError(f"no snapshot at {options['path']}")
            results = snapshot_load(path=options["path"], force=options["force"])
            if not results:
                self.stdout.write("prices already present; snapshot not loaded (use --force)")
            for result in results:
                self.stdout.write(result.summary())
            if any(not r.ok for r in results):
                raise CommandError("some snapshot entries failed to load")
            return
        captures = [spec for folder in options["pages"] for spec in self._captures(folder)]
        if not captures:
            raise CommandError("no dated captures found; pass --pages DIR ...")
        totals = snapshot_build(
            captures=captures, output=options["path"], curated=options["curated"], rates_file=options["rates"]
        )
        for source, count in sorted(totals.items()):
            self.stdout.write(f"{source}: {count} records")

    def _captures(self, folder: Path) -> list[CaptureSpec]:
        specs = []
        for path in sorted(folder.iterdir()):
            if path.suffix not in (".html", ".json", ".md") or path.name.endswith(".expected.json"):
                continue
            prefix = path.name.split("_", 1)[0].split("__", 1)[0]
            source = SOURCE_BY_PREFIX.get(prefix, prefix)
            if source not in REGISTRY:
                continue
            try:
                specs.append(CaptureSpec(source=source, path=path, as_of=capture_date(path)))
            except ValueError:
                continue  # undated study copies are not history
        return specs

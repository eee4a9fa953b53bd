"""``manage.py snapshot load`` (what ``make run`` does on an empty database) and ``manage.py snapshot
build --pages DIR`` (re-read dated captures with our parsers into the bundled file)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from pricing.models import Price
from pricing.snapshot import CaptureSpec, capture_date, snapshot_build, snapshot_load
from providers import REGISTRY

# Which adapter reads a capture, by the start of its file name (before "__", else before "_").
SOURCE_BY_PREFIX = {
    "gemini": "google",
    "alibaba-aliyun": "alibaba",
    "alibaba-bailian": "alibaba",
    "moonshot-kimi": "moonshot",
    "zhipu-bigmodel": "zhipu",
    "models_dev": "modelsdev",
}
# Copies whose file name carries no day, dated from evidence inside them (their .meta.txt says why).
UNDATED_AS_OF = {
    # The Retail Prices API copy: its latest effectiveStartDate is 2026-04-01, so every price in it was
    # in force from that day; the capture itself is undated ("2026-xx").
    "azure__retail-prices-api-openai-gpt5.4-eastus__2026-xx_token3-26df0f2.json": dt.datetime(
        2026, 4, 1, tzinfo=dt.UTC
    ),
}


class Command(BaseCommand):
    help = "Load the bundled price snapshot, or rebuild it from dated captures."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("action", choices=["load", "build"])
        parser.add_argument("--path", type=Path, default=settings.SNAPSHOT_PATH)
        parser.add_argument(
            "--force",
            action="store_true",
            help="load into a database that holds prices: only the entries it has not loaded yet (by source, "
            "date and document hash), through the ordinary ingest; loaded entries are skipped",
        )
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
            had_prices = Price.objects.exists()
            results = snapshot_load(path=options["path"], force=options["force"])
            if had_prices and not options["force"]:
                self.stdout.write(
                    "prices already present; snapshot not loaded "
                    "(--force loads the entries this database has not loaded yet)"
                )
            elif not results:
                self.stdout.write("every entry of the snapshot is already loaded; nothing to do")
            for result in results:
                self.stdout.write(result.summary())
            if any(not r.ok for r in results):
                raise CommandError("some snapshot entries failed to load")
            return
        captures = [spec for folder in options["pages"] for spec in self._captures(folder)]
        if not captures:
            raise CommandError("no dated captures found; pass --pages DIR ...")
        built = snapshot_build(
            captures=captures, output=options["path"], curated=options["curated"], rates_file=options["rates"]
        )
        for source, count in sorted(built.totals.items()):
            self.stdout.write(f"{source}: {count} records")
        for skipped in built.skipped:
            self.stderr.write(f"skipped (our parser cannot read it): {skipped}")

    def _captures(self, folder: Path) -> list[CaptureSpec]:
        specs = []
        for path in sorted(folder.iterdir()):
            if path.suffix not in (".html", ".json", ".md") or path.name.endswith(".expected.json"):
                continue
            source = source_of(path.name)
            if source is None:
                continue
            try:
                as_of = UNDATED_AS_OF.get(path.name) or capture_date(path)
            except ValueError:
                continue  # undated study copies are not history
            specs.append(CaptureSpec(source=source, path=path, as_of=as_of))
        return specs


def source_of(name: str) -> str | None:
    """The registered source a capture file belongs to, by the start of its name."""
    for prefix in (name.split("__", 1)[0], name.split("_", 1)[0]):
        source = SOURCE_BY_PREFIX.get(prefix, prefix)
        if source in REGISTRY:
            return source
    return None

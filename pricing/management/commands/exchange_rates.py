"""``manage.py exchange_rates [--history] [--file PATH]``: the twin of the ``refresh_exchange_rates`` task."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from pricing import rates
from providers.base import ParseError
from providers.ecb import ECBRates
from providers.http import FetchError


class Command(BaseCommand):
    help = "Store the ECB's euro reference rates (today's, the last 90 days', or a saved XML file)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--history", action="store_true", help="fetch the 90-day history file (backfill)")
        parser.add_argument("--file", type=Path, help="load this saved ECB XML file instead of fetching")
        parser.add_argument("--json", action="store_true", help="print the counts as JSON")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["file"] and options["history"]:
            raise CommandError("--file loads a saved copy: it does not combine with --history")
        try:
            if options["file"]:
                try:
                    content = options["file"].read_bytes()
                except OSError as exc:
                    raise CommandError(f"cannot read {options['file']}: {exc.strerror}") from exc
                counts = rates.exchange_rates_ingest(records=ECBRates().parse(content))
            else:
                counts = rates.exchange_rates_refresh(history=options["history"])
        except ParseError as exc:
            raise CommandError(str(exc)) from exc
        except FetchError as exc:
            raise CommandError(f"fetch failed: {exc}") from exc
        if options["json"]:
            self.stdout.write(json.dumps(counts.as_dict()))
        else:
            self.stdout.write(
                f"exchange rates: {counts.records} records, {counts.created} created, "
                f"{counts.updated} updated, {counts.unchanged} unchanged"
            )

"""``manage.py bench_ingest SOURCE --file PATH``: time and count the SQL queries of an ingest of a saved
document, first into the current database and then again (unchanged). For the numbers in our notes."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.db import connection
from django.test.utils import CaptureQueriesContext

from pricing import services
from pricing.models import Price
from providers import get_scraper
from providers.base import Document


class Command(BaseCommand):
    help = "Measure ingest time and SQL query count for a saved document (run it on an empty database)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("source")
        parser.add_argument("--file", type=Path, required=True)
        parser.add_argument("--repeat", type=int, default=2, help="runs in a row (the first may create rows)")

    def handle(self, *args: Any, **options: Any) -> None:
        scraper = get_scraper(options["source"])
        document = Document(url=scraper.urls[0], content=options["file"].read_bytes())
        for attempt in range(1, options["repeat"] + 1):
            before = Price.objects.count()
            with CaptureQueriesContext(connection) as queries:
                started = time.perf_counter()
                result = services.scrape_source(slug=scraper.slug, document=document)
                elapsed_ms = (time.perf_counter() - started) * 1000
            written = Price.objects.count() - before
            self.stdout.write(
                f"run {attempt} on {connection.vendor}: {elapsed_ms:.0f} ms, {len(queries)} queries, "
                f"{written} price rows written; {result.summary()}"
            )

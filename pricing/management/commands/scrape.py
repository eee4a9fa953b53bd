"""``manage.py scrape SOURCE|--all [--file PATH ...] [--dry-run] [--json] [--as-of DATE]``: the twin of the
``scrape_source`` task, calling the same service. Several ``--file`` paths are one run of a source that
has several documents (in the order of its start URLs); fewer than it has make a partial run."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.dateparse import parse_date, parse_datetime

from pricing import services
from providers import REGISTRY, get_scraper
from providers.base import Document, ParseError


def parse_as_of(text: str) -> dt.datetime:
    moment = parse_datetime(text)
    if moment is None:
        day = parse_date(text)
        if day is None:
            raise CommandError(f"--as-of must be a date (YYYY-MM-DD) or an ISO datetime, got {text!r}")
        moment = dt.datetime.combine(day, dt.time.min)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(dt.UTC)


class Command(BaseCommand):
    help = "Scrape a price source (or parse a saved copy of its page) and ingest the prices."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("source", nargs="?", help=f"one of: {', '.join(sorted(REGISTRY))}")
        parser.add_argument("--all", action="store_true", help="every enabled source")
        parser.add_argument(
            "--file",
            type=Path,
            nargs="+",
            help="parse these saved documents (one run, in the order of the source's URLs) instead of fetching",
        )
        parser.add_argument("--dry-run", action="store_true", help="parse only; write nothing")
        parser.add_argument("--json", action="store_true", help="print the parsed records as one JSON array")
        parser.add_argument("--as-of", help="record a saved copy as what was in force from this date")

    def handle(self, *args: Any, **options: Any) -> None:
        source_slug: str | None = options["source"]
        if options["all"] == bool(source_slug):
            raise CommandError("name one SOURCE or pass --all")
        if options["all"] and options["file"]:
            raise CommandError("--file needs one SOURCE, not --all")
        if options["as_of"] and not options["file"]:
            raise CommandError("--as-of records a saved copy: it needs --file")
        as_of = parse_as_of(options["as_of"]) if options["as_of"] else None
        slugs = sorted(REGISTRY) if options["all"] else [source_slug or ""]
        failed = []
        for slug in slugs:
            try:
                scraper = get_scraper(slug)
            except KeyError as exc:
                raise CommandError(str(exc.args[0])) from exc
            if options["all"] and not services.source_is_enabled(slug=slug):
                continue
            paths: list[Path] = options["file"] or []
            # Files beyond the source's start URLs are the further pages those lead to (an API's next pages).
            urls = [scraper.urls[i] if i < len(scraper.urls) else scraper.urls[0] for i in range(len(paths))]
            documents = [self._read_file(path, url) for path, url in zip(paths, urls, strict=True)]
            if options["dry_run"]:
                self._dry_run(scraper, documents, as_json=options["json"])
                continue
            result = services.scrape_source(slug=slug, documents=documents, as_of=as_of)
            if options["json"]:
                self.stdout.write(json.dumps(result.as_dict()))
            else:
                self.stdout.write(result.summary())
            if not result.ok:
                failed.append(f"{slug}: {result.error}")
        if failed:
            raise CommandError("run failed: " + "; ".join(failed))

    def _read_file(self, path: Path, url: str) -> Document:
        try:
            content = path.read_bytes()
            # A saved copy is evidence of when it was saved, not of when it is read.
            saved_at = dt.datetime.fromtimestamp(path.stat().st_mtime, tz=dt.UTC)
        except OSError as exc:
            raise CommandError(f"cannot read {path}: {exc.strerror}") from exc
        return Document(url=url, content=content, fetched_at=saved_at)

    def _dry_run(self, scraper: Any, documents: list[Document], *, as_json: bool) -> None:
        try:
            if documents:
                records = scraper.parse_all(documents)
                retirements = scraper.retirements_all(documents)
            else:
                records, retirements = services.fetch_and_parse(scraper=scraper, validators={}), []
        except ParseError as exc:
            raise CommandError(f"{scraper.slug}: layout changed? {exc}") from exc
        except services.FetchFailed as exc:
            raise CommandError(f"{scraper.slug}: fetch failed: {exc}") from exc
        if as_json:
            self.stdout.write(json.dumps([record.as_contract() for record in records], ensure_ascii=False))
        else:
            for record in records:
                self.stdout.write(json.dumps(record.as_contract(), ensure_ascii=False))
            for statement in retirements:
                self.stdout.write(json.dumps({"retirement": statement.as_contract()}, ensure_ascii=False))
            self.stdout.write(f"{len(records)} records parsed (dry run, nothing written)")

"""Runs: fetch (or take a saved document), parse and ingest one source, recorded as a ScrapeRun."""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field

from django.conf import settings
from django.utils import timezone

from pricing.models import Price, ScrapeRun, Source
from pricing.services.ingest import BUNDLED_KINDS, Counts, IngestRejected, ingest
from pricing.services.sources import SourceBusy, source_lock, source_sync
from providers import get_scraper, http
from providers.base import Document, ParseError, ScrapedPrice, Scraper

log = logging.getLogger(__name__)


class FetchFailed(Exception):
    def __init__(self, message: str, *, retryable: bool = False):
        super().__init__(message)
        self.retryable = retryable


@dataclass
class RunResult:
    source: str
    run_id: int | None
    status: str
    counts: Counts = field(default_factory=Counts)
    error: str = ""
    retryable: bool = False

    @property
    def ok(self) -> bool:
        return self.status in (ScrapeRun.Status.SUCCEEDED, ScrapeRun.Status.UNCHANGED)

    def as_dict(self) -> dict[str, object]:
        return {"source": self.source, "run": self.run_id, "status": self.status, "error": self.error} | asdict(
            self.counts
        )

    def summary(self) -> str:
        c = self.counts
        line = (
            f"{self.source}: run {self.run_id} {self.status}: {c.records} records, {c.created} created, "
            f"{c.changed} changed, {c.unchanged} unchanged, {c.held} held, {c.missing} missing"
        )
        return f"{line}; error: {self.error}" if self.error else line


# --- fetching ----------------------------------------------------------------------------------------


@dataclass
class Fetched:
    documents: list[Document]
    not_modified: bool
    http_status: int | None
    bytes_fetched: int
    fetch_ms: int
    validators: dict[str, dict[str, str]]


def documents_fetch(*, scraper: Scraper, validators: dict[str, dict[str, str]]) -> Fetched:
    """Fetch every URL of a source; "not modified" only when every URL answered 304."""
    documents, statuses, new_validators = [], [], {}
    total_bytes = total_ms = 0
    for url in scraper.urls:
        known = validators.get(url, {})
        try:
            result = http.fetch(
                url,
                hosts=scraper.hosts,
                etag=known.get("etag", ""),
                last_modified=known.get("last_modified", ""),
                user_agent=settings.SCRAPE_USER_AGENT,
                max_bytes=settings.SCRAPE_MAX_BYTES,
            )
        except http.FetchError as exc:
            raise FetchFailed(str(exc), retryable=exc.retryable) from exc
        statuses.append(result.status)
        total_bytes += len(result.content)
        total_ms += result.elapsed_ms
        new_validators[url] = {
            "etag": result.etag or known.get("etag", ""),
            "last_modified": result.last_modified or known.get("last_modified", ""),
        }
        if not result.not_modified:
            documents.append(
                Document(
                    url=result.url,
                    content=result.content,
                    content_type=result.content_type,
                    fetched_at=timezone.now(),
                    etag=result.etag,
                    last_modified=result.last_modified,
                )
            )
    not_modified = all(status == 304 for status in statuses)
    if documents and len(documents) < len(scraper.urls):
        # Some pages changed and some did not: parse them all so the run sees every price.
        return documents_fetch(scraper=scraper, validators={})
    return Fetched(documents, not_modified, statuses[-1] if statuses else None, total_bytes, total_ms, new_validators)


def fetch_and_parse(*, scraper: Scraper, validators: dict[str, dict[str, str]]) -> list[ScrapedPrice]:
    fetched = documents_fetch(scraper=scraper, validators=validators)
    return scraper.parse_all(fetched.documents)


# --- runs --------------------------------------------------------------------------------------------


def scrape_source(*, slug: str, document: Document | None = None, as_of: dt.datetime | None = None) -> RunResult:
    """Fetch (or take ``document``), parse and ingest one source as one run. Never raises for bad
    pages or network failures: the run is recorded as failed with its error, and nothing changes."""
    scraper = get_scraper(slug)
    source = source_sync(slug=slug)
    kind = ScrapeRun.Kind.LIVE if document is None else (ScrapeRun.Kind.ARCHIVE if as_of else ScrapeRun.Kind.FILE)
    try:
        with source_lock(source):
            run = ScrapeRun.objects.create(source=source, kind=kind, as_of=as_of)
            try:
                if document is None:
                    fetched = documents_fetch(scraper=scraper, validators=source.http_validators)
                    run.http_status, run.bytes_fetched, run.fetch_ms = (
                        fetched.http_status,
                        fetched.bytes_fetched,
                        fetched.fetch_ms,
                    )
                    if fetched.not_modified:
                        return _finish_not_modified(run, source)
                    documents = fetched.documents
                else:
                    fetched = None
                    documents = [document]
                    run.bytes_fetched = len(document.content)
                run.content_hash = _documents_hash(documents)
                records = scraper.parse_all(documents)
                counts = ingest(run=run, source=source, records=records, as_of=as_of, scraper=scraper)
            except (FetchFailed, ParseError, IngestRejected) as exc:
                return _finish_failed(run, exc)
            except Exception as exc:  # a bug must still leave a failed run behind, then surface
                _finish_failed(run, exc)
                raise
            if fetched is not None:
                source.http_validators = fetched.validators
            return _finish_succeeded(run, source, counts, as_of=as_of)
    except SourceBusy as exc:
        return RunResult(source=slug, run_id=None, status="busy", error=str(exc))


def records_ingest(
    *,
    slug: str,
    records: Sequence[ScrapedPrice],
    kind: str,
    as_of: dt.datetime | None = None,
    content_hash: str = "",
    note: str = "",
) -> RunResult:
    """Ingest records that were parsed elsewhere (the bundled snapshot) as one run of ``slug``."""
    scraper = get_scraper(slug)
    source = source_sync(slug=slug)
    try:
        with source_lock(source):
            run = ScrapeRun.objects.create(source=source, kind=kind, as_of=as_of, content_hash=content_hash, note=note)
            try:
                counts = ingest(run=run, source=source, records=records, as_of=as_of, scraper=scraper)
            except IngestRejected as exc:
                return _finish_failed(run, exc)
            return _finish_succeeded(run, source, counts, as_of=as_of)
    except SourceBusy as exc:
        return RunResult(source=slug, run_id=None, status="busy", error=str(exc))


def _documents_hash(documents: Sequence[Document]) -> str:
    digest = hashlib.sha256()
    for document in documents:
        digest.update(document.content)
    return digest.hexdigest()


def _finish_failed(run: ScrapeRun, exc: Exception) -> RunResult:
    prefix = "layout changed? " if isinstance(exc, ParseError) else ""
    run.status = ScrapeRun.Status.FAILED
    run.error = f"{prefix}{exc}" if str(exc) else f"{prefix}{type(exc).__name__}"
    run.finished_at = timezone.now()
    run.save()
    log.warning("run %s of %s failed: %s", run.pk, run.source.slug, run.error)
    retryable = isinstance(exc, FetchFailed) and exc.retryable
    return RunResult(run.source.slug, run.pk, run.status, error=run.error, retryable=retryable)


def _finish_not_modified(run: ScrapeRun, source: Source) -> RunResult:
    now = timezone.now()
    # A 304 confirms every open price of the source: one UPDATE, nothing parsed.
    seen = Price.objects.filter(
        source=source, status=Price.Status.PUBLISHED, valid_to__isnull=True, superseded_at__isnull=True
    ).update(last_seen_at=now)
    run.status = ScrapeRun.Status.UNCHANGED
    run.unchanged = seen
    run.finished_at = now
    run.save()
    Source.objects.filter(pk=source.pk).update(last_success_at=now)
    return RunResult(source.slug, run.pk, run.status, Counts(unchanged=seen))


def _finish_succeeded(run: ScrapeRun, source: Source, counts: Counts, *, as_of: dt.datetime | None) -> RunResult:
    run.status = ScrapeRun.Status.SUCCEEDED
    run.finished_at = timezone.now()
    for name, value in asdict(counts).items():
        setattr(run, name, value)
    run.save()
    if as_of is None and run.kind not in BUNDLED_KINDS:
        # Archive copies and the snapshot do not say how healthy the live source is.
        Source.objects.filter(pk=source.pk).update(
            last_success_at=run.finished_at, last_record_count=counts.records, http_validators=source.http_validators
        )
    return RunResult(source.slug, run.pk, run.status, counts)

"""Runs: fetch (or take a saved document), parse and ingest one source, recorded as a ScrapeRun."""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from pricing.models import Price, ScrapeRun, Source
from pricing.services.ingest import BUNDLED_KINDS, PARTIAL_NOTE, Counts, IngestRejected, ingest
from pricing.services.sources import ABANDONED, SourceBusy, source_lock, source_sync
from providers import get_scraper, http
from providers.base import Document, ParseError, ScrapedPrice, ScrapedRetirement, Scraper

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


# A source's pages in one run, its start URLs and the pages they lead to (``Scraper.next_urls``) together.
MAX_PAGES_PER_RUN = 500


def documents_fetch(*, scraper: Scraper, validators: dict[str, dict[str, str]]) -> Fetched:
    """Fetch every URL of a source and the pages they lead to; "not modified" only when every URL
    answered 304. A source whose pages lead to more pages (validators stored for URLs beyond its start
    URLs) is fetched unconditionally: a 304 on the first page would hide the pages after it."""
    documents, statuses, new_validators = [], [], {}
    total_bytes = total_ms = 0
    chained = any(url not in scraper.urls for url in validators)
    request_headers = scraper.request_headers()
    queue, queued = list(scraper.urls), set(scraper.urls)
    while queue:
        url = queue.pop(0)
        known = {} if chained else validators.get(url, {})
        try:
            result = http.fetch(
                url,
                hosts=scraper.hosts,
                etag=known.get("etag", ""),
                last_modified=known.get("last_modified", ""),
                user_agent=settings.SCRAPE_USER_AGENT,
                max_bytes=settings.SCRAPE_MAX_BYTES,
                headers=request_headers,
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
        if result.not_modified:
            continue
        document = Document(
            url=result.url,
            content=result.content,
            content_type=result.content_type,
            fetched_at=timezone.now(),
            etag=result.etag,
            last_modified=result.last_modified,
        )
        documents.append(document)
        for next_url in scraper.next_urls(document):
            if next_url in queued:
                continue  # a page that leads back to one already fetched or queued
            if len(queued) >= MAX_PAGES_PER_RUN:
                raise FetchFailed(f"{scraper.slug}: its pages lead to more than {MAX_PAGES_PER_RUN}; stopped")
            queue.append(next_url)
            queued.add(next_url)
    not_modified = all(status == 304 for status in statuses)
    if documents and len(documents) < len(statuses) and validators:
        # Some pages changed and some did not: parse them all so the run sees every price.
        return documents_fetch(scraper=scraper, validators={})
    return Fetched(documents, not_modified, statuses[-1] if statuses else None, total_bytes, total_ms, new_validators)


def fetch_and_parse(*, scraper: Scraper, validators: dict[str, dict[str, str]]) -> list[ScrapedPrice]:
    fetched = documents_fetch(scraper=scraper, validators=validators)
    return scraper.parse_all(fetched.documents)


# --- runs --------------------------------------------------------------------------------------------


def scrape_source(
    *,
    slug: str,
    document: Document | None = None,
    documents: Sequence[Document] = (),
    as_of: dt.datetime | None = None,
) -> RunResult:
    """Fetch (or take saved ``document``/``documents``), parse and ingest one source as one run. Never
    raises for bad pages or network failures: the run is recorded as failed with its error, and nothing
    changes. Saved copies of fewer documents than the source has start URLs make a partial run: it
    says nothing of the models the other documents list (none is marked missing, no shrink guard)."""
    scraper = get_scraper(slug)
    source = source_sync(slug=slug)
    saved = [document] if document is not None else list(documents)
    partial = bool(saved) and len(saved) < len(scraper.urls)
    kind = ScrapeRun.Kind.LIVE if not saved else (ScrapeRun.Kind.ARCHIVE if as_of else ScrapeRun.Kind.FILE)
    try:
        with source_lock(source):
            run = ScrapeRun.objects.create(source=source, kind=kind, as_of=as_of)
            if partial:
                run.note = f"{PARTIAL_NOTE} {len(saved)} of the source's {len(scraper.urls)} documents"
            try:
                if not saved:
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
                    documents = saved
                    run.bytes_fetched = sum(len(d.content) for d in saved)
                run.content_hash = _documents_hash(documents)
                run.evidence_at = _evidence_at(documents, as_of=as_of)
                records = scraper.parse_all(documents)
                with transaction.atomic():  # the prices and the run's outcome commit together, or neither
                    counts = ingest(
                        run=run,
                        source=source,
                        records=records,
                        as_of=as_of,
                        scraper=scraper,
                        retirements=scraper.retirements_all(documents),
                        evidence_url=documents[0].url if documents else "",
                        partial=partial,
                    )
                    if fetched is not None:
                        source.http_validators = fetched.validators
                    result = _finish_succeeded(run, source, counts, as_of=as_of)
            except (FetchFailed, ParseError, IngestRejected) as exc:
                return _finish_failed(run, exc)
            except Exception as exc:
                return _after_unexpected(run, exc)
            return result
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
    retirements: Sequence[ScrapedRetirement] = (),
) -> RunResult:
    """Ingest records (and retirement statements) parsed elsewhere (the bundled snapshot) as one run of ``slug``."""
    scraper = get_scraper(slug)
    source = source_sync(slug=slug)
    try:
        with source_lock(source):
            run = ScrapeRun.objects.create(
                source=source,
                kind=kind,
                as_of=as_of,
                evidence_at=as_of or timezone.now(),
                content_hash=content_hash,
                note=note,
            )
            try:
                with transaction.atomic():  # the prices and the run's outcome commit together, or neither
                    counts = ingest(
                        run=run,
                        source=source,
                        records=records,
                        as_of=as_of,
                        scraper=scraper,
                        retirements=retirements,
                        evidence_url=scraper.urls[0] if scraper.urls else "",
                    )
                    result = _finish_succeeded(run, source, counts, as_of=as_of)
            except IngestRejected as exc:
                return _finish_failed(run, exc)
            except Exception as exc:
                return _after_unexpected(run, exc)
            return result
    except SourceBusy as exc:
        return RunResult(source=slug, run_id=None, status="busy", error=str(exc))


def runs_close_abandoned() -> int:
    """Close the runs left "running" by a worker that died: their source's lease is free or expired.
    A run's changes commit in one transaction, so such a run applied nothing. Scheduled every 5 minutes
    (CELERY_BEAT_SCHEDULE); the next run of the source does the same when it takes the lease."""
    now = timezone.now()
    abandoned = ScrapeRun.objects.filter(status=ScrapeRun.Status.RUNNING).filter(
        Q(source__locked_until__isnull=True) | Q(source__locked_until__lt=now)
    )
    closed = 0
    for run in abandoned.select_related("source"):
        until = run.source.locked_until or now
        closed += ScrapeRun.objects.filter(pk=run.pk, status=ScrapeRun.Status.RUNNING).update(
            status=ScrapeRun.Status.FAILED, error=ABANDONED.format(until=until), finished_at=now
        )
        log.warning("run %s of %s abandoned: %s", run.pk, run.source.slug, ABANDONED.format(until=until))
    return closed


def _documents_hash(documents: Sequence[Document]) -> str:
    digest = hashlib.sha256()
    for document in documents:
        digest.update(document.content)
    return digest.hexdigest()


def _after_unexpected(run: ScrapeRun, exc: Exception) -> RunResult:
    """An exception no rule expects (a bug, a lost connection, a time limit). The run's outcome is what its
    transaction did: if the run committed as succeeded, the failure came after the commit (a hook run
    once the change was visible) and is logged, never turned into a failed run; otherwise nothing was
    applied, the run is recorded as failed with the error, and the exception surfaces."""
    committed = (
        ScrapeRun.objects.filter(pk=run.pk)
        .exclude(status=ScrapeRun.Status.RUNNING)
        .values_list("status", flat=True)
        .first()
    )
    if committed in (ScrapeRun.Status.SUCCEEDED, ScrapeRun.Status.UNCHANGED):
        log.error("run %s of %s committed; a step after the commit failed: %r", run.pk, run.source.slug, exc)
        run.refresh_from_db()
        return RunResult(run.source.slug, run.pk, run.status, _counts_of(run))
    for name in asdict(Counts()):
        setattr(run, name, 0)  # counted in a transaction that rolled back: none of them happened
    _finish_failed(run, exc)
    raise exc


def _counts_of(run: ScrapeRun) -> Counts:
    return Counts(**{name: getattr(run, name) for name in asdict(Counts())})


def _finish_failed(run: ScrapeRun, exc: Exception) -> RunResult:
    prefix = "layout changed? " if isinstance(exc, ParseError) else ""
    run.status = ScrapeRun.Status.FAILED
    run.error = f"{prefix}{exc}" if str(exc) else f"{prefix}{type(exc).__name__}"
    run.finished_at = timezone.now()
    run.save()
    log.warning("run %s of %s failed: %s", run.pk, run.source.slug, run.error)
    retryable = isinstance(exc, FetchFailed) and exc.retryable
    return RunResult(run.source.slug, run.pk, run.status, error=run.error, retryable=retryable)


@transaction.atomic
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
    # Health follows the evidence: a source last succeeded when its newest document that went in was
    # fetched or captured (a snapshot's capture date, not the moment it was imported).
    evidence_at = run.evidence_at or run.finished_at
    Source.objects.filter(pk=source.pk).filter(
        Q(last_success_at__isnull=True) | Q(last_success_at__lt=evidence_at)
    ).update(last_success_at=evidence_at)
    if as_of is None and run.kind not in BUNDLED_KINDS:
        Source.objects.filter(pk=source.pk).update(
            last_record_count=counts.records, http_validators=source.http_validators
        )
    return RunResult(source.slug, run.pk, run.status, counts)


def _evidence_at(documents: Sequence[Document], *, as_of: dt.datetime | None) -> dt.datetime:
    """When the run's documents were fetched or captured: an archive copy's date, else the oldest fetch."""
    if as_of is not None:
        return as_of
    fetched = [d.fetched_at for d in documents if d.fetched_at is not None]
    return min(fetched) if fetched else timezone.now()

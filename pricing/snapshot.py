"""The bundled snapshot: prices our own parsers read from dated real captures, so a fresh install shows
real data offline. Each entry is one source's records as of its capture date; loading it goes through
the ordinary ingest as a run of kind ``snapshot``, and the first live scrape supersedes it.
"""

from __future__ import annotations

import datetime as dt
import gzip
import hashlib
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from django.db import connection

from pricing import services
from pricing.models import Price, ScrapeRun
from pricing.rates import exchange_rates_ingest
from providers import get_scraper
from providers.base import Document, ParseError, ScrapedPrice, ScrapedRetirement, decimal_to_str
from providers.ecb import ECBRates, RateRecord

SNAPSHOT_FORMAT = 1
_DATE_IN_NAME = re.compile(r"__(\d{4}-\d{2}-\d{2})")


@dataclass(frozen=True)
class CaptureSpec:
    """One saved document to read into the snapshot: which adapter reads it, and from when it held."""

    source: str
    path: Path
    as_of: dt.datetime

    @property
    def page(self) -> str:
        """Which of the source's pages this is a copy of: the file name before its date. Copies of one
        page share it ("tencent__cloud_cn_1823_130055"); another page of the source has another."""
        match = _DATE_IN_NAME.search(self.path.name)
        return self.path.name[: match.start()] if match else self.path.stem


@dataclass
class Built:
    """What ``snapshot_build`` wrote: records per source, and the copies our parsers could not read."""

    totals: dict[str, int]
    skipped: list[str]


def capture_date(path: Path) -> dt.datetime:
    match = _DATE_IN_NAME.search(path.name)
    if not match:
        raise ValueError(f"{path.name}: no __YYYY-MM-DD date in the file name")
    return dt.datetime.fromisoformat(match.group(1)).replace(tzinfo=dt.UTC)


def record_to_json(record: ScrapedPrice) -> dict[str, Any]:
    data: dict[str, Any] = {
        "provider": record.provider,
        "model": record.model,
        "component": record.component,
        "mode": record.mode,
        "amount": decimal_to_str(record.amount_per_mtok),
        "currency": record.currency,
    }
    optional = {
        "tier_min_tokens": record.tier_min_tokens,
        "tier_max_tokens": record.tier_max_tokens,
        "original": record.original,
        "excerpt": record.excerpt[:120],
        "valid_from": record.valid_from.isoformat() if record.valid_from else None,
        "valid_to": record.valid_to.isoformat() if record.valid_to else None,
        "name": record.model_name,
        "context_window": record.context_window,
        "tokenizer": record.tokenizer,
        "creator": record.creator,
        "own_id": record.own_id,
        # Attributes tell sibling offerings and prices apart (Azure's regions, output tiers): without
        # them two lines of one page would load as one. Notes carry facts ingest reads (no_list_price).
        "attributes": record.attributes,
        "notes": record.notes,
    }
    data.update({k: v for k, v in optional.items() if v not in (None, "", {})})
    return data


def record_from_json(data: dict[str, Any]) -> ScrapedPrice:
    def moment(key: str) -> dt.datetime | None:
        return dt.datetime.fromisoformat(data[key]) if data.get(key) else None

    return ScrapedPrice(
        provider=data["provider"],
        model=data["model"],
        component=data["component"],
        mode=data["mode"],
        amount_per_mtok=Decimal(data["amount"]),
        currency=data["currency"],
        tier_min_tokens=data.get("tier_min_tokens"),
        tier_max_tokens=data.get("tier_max_tokens"),
        original=data.get("original", ""),
        excerpt=data.get("excerpt", ""),
        valid_from=moment("valid_from"),
        valid_to=moment("valid_to"),
        model_name=data.get("name", ""),
        context_window=data.get("context_window"),
        tokenizer=data.get("tokenizer", ""),
        creator=data.get("creator", ""),
        own_id=data.get("own_id", ""),
        notes=data.get("notes", {}),
        attributes=data.get("attributes", {}),
    )


def curated_entries(folder: Path) -> list[dict[str, Any]]:
    """Curated history files (facts from dated page copies that cannot be parsed) as snapshot entries."""
    entries = []
    for path in sorted(folder.glob("*.json")):
        document = json.loads(path.read_text(encoding="utf-8"))
        for entry in document["entries"]:
            entries.append(
                {
                    "source": document["source"],
                    "kind": ScrapeRun.Kind.CURATED,
                    "as_of": entry["as_of"],
                    "document": path.name,
                    "document_sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
                    "note": f"{document['about']} {entry['note']} Evidence: {document['evidence_url']}",
                    "records": entry["records"],
                }
            )
    return entries


def rates_for_entries(rates_file: Path, entries: list[dict[str, Any]]) -> list[dict[str, str]]:
    """The ECB's rates of the days the snapshot needs: the last quoted day on or before each entry's
    date (what a page showed then converts at), and the latest day of the file (what "now" converts at)."""
    records = ECBRates().parse(rates_file.read_bytes())
    days = sorted({r.date for r in records})
    wanted = {days[-1]}
    for entry in entries:
        as_of = dt.datetime.fromisoformat(entry["as_of"]).date()
        earlier = [day for day in days if day <= as_of]
        if earlier:
            wanted.add(earlier[-1])
    return [
        {"date": r.date.isoformat(), "currency": r.currency, "units_per_eur": str(r.units_per_eur)}
        for r in records
        if r.date in wanted
    ]


def capture_groups(captures: list[CaptureSpec]) -> Iterator[list[CaptureSpec]]:
    """The copies each snapshot entry reads, as one run of the source would: a source of one page gets an
    entry per copy; a source of several pages gets one per capture date, holding the latest copy of each
    of its pages on that date. A run is its source's whole truth, so an entry with only the newer page
    would mark everything the older pages list as missing."""
    by_source: dict[str, list[CaptureSpec]] = {}
    for spec in sorted(captures, key=lambda c: (c.source, c.as_of, c.path.name)):
        by_source.setdefault(spec.source, []).append(spec)
    for source, specs in by_source.items():
        if len(get_scraper(source).urls) == 1:
            yield from ([spec] for spec in specs)
            continue
        for as_of in sorted({spec.as_of for spec in specs}):
            latest = {spec.page: spec for spec in specs if spec.as_of <= as_of}
            yield sorted(latest.values(), key=lambda c: c.page)


def _group_entry(group: list[CaptureSpec]) -> dict[str, Any]:
    scraper = get_scraper(group[0].source)
    as_of = max(spec.as_of for spec in group)
    documents = [
        # fetched_at: an adapter that reads dates on the page (Azure's effectiveStartDate) judges them
        # against the day of the copy, not today.
        Document(url=scraper.urls[0], content=spec.path.read_bytes(), fetched_at=spec.as_of)
        for spec in group
    ]
    records = scraper.parse_all(documents)
    names = [
        spec.path.name if spec.as_of == as_of else f"{spec.path.name} (latest copy of that page then)" for spec in group
    ]
    digest = (
        documents[0].sha256
        if len(documents) == 1
        else hashlib.sha256("".join(d.sha256 for d in documents).encode()).hexdigest()
    )
    return {
        "source": group[0].source,
        "as_of": as_of.isoformat(),
        "document": "; ".join(names),
        "document_sha256": digest,
        "records": [record_to_json(r) for r in records],
        "retirements": [r.as_contract() for r in scraper.retirements_all(documents)],
    }


def retirement_from_json(data: dict[str, Any]) -> ScrapedRetirement:
    return ScrapedRetirement(
        provider=data["provider"],
        model=data["model"],
        retires_at=dt.datetime.fromisoformat(data["retires_at"]) if data.get("retires_at") else None,
        successor=data.get("successor", ""),
        successor_conditions=dict(data.get("successor_conditions") or {}),
        excerpt=data.get("excerpt", ""),
    )


def snapshot_build(
    *, captures: list[CaptureSpec], output: Path, curated: Path | None = None, rates_file: Path | None = None
) -> Built:
    """Parse the captures with their adapters and write the snapshot file. A copy its adapter cannot read
    (an old layout, a hand-made excerpt) is left out and named in ``skipped``, not fatal."""
    entries: list[dict[str, Any]] = curated_entries(curated) if curated else []
    built = Built(totals={}, skipped=[])
    for entry in entries:
        key = f"{entry['source']} (curated)"
        built.totals[key] = built.totals.get(key, 0) + len(entry["records"])
    for group in capture_groups(captures):
        try:
            entry = _group_entry(group)
        except ParseError as exc:
            built.skipped.append(f"{', '.join(spec.path.name for spec in group)}: {exc}")
            continue
        entries.append(entry)
        built.totals[entry["source"]] = built.totals.get(entry["source"], 0) + len(entry["records"])
    rates = rates_for_entries(rates_file, entries) if rates_file else []
    if rates:
        built.totals["exchange rates"] = len(rates)
    payload = {
        "format": SNAPSHOT_FORMAT,
        "built_at": dt.datetime.now(dt.UTC).isoformat(),
        "entries": entries,
        "rates": rates,
    }
    output.parent.mkdir(parents=True, exist_ok=True)
    with gzip.open(output, "wt", encoding="utf-8") as handle:
        json.dump(payload, handle, ensure_ascii=False, separators=(",", ":"))
    return built


def snapshot_read(path: Path) -> dict[str, Any]:
    with gzip.open(path, "rt", encoding="utf-8") as handle:
        payload: dict[str, Any] = json.load(handle)
    if payload.get("format") != SNAPSHOT_FORMAT:
        raise ValueError(f"{path}: unknown snapshot format {payload.get('format')!r}")
    return payload


def snapshot_entries(path: Path) -> Iterator[dict[str, Any]]:
    yield from sorted(snapshot_read(path)["entries"], key=lambda e: (e["as_of"], e["source"]))


def entry_key(entry: dict[str, Any]) -> tuple[str, str, dt.datetime, str]:
    """What identifies a loaded entry: its source, kind, date and document hash (its run carries all four)."""
    return (
        entry["source"],
        entry.get("kind", ScrapeRun.Kind.SNAPSHOT),
        dt.datetime.fromisoformat(entry["as_of"]),
        entry["document_sha256"],
    )


def snapshot_unloaded(payload: dict[str, Any]) -> list[dict[str, Any]]:
    """The entries of ``payload`` this database has not loaded yet, oldest copy first."""
    loaded = set(
        ScrapeRun.objects.filter(
            kind__in=(ScrapeRun.Kind.SNAPSHOT, ScrapeRun.Kind.CURATED), status=ScrapeRun.Status.SUCCEEDED
        ).values_list("source__slug", "kind", "as_of", "content_hash")
    )
    entries = sorted(payload["entries"], key=lambda e: (e["as_of"], e["source"]))
    return [entry for entry in entries if entry_key(entry) not in loaded]


def snapshot_load(*, path: Path, force: bool = False) -> list[services.RunResult]:
    """Ingest the snapshot, oldest copy first, unless the database already holds prices.

    ``force`` loads into a database that holds prices, but only the entries it has not loaded before
    (``snapshot_unloaded``): each goes through the ordinary ingest like any dated copy, and an entry
    already loaded is skipped. Replaying evidence the database already has would count as a new
    sighting of nothing and would raise again the held proposals a curator already decided; a newer
    snapshot's new entries are what ``--force`` is for. (To replace a database's contents wholesale,
    ``manage.py prices import --force`` a ``prices export``.)"""
    if Price.objects.exists() and not force:
        return []
    payload = snapshot_read(path)
    exchange_rates_ingest(
        records=[
            RateRecord(dt.date.fromisoformat(r["date"]), r["currency"], Decimal(r["units_per_eur"]))
            for r in payload.get("rates", [])
        ]
    )
    results = []
    for entry in snapshot_unloaded(payload):
        records = [record_from_json(r) for r in entry["records"]]
        results.append(
            services.records_ingest(
                slug=entry["source"],
                records=records,
                kind=entry.get("kind", ScrapeRun.Kind.SNAPSHOT),
                as_of=dt.datetime.fromisoformat(entry["as_of"]),
                content_hash=entry["document_sha256"],
                note=entry.get("note", f"bundled snapshot of {entry['document']}"),
                retirements=[retirement_from_json(r) for r in entry.get("retirements", [])],
            )
        )
    if not results:
        return results
    # Tens of thousands of rows just arrived: give the query planner fresh statistics now rather
    # than whenever autovacuum gets to it (PostgreSQL planned the leaderboard 30x slower without).
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return results

"""Ingest: validate one run's records and apply them to the price timelines atomically."""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal
from typing import TypeVar

from django.core.cache import cache
from django.db import transaction
from django.utils import timezone

from pricing.models import Offering, Price, Provider, ScrapeRun, Source
from pricing.services.linking import models_link
from pricing.services.sources import provider_name_for
from providers.base import COMPONENTS, MODES, ScrapedPrice, Scraper, decimal_to_str, match_key

log = logging.getLogger(__name__)

# A change beyond these bounds is held for a curator instead of published.
MAX_RISE_FACTOR = Decimal(3)
MAX_DROP_FACTOR = Decimal(3)
PRICES_CHANGED_CACHE_KEY = "pricing:prices-changed-at"
CHUNK = 2000
AMOUNT_QUANTUM = Decimal("1e-12")

# Runs whose evidence a live observation of the same figure replaces.
BUNDLED_KINDS = (ScrapeRun.Kind.SNAPSHOT, ScrapeRun.Kind.CURATED)

T = TypeVar("T")
PriceKey = tuple[int, str, str, int | None, int | None, str]


class IngestRejected(Exception):
    """The parsed records cannot be trusted as a whole (empty, far too few, malformed)."""


@dataclass
class Counts:
    records: int = 0
    created: int = 0
    changed: int = 0
    unchanged: int = 0
    held: int = 0
    missing: int = 0

    @property
    def wrote_prices(self) -> bool:
        return bool(self.created or self.changed or self.held)


# --- ingest ------------------------------------------------------------------------------------------


def records_validate(records: Sequence[ScrapedPrice]) -> list[ScrapedPrice]:
    """Reject malformed records; drop exact duplicates; refuse two different amounts for one price line."""
    problems: list[str] = []
    unique: dict[tuple[object, ...], ScrapedPrice] = {}
    for record in records:
        if record.component not in COMPONENTS:
            problems.append(f"{record.model}: unknown component {record.component!r}")
        elif record.mode not in MODES:
            problems.append(f"{record.model}: unknown mode {record.mode!r}")
        elif not isinstance(record.amount_per_mtok, Decimal) or not record.amount_per_mtok.is_finite():
            problems.append(f"{record.model}: amount is not a finite Decimal: {record.amount_per_mtok!r}")
        elif not re.fullmatch(r"[A-Z]{3}", record.currency):
            problems.append(f"{record.model}: currency must be an ISO code, got {record.currency!r}")
        elif not record.model or not record.provider:
            problems.append(f"record without provider or model: {record!r}")
        elif (
            record.tier_min_tokens is not None
            and record.tier_max_tokens is not None
            and record.tier_max_tokens < record.tier_min_tokens
        ):
            problems.append(f"{record.model}: tier {record.tier_min_tokens}..{record.tier_max_tokens} is reversed")
        elif record.valid_from and record.valid_to and record.valid_to <= record.valid_from:
            problems.append(f"{record.model}: valid_to is not after valid_from")
        else:
            # Stored amounts carry 12 decimal places (1e-18 per token); compare what will be stored.
            record = record.replace(amount_per_mtok=stored_amount(record.amount_per_mtok))
            line = (*record.key, record.valid_from, record.valid_to)
            earlier = unique.get(line)
            if earlier is None:
                unique[line] = record
            elif earlier.amount_per_mtok != record.amount_per_mtok:
                problems.append(
                    f"{record.model} {record.component}/{record.mode}: two amounts on one page "
                    f"({earlier.amount_per_mtok} and {record.amount_per_mtok})"
                )
        if len(problems) >= 10:
            break
    if problems:
        raise IngestRejected("malformed records: " + "; ".join(problems))
    return list(unique.values())


def plain(amount: Decimal) -> str:
    """An amount as people write it: 0.270000000000 -> "0.27"."""
    return decimal_to_str(stored_amount(amount))


def stored_amount(amount: Decimal) -> Decimal:
    return amount.quantize(AMOUNT_QUANTUM, rounding=ROUND_HALF_EVEN)


def ingest(
    *,
    run: ScrapeRun,
    source: Source,
    records: Sequence[ScrapedPrice],
    as_of: dt.datetime | None = None,
    scraper: Scraper | None = None,
) -> Counts:
    """Apply one run's records atomically and return its counts. Raises IngestRejected, changing nothing."""
    records = records_validate(records)
    if not records:
        raise IngestRejected("the document parsed to no prices")
    min_share = scraper.min_share_of_previous if scraper else 0.5
    if as_of is None and source.last_record_count and len(records) < source.last_record_count * min_share:
        raise IngestRejected(
            f"parsed {len(records)} prices where the last good run had {source.last_record_count}: "
            "layout changed? nothing was applied"
        )
    with transaction.atomic():
        applier = _Applier(run=run, source=source, as_of=as_of)
        counts = applier.apply(records)
    if counts.wrote_prices:
        transaction.on_commit(prices_changed)
    return counts


def prices_changed() -> None:
    """Tell every reader (API caches, ETags) that published prices changed."""
    cache.set(PRICES_CHANGED_CACHE_KEY, timezone.now().isoformat(), timeout=None)


def _chunks(items: Sequence[T], size: int = CHUNK) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


class _Applier:
    """One ingest's working state: everything loaded in a fixed number of queries, written in bulk."""

    def __init__(self, *, run: ScrapeRun, source: Source, as_of: dt.datetime | None):
        self.run = run
        self.source = source
        self.now = timezone.now()
        self.effective_from = as_of or self.now
        self.is_archive = as_of is not None
        sources = Source.objects.values_list("id", "trust_rank", "slug")
        self.trust_by_source = {pk: rank for pk, rank, _ in sources}
        self.slug_by_source = {pk: slug for pk, _, slug in sources}
        self.counts = Counts()
        self.to_create: list[Price] = []
        self.close_at: dict[dt.datetime, list[int]] = defaultdict(list)
        self.supersede: list[int] = []
        self.seen: list[int] = []
        self.evidence_refresh: list[Price] = []

    # -- loading --

    def _providers(self, slugs: Iterable[str]) -> dict[str, Provider]:
        wanted = set(slugs)
        found = {p.slug: p for p in Provider.objects.filter(slug__in=wanted)}
        missing = [Provider(slug=s, name=provider_name_for(s)) for s in sorted(wanted - found.keys())]
        if missing:
            Provider.objects.bulk_create(missing, ignore_conflicts=True)
            found = {p.slug: p for p in Provider.objects.filter(slug__in=wanted)}
        return found

    def _offerings(self, records: Sequence[ScrapedPrice]) -> dict[tuple[str, str], Offering]:
        """Offerings by (provider slug, match key), created or updated with the facts the records carry."""
        providers = self._providers(r.provider for r in records)
        facts: dict[tuple[str, str], ScrapedPrice] = {}
        for record in records:
            facts.setdefault((record.provider, match_key(record.model)), record)
        existing: dict[tuple[str, str], Offering] = {}
        provider_ids = {p.id: p.slug for p in providers.values()}
        keys = sorted({key for _, key in facts})
        for chunk in _chunks(keys):
            rows = Offering.objects.filter(provider_id__in=provider_ids, match_key__in=chunk).select_related("provider")
            for offering in rows.order_by("id"):
                existing.setdefault((provider_ids[offering.provider_id], offering.match_key), offering)
        new: list[Offering] = []
        updated: list[Offering] = []
        for (provider_slug, key), record in facts.items():
            found = existing.get((provider_slug, key))
            if found is None:
                new.append(
                    Offering(
                        provider=providers[provider_slug],
                        provider_model_id=record.model,
                        match_key=key,
                        name=record.model_name or record.model,
                        context_window=record.context_window,
                        tokenizer_hint=record.tokenizer,
                        creator_hint=record.creator,
                        first_seen_at=self.now,
                    )
                )
            elif self._refresh_facts(found, record):
                updated.append(found)
        if new:
            Offering.objects.bulk_create(new, batch_size=1000)
            for offering in new:
                existing[(offering.provider.slug, offering.match_key)] = offering
        if updated:
            Offering.objects.bulk_update(
                updated, ["name", "context_window", "tokenizer_hint", "creator_hint"], batch_size=1000
            )
        models_link(offerings=[existing[k] for k in facts], official_source=self.source)
        return existing

    def _refresh_facts(self, offering: Offering, record: ScrapedPrice) -> bool:
        trusted = self.source.kind == Source.Kind.OFFICIAL
        changed = False
        for attr, value in (
            ("name", record.model_name),
            ("context_window", record.context_window),
            ("tokenizer_hint", record.tokenizer),
            ("creator_hint", record.creator),
        ):
            current = getattr(offering, attr)
            # Official sources correct facts; aggregators only fill blanks.
            if value and value != current and (trusted or not current):
                setattr(offering, attr, value)
                changed = True
        return changed

    def _timelines(self, offering_ids: list[int]) -> tuple[dict[PriceKey, list[Price]], dict[PriceKey, list[Price]]]:
        published: dict[PriceKey, list[Price]] = defaultdict(list)
        held: dict[PriceKey, list[Price]] = defaultdict(list)
        for chunk in _chunks(offering_ids):
            rows = Price.objects.filter(
                offering_id__in=chunk,
                superseded_at__isnull=True,
                status__in=[Price.Status.PUBLISHED, Price.Status.HELD, Price.Status.REJECTED],
            ).select_related("run")
            for price in rows:
                key = price.line_key
                # Held and rejected proposals are remembered so a scrape never queues a decided one again.
                (published if price.status == Price.Status.PUBLISHED else held)[key].append(price)
        for timeline in published.values():
            timeline.sort(key=lambda p: p.valid_from)
        return published, held

    # -- applying --

    def apply(self, records: Sequence[ScrapedPrice]) -> Counts:
        offerings = self._offerings(records)
        self.offering_by_id = {o.id: o for o in offerings.values()}
        published, held = self._timelines(sorted(self.offering_by_id))
        self.counts.records = len(records)
        touched_keys: set[PriceKey] = set()
        for record in sorted(records, key=lambda r: (r.valid_from or self.effective_from)):
            offering = offerings[(record.provider, match_key(record.model))]
            key: PriceKey = (
                offering.id,
                record.component,
                record.mode,
                record.tier_min_tokens,
                record.tier_max_tokens,
                record.currency,
            )
            touched_keys.add(key)
            self._place(record, offering, key, published[key], held[key])
        if not self.is_archive:
            self._mark_missing(touched_keys)
        self._write()
        return self.counts

    def _place(
        self, record: ScrapedPrice, offering: Offering, key: PriceKey, timeline: list[Price], pending: list[Price]
    ) -> None:
        valid_from = record.valid_from or self.effective_from
        valid_to = record.valid_to
        if record.valid_from is None and valid_to is not None and valid_to <= valid_from:
            # A price the page says ended before this observation, with no start date: history we
            # cannot place in time. (With a start date it is placed like any other.)
            return
        covering = _covering(timeline, valid_from)
        if covering is not None and covering.pk is None:
            # Two ids of one page met on one offering (they differ only in case or separators): the
            # first one stands; the other is noted rather than allowed to contradict it.
            if covering.amount_per_mtok != record.amount_per_mtok:
                log.warning(
                    "%s: %s %s/%s listed twice with different amounts; kept %s",
                    self.source.slug,
                    record.model,
                    record.component,
                    record.mode,
                    covering.amount_per_mtok,
                )
            self.counts.unchanged += 1
            return
        if covering is not None and covering.amount_per_mtok == record.amount_per_mtok:
            self.counts.unchanged += 1
            self.seen.append(covering.pk)
            if valid_to is not None and covering.valid_to is None and valid_to > covering.valid_from:
                # The page now says when this price ends.
                self.close_at[valid_to].append(covering.pk)
                covering.valid_to = valid_to
            if self._weaker_evidence(covering):
                self._refresh_evidence(covering, record)
            return
        reason = self._hold_reason(record, offering, covering)
        if reason:
            ours = [p for p in pending if p.source_id == self.source.pk and p.amount_per_mtok == record.amount_per_mtok]
            if any(p.status == Price.Status.HELD for p in ours):
                self.counts.held += 1  # still awaiting a curator; do not queue it twice
                return
            covering_id = covering.pk if covering is not None else None
            if any(p.status == Price.Status.REJECTED and p.replaces_id == covering_id for p in ours):
                self.counts.unchanged += 1  # a curator already turned this figure down against this price
                return
            self.supersede.extend(
                p.pk for p in pending if p.source_id == self.source.pk and p.status == Price.Status.HELD
            )
            self.to_create.append(
                self._new_price(
                    record, offering, valid_from, valid_to, status=Price.Status.HELD, reason=reason, replaces=covering
                )
            )
            self.counts.held += 1
            return
        self._publish(record, offering, timeline, covering, valid_from, valid_to)

    def _publish(
        self,
        record: ScrapedPrice,
        offering: Offering,
        timeline: list[Price],
        covering: Price | None,
        valid_from: dt.datetime,
        valid_to: dt.datetime | None,
    ) -> None:
        if covering is None:
            following = next((p for p in timeline if p.valid_from > valid_from), None)
            if following is not None and (valid_to is None or valid_to > following.valid_from):
                valid_to = following.valid_from  # backfill up to the next known price
            self.counts.created += 1
        elif covering.valid_from >= valid_from:
            # Same start, other amount: a correction of what we knew. Supersede, never edit.
            self.supersede.append(covering.pk)
            valid_to = valid_to or covering.valid_to
            self.counts.changed += 1
        elif covering.valid_to is None:
            self.close_at[valid_from].append(covering.pk)
            covering.valid_to = valid_from
            self.counts.changed += 1
        else:
            # The new price starts inside a closed range: split it, recording the split as new knowledge.
            self.supersede.append(covering.pk)
            head = self._copy(covering, valid_to=valid_from)
            self.to_create.append(head)
            valid_to = min(valid_to, covering.valid_to) if valid_to else covering.valid_to
            self.counts.changed += 1
        price = self._new_price(record, offering, valid_from, valid_to, status=Price.Status.PUBLISHED)
        self.to_create.append(price)
        timeline.append(price)
        timeline.sort(key=lambda p: p.valid_from)

    def _hold_reason(self, record: ScrapedPrice, offering: Offering, covering: Price | None) -> str:
        amount = record.amount_per_mtok
        if amount < 0:
            return f"negative amount {plain(amount)} {record.currency}"
        if offering.locked:
            return "offering locked by a curator"
        if covering is None:
            return ""
        covering_trust = self.trust_by_source.get(covering.source_id, 1000) if covering.source_id else 1000
        if covering_trust > self.source.trust_rank:
            who = "a curator" if covering.source_id is None else self.slug_by_source.get(covering.source_id, "?")
            published = f"{plain(covering.amount_per_mtok)} {covering.currency}"
            return f"disagrees with {who}, more trusted: {published} published"
        if covering_trust < self.source.trust_rank:
            return ""  # a gap an aggregator filled gives way to the more trusted source's figure
        old = covering.amount_per_mtok
        change = f"{plain(old)} → {plain(amount)} {covering.currency}"
        if old > 0 and amount == 0:
            return f"paid price turning free ({change})"
        if old > 0 and amount > old * MAX_RISE_FACTOR:
            return f"rise beyond ×{MAX_RISE_FACTOR} ({change})"
        if old > 0 and amount * MAX_DROP_FACTOR < old:
            return f"drop beyond ÷{MAX_DROP_FACTOR} ({change})"
        return ""

    def _weaker_evidence(self, price: Price) -> bool:
        if price.source_id is None:
            return False  # a curator's price keeps its curator
        if self.trust_by_source.get(price.source_id, 0) < self.source.trust_rank:
            return True
        return price.run is not None and price.run.kind in BUNDLED_KINDS and not self.is_archive

    def _refresh_evidence(self, price: Price, record: ScrapedPrice) -> None:
        price.source = self.source
        price.run = self.run
        price.document_hash = self.run.content_hash
        price.excerpt = record.excerpt[:300]
        self.evidence_refresh.append(price)

    def _new_price(
        self,
        record: ScrapedPrice,
        offering: Offering,
        valid_from: dt.datetime,
        valid_to: dt.datetime | None,
        *,
        status: str,
        reason: str = "",
        replaces: Price | None = None,
    ) -> Price:
        return Price(
            offering=offering,
            component=record.component,
            mode=record.mode,
            tier_min_tokens=record.tier_min_tokens,
            tier_max_tokens=record.tier_max_tokens,
            amount_per_mtok=record.amount_per_mtok,
            currency=record.currency,
            original=record.original[:200],
            valid_from=valid_from,
            valid_to=valid_to,
            recorded_at=self.now,
            last_seen_at=self.now,
            status=status,
            hold_reason=reason[:300],
            replaces=replaces,
            source=self.source,
            run=self.run,
            document_hash=self.run.content_hash,
            excerpt=record.excerpt[:300],
        )

    def _copy(self, price: Price, *, valid_to: dt.datetime) -> Price:
        copy = Price(
            **{
                f.attname: getattr(price, f.attname)
                for f in Price._meta.concrete_fields
                if f.attname not in ("id", "valid_to", "recorded_at", "superseded_at")
            }
        )
        copy.valid_to = valid_to
        copy.recorded_at = self.now
        return copy

    def _mark_missing(self, touched: set[PriceKey]) -> None:
        """Open prices this source published before but did not list now are marked, never deleted."""
        open_rows = Price.objects.filter(
            source=self.source,
            status=Price.Status.PUBLISHED,
            valid_to__isnull=True,
            superseded_at__isnull=True,
        ).values_list(
            "id", "offering_id", "component", "mode", "tier_min_tokens", "tier_max_tokens", "currency", "missing_since"
        )
        newly_missing: list[int] = []
        back: list[int] = []
        missing_offerings: set[int] = set()
        for pk, offering_id, component, mode, low, high, currency, missing_since in open_rows:
            if (offering_id, component, mode, low, high, currency) in touched:
                if missing_since is not None:
                    back.append(pk)
            elif missing_since is None:
                newly_missing.append(pk)
                missing_offerings.add(offering_id)
        for chunk in _chunks(newly_missing):
            Price.objects.filter(id__in=chunk).update(missing_since=self.now)
        for chunk in _chunks(back):
            Price.objects.filter(id__in=chunk).update(missing_since=None)
        self.counts.missing = len(missing_offerings)

    def _write(self) -> None:
        for moment, ids in self.close_at.items():
            for chunk in _chunks(ids):
                Price.objects.filter(id__in=chunk).update(valid_to=moment)
        for chunk in _chunks(self.supersede):
            Price.objects.filter(id__in=chunk).update(superseded_at=self.now)
        if self.to_create:
            Price.objects.bulk_create(self.to_create, batch_size=1000)
        if self.evidence_refresh:
            Price.objects.bulk_update(
                self.evidence_refresh, ["source", "run", "document_hash", "excerpt"], batch_size=1000
            )
        seen = sorted(set(self.seen))
        for chunk in _chunks(seen):
            Price.objects.filter(id__in=chunk).update(last_seen_at=self.now)


def _covering(timeline: Sequence[Price], moment: dt.datetime) -> Price | None:
    """The published row in force at ``moment`` (valid_from inclusive, valid_to exclusive)."""
    found = None
    for price in timeline:
        if price.valid_from <= moment and (price.valid_to is None or moment < price.valid_to):
            found = price
    return found


# --- curation entry point -----------------------------------------------------------------------------


def price_publish(*, price: Price) -> Price:
    """Publish one prepared, unsaved price (a curator's override, an approved proposal) on the timeline of
    its line by the same rules as ingest (``_Applier._publish``): close the row in force at its
    ``valid_from``, or supersede a row starting at the same moment, or supersede and split a closed range.
    ``price.recorded_at`` is the moment of the correction. Call inside the caller's transaction."""
    applier = _Applier(run=price.run or ScrapeRun(), source=price.source or Source(trust_rank=0), as_of=None)
    applier.now = price.recorded_at
    timeline = list(
        Price.objects.select_for_update()
        .filter(
            offering_id=price.offering_id,
            component=price.component,
            mode=price.mode,
            tier_min_tokens=price.tier_min_tokens,
            tier_max_tokens=price.tier_max_tokens,
            currency=price.currency,
            status=Price.Status.PUBLISHED,
            superseded_at__isnull=True,
        )
        .order_by("valid_from")
    )
    record = ScrapedPrice(
        provider="-",
        model="-",
        component=price.component,
        amount_per_mtok=price.amount_per_mtok,
        mode=price.mode,
        currency=price.currency,
        tier_min_tokens=price.tier_min_tokens,
        tier_max_tokens=price.tier_max_tokens,
    )
    covering = _covering(timeline, price.valid_from)
    applier._publish(record, price.offering, timeline, covering, price.valid_from, price.valid_to)
    placed = applier.to_create.pop()  # the row _publish built from the record: ours takes its place
    price.valid_to = placed.valid_to
    price.status = Price.Status.PUBLISHED
    applier.to_create.append(price)
    applier._write()
    return price

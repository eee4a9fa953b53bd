"""Ingest: validate one run's records and apply them to the price timelines by the rules of
``pricing.services.timeline``, atomically.

Every kind of run obeys the same rules, judged at its own date (its evidence: when the document was
fetched or captured): a backfill is compared with the price before *and* after it; a run is its source's
whole truth for what it covers (lines it no longer emits close at its date; models it no longer lists are
marked missing as of its date); a figure that disagrees with a more trusted source, in any currency or tier
layout, is held; a held change publishes itself once an independent source confirms it or its own source
repeats it over days; a malformed record is left out with a line in the run's problems, never the run.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.core.cache import caches
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.text import slugify

from pricing import answers, units, webhooks
from pricing.models import (
    AuditEntry,
    ExchangeRate,
    LineKey,
    Offering,
    Price,
    Provider,
    Retirement,
    ScrapeRun,
    Source,
)
from pricing.services.linking import models_link
from pricing.services.sources import provider_name_for
from pricing.services.timeline import (
    Plan,
    agree,
    change_reason,
    chunks,
    copy_row,
    covering,
    following,
    outlier_reason,
    place_published,
    plain,
    plan_write,
    stored_amount,
)
from providers.base import (
    COMPONENTS,
    MODES,
    OFFERING_ATTRIBUTES,
    PRICE_CONDITIONS,
    ScrapedPrice,
    ScrapedRetirement,
    Scraper,
    attributes_key,
    match_key,
)

log = logging.getLogger(__name__)

PRICES_CHANGED_CACHE_KEY = "pricing:prices-changed-at"
# How a partial run (saved copies of some of a source's documents) begins its note.
PARTIAL_NOTE = "partial:"
# Runs whose evidence a live observation of the same figure replaces.
BUNDLED_KINDS = (ScrapeRun.Kind.SNAPSHOT, ScrapeRun.Kind.CURATED)
# Field limits a record must fit (the columns they are stored in).
MAX_ID_LENGTH = Offering._meta.get_field("provider_model_id").max_length or 200
MAX_NAME_LENGTH = Offering._meta.get_field("name").max_length or 200
MAX_PROVIDER_SLUG = Provider._meta.get_field("slug").max_length or 80
# Sellers whose entries are runtimes people host themselves: no public list price to rank.
SELF_HOSTED_PROVIDERS = frozenset(
    {
        "ollama",
        "ollama_chat",
        "sagemaker",
        "sagemaker_chat",
        "vllm",
        "hosted_vllm",
        "lm_studio",
        "llamafile",
        "triton",
        "oobabooga",
        "xinference",
        "petals",
        "custom",
        "openai_like",
        "local",
        "docker_model_runner",
    }
)
PROVIDER_NAME = re.compile(r"[^\W_][\w .+-]{0,79}")
FREE_VARIANT_ID = re.compile(r"[:/_-]free$", re.IGNORECASE)


RESOLVABLE_REASONS = ("rise ", "drop ", "paid ", "backfill: ", "outlier: ")


def resolvable_reason(reason: str) -> bool:
    """Whether a held change waits for evidence (a change beyond bounds, an outlier) rather than for a more
    trusted source or a curator (a disagreement, a lock, a negative amount)."""
    return reason.startswith(RESOLVABLE_REASONS)


class IngestRejected(Exception):
    """The parsed records cannot be trusted as a whole (empty, far too few)."""


@dataclass
class Counts:
    records: int = 0
    created: int = 0
    changed: int = 0
    unchanged: int = 0
    held: int = 0
    missing: int = 0
    closed: int = 0
    skipped: int = 0
    published_held: int = 0

    @property
    def wrote_prices(self) -> bool:
        return bool(self.created or self.changed or self.held or self.closed or self.missing or self.published_held)


@dataclass
class Validated:
    records: list[ScrapedPrice]
    problems: list[str]


def records_validate(records: Sequence[ScrapedPrice]) -> Validated:
    """Each record checked on its own: a malformed one is left out with a line saying why; exact
    duplicates are dropped; a second, different amount for one price line is left out (the first stands)."""
    problems: list[str] = []
    unique: dict[tuple[object, ...], ScrapedPrice] = {}
    for record in records:
        problem = _record_problem(record)
        if problem:
            problems.append(problem)
            continue
        provider = slugify(record.provider)[:MAX_PROVIDER_SLUG].strip("-")
        record = record.replace(amount_per_mtok=stored_amount(record.amount_per_mtok), provider=provider)
        line = (*record.key, record.valid_from, record.valid_to)
        earlier = unique.get(line)
        if earlier is None:
            unique[line] = record
        elif earlier.amount_per_mtok != record.amount_per_mtok:
            problems.append(
                f"{_short(record.model)} {record.component}/{record.mode}: a second amount for one price "
                f"({plain(record.amount_per_mtok)}{_where(record)} beside "
                f"{plain(earlier.amount_per_mtok)}{_where(earlier)}); kept the first"
            )
    return Validated(list(unique.values()), problems)


def _where(record: ScrapedPrice) -> str:
    """Which of a source's documents stated a figure, where its adapter says so (``notes["source"]``)."""
    where = record.notes.get("source")
    return f" in the {where}" if where else ""


def _short(text: object, width: int = 80) -> str:
    shown = str(text)
    return shown if len(shown) <= width else f"{shown[:width]}… ({len(shown)} characters)"


def _record_problem(record: ScrapedPrice) -> str:
    model = _short(record.model)
    if not record.model or not record.provider:
        return f"record without provider or model ({_short(record.provider)!r}, {model!r})"
    if len(record.offering_id) > MAX_ID_LENGTH or len(record.model) > MAX_ID_LENGTH:
        return f"{model}: model id longer than {MAX_ID_LENGTH} characters"
    if len(record.model_name) > MAX_NAME_LENGTH:
        return f"{model}: name longer than {MAX_NAME_LENGTH} characters"
    if not PROVIDER_NAME.fullmatch(record.provider) or not slugify(record.provider):
        return f"{model}: provider {_short(record.provider, 40)!r} is not a plain name a slug can be made from"
    if record.component not in COMPONENTS:
        return f"{model}: unknown component {record.component!r}"
    if record.mode not in MODES:
        return f"{model}: unknown mode {record.mode!r}"
    if not isinstance(record.amount_per_mtok, Decimal) or not record.amount_per_mtok.is_finite():
        return f"{model}: amount is not a finite number: {record.amount_per_mtok!r}"
    if abs(record.amount_per_mtok) >= Decimal("1e12"):
        return f"{model}: amount {record.amount_per_mtok} per 1M tokens is beyond any real price"
    if not re.fullmatch(r"[A-Z]{3}", record.currency):
        return f"{model}: currency must be an ISO code, got {record.currency!r}"
    low, high = record.tier_min_tokens, record.tier_max_tokens
    if (low is not None and low < 0) or (high is not None and high < 0):
        return f"{model}: negative tier bound"
    if low is not None and high is not None and high < low:
        return f"{model}: tier {low}..{high} is reversed"
    if record.valid_from and record.valid_to and record.valid_to <= record.valid_from:
        return f"{model}: valid_to is not after valid_from"
    if len(attributes_key(record.attributes)) > 300:
        return f"{model}: attributes too long to key a price line"
    return ""


def listing_of(provider_slug: str, model_id: str, records: Sequence[ScrapedPrice]) -> str:
    """Whether an offering has a public list price: self-hosted runtimes have none; ``:free`` variants and
    offerings a source prices at zero throughout are free variants; the rest are list prices."""
    if provider_slug.replace("-", "_") in SELF_HOSTED_PROVIDERS or any(r.notes.get("no_list_price") for r in records):
        return Offering.Listing.UNLISTED
    if FREE_VARIANT_ID.search(model_id):
        return Offering.Listing.FREE_VARIANT
    priced = [r for r in records if r.component in ("input", "output")]
    if priced and all(r.amount_per_mtok == 0 for r in priced):
        return Offering.Listing.FREE_VARIANT
    return Offering.Listing.LIST_PRICE


def nearest_run_records(*, source: Source, moment: dt.datetime, exclude: int | None) -> int | None:
    """How many records the succeeded run of ``source`` nearest in evidence time to ``moment`` had."""
    runs = ScrapeRun.objects.filter(source=source, status=ScrapeRun.Status.SUCCEEDED, evidence_at__isnull=False)
    runs = runs.exclude(note__startswith=PARTIAL_NOTE)  # a run of some documents says nothing of the whole
    if exclude is not None:
        runs = runs.exclude(pk=exclude)
    before = runs.filter(evidence_at__lte=moment).order_by("-evidence_at").values_list("evidence_at", "records").first()
    after = runs.filter(evidence_at__gt=moment).order_by("evidence_at").values_list("evidence_at", "records").first()
    candidates = [c for c in (before, after) if c is not None]
    if not candidates:
        return None
    return min(candidates, key=lambda c: abs((c[0] - moment).total_seconds()) if c[0] else 0)[1]


def ingest(
    *,
    run: ScrapeRun,
    source: Source,
    records: Sequence[ScrapedPrice],
    as_of: dt.datetime | None = None,
    scraper: Scraper | None = None,
    retirements: Sequence[ScrapedRetirement] = (),
    evidence_url: str = "",
    partial: bool = False,
) -> Counts:
    """Apply one run's records (and the seller's retirement statements) atomically and return its counts.
    Raises IngestRejected, changing nothing.

    ``run.evidence_at`` (set by the caller: when the document was fetched or captured) dates the
    evidence; without it, ``as_of`` or now does."""
    validated = records_validate(records)
    evidence_at = run.evidence_at or as_of or timezone.now()
    run.evidence_at = evidence_at
    if validated.problems:
        run.problems = "\n".join(validated.problems[:500])
        for line in validated.problems[:20]:
            log.warning("%s run %s left out a record: %s", source.slug, run.pk, line)
    if not validated.records:
        raise IngestRejected(
            "the document parsed to no prices" + (f" ({validated.problems[0]})" if validated.problems else "")
        )
    min_share = scraper.min_share_of_previous if scraper else 0.5
    nearest = None if partial else nearest_run_records(source=source, moment=evidence_at, exclude=run.pk)
    if nearest and len(validated.records) < nearest * min_share:
        raise IngestRejected(
            f"parsed {len(validated.records)} prices where the nearest good run had {nearest}: "
            "layout changed? nothing was applied"
        )
    with transaction.atomic():
        applier = _Applier(run=run, source=source, as_of=as_of, evidence_at=evidence_at, partial=partial)
        counts = applier.apply(validated.records)
        counts.skipped = len(validated.problems)
        retired = retirements_record(run=run, source=source, statements=retirements, evidence_url=evidence_url)
        if counts.wrote_prices or retired:
            prices_changed()
    return counts


def retirements_record(
    *, run: ScrapeRun, source: Source, statements: Sequence[ScrapedRetirement], evidence_url: str = ""
) -> int:
    """Store what a seller's own source says of its own ids being retired; returns how many statements are
    new or changed. Another party's word (an aggregator's, or one seller's about another's model) is not
    taken: only a source that belongs to the provider can retire the provider's ids."""
    provider = source.provider
    own = [s for s in statements if provider is not None and s.provider == provider.slug and s.model]
    if provider is None or not own:
        return 0
    seen_at = run.evidence_at or timezone.now()
    keys = [match_key(s.model) for s in own]
    known = {r.match_key: r for r in Retirement.objects.filter(source=source, match_key__in=keys)}
    changed = 0
    for statement in own:
        retires_at = statement.retires_at or seen_at
        conditions = attributes_key(statement.successor_conditions, PRICE_CONDITIONS)
        row = known.get(match_key(statement.model))
        if row is None:
            row = Retirement(provider=provider, source=source, first_seen_at=seen_at)
        elif (row.retires_at, row.successor, row.successor_conditions) == (
            retires_at,
            statement.successor[:200],
            conditions,
        ):
            if seen_at > row.last_seen_at:
                Retirement.objects.filter(pk=row.pk).update(last_seen_at=seen_at, run=run)
            continue
        row.provider_model_id = statement.model[:200]
        row.retires_at = retires_at
        row.successor = statement.successor[:200]
        row.successor_conditions = conditions
        row.run = run
        row.evidence_url = evidence_url[:500]
        row.excerpt = statement.excerpt[:300]
        row.last_seen_at = max(seen_at, row.last_seen_at or seen_at)
        row.save()
        changed += 1
    return changed


def prices_changed() -> None:
    """Tell every reader (cached pages and API bodies, ETags) that what they show changed.

    The stamp is a row in the database (the "stamps" cache), written in the caller's transaction: it
    changes exactly when the data commits, and a cache server being down can neither fail the change
    nor leave a stale ETag behind. It only moves forward, even if clocks disagree between machines.
    """
    stamps = caches["stamps"]
    now = timezone.now()
    previous = stamps.get(PRICES_CHANGED_CACHE_KEY)
    if previous and dt.datetime.fromisoformat(previous) >= now:
        now = dt.datetime.fromisoformat(previous) + dt.timedelta(microseconds=1)
    stamps.set(PRICES_CHANGED_CACHE_KEY, now.isoformat(), timeout=None)
    # The worker recomputes the most-read answers once the change is visible (pricing/answers.py).
    transaction.on_commit(answers.warm_soon, robust=True)


class _Applier:
    """One ingest's working state: everything loaded in a fixed number of queries, decided by the timeline
    rules into one Plan, written in bulk."""

    def __init__(
        self,
        *,
        run: ScrapeRun,
        source: Source,
        as_of: dt.datetime | None,
        evidence_at: dt.datetime,
        partial: bool = False,
    ):
        self.run = run
        # A run of some of the source's documents: the others' offerings are neither missing nor closed.
        self.partial = partial
        self.source = source
        self.now = timezone.now()
        self.evidence_at = evidence_at
        self.effective_from = as_of or evidence_at
        self.is_archive = as_of is not None
        sources = Source.objects.values_list("id", "trust_rank", "slug")
        self.trust_by_source = {pk: rank for pk, rank, _ in sources}
        self.slug_by_source = {pk: slug for pk, _, slug in sources}
        self.counts = Counts()
        self.plan = Plan()
        self.audits: list[tuple[Price, Source | None, str]] = []
        self.decided: set[tuple[LineKey, dt.datetime]] = set()
        self.rates: dict[tuple[str, dt.date], Decimal | None] = {}

    def trust(self, source_id: int | None) -> int:
        # A curator's own price (no source) outranks every scraped one.
        return 1000 if source_id is None else self.trust_by_source.get(source_id, 0)

    def who(self, source_id: int | None) -> str:
        return "a curator" if source_id is None else self.slug_by_source.get(source_id, "?")

    # -- loading --

    def _providers(self, slugs: Iterable[str]) -> dict[str, Provider]:
        wanted = set(slugs)
        found = {p.slug: p for p in Provider.objects.filter(slug__in=wanted)}
        missing = [Provider(slug=s, name=provider_name_for(s)) for s in sorted(wanted - found.keys())]
        if missing:
            Provider.objects.bulk_create(missing, ignore_conflicts=True)
            found = {p.slug: p for p in Provider.objects.filter(slug__in=wanted)}
        return found

    @staticmethod
    def offering_key(record: ScrapedPrice) -> tuple[str, str, str]:
        return record.provider, match_key(record.offering_id), attributes_key(record.attributes, OFFERING_ATTRIBUTES)

    def _offerings(self, records: Sequence[ScrapedPrice]) -> dict[tuple[str, str, str], Offering]:
        """Offerings by (provider slug, match key, variant), created or updated with the records' facts."""
        providers = self._providers(r.provider for r in records)
        by_offering: dict[tuple[str, str, str], list[ScrapedPrice]] = defaultdict(list)
        for record in records:
            by_offering[self.offering_key(record)].append(record)
        existing: dict[tuple[str, str, str], Offering] = {}
        slug_by_provider = {p.id: p.slug for p in providers.values()}
        keys = sorted({key for _, key, _ in by_offering})
        for chunk in chunks(keys):
            rows = Offering.objects.filter(provider_id__in=slug_by_provider, match_key__in=chunk).select_related(
                "provider"
            )
            for offering in rows.order_by("id"):
                existing.setdefault(
                    (slug_by_provider[offering.provider_id], offering.match_key, offering.variant), offering
                )
        new: list[Offering] = []
        updated: list[Offering] = []
        for (provider_slug, key, variant), group in by_offering.items():
            record = next((r for r in group if not r.own_id or r.own_id == r.model), group[0])
            listing = listing_of(provider_slug, record.offering_id, group)
            found = existing.get((provider_slug, key, variant))
            if found is None:
                attributes = {n: record.attributes[n] for n in OFFERING_ATTRIBUTES if record.attributes.get(n)}
                new.append(
                    Offering(
                        provider=providers[provider_slug],
                        provider_model_id=record.offering_id,
                        match_key=key,
                        variant=variant,
                        attributes=attributes,
                        listing=listing,
                        name=(record.model_name or record.offering_id)[:MAX_NAME_LENGTH],
                        context_window=record.context_window,
                        tokenizer_hint=record.tokenizer[:80],
                        creator_hint=record.creator[:80],
                        first_seen_at=self.evidence_at,
                    )
                )
            elif self._refresh_facts(found, record, listing):
                updated.append(found)
        if new:
            Offering.objects.bulk_create(new, batch_size=1000)
            for offering in new:
                existing[(offering.provider.slug, offering.match_key, offering.variant)] = offering
        if updated:
            Offering.objects.bulk_update(
                updated, ["name", "context_window", "tokenizer_hint", "creator_hint", "listing"], batch_size=1000
            )
        # What a source states beyond the id (OpenRouter's hugging_face_id, canonical_slug) helps link it.
        notes = {
            existing[k].pk: merged
            for k, group in by_offering.items()
            if (merged := {name: value for r in group for name, value in r.notes.items() if value})
        }
        models_link(offerings=[existing[k] for k in by_offering], official_source=self.source, notes=notes)
        return existing

    def _refresh_facts(self, offering: Offering, record: ScrapedPrice, listing: str) -> bool:
        trusted = self.source.kind == Source.Kind.OFFICIAL
        changed = False
        for attr, value in (
            ("name", record.model_name[:MAX_NAME_LENGTH]),
            ("context_window", record.context_window),
            ("tokenizer_hint", record.tokenizer[:80]),
            ("creator_hint", record.creator[:80]),
        ):
            current = getattr(offering, attr)
            # Official sources correct facts; aggregators only fill blanks.
            if value and value != current and (trusted or not current):
                setattr(offering, attr, value)
                changed = True
        if listing != offering.listing and (trusted or offering.listing == Offering.Listing.LIST_PRICE):
            offering.listing = listing
            changed = True
        return changed

    def _timelines(self, offering_ids: list[int]) -> tuple[dict[LineKey, list[Price]], dict[LineKey, list[Price]]]:
        published: dict[LineKey, list[Price]] = defaultdict(list)
        proposals: dict[LineKey, list[Price]] = defaultdict(list)
        for chunk in chunks(offering_ids):
            rows = Price.objects.current_knowledge().filter(offering_id__in=chunk).select_related("run")
            for price in rows:
                # Held and rejected proposals are remembered so a scrape never queues a decided one again.
                (published if price.status == Price.Status.PUBLISHED else proposals)[price.line_key].append(price)
        for timeline in published.values():
            timeline.sort(key=lambda p: p.valid_from)
        return published, proposals

    def _other_sellers(
        self, offerings: Iterable[Offering]
    ) -> dict[tuple[int, str, str, str], list[tuple[int, Decimal]]]:
        """Base-tier input and output prices in force of other list-priced sellers of the same models."""
        model_ids = {o.model_id for o in offerings if o.model_id}
        found: dict[tuple[int, str, str, str], list[tuple[int, Decimal]]] = defaultdict(list)
        if not model_ids:
            return found
        rows = (
            Price.objects.in_force(self.effective_from)
            .filter(
                offering__model_id__in=model_ids,
                offering__listing=Offering.Listing.LIST_PRICE,
                component__in=("input", "output"),
                conditions="",
                tier_min_tokens__isnull=True,
            )
            .values_list("offering__model_id", "component", "mode", "currency", "offering_id", "amount_per_mtok")
        )
        for model_id, component, mode, currency, offering_id, amount in rows:
            found[(model_id, component, mode, currency)].append((offering_id, amount))
        return found

    def rate(self, currency: str, day: dt.date) -> Decimal | None:
        """Units of ``currency`` per EUR on ``day`` (the latest ECB rate on or before it)."""
        if currency == "EUR":
            return Decimal(1)
        if (currency, day) not in self.rates:
            self.rates[(currency, day)] = (
                ExchangeRate.objects.filter(currency=currency, date__lte=day)
                .order_by("-date")
                .values_list("units_per_eur", flat=True)
                .first()
            )
        return self.rates[(currency, day)]

    def convert(self, amount: Decimal, *, from_currency: str, to_currency: str, moment: dt.datetime) -> Decimal | None:
        if from_currency == to_currency:
            return amount
        source_rate, target_rate = self.rate(from_currency, moment.date()), self.rate(to_currency, moment.date())
        if source_rate is None or target_rate is None:
            return None
        return units.convert_currency(amount, units_per_eur_from=source_rate, units_per_eur_to=target_rate)

    # -- applying --

    def apply(self, records: Sequence[ScrapedPrice]) -> Counts:
        offerings = self._offerings(records)
        self.offering_by_id = {o.id: o for o in offerings.values()}
        self.published, self.proposals = self._timelines(sorted(self.offering_by_id))
        self.families: dict[tuple[int, str, str, str], set[LineKey]] = defaultdict(set)
        for key in self.published:
            self.families[(key.offering_id, key.component, key.mode, key.conditions)].add(key)
        self.others = self._other_sellers(self.offering_by_id.values())
        self.counts.records = len(records)
        touched: set[LineKey] = set()
        # Dated prices in time order; where two ids of one page meet on one offering, the own id first.
        ordered = sorted(
            records, key=lambda r: (r.valid_from or self.effective_from, r.model != r.offering_id, r.model)
        )
        for record in ordered:
            offering = offerings[self.offering_key(record)]
            key = LineKey(
                offering.id,
                record.component,
                record.mode,
                record.tier_min_tokens,
                record.tier_max_tokens,
                record.currency,
                attributes_key(record.attributes, PRICE_CONDITIONS),
            )
            touched.add(key)
            self._place(record, offering, key)
        self._close_and_mark(touched)
        created = plan_write(self.plan, now=self.now)
        webhooks.changes_published(p.pk for p in created if p.status == Price.Status.PUBLISHED)
        if self.audits:
            AuditEntry.objects.bulk_create(
                AuditEntry(
                    action=AuditEntry.Action.AUTO_PUBLISH,
                    at=self.now,
                    offering_id=price.offering_id,
                    price=price,
                    source=source,
                    reason=why,
                )
                for price, source, why in self.audits
            )
        return self.counts

    def _place(self, record: ScrapedPrice, offering: Offering, key: LineKey) -> None:
        valid_from = record.valid_from or self.effective_from
        valid_to = record.valid_to
        if record.valid_from is None and valid_to is not None and valid_to <= valid_from:
            # A price the page says ended before this observation, with no start date: history we
            # cannot place in time. (With a start date it is placed like any other.)
            return
        timeline = self.published[key]
        if (key, valid_from) in self.decided:
            # Two ids of one page met on one offering: the first one (the own id) stands.
            log.info("%s: %s names a price line already read from this document", self.source.slug, record.model)
            self.counts.unchanged += 1
            return
        self.decided.add((key, valid_from))
        current = covering(timeline, valid_from)
        later = following(timeline, valid_from) if current is None else None
        if (
            later is not None
            and later.pk is not None
            and later.amount_per_mtok == record.amount_per_mtok
            and later.source_id == self.source.pk
        ):
            # An older copy stating the price that follows: the same price was already in force earlier.
            self.plan.supersede.append(later.pk)
            earlier = copy_row(later, valid_to=later.valid_to, now=self.now)
            earlier.valid_from = valid_from
            self.plan.create.append(earlier)
            timeline[timeline.index(later)] = earlier
            timeline.sort(key=lambda p: p.valid_from)
            self.counts.unchanged += 1
            return
        if current is not None and current.amount_per_mtok == record.amount_per_mtok:
            self.counts.unchanged += 1
            self.plan.see(current, self.evidence_at)
            if valid_to is not None and current.valid_to is None and valid_to > current.valid_from:
                self.plan.close(current, valid_to)  # the page now says when this price ends
            if self._weaker_evidence(current):
                self._refresh_evidence(current, record)
            return
        trusted = self._more_trusted_cover(record, key, valid_from)
        if trusted is not None:
            converted = self.convert(
                record.amount_per_mtok, from_currency=record.currency, to_currency=trusted.currency, moment=valid_from
            )
            if converted is not None and agree(converted, trusted.amount_per_mtok):
                self.counts.unchanged += 1  # corroborates the more trusted figure; nothing to add
                return
            reason = (
                f"disagrees with {self.who(trusted.source_id)}, more trusted: "
                f"{plain(trusted.amount_per_mtok)} {trusted.currency} ({trusted.tier_label}) published"
            )
            if converted is None:
                reason += f"; no exchange rate to compare {record.currency} with {trusted.currency}"
            resolvable = False
        else:
            reason, resolvable = self._hold_reason(record, offering, key, current, valid_from)
        if reason:
            against = current if current is not None else trusted
            self._hold(record, offering, key, against, valid_from, valid_to, reason, resolvable=resolvable)
            return
        self.counts.created += current is None
        self.counts.changed += current is not None
        template = self._new_price(record, offering, key, valid_from, valid_to, status=Price.Status.PUBLISHED)
        place_published(self.plan, template, timeline, now=self.now)

    def _more_trusted_cover(self, record: ScrapedPrice, key: LineKey, moment: dt.datetime) -> Price | None:
        """The price in force of a more trusted source on a sibling line (another currency or tier layout of
        the same offering, component, mode and conditions) whose tier covers this record's prompt lengths."""
        ours = self.source.trust_rank
        start = record.tier_min_tokens or 0
        found: list[Price] = []
        for other in self.families.get((key.offering_id, key.component, key.mode, key.conditions), ()):
            if other == key:
                continue
            row = covering(self.published[other], moment)
            if row is None or row.pk is None or self.trust(row.source_id) <= ours:
                continue
            if (row.tier_min_tokens or 0) <= start and (row.tier_max_tokens is None or start <= row.tier_max_tokens):
                found.append(row)
        if not found:
            return None
        return max(
            found, key=lambda p: (self.trust(p.source_id), p.tier_min_tokens or 0, p.currency == record.currency)
        )

    def _hold_reason(
        self, record: ScrapedPrice, offering: Offering, key: LineKey, current: Price | None, valid_from: dt.datetime
    ) -> tuple[str, bool]:
        """Why this figure waits for a curator, and whether later evidence may publish it by itself."""
        amount = record.amount_per_mtok
        ours = self.source.trust_rank
        if amount < 0:
            return f"negative amount {plain(amount)} {record.currency}", False
        if offering.locked:
            return "offering locked by a curator", False
        if current is not None:
            theirs = self.trust(current.source_id)
            if theirs > ours:
                published = f"{plain(current.amount_per_mtok)} {current.currency}"
                return f"disagrees with {self.who(current.source_id)}, more trusted: {published} published", False
            if theirs == ours:
                reason = change_reason(current.amount_per_mtok, amount, record.currency)
                if reason:
                    return reason, True
        later = following(self.published[key], valid_from)
        if later is not None and later.pk is not None and self.trust(later.source_id) >= ours:
            reason = change_reason(later.amount_per_mtok, amount, record.currency, later=True)
            if reason:
                return reason, True
        if (
            offering.model_id
            and key.conditions == ""
            and key.tier_min_tokens is None
            and offering.listing == Offering.Listing.LIST_PRICE
        ):
            others = [
                other
                for offering_id, other in self.others.get(
                    (offering.model_id, key.component, key.mode, key.currency), ()
                )
                if offering_id != offering.id
            ]
            reason = outlier_reason(amount, others, record.currency)
            if reason:
                return reason, True
        return "", False

    def _hold(
        self,
        record: ScrapedPrice,
        offering: Offering,
        key: LineKey,
        current: Price | None,
        valid_from: dt.datetime,
        valid_to: dt.datetime | None,
        reason: str,
        *,
        resolvable: bool,
    ) -> None:
        pending = self.proposals[key]
        ours = [p for p in pending if p.source_id == self.source.pk]
        amount = record.amount_per_mtok
        self.counts.held += 1
        waiting = next((p for p in ours if p.status == Price.Status.HELD and p.amount_per_mtok == amount), None)
        if waiting is not None:
            # Still awaiting a curator: never queued twice, but each sighting counts as evidence.
            if waiting.pk is not None and (waiting.last_seen_at is None or self.evidence_at > waiting.last_seen_at):
                waiting.sightings += 1
                waiting.last_seen_at = self.evidence_at
                self.plan.sightings.append(waiting)
            if resolvable:
                self._resolve(waiting, key, offering)
            return
        current_id = current.pk if current is not None else None
        if any(
            p.status == Price.Status.REJECTED and p.replaces_id == current_id and p.amount_per_mtok == amount
            for p in ours
        ):
            self.counts.held -= 1
            self.counts.unchanged += 1  # a curator already turned this figure down against this price
            return
        self.plan.supersede.extend(p.pk for p in ours if p.status == Price.Status.HELD and p.pk is not None)
        held = self._new_price(
            record, offering, key, valid_from, valid_to, status=Price.Status.HELD, reason=reason, replaces=current
        )
        self.plan.create.append(held)
        pending[:] = [p for p in pending if not (p.source_id == self.source.pk and p.status == Price.Status.HELD)]
        pending.append(held)
        if resolvable:
            self._resolve(held, key, offering)
            return
        # This figure may be the independent confirmation another source's held change waits for.
        for other in list(pending):
            if (
                other is not held
                and other.status == Price.Status.HELD
                and other.source_id not in (None, self.source.pk)
                and resolvable_reason(other.hold_reason)
                and agree(other.amount_per_mtok, amount)
            ):
                self._resolve(other, key, offering)
                break

    def _resolve(self, held: Price, key: LineKey, offering: Offering) -> None:
        """Publish a held change when the evidence allows: another source states the same figure (within
        1%), or its own source has repeated it over enough runs and days. Curator locks always win."""
        if offering.locked:
            return
        confirming = next(
            (
                p
                for p in self.proposals[key]
                if p is not held
                and p.status == Price.Status.HELD
                and p.source_id not in (None, held.source_id)
                and agree(p.amount_per_mtok, held.amount_per_mtok)
            ),
            None,
        )
        if confirming is not None:
            why = f"confirmed by {self.who(confirming.source_id)} ({plain(confirming.amount_per_mtok)} {key.currency})"
        else:
            span = (held.last_seen_at or held.valid_from) - held.valid_from
            if held.sightings < settings.HOLD_AUTO_PUBLISH_RUNS or span < dt.timedelta(
                hours=settings.HOLD_AUTO_PUBLISH_HOURS
            ):
                return
            why = (
                f"repeated by {self.who(held.source_id)} in {held.sightings} runs over {span.days} days, uncontradicted"
            )
        if held.pk is not None:
            self.plan.supersede.append(held.pk)
        else:
            self.plan.create.remove(held)
        self.proposals[key].remove(held)
        template = copy_row(held, valid_to=held.valid_to, now=self.now)
        template.hold_reason, template.replaces_id, template.curator_note = "", None, why
        place_published(self.plan, template, self.published[key], now=self.now)
        self.counts.held -= 1
        self.counts.published_held += 1
        self.audits.append((template, Source(pk=held.source_id) if held.source_id else None, why))

    def _weaker_evidence(self, price: Price) -> bool:
        if price.source_id is None:
            return False  # a curator's price keeps its curator
        if self.trust(price.source_id) < self.source.trust_rank:
            return True
        return price.run is not None and price.run.kind in BUNDLED_KINDS and not self.is_archive

    def _refresh_evidence(self, price: Price, record: ScrapedPrice) -> None:
        price.source = self.source
        price.run = self.run
        price.document_hash = self.run.content_hash
        price.excerpt = record.excerpt[:300]
        self.plan.evidence.append(price)

    def _new_price(
        self,
        record: ScrapedPrice,
        offering: Offering,
        key: LineKey,
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
            conditions=key.conditions,
            original=record.original[:200],
            valid_from=valid_from,
            valid_to=valid_to,
            recorded_at=self.now,
            last_seen_at=self.evidence_at,
            status=status,
            hold_reason=reason[:300],
            replaces=replaces,
            source=self.source,
            run=self.run,
            document_hash=self.run.content_hash,
            excerpt=record.excerpt[:300],
        )

    def _end_what_later_runs_dropped(self, touched: set[LineKey]) -> None:
        """A backfill (an older copy replayed after newer runs of the source) must end up where replaying in
        date order would: what it lists that the source's next run no longer listed is missing from that
        run's date, and a line the next runs stopped emitting for a model they still list closes there.
        "Seen later" is read from ``last_seen_at``, the newest evidence that confirmed a row."""
        later = (
            ScrapeRun.objects.filter(
                source=self.source, status=ScrapeRun.Status.SUCCEEDED, evidence_at__gt=self.evidence_at
            )
            .exclude(pk=self.run.pk)
            .exclude(note__startswith=PARTIAL_NOTE)
            .order_by("evidence_at")
            .values_list("as_of", "evidence_at")
            .first()
        )
        if later is None or later[1] is None:
            return
        next_evidence: dt.datetime = later[1]
        next_moment: dt.datetime = later[0] or next_evidence
        if next_moment <= self.effective_from:
            return
        ours = self.source.pk
        lines_of: dict[int, list[LineKey]] = defaultdict(list)
        for key in {*self.published, *self.proposals}:
            lines_of[key.offering_id].append(key)
        by_offering: dict[int, list[LineKey]] = defaultdict(list)
        for key in touched:
            by_offering[key.offering_id].append(key)

        def seen(keys: Iterable[LineKey]) -> dt.datetime:
            # A held proposal's sighting counts: its run emitted the line, only with a figure not yet published.
            moments = [
                row.last_seen_at or row.recorded_at
                for key in keys
                for row in (*self.published.get(key, []), *self.proposals.get(key, []))
                if row.source_id == ours
            ]
            return max(moments, default=self.evidence_at)

        for offering_id, keys in by_offering.items():
            offering_gone = seen(lines_of[offering_id]) < next_evidence
            marked = False
            for key in keys:
                if not offering_gone and seen([key]) >= next_evidence:
                    continue
                row = covering(self.published[key], next_moment)
                if row is None or row.source_id != ours:
                    continue
                if offering_gone:
                    if row.missing_since is None:
                        row.missing_since = next_moment
                        if row.pk is not None:
                            self.plan.missing_since[next_moment].append(row.pk)
                        marked = True
                elif row.pk is not None:
                    self.plan.close(row, next_moment)
                    self.counts.closed += 1
                else:
                    row.valid_to = next_moment
                    self.counts.closed += 1
            self.counts.missing += marked

    def _close_and_mark(self, touched: set[LineKey]) -> None:
        """The run is its source's whole truth for what it covers, as of its date: lines of listed offerings
        that it no longer emits close (a re-tiered table, a dropped mode or currency), and so do a less trusted
        source's lines where this source now prices the same thing; offerings it no longer lists are marked
        missing. Rows confirmed by later evidence than this run's are left alone (an older copy replayed)."""
        moment, ours = self.effective_from, self.source.pk
        touched_offerings = {k.offering_id for k in touched}
        families = {(k.offering_id, k.component, k.mode, k.conditions) for k in touched}
        for key, timeline in self.published.items():
            if key in touched or key.offering_id not in touched_offerings:
                continue
            row = covering(timeline, moment)
            if row is None or row.pk is None or row.valid_from >= moment:
                continue
            ours_row = row.source_id == ours
            outranked = (
                not ours_row
                and row.source_id is not None
                and self.trust(row.source_id) < self.source.trust_rank
                and (key.offering_id, key.component, key.mode, key.conditions) in families
            )
            if not (ours_row or outranked) or (row.last_seen_at is not None and row.last_seen_at > self.evidence_at):
                continue
            self.plan.close(row, moment)
            self.counts.closed += 1
        for key in touched:
            row = covering(self.published[key], moment)
            if (
                row is not None
                and row.pk is not None
                and row.missing_since is not None
                and row.missing_since <= moment  # listed again after it went missing, not in an older copy
                and row.source_id == ours
            ):
                self.plan.back.append(row.pk)
        if self.partial:
            return
        self._end_what_later_runs_dropped(touched)
        vanished = (
            Price.objects.in_force(moment)
            .filter(source=self.source)
            # not marked yet, or marked by a later copy when this earlier one already no longer lists it
            .filter(Q(missing_since__isnull=True) | Q(missing_since__gt=moment))
            .filter(Q(last_seen_at__isnull=True) | Q(last_seen_at__lte=self.evidence_at))
            .values_list("id", "offering_id")
        )
        missing_offerings = set()
        for pk, offering_id in vanished:
            if offering_id not in touched_offerings:
                self.plan.missing_since[moment].append(pk)
                missing_offerings.add(offering_id)
        self.counts.missing += len(missing_offerings)

"""Reads: one place for query shapes. Every function here runs a fixed number of queries whatever
the number of rows (select_related / prefetch_related), so pages and endpoints built on them do too.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, NamedTuple, TypeVar

from django.conf import settings
from django.core.cache import caches
from django.db.models import Exists, F, Max, OrderBy, OuterRef, Prefetch, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone

from pricing import corpus, search, units
from pricing.models import (
    ExchangeRate,
    Offering,
    Price,
    Provider,
    Retirement,
    ScrapeRun,
    Source,
    Tokenizer,
    TokenizerMeasurement,
)
from pricing.selectors.changes import PriceChange as PriceChange
from pricing.selectors.changes import price_changes as price_changes
from pricing.selectors.filters import creator_spellings, price_in_range
from pricing.selectors.filters import creators_list as creators_list
from pricing.selectors.filters import regions_list as regions_list
from pricing.services import PRICES_CHANGED_CACHE_KEY
from pricing.tokenizers import count_text

T = TypeVar("T")
BASE_CURRENCY = "USD"
UNITS = ("mtok", "mwords")
# Languages (and English registers) whose words per token we measure: pricing/corpus is the one list.
LANGUAGES = corpus.LANGUAGES


class UnknownCurrency(ValueError):
    pass


# --- prices in force --------------------------------------------------------------------------------


def prices_in_force(*, as_of: dt.datetime | None = None, known_at: dt.datetime | None = None) -> QuerySet[Price]:
    """Published prices the providers charged at ``as_of`` (default now), as we knew them at ``known_at``
    (default: our current knowledge, corrections included)."""
    moment = as_of or timezone.now()
    rows = Price.objects.filter(status=Price.Status.PUBLISHED, valid_from__lte=moment).filter(
        Q(valid_to__isnull=True) | Q(valid_to__gt=moment)
    )
    if known_at is None:
        return rows.filter(superseded_at__isnull=True)
    return rows.filter(recorded_at__lte=known_at).filter(Q(superseded_at__isnull=True) | Q(superseded_at__gt=known_at))


def offerings_filter(
    offerings: QuerySet[Offering],
    *,
    providers: Iterable[str] = (),
    model: str = "",
    creator: str = "",
    q: str = "",
    min_context: int | None = None,
    open_weights: bool | None = None,
    offering_ids: Iterable[int] = (),
    include_free: bool = False,
    include_unlisted: bool = False,
    region: str = "",
) -> QuerySet[Offering]:
    """The offering filters of every list reader, one spelling each, so the offerings list, prices,
    estimates and the changes list keep the same offerings for the same filters. A filter on a fact we
    do not know fails (an unknown context window is not "at least" anything). Offerings named by
    ``offering_ids`` skip the listing classes; otherwise list prices only, unless free variants
    (``include_free``) or offerings without a public list price (``include_unlisted``) are asked for."""
    provider_slugs = [p for p in providers if p]
    if provider_slugs:
        offerings = offerings.filter(provider__slug__in=provider_slugs)
    if model:
        offerings = offerings.filter(model__slug=model)
    if creator:
        # Any spelling of the creator (``deepseek-ai``, ``hf:deepseek-ai``): each creator is listed once.
        spellings = creator_spellings(creator)
        offerings = offerings.filter(
            Q(model__creator__in=spellings) | Q(model__isnull=True, creator_hint__in=spellings)
        )
    if q:
        # Tolerant search (pricing.search): any case and separators, through every seller's id for the model.
        offerings = offerings.filter(id__in=search.offering_ids(q))
    if min_context:
        offerings = offerings.filter(
            Q(context_window__gte=min_context) | Q(context_window__isnull=True, model__context_window__gte=min_context)
        )
    if open_weights is not None:
        # Unknown (None) matches neither: pricing.openweights leaves undecided models out of both.
        offerings = offerings.filter(model__open_weights=open_weights)
    if region:
        # Only offerings that state a region (attributes.region); region-less ones are not "in" any.
        offerings = offerings.filter(attributes__region=region)
    named = list(offering_ids)
    if named:
        return offerings.filter(id__in=named)
    listings = [Offering.Listing.LIST_PRICE]
    listings += [Offering.Listing.FREE_VARIANT] if include_free else []
    listings += [Offering.Listing.UNLISTED] if include_unlisted else []
    return offerings.filter(listing__in=listings)


def offerings_with_prices(
    *,
    as_of: dt.datetime | None = None,
    providers: Iterable[str] = (),
    model: str = "",
    creator: str = "",
    q: str = "",
    min_context: int | None = None,
    open_weights: bool | None = None,
    mode: str = "",
    offering_ids: Iterable[int] = (),
    include_free: bool = False,
    include_unlisted: bool = False,
    include_missing: bool = False,
    region: str = "",
) -> QuerySet[Offering]:
    """Offerings that have at least one price in force, each with ``current_prices`` prefetched.

    Rankings show list prices only by default: free variants (``include_free``), offerings without a
    public list price (``include_unlisted``) and those their source no longer lists (``include_missing``)
    come only when asked for, or when named by ``offering_ids``."""
    in_force = prices_in_force(as_of=as_of).select_related("source", "run")
    if mode:
        in_force = in_force.filter(mode=mode)
    named = list(offering_ids)
    retired = retirements_in_force(as_of=as_of)
    offerings: QuerySet[Offering] = (
        Offering.objects.filter(id__in=in_force.values("offering_id"))
        .annotate(
            retired_since=Subquery(retired.values("retires_at")[:1]),
            retired_maps_to=Subquery(retired.values("successor")[:1]),
            retired_maps_to_conditions=Subquery(retired.values("successor_conditions")[:1]),
            retired_by=Subquery(retired.values("source__name")[:1]),
        )
        .select_related("provider", "model", "model__tokenizer")
        .prefetch_related(
            Prefetch(
                "prices", queryset=in_force.order_by("component", "mode", "tier_min_tokens"), to_attr="current_prices"
            )
        )
    )
    offerings = offerings_filter(
        offerings,
        providers=providers,
        model=model,
        creator=creator,
        q=q,
        min_context=min_context,
        open_weights=open_weights,
        offering_ids=named,
        include_free=include_free,
        include_unlisted=include_unlisted,
        region=region,
    )
    if named:
        return offerings.order_by("provider__name", "provider_model_id")
    if not include_missing:
        offerings = offerings.exclude(id__in=in_force.filter(missing_since__isnull=False).values("offering_id"))
        offerings = offerings.exclude(Exists(retired))
    return offerings.order_by("provider__name", "provider_model_id")


def retirements_in_force(*, as_of: dt.datetime | None = None) -> QuerySet[Retirement]:
    """The seller's own retirement statements that apply to the outer offering at ``as_of`` (default now):
    same provider, same id once separators and case are set aside, retired at or before the moment. For
    ``Subquery``/``Exists`` on an Offering queryset; the earliest statement first."""
    moment = as_of or timezone.now()
    return Retirement.objects.filter(
        provider_id=OuterRef("provider_id"), match_key=OuterRef("match_key"), retires_at__lte=moment
    ).order_by("retires_at", "id")


def offering_history(*, offering_id: int) -> QuerySet[Price]:
    """Every published price an offering ever had, with both time axes, oldest first."""
    return (
        Price.objects.filter(offering_id=offering_id, status=Price.Status.PUBLISHED)
        .select_related("source", "run")
        .order_by("component", "mode", "tier_min_tokens", "valid_from", "recorded_at")
    )


def histories_for(*, offering_ids: Sequence[int]) -> dict[int, list[Price]]:
    """Current-knowledge published history of several offerings in one query."""
    rows = Price.objects.filter(
        offering_id__in=offering_ids, status=Price.Status.PUBLISHED, superseded_at__isnull=True
    ).order_by("valid_from")
    result: dict[int, list[Price]] = {i: [] for i in offering_ids}
    for price in rows:
        result[price.offering_id].append(price)
    return result


# --- conversions ------------------------------------------------------------------------------------


@dataclass
class Rates:
    """Units per EUR of each currency, as of one date (the latest rate on or before it)."""

    units_per_eur: dict[str, Decimal] = field(default_factory=dict)
    dates: dict[str, dt.date] = field(default_factory=dict)

    def convert(self, amount: Decimal, *, from_currency: str, to_currency: str) -> Decimal | None:
        if from_currency == to_currency:
            return amount
        source_rate = Decimal(1) if from_currency == "EUR" else self.units_per_eur.get(from_currency)
        target_rate = Decimal(1) if to_currency == "EUR" else self.units_per_eur.get(to_currency)
        if source_rate is None or target_rate is None:
            return None
        return units.convert_currency(amount, units_per_eur_from=source_rate, units_per_eur_to=target_rate)


def rates_on(*, day: dt.date | None = None) -> Rates:
    """The latest stored rate of every currency on or before ``day`` (two queries)."""
    day = day or timezone.now().date()
    latest = ExchangeRate.objects.filter(date__lte=day).values("currency").annotate(latest=Max("date"))
    wanted = Q()
    for row in latest:
        wanted |= Q(currency=row["currency"], date=row["latest"])
    rates = Rates()
    if not latest:
        return rates
    for rate in ExchangeRate.objects.filter(wanted):
        rates.units_per_eur[rate.currency] = rate.units_per_eur
        rates.dates[rate.currency] = rate.date
    return rates


def known_currencies() -> list[str]:
    return sorted({BASE_CURRENCY, "EUR", *ExchangeRate.objects.values_list("currency", flat=True).distinct()})


# --- metadata ---------------------------------------------------------------------------------------


def prices_changed_at() -> dt.datetime:
    """When what readers see last changed: one primary-key read of the stamp that every ingest or
    curator change writes in its own transaction (``services.prices_changed``). Never from Redis."""
    stamps = caches["stamps"]
    stamp = stamps.get(PRICES_CHANGED_CACHE_KEY)
    if stamp:
        return dt.datetime.fromisoformat(stamp)
    # A database that never had the stamp written (made before it existed): derive it once.
    latest = Price.objects.aggregate(
        recorded=Max("recorded_at"), superseded=Max("superseded_at"), decided=Max("decided_at")
    )
    moments = [m for m in latest.values() if m is not None]
    changed = max(moments) if moments else dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
    stamps.add(PRICES_CHANGED_CACHE_KEY, changed.isoformat(), timeout=None)
    return changed


def stale_before() -> dt.datetime:
    return timezone.now() - dt.timedelta(hours=settings.SCRAPE_STALE_AFTER_HOURS)


def sources_with_health() -> QuerySet[Source]:
    """Sources with their latest run attached as ``latest_runs`` (at most one), in two queries."""
    latest_run_ids = (
        ScrapeRun.objects.order_by("source_id", "-started_at").values("source_id").annotate(latest=Max("id"))
    )
    return Source.objects.select_related("provider").prefetch_related(
        Prefetch(
            "runs", queryset=ScrapeRun.objects.filter(id__in=latest_run_ids.values("latest")), to_attr="latest_runs"
        )
    )


def source_health(source: Source) -> str:
    """``ok``, ``failing`` (its latest run failed), ``stale`` (no success lately), ``never`` or ``disabled``."""
    if not source.enabled:
        return "disabled"
    latest_runs = getattr(source, "latest_runs", None)  # prefetched by sources_with_health
    latest = latest_runs[0] if latest_runs else None
    if latest is not None and latest.status == ScrapeRun.Status.FAILED:
        return "failing"
    if source.last_success_at is None:
        return "never"
    if source.last_success_at < stale_before():
        return "stale"
    return "ok"


def providers_list() -> QuerySet[Provider]:
    return Provider.objects.order_by("name")


# --- normalised rows: what the leaderboard, the API and compare show -------------------------------


@dataclass(frozen=True)
class Display:
    """How a reader wants amounts: per 1M tokens or words, in a currency, blended at a ratio."""

    unit: str = "mtok"
    currency: str = BASE_CURRENCY
    ratio: tuple[int, int] = units.DEFAULT_BLEND_RATIO
    mode: str = "standard"
    language: str = "en"
    # Measured words per token in ``language`` by tokenizer id; empty for English, whose figure each
    # Tokenizer row carries. Built by :func:`display_for` so per-row ratios cost no query.
    measured: dict[int, TokenizerMeasurement] = field(default_factory=dict, compare=False, hash=False)

    def ratio_of(self, offering: Offering) -> units.WordsRatio:
        return words_ratio(offering, self.language, measured=self.measured)

    def ratio_of_tokenizer(self, tokenizer: Tokenizer | None) -> units.WordsRatio:
        return tokenizer_ratio(tokenizer, self.language, measured=self.measured)

    @property
    def unit_label(self) -> str:
        return "1M tokens" if self.unit == "mtok" else "1M words"


@dataclass
class OfferingRow:
    """One offering's headline prices (base tier, one mode) converted for display; None where unknown."""

    offering: Offering
    prices: list[Price]
    amounts: dict[str, Decimal | None]
    blended: Decimal | None
    ratio: units.WordsRatio
    currency: str
    unit: str
    last_verified_at: dt.datetime | None
    stale: bool
    missing: bool
    source: Source | None
    converted: bool
    # When the source stopped listing a headline price, or the seller retired the id (None while listed).
    missing_since: dt.datetime | None = None
    # The seller's own word that the id is retired: who said it and which model it now maps to.
    retired_by: str = ""
    maps_to: str = ""
    maps_to_conditions: str = ""
    # Held proposals on the headline lines, waiting for evidence or a curator: what a newer figure would be.
    pending: list[Price] = field(default_factory=list)


HEADLINE_COMPONENTS = ("input", "cached_input", "cache_write_5m", "cache_write_1h", "output")


def line_trust(line: Any) -> int:
    """The trust rank of the source a line comes from (a curator's own price outranks every source)."""
    trust = getattr(line, "trust", None)
    if trust is not None:
        return int(trust)
    source = getattr(line, "source", None)
    return 1000 if source is None else int(getattr(source, "trust_rank", 0) or 0)


def headline_lines(prices: Sequence[Any], *, component: str, mode: str) -> list[Any]:
    """The lines of one component and mode that readers use, all from one family: the most trusted source's,
    the plain price before conditional ones (thinking, output length), the native currency it states.
    Every reader (rankings, rows, estimates, compare, CSV) goes through here, so they never disagree."""
    candidates = [p for p in prices if p.component == component and p.mode == mode]
    if not candidates:
        return []
    best = min(candidates, key=lambda p: (-line_trust(p), p.conditions != "", p.conditions, p.currency))
    family = (line_trust(best), best.conditions, best.currency)
    return [p for p in candidates if (line_trust(p), p.conditions, p.currency) == family]


def estimate_lines(prices: Sequence[Any]) -> list[Any]:
    """The lines a workload is priced with: each component and mode's headline family, all its tiers."""
    kinds = sorted({(p.component, p.mode) for p in prices})
    return [line for c, m in kinds for line in headline_lines(prices, component=c, mode=m)]


def base_tier(prices: Sequence[Any], *, component: str, mode: str) -> Any:
    """The headline price: in the headline family, the tier for the shortest prompts (a bounded first tier
    before an unbounded line that starts at the same place). Never decided by row order."""
    family = headline_lines(prices, component=component, mode=mode)
    if not family:
        return None
    return min(family, key=lambda p: (p.tier_min_tokens or 0, p.tier_max_tokens is None, p.tier_max_tokens or 0))


def convert_amount(
    amount_per_mtok: Decimal, *, from_currency: str, display: Display, rates: Rates, ratio: units.WordsRatio
) -> Decimal | None:
    converted = rates.convert(amount_per_mtok, from_currency=from_currency, to_currency=display.currency)
    if converted is None:
        return None
    if display.unit == "mwords":
        converted = units.per_mwords(converted, words_per_token=ratio.words_per_token)
    return converted


def display_for(
    *,
    unit: str = "mtok",
    currency: str = BASE_CURRENCY,
    ratio: tuple[int, int] = units.DEFAULT_BLEND_RATIO,
    mode: str = "standard",
    language: str = "en",
) -> Display:
    """A Display with the measured ratios of its language loaded (one query, none for English)."""
    measured = measured_ratios(language=language) if language != "en" else {}
    return Display(unit=unit, currency=currency, ratio=ratio, mode=mode, language=language, measured=measured)


def offering_row(offering: Offering, *, display: Display, rates: Rates) -> OfferingRow:
    """Headline figures of an offering whose ``current_prices`` were prefetched (no query here)."""
    prices: list[Price] = getattr(offering, "current_prices", [])
    ratio = display.ratio_of(offering)
    amounts: dict[str, Decimal | None] = {}
    headline: list[Price] = []
    for component in HEADLINE_COMPONENTS:
        price = base_tier(prices, component=component, mode=display.mode)
        if price is None:
            amounts[component] = None
            continue
        headline.append(price)
        amounts[component] = convert_amount(
            price.amount_per_mtok, from_currency=price.currency, display=display, rates=rates, ratio=ratio
        )
    blended = None
    if amounts["input"] is not None and amounts["output"] is not None:
        blended = units.blended(amounts["input"], amounts["output"], ratio=display.ratio)
    seen = [p.last_seen_at or p.recorded_at for p in headline]
    last_verified = max(seen) if seen else None
    retired_since = getattr(offering, "retired_since", None)
    missing = [retired_since, *(p.missing_since for p in headline)]
    source = next((p.source for p in headline if p.component == "input"), headline[0].source if headline else None)
    return OfferingRow(
        offering=offering,
        prices=prices,
        amounts=amounts,
        blended=blended,
        ratio=ratio,
        currency=display.currency,
        unit=display.unit,
        last_verified_at=last_verified,
        stale=last_verified is None or last_verified < stale_before(),
        missing=retired_since is not None or any(p.missing_since is not None for p in headline),
        source=source,
        converted=any(p.currency != display.currency for p in headline),
        missing_since=min((m for m in missing if m is not None), default=None),
        retired_by=getattr(offering, "retired_by", None) or "",
        maps_to=getattr(offering, "retired_maps_to", None) or "",
        maps_to_conditions=getattr(offering, "retired_maps_to_conditions", None) or "",
    )


def offering_rows(offerings: Iterable[Offering], *, display: Display, rates: Rates) -> list[OfferingRow]:
    return [offering_row(o, display=display, rates=rates) for o in offerings]


def sorted_nulls_last(items: Iterable[T], *, key: Callable[[T], Any], descending: bool = False) -> list[T]:
    """Sorted on ``key`` with the items whose key is unknown (None) last, in either direction."""
    items = list(items)
    known = [item for item in items if key(item) is not None]
    known.sort(key=key, reverse=descending)
    return known + [item for item in items if key(item) is None]


def sort_rows(rows: list[OfferingRow], *, field_name: str, descending: bool = False) -> list[OfferingRow]:
    """Sort on a price field (``input``, ``output``, ``blended``...), unknown prices always last."""

    def value(row: OfferingRow) -> Decimal | None:
        return row.blended if field_name == "blended" else row.amounts.get(field_name)

    return sorted_nulls_last(rows, key=value, descending=descending)


def text_words(text: str) -> int:
    """Words in a pasted text by the counting rule our ratios were measured with (each CJK character is
    one word), so a text's words and a tokenizer's words per token count the same thing."""
    return count_text(text).words if text else 0


# A month of more requests than this is a typo, not a workload: a billion requests.
MAX_REQUESTS = 1_000_000_000


@dataclass(frozen=True)
class WorkloadSpec:
    """A workload as a reader states it: ``requests`` (a month) of one request's tokens, and words that
    each offering's words-per-token ratio turns into tokens (a pasted text's words count as input words).
    Tokens and words of one component add up. Counts are per request: a prompt-length tier is chosen
    from one request's prompt, never from the month's total."""

    requests: int = 1
    input_tokens: int = 0
    cached_input_tokens: int = 0
    cache_write_5m_tokens: int = 0
    cache_write_1h_tokens: int = 0
    output_tokens: int = 0
    input_words: int = 0
    cached_input_words: int = 0
    output_words: int = 0
    mode: str = "standard"

    def workload_for(self, ratio: units.WordsRatio) -> units.Workload:
        """The workload in tokens for a tokenizer carrying ``ratio``; words round up to whole tokens."""

        def tokens(count: int, words: int) -> int:
            if not words:
                return count
            return count + units.words_to_whole_tokens(words, words_per_token=ratio.words_per_token)

        return units.Workload(
            input_tokens=tokens(self.input_tokens, self.input_words),
            cached_input_tokens=tokens(self.cached_input_tokens, self.cached_input_words),
            cache_write_5m_tokens=self.cache_write_5m_tokens,
            cache_write_1h_tokens=self.cache_write_1h_tokens,
            output_tokens=tokens(self.output_tokens, self.output_words),
            mode=self.mode,
        )


@dataclass(frozen=True)
class Estimate:
    """One offering's cost for a workload: ``cost`` and ``workload`` are one request's (tokens as this
    offering bills them, its tier chosen from that request's prompt); ``total`` is all ``requests``."""

    offering: Offering
    cost: units.WorkloadCost
    ratio: units.WordsRatio
    workload: units.Workload
    requests: int = 1
    # The offering's context window (its own, else its model's); None when unknown.
    context_window: int | None = None

    @property
    def per_request(self) -> Decimal:
        return self.cost.total

    @property
    def total(self) -> Decimal:
        """What all the requests cost: one request's exact cost times their number."""
        return self.cost.total * self.requests

    @property
    def request_tokens(self) -> int:
        """Tokens one request needs the context window to hold: its prompt and its output."""
        return self.workload.prompt_tokens + self.workload.output_tokens

    @property
    def fits(self) -> bool | None:
        """Whether one request fits the context window; None when the window is unknown."""
        if self.context_window is None:
            return None
        return self.request_tokens <= self.context_window


def context_window_of(offering: Offering) -> int | None:
    """The offering's own context window, else its model's (None when neither is known)."""
    own = getattr(offering, "context_window", None)
    if own:
        return int(own)
    model = offering.model if offering.model_id else None
    return int(model.context_window) if model is not None and model.context_window else None


def workload_estimates(
    offerings: Iterable[Offering], *, spec: WorkloadSpec, display: Display, rates: Rates
) -> list[Estimate]:
    """Every offering's cost for ``spec`` in the display currency, cheapest total first (ties by
    provider name, then id). Offerings whose context window cannot hold one request come after those
    that can (or whose window is unknown); offerings lacking a price the workload needs come last,
    with what they lack.

    Each request is priced at the tier its own prompt falls in, then multiplied by ``spec.requests``.
    Words become tokens per request through each offering's ratio in the display's language, since
    tokenizers differ in how many words a token carries. No query: offerings come with
    ``current_prices`` prefetched and their tokenizers joined, and ``display`` from :func:`display_for`."""
    results = []
    for offering in offerings:
        ratio = display.ratio_of(offering)
        workload = spec.workload_for(ratio)
        tier_prices = []
        for price in estimate_lines(getattr(offering, "current_prices", [])):
            amount = rates.convert(price.amount_per_mtok, from_currency=price.currency, to_currency=display.currency)
            if amount is not None:
                tier_prices.append(
                    units.TierPrice(price.component, amount, price.mode, price.tier_min_tokens, price.tier_max_tokens)
                )
        cost = units.workload_cost(tier_prices, workload)
        results.append(Estimate(offering, cost, ratio, workload, spec.requests, context_window_of(offering)))
    results.sort(key=lambda e: (not e.cost.complete, e.fits is False, e.total, e.offering.provider.name, e.offering.id))
    return results


# --- offerings with their price lines, ranked on lean rows -------------------------------------------


@dataclass(frozen=True, slots=True)
class PriceLine:
    """The fields of a Price that rows, serializers and workload costs read, without building model
    instances: a list of 1,000 offerings reads thousands of prices, and Price instances cost most of it."""

    id: int
    offering_id: int
    component: str
    mode: str
    tier_min_tokens: int | None
    tier_max_tokens: int | None
    amount_per_mtok: Decimal
    currency: str
    original: str
    valid_from: dt.datetime
    valid_to: dt.datetime | None
    recorded_at: dt.datetime
    last_seen_at: dt.datetime | None
    missing_since: dt.datetime | None
    conditions: str
    source: Source | None

    @property
    def tier_label(self) -> str:
        from pricing.models import tier_label

        return tier_label(self.tier_min_tokens, self.tier_max_tokens)


LINE_ORDER = ("component", "mode", "tier_min_tokens", "id")
PRICE_LINE_FIELDS = (
    "id",
    "offering_id",
    "component",
    "mode",
    "tier_min_tokens",
    "tier_max_tokens",
    "amount_per_mtok",
    "currency",
    "original",
    "valid_from",
    "valid_to",
    "recorded_at",
    "last_seen_at",
    "missing_since",
    "conditions",
)
# A line's source comes joined into the same query; pages read no other column of it.
SOURCE_FIELDS = ("id", "slug", "name", "kind", "trust_rank")
# Columns of offerings, providers, models and tokenizers no row or serializer reads.
UNREAD_OFFERING_FIELDS = (
    "match_key",
    "tokenizer_hint",
    "locked",
    "first_seen_at",
    "provider__website",
    "model__match_key",
    "model__tokenizer__provenance_detail",
)


def offerings_with_price_lines(**filters: object) -> list[Offering]:
    """``offerings_with_prices`` (same filters, same order) with ``current_prices`` as PriceLines, in two
    queries whatever the number of offerings; ``offering_row`` and ``workload_estimates`` read them as
    they read prices."""
    offerings_qs = offerings_with_prices(**filters).prefetch_related(None).defer(*UNREAD_OFFERING_FIELDS)  # type: ignore[arg-type]
    as_of = filters.get("as_of")
    lines_qs = prices_in_force(as_of=as_of if isinstance(as_of, dt.datetime) else None).filter(
        offering_id__in=offerings_qs.order_by().values("id")
    )
    mode = filters.get("mode")
    if mode:
        lines_qs = lines_qs.filter(mode=mode)
    offerings = list(offerings_qs)
    by_offering: dict[int, list[PriceLine]] = {o.id: [] for o in offerings}
    sources: dict[int, Source] = {}
    columns = (*PRICE_LINE_FIELDS, *(f"source__{name}" for name in SOURCE_FIELDS))
    width = len(PRICE_LINE_FIELDS)
    for values in lines_qs.order_by(*LINE_ORDER).values_list(*columns):
        source_id = values[width]
        source = None
        if source_id is not None:
            source = sources.get(source_id)
            if source is None:
                source = sources[source_id] = Source.from_db(lines_qs.db, SOURCE_FIELDS, values[width:])
        by_offering.setdefault(values[1], []).append(PriceLine(*values[:width], source))  # type: ignore[call-arg]
    for offering in offerings:
        offering.current_prices = by_offering.get(offering.id, [])  # type: ignore[attr-defined]
    return offerings


def offering_rows_for(
    offering_ids: Sequence[int], *, display: Display, rates: Rates, as_of: dt.datetime | None = None, mode: str = ""
) -> list[OfferingRow]:
    """Rows of these offerings, in this order, leaving out any without a price in force (two queries;
    none without ids). Pages load only the rows they show, after ranking on :func:`offering_ids_sorted`."""
    if not offering_ids:
        return []
    loaded = {o.id: o for o in offerings_with_price_lines(as_of=as_of, mode=mode, offering_ids=offering_ids)}
    rows = [offering_row(loaded[i], display=display, rates=rates) for i in offering_ids if i in loaded]
    pending = pending_changes(offering_ids=[row.offering.id for row in rows])
    for row in rows:
        headline = {(p.component, p.mode, p.tier_min_tokens, p.tier_max_tokens) for p in row.prices}
        row.pending = [
            p
            for p in pending.get(row.offering.id, [])
            if (p.component, p.mode, p.tier_min_tokens, p.tier_max_tokens) in headline
        ]
    return rows


def pending_changes(*, offering_ids: Sequence[int]) -> dict[int, list[Price]]:
    """Held proposals of current knowledge for these offerings, with their source (one query)."""
    found: dict[int, list[Price]] = {}
    if not offering_ids:
        return found
    rows = (
        Price.objects.current_knowledge()
        .filter(offering_id__in=offering_ids, status=Price.Status.HELD)
        .select_related("source")
        .order_by("offering_id", "component", "mode", "valid_from")
    )
    for price in rows:
        found.setdefault(price.offering_id, []).append(price)
    return found


class LeanLine(NamedTuple):
    """What ranking and workload costs read of a price line: converting nothing else keeps thousands cheap."""

    component: str
    mode: str
    tier_min_tokens: int | None
    tier_max_tokens: int | None
    currency: str
    amount_per_mtok: Decimal
    conditions: str = ""
    trust: int | None = None
    seen_at: dt.datetime | None = None


@dataclass
class LeanOffering:
    id: int
    tokenizer_id: int | None
    # The name the leaderboard shows: the canonical model's, else the provider's own id.
    shown_name: str
    current_prices: list[LeanLine]


def lean_offerings(
    *, as_of: dt.datetime | None = None, with_seen: bool = False, **filters: object
) -> list[LeanOffering]:
    """Offerings matching ``offerings_with_prices`` filters, in its order, each with its price lines in
    force as LeanLines (one query); ``seen_at`` (last seen, else recorded) only ``with_seen``."""
    offerings = offerings_with_prices(as_of=as_of, **filters).prefetch_related(None)  # type: ignore[arg-type]
    lines = prices_in_force(as_of=as_of).filter(offering_id__in=offerings.order_by().values("id"))
    mode = filters.get("mode")
    if mode:
        lines = lines.filter(mode=mode)
    seen: tuple[str, ...] = ()
    if with_seen:
        lines, seen = lines.annotate(seen_at=Coalesce("last_seen_at", "recorded_at")), ("seen_at",)
    rows = lines.order_by(
        "offering__provider__name", "offering__provider_model_id", "offering_id", *LINE_ORDER
    ).values_list(
        "offering_id",
        "offering__model__tokenizer_id",
        "offering__model__name",
        "offering__provider_model_id",
        "component",
        "mode",
        "tier_min_tokens",
        "tier_max_tokens",
        "currency",
        "amount_per_mtok",
        "conditions",
        Coalesce("source__trust_rank", 1000),
        *seen,
    )
    result: list[LeanOffering] = []
    current: LeanOffering | None = None
    for offering_id, tokenizer_id, model_name, model_id, *line in rows:
        if current is None or current.id != offering_id:
            current = LeanOffering(offering_id, tokenizer_id, model_name or model_id, [])
            result.append(current)
        current.current_prices.append(LeanLine(*line))
    return result


# Orders the database applies to offering columns, by the API's ``ordering`` names.
OFFERING_DB_ORDER = {
    "provider": ("provider__name", "provider_model_id"),
    "model_id": ("provider_model_id", "provider__name"),
    "name": ("name", "provider__name"),
}
# Orders computed on lean lines: headline prices, when last verified, and the shown name.
RANKED_ORDERS = (*HEADLINE_COMPONENTS, "blended", "last_verified_at", "shown_name")


def offering_ids_sorted(
    *,
    sort: str,
    descending: bool = False,
    display: Display,
    rates: Rates,
    min_price: Decimal | None = None,
    max_price: Decimal | None = None,
    **filters: object,
) -> list[int]:
    """Ids of every offering matching ``offerings_with_prices`` filters, sorted on ``sort``: a headline
    price in the display's unit and currency (``blended`` too), ``last_verified_at``, ``shown_name``,
    an ``OFFERING_DB_ORDER``, ``context_window`` or ``relevance`` (match quality of the search ``q``).
    Unknown values come last either way; ties keep provider order. ``min_price``/``max_price`` bound the
    blended price in the display's unit and currency (inclusive; an offering without one is left out when
    a bound is set). Two queries whatever
    the number of offerings (four with a price bound and a database order), and no model instance."""
    bounded = min_price is not None or max_price is not None
    if sort in OFFERING_DB_ORDER or sort in ("context_window", "relevance"):
        matching = offerings_with_prices(**filters).prefetch_related(None)  # type: ignore[arg-type]
        if sort == "context_window":
            column = F("context_window")
            order: list[str | OrderBy] = [column.desc(nulls_last=True) if descending else column.asc(nulls_last=True)]
        else:
            columns = OFFERING_DB_ORDER.get(sort, OFFERING_DB_ORDER["provider"])
            order = [f"-{name}" if descending else name for name in columns]
        ordered = list(matching.order_by(*order, "id").values_list("id", flat=True))
        if sort == "relevance":
            # How well each matches the search ``q`` (pricing.search), best first; provider order breaks ties.
            rank = {offering_id: n for n, offering_id in enumerate(search.offering_ids(str(filters.get("q") or "")))}
            ordered.sort(key=lambda offering_id: rank.get(offering_id, len(rank)), reverse=descending)
        if not bounded:
            return ordered
        priced = offering_ids_sorted(
            sort="blended",
            display=display,
            rates=rates,
            min_price=min_price,
            max_price=max_price,
            **filters,  # type: ignore[arg-type]
        )
        allowed = set(priced)
        return [i for i in ordered if i in allowed]
    if sort not in RANKED_ORDERS:
        raise ValueError(f"cannot sort offerings on {sort!r}")
    offerings = lean_offerings(with_seen=sort == "last_verified_at", **filters)  # type: ignore[arg-type]
    tokenizers = Tokenizer.objects.only("id", "words_per_token", "provenance", "curated_ratios").in_bulk()
    ratios: dict[int | None, units.WordsRatio] = {}

    def headline(offering: LeanOffering, component: str) -> LeanLine | None:
        # base_tier reads only the fields a LeanLine shares with a Price.
        return base_tier(offering.current_prices, component=component, mode=display.mode)  # type: ignore[arg-type,return-value]

    def amount_of(offering: LeanOffering, component: str) -> Decimal | None:
        line = headline(offering, component)
        if line is None:
            return None
        if offering.tokenizer_id not in ratios:
            ratios[offering.tokenizer_id] = display.ratio_of_tokenizer(tokenizers.get(offering.tokenizer_id))  # type: ignore[arg-type]
        return convert_amount(
            line.amount_per_mtok,
            from_currency=line.currency,
            display=display,
            rates=rates,
            ratio=ratios[offering.tokenizer_id],
        )

    def key(offering: LeanOffering) -> object:
        if sort == "shown_name":
            return offering.shown_name.lower()
        if sort == "last_verified_at":
            seen = [line.seen_at for c in HEADLINE_COMPONENTS if (line := headline(offering, c)) is not None]
            return max(seen) if seen else None  # type: ignore[type-var]
        if sort == "blended":
            return blended_of(offering)
        return amount_of(offering, sort)

    def blended_of(offering: LeanOffering) -> Decimal | None:
        input_, output = amount_of(offering, "input"), amount_of(offering, "output")
        if input_ is None or output is None:
            return None
        return units.blended(input_, output, ratio=display.ratio)

    if bounded:
        offerings = [o for o in offerings if price_in_range(blended_of(o), min_price=min_price, max_price=max_price)]
    keyed = [(key(o), o.id) for o in offerings]
    known = [pair for pair in keyed if pair[0] is not None]
    known.sort(key=lambda pair: pair[0], reverse=descending)  # type: ignore[arg-type,return-value]
    return [i for _, i in known] + [i for k, i in keyed if k is None]


def recent_runs(*, provider_slug: str = "", limit: int = 20) -> QuerySet[ScrapeRun]:
    runs = ScrapeRun.objects.select_related("source").order_by("-started_at")
    if provider_slug:
        runs = runs.filter(source__provider__slug=provider_slug)
    return runs[:limit]


# --- REST API: flat price rows ------------------------------------------------------------------------


def prices_listed(*, as_of: dt.datetime | None = None, component: str = "", **filters: object) -> QuerySet[Price]:
    """Published prices in force at ``as_of`` as flat rows, with their offering, provider, model and
    source joined; ``filters`` are those of ``offerings_with_prices`` (``mode`` filters the rows too)."""
    offerings = offerings_with_prices(as_of=as_of, **filters).prefetch_related(None)  # type: ignore[arg-type]
    rows = prices_in_force(as_of=as_of).filter(offering_id__in=offerings.order_by().values("id"))
    mode = filters.get("mode")
    if mode:
        rows = rows.filter(mode=mode)
    if component:
        rows = rows.filter(component=component)
    return rows.select_related("offering__provider", "offering__model__tokenizer", "source")


def offering_get(*, offering_id: int) -> Offering | None:
    """One offering with what its words-per-token ratio needs, or None."""
    return Offering.objects.select_related("provider", "model__tokenizer").filter(id=offering_id).first()


# --- words per token by language (issue 7) ----------------------------------------------------------


def measured_ratios(*, language: str = "en") -> dict[int, TokenizerMeasurement]:
    """The latest measurement of every tokenizer in ``language``, by tokenizer id (one query).

    Pages and endpoints call this once and pass the dict to :func:`words_ratio` for every row."""
    latest: dict[int, TokenizerMeasurement] = {}
    for measurement in TokenizerMeasurement.objects.filter(language=language).order_by("measured_at", "id"):
        latest[measurement.tokenizer_id] = measurement
    return latest


def words_ratio(
    offering: Offering, language: str = "en", *, measured: dict[int, TokenizerMeasurement] | None = None
) -> units.WordsRatio:
    """Words per token of the offering's model in ``language``: measured on our corpus for that
    language, else a curated figure for it, else the 0.75 rule of thumb (``assumed``).

    No query when the model's tokenizer was select_related and ``measured`` comes from
    :func:`measured_ratios` (for English, none is needed when the tokenizer itself was measured)."""
    tokenizer = offering.model.tokenizer if offering.model_id and offering.model else None
    return tokenizer_ratio(tokenizer, language, measured=measured)


def tokenizer_ratio(
    tokenizer: Tokenizer | None, language: str = "en", *, measured: dict[int, TokenizerMeasurement] | None = None
) -> units.WordsRatio:
    """:func:`words_ratio` of a tokenizer (None: the model or its tokenizer is unknown)."""
    if tokenizer is None:
        return units.ASSUMED_RATIO
    if language == "en" and tokenizer.provenance == Tokenizer.Provenance.MEASURED:
        return units.WordsRatio(tokenizer.words_per_token, tokenizer.provenance)
    if measured is None and language != "en":
        measured = measured_ratios(language=language)
    measurement = (measured or {}).get(tokenizer.id)
    if measurement is not None:
        return units.WordsRatio(measurement.words_per_token, "measured")
    curated = (tokenizer.curated_ratios or {}).get(language) or {}
    try:
        value = Decimal(str(curated.get("words_per_token", "")))
    except ArithmeticError:
        value = Decimal(0)
    if value.is_finite() and value > 0:
        return units.WordsRatio(value, "curated")
    return units.ASSUMED_RATIO


def tokenizers_with_measurements() -> QuerySet[Tokenizer]:
    """Every tokenizer with its measurements prefetched (two queries): the methodology page's table."""
    return Tokenizer.objects.prefetch_related(
        Prefetch("measurements", queryset=TokenizerMeasurement.objects.order_by("language", "-measured_at"))
    ).order_by("name")

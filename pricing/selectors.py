"""Reads: one place for query shapes. Every function here runs a fixed number of queries whatever
the number of rows (select_related / prefetch_related), so pages and endpoints built on them do too.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from django.conf import settings
from django.core.cache import cache
from django.db.models import Max, Prefetch, Q, QuerySet
from django.utils import timezone

from pricing import units
from pricing.models import ExchangeRate, Model, Offering, Price, Provider, ScrapeRun, Source
from pricing.services import PRICES_CHANGED_CACHE_KEY

BASE_CURRENCY = "USD"
UNITS = ("mtok", "mwords")


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
) -> QuerySet[Offering]:
    """Offerings that have at least one price in force, each with ``current_prices`` prefetched."""
    in_force = prices_in_force(as_of=as_of).select_related("source", "run")
    if mode:
        in_force = in_force.filter(mode=mode)
    offerings = (
        Offering.objects.filter(id__in=in_force.values("offering_id"))
        .select_related("provider", "model", "model__tokenizer")
        .prefetch_related(Prefetch("prices", queryset=in_force.order_by("component", "mode", "tier_min_tokens"),
                                   to_attr="current_prices"))
    )
    provider_slugs = [p for p in providers if p]
    if provider_slugs:
        offerings = offerings.filter(provider__slug__in=provider_slugs)
    if model:
        offerings = offerings.filter(model__slug=model)
    if creator:
        offerings = offerings.filter(Q(model__creator=creator) | Q(model__isnull=True, creator_hint=creator))
    if q:
        offerings = offerings.filter(
            Q(provider_model_id__icontains=q) | Q(name__icontains=q) | Q(model__name__icontains=q)
        )
    if min_context:
        offerings = offerings.filter(
            Q(context_window__gte=min_context) | Q(context_window__isnull=True, model__context_window__gte=min_context)
        )
    if open_weights is not None:
        offerings = offerings.filter(model__open_weights=open_weights)
    ids = list(offering_ids)
    if ids:
        offerings = offerings.filter(id__in=ids)
    return offerings.order_by("provider__name", "provider_model_id")


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


@dataclass(frozen=True)
class PriceChange:
    price: Price
    previous: Price | None

    @property
    def percent(self) -> Decimal | None:
        if self.previous is None or self.previous.amount_per_mtok == 0:
            return None
        old = self.previous.amount_per_mtok
        return ((self.price.amount_per_mtok - old) / old * 100).quantize(Decimal("0.1"))


def price_changes(*, providers: Iterable[str] = (), model: str = "", limit: int = 100) -> list[PriceChange]:
    """Published prices that replaced an earlier amount of the same line, newest first (two queries)."""
    closed_then_reopened = (
        Price.objects.filter(status=Price.Status.PUBLISHED, superseded_at__isnull=True)
        .select_related("offering__provider", "offering__model", "source")
        .order_by("-valid_from", "-id")
    )
    provider_slugs = [p for p in providers if p]
    if provider_slugs:
        closed_then_reopened = closed_then_reopened.filter(offering__provider__slug__in=provider_slugs)
    if model:
        closed_then_reopened = closed_then_reopened.filter(offering__model__slug=model)
    candidates = list(closed_then_reopened[: limit * 5])
    offering_ids = sorted({p.offering_id for p in candidates})
    previous_rows = Price.objects.filter(
        offering_id__in=offering_ids,
        status=Price.Status.PUBLISHED,
        superseded_at__isnull=True,
        valid_to__isnull=False,
    )
    ends = {
        (p.offering_id, p.component, p.mode, p.tier_min_tokens, p.tier_max_tokens, p.currency, p.valid_to): p
        for p in previous_rows
    }
    changes = []
    for price in candidates:
        key = (price.offering_id, price.component, price.mode, price.tier_min_tokens, price.tier_max_tokens,
               price.currency, price.valid_from)
        previous = ends.get(key)
        if previous is not None and previous.amount_per_mtok != price.amount_per_mtok:
            changes.append(PriceChange(price, previous))
        if len(changes) >= limit:
            break
    return changes


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


def words_ratio(offering: Offering) -> units.WordsRatio:
    tokenizer = offering.model.tokenizer if offering.model_id and offering.model else None
    if tokenizer is None:
        return units.ASSUMED_RATIO
    return units.WordsRatio(tokenizer.words_per_token, tokenizer.provenance)


# --- metadata ---------------------------------------------------------------------------------------


def prices_changed_at() -> dt.datetime:
    """When published prices last changed; cached, and reset by every ingest or curator change."""
    stamp = cache.get(PRICES_CHANGED_CACHE_KEY)
    if stamp:
        return dt.datetime.fromisoformat(stamp)
    latest = Price.objects.aggregate(recorded=Max("recorded_at"), superseded=Max("superseded_at"),
                                     decided=Max("decided_at"))
    moments = [m for m in latest.values() if m is not None]
    changed = max(moments) if moments else dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
    cache.set(PRICES_CHANGED_CACHE_KEY, changed.isoformat(), timeout=None)
    return changed


def stale_before() -> dt.datetime:
    return timezone.now() - dt.timedelta(hours=settings.SCRAPE_STALE_AFTER_HOURS)


def sources_with_health() -> QuerySet[Source]:
    """Sources with their latest run attached as ``latest_runs`` (at most one), in two queries."""
    latest_run_ids = (
        ScrapeRun.objects.order_by("source_id", "-started_at").values("source_id").annotate(latest=Max("id"))
    )
    return Source.objects.select_related("provider").prefetch_related(
        Prefetch("runs", queryset=ScrapeRun.objects.filter(id__in=latest_run_ids.values("latest")),
                 to_attr="latest_runs")
    )


def source_health(source: Source) -> str:
    """``ok``, ``failing`` (its latest run failed), ``stale`` (no success lately), ``never`` or ``disabled``."""
    if not source.enabled:
        return "disabled"
    latest = source.latest_runs[0] if getattr(source, "latest_runs", None) else None
    if latest is not None and latest.status == ScrapeRun.Status.FAILED:
        return "failing"
    if source.last_success_at is None:
        return "never"
    if source.last_success_at < stale_before():
        return "stale"
    return "ok"


def providers_list() -> QuerySet[Provider]:
    return Provider.objects.order_by("name")


def models_list() -> QuerySet[Model]:
    return Model.objects.select_related("tokenizer").order_by("name")


# --- normalised rows: what the leaderboard, the API and compare show -------------------------------


@dataclass(frozen=True)
class Display:
    """How a reader wants amounts: per 1M tokens or words, in a currency, blended at a ratio."""

    unit: str = "mtok"
    currency: str = BASE_CURRENCY
    ratio: tuple[int, int] = units.DEFAULT_BLEND_RATIO
    mode: str = "standard"

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


HEADLINE_COMPONENTS = ("input", "cached_input", "cache_write_5m", "cache_write_1h", "output")


def base_tier(prices: Sequence[Price], *, component: str, mode: str) -> Price | None:
    """The price for the shortest prompts: the untiered price, else the tier that starts lowest."""
    candidates = [p for p in prices if p.component == component and p.mode == mode]
    if not candidates:
        return None
    return min(candidates, key=lambda p: (p.tier_min_tokens or 0, p.currency != BASE_CURRENCY))


def convert_amount(
    amount_per_mtok: Decimal, *, from_currency: str, display: Display, rates: Rates, ratio: units.WordsRatio
) -> Decimal | None:
    converted = rates.convert(amount_per_mtok, from_currency=from_currency, to_currency=display.currency)
    if converted is None:
        return None
    if display.unit == "mwords":
        converted = units.per_mwords(converted, words_per_token=ratio.words_per_token)
    return converted


def offering_row(offering: Offering, *, display: Display, rates: Rates) -> OfferingRow:
    """Headline figures of an offering whose ``current_prices`` were prefetched (no query here)."""
    prices: list[Price] = getattr(offering, "current_prices", [])
    ratio = words_ratio(offering)
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
        missing=any(p.missing_since is not None for p in headline),
        source=source,
        converted=any(p.currency != display.currency for p in headline),
    )


def offering_rows(offerings: Iterable[Offering], *, display: Display, rates: Rates) -> list[OfferingRow]:
    return [offering_row(o, display=display, rates=rates) for o in offerings]


def sort_rows(rows: list[OfferingRow], *, field_name: str, descending: bool = False) -> list[OfferingRow]:
    """Sort on a price field (``input``, ``output``, ``blended``...), unknown prices always last."""

    def value(row: OfferingRow) -> Decimal | None:
        return row.blended if field_name == "blended" else row.amounts.get(field_name)

    known = [r for r in rows if value(r) is not None]
    unknown = [r for r in rows if value(r) is None]
    known.sort(key=lambda r: value(r) or Decimal(0), reverse=descending)
    return known + unknown


def workload_estimates(
    offerings: Iterable[Offering], *, workload: units.Workload, display: Display, rates: Rates
) -> list[tuple[Offering, units.WorkloadCost]]:
    """Every offering's cost for ``workload`` in the display currency, cheapest first; offerings
    lacking a price the workload needs come last, with what they lack."""
    results = []
    for offering in offerings:
        tier_prices = []
        for price in getattr(offering, "current_prices", []):
            amount = rates.convert(price.amount_per_mtok, from_currency=price.currency, to_currency=display.currency)
            if amount is not None:
                tier_prices.append(
                    units.TierPrice(price.component, amount, price.mode, price.tier_min_tokens, price.tier_max_tokens)
                )
        results.append((offering, units.workload_cost(tier_prices, workload)))
    results.sort(key=lambda pair: (not pair[1].complete, pair[1].total))
    return results

"""Reads for one canonical model and every seller of it: the model page and ``/api/v1/models/<slug>/``,
and the leaderboard grouped by model ("best price per model").

A model's page answers "what does this model cost, and who sells it cheapest?": every seller with every
price line in force (each tier, mode and condition, with its source and when it was last seen), the
cheapest seller per component and per blend, and a timeline of dated events from the published history
(price changes, promotional prices, windows of a non-standard mode such as DeepSeek's off-peak hours).
A constant number of queries whatever the number of sellers.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from pricing import units
from pricing.models import Model, Offering, Price, Tokenizer, tier_label
from pricing.selectors import (
    HEADLINE_COMPONENTS,
    Display,
    LeanLine,
    OfferingRow,
    PriceLine,
    Rates,
    base_tier,
    convert_amount,
    offering_row,
    offerings_with_price_lines,
    offerings_with_prices,
    prices_in_force,
)
from providers.base import COMPONENTS, MODES

# A price that held for at most this long and was followed by a higher one that it had not followed
# (it was the first price of its line, or the price before it was no lower than the one after): a promotion.
PROMO_MAX_DAYS = 92
# The timeline shows this many events, newest first; older ones are counted, not listed.
TIMELINE_LIMIT = 200
LISTING_ORDER = (Offering.Listing.LIST_PRICE, Offering.Listing.FREE_VARIANT, Offering.Listing.UNLISTED)
CONDITION_LABELS = {"output_tier": "output", "thinking": "thinking", "hours": "hours", "cache_type": "cache"}


def conditions_label(conditions: str) -> str:
    """``output_tier=201-;thinking=on`` -> ``output 201-, thinking on``; "" for the plain price."""
    shown = []
    for part in filter(None, conditions.split(";")):
        name, _, value = part.partition("=")
        shown.append(f"{CONDITION_LABELS.get(name, name.replace('_', ' '))} {value}".strip())
    return ", ".join(shown)


def _component_rank(component: str) -> int:
    return COMPONENTS.index(component) if component in COMPONENTS else len(COMPONENTS)


def _mode_rank(mode: str) -> int:
    return MODES.index(mode) if mode in MODES else len(MODES)


def line_order(line: Any) -> tuple[Any, ...]:
    """Components in their usual order, standard mode first, shorter prompts first, plain before conditional."""
    return (
        _component_rank(line.component),
        _mode_rank(line.mode),
        line.tier_min_tokens or 0,
        line.tier_max_tokens is None,
        line.tier_max_tokens or 0,
        line.conditions,
        line.currency,
    )


# --- one model, every seller --------------------------------------------------------------------------


@dataclass
class LineView:
    """One price line of one seller, in the reader's unit and currency, with its evidence."""

    line: PriceLine
    amount: Decimal | None
    per_mwords: Decimal | None
    verified_at: dt.datetime | None
    evidence_url: str

    @property
    def component(self) -> str:
        return self.line.component

    @property
    def mode(self) -> str:
        return self.line.mode

    @property
    def tier(self) -> str:
        return tier_label(self.line.tier_min_tokens, self.line.tier_max_tokens)

    @property
    def conditions(self) -> str:
        return conditions_label(self.line.conditions)

    @property
    def source(self) -> Any:
        return self.line.source


@dataclass
class Seller:
    """One offering of the model: its headline row, every line in force, and how it is sold."""

    offering: Offering
    row: OfferingRow
    lines: list[LineView]
    evidence_url: str

    @property
    def modes(self) -> list[str]:
        return sorted({v.mode for v in self.lines}, key=_mode_rank)

    @property
    def listing(self) -> str:
        return self.offering.listing

    @property
    def scope(self) -> dict[str, str]:
        """Region, deployment scope and supply variant, where the seller sells the model several ways."""
        return {k: str(v) for k, v in (self.offering.attributes or {}).items() if v not in (None, "")}

    @property
    def ranked(self) -> bool:
        """Whether the seller takes part in "cheapest": a list price its source still lists."""
        return self.offering.listing == Offering.Listing.LIST_PRICE and not self.row.missing


@dataclass
class Cheapest:
    """The cheapest ranked seller of one component (or of the blend) in the display's mode, base tier."""

    component: str
    amount: Decimal
    seller: Seller
    line: LineView | None
    # How many ranked sellers price it.
    sellers: int


@dataclass
class TimelineEvent:
    """A dated event of the model's price history."""

    at: dt.datetime
    kind: str  # listed, change, promo, mode_window, ended
    offering: Offering
    component: str = ""
    mode: str = "standard"
    tier: str = ""
    tier_min_tokens: int | None = None
    tier_max_tokens: int | None = None
    conditions: str = ""
    currency: str = "USD"
    amount_per_mtok: Decimal | None = None
    previous_per_mtok: Decimal | None = None
    amount: Decimal | None = None  # in the reader's unit and currency
    previous: Decimal | None = None
    until: dt.datetime | None = None
    source: str = ""
    lines: list[tuple[str, Decimal | None]] = field(default_factory=list)  # (component, amount) of a window

    @property
    def percent(self) -> Decimal | None:
        if self.previous_per_mtok in (None, 0) or self.amount_per_mtok is None:
            return None
        old = self.previous_per_mtok
        assert old is not None
        return ((self.amount_per_mtok - old) / old * 100).quantize(Decimal("0.1"))


@dataclass
class TimelineEntry:
    """Events of one kind at one seller on one day (a price change of input and output together)."""

    at: dt.datetime
    kind: str
    offering: Offering
    until: dt.datetime | None
    source: str
    events: list[TimelineEvent]

    @property
    def mode(self) -> str:
        return self.events[0].mode


def timeline_entries(events: Sequence[TimelineEvent]) -> list[TimelineEntry]:
    """Events grouped by day, seller, kind and end, in the order given (newest first)."""
    entries: dict[tuple[Any, ...], TimelineEntry] = {}
    for item in events:
        key = (item.at.date(), item.offering.id, item.kind, item.mode if item.kind == "mode_window" else "", item.until)
        entry = entries.get(key)
        if entry is None:
            entries[key] = TimelineEntry(item.at, item.kind, item.offering, item.until, item.source, [item])
        else:
            entry.events.append(item)
    for entry in entries.values():
        entry.events.sort(key=line_order)
    return list(entries.values())


@dataclass
class ModelPage:
    model: Model
    display: Display
    as_of: dt.datetime | None
    ratio: units.WordsRatio
    sellers: list[Seller]
    cheapest: list[Cheapest]
    cheapest_blend: Cheapest | None
    timeline: list[TimelineEntry]
    timeline_total: int
    # Every published price of the sellers, oldest first per seller: what charts draw.
    history: list[Price] = field(default_factory=list)

    @property
    def ranked_sellers(self) -> list[Seller]:
        return [s for s in self.sellers if s.ranked]

    @property
    def other_sellers(self) -> list[Seller]:
        """Free variants, offerings without a public list price, and those no longer listed: shown apart."""
        return [s for s in self.sellers if not s.ranked]

    @property
    def tiered(self) -> bool:
        return any(v.line.tier_min_tokens or v.line.tier_max_tokens for s in self.sellers for v in s.lines)


def model_get(*, slug: str) -> Model | None:
    """One model with its tokenizer, or None (one query)."""
    return Model.objects.select_related("tokenizer").filter(slug=slug).first()


def _evidence(price: Price | None, fallback: Any) -> str:
    if price is not None and price.evidence_url:
        return price.evidence_url
    source = price.source if price is not None and price.source_id else fallback
    urls = getattr(source, "urls", None) or []
    return str(urls[0]) if urls else ""


def _per_mwords(line: Any, *, display: Display, rates: Rates, ratio: units.WordsRatio) -> Decimal | None:
    converted = rates.convert(line.amount_per_mtok, from_currency=line.currency, to_currency=display.currency)
    return None if converted is None else units.per_mwords(converted, words_per_token=ratio.words_per_token)


def model_history(*, offering_ids: Sequence[int]) -> list[Price]:
    """Every published price of current knowledge of these offerings, with its source (one query)."""
    if not offering_ids:
        return []
    return list(
        Price.objects.published()
        .filter(offering_id__in=offering_ids)
        .select_related("source")
        .order_by("offering_id", "valid_from", "id")
    )


def model_page(*, model: Model, display: Display, rates: Rates, as_of: dt.datetime | None = None) -> ModelPage:
    """Everything the model page and its API show (four queries whatever the number of sellers: offerings,
    their lines in force, their published history, and the retirement statements joined into the first)."""
    offerings = offerings_with_price_lines(
        model=model.slug,
        as_of=as_of,
        include_free=True,
        include_unlisted=True,
        include_missing=True,
    )
    history = model_history(offering_ids=[o.id for o in offerings])
    by_id = {p.id: p for p in history}
    sellers: list[Seller] = []
    for offering in offerings:
        row = offering_row(offering, display=display, rates=rates)
        views = []
        for line in sorted(getattr(offering, "current_prices", []), key=line_order):
            price = by_id.get(line.id)
            views.append(
                LineView(
                    line=line,
                    amount=convert_amount(
                        line.amount_per_mtok, from_currency=line.currency, display=display, rates=rates, ratio=row.ratio
                    ),
                    per_mwords=_per_mwords(line, display=display, rates=rates, ratio=row.ratio),
                    verified_at=line.last_seen_at or line.recorded_at,
                    evidence_url=_evidence(price, line.source),
                )
            )
        headline = next((v for v in views if v.component == "input" and v.mode == display.mode), None)
        sellers.append(Seller(offering, row, views, headline.evidence_url if headline else _first_evidence(views)))
    sellers.sort(key=_seller_order)
    cheapest = [c for c in (_cheapest(sellers, component, mode=display.mode) for component in HEADLINE_COMPONENTS) if c]
    events = timeline_entries(
        model_timeline(history=history, offerings={o.id: o for o in offerings}, display=display, rates=rates)
    )
    ratio = _model_ratio(model, sellers, display)
    return ModelPage(
        model=model,
        display=display,
        as_of=as_of,
        ratio=ratio,
        sellers=sellers,
        cheapest=cheapest,
        cheapest_blend=_cheapest(sellers, "blended", mode=display.mode),
        timeline=events[:TIMELINE_LIMIT],
        timeline_total=len(events),
        history=history,
    )


def _first_evidence(views: Sequence[LineView]) -> str:
    return next((v.evidence_url for v in views if v.evidence_url), "")


def _model_ratio(model: Model, sellers: Sequence[Seller], display: Display) -> units.WordsRatio:
    if sellers:
        return sellers[0].row.ratio
    return display.ratio_of_tokenizer(model.tokenizer if model.tokenizer_id else None)


def _seller_order(seller: Seller) -> tuple[Any, ...]:
    """Ranked sellers cheapest blend first; then free variants, unlisted, no longer listed; unknown prices last."""
    listing = LISTING_ORDER.index(seller.listing) if seller.listing in LISTING_ORDER else len(LISTING_ORDER)
    blended = seller.row.blended
    return (
        not seller.ranked,
        listing,
        seller.row.missing,
        blended is None,
        blended or Decimal(0),
        seller.offering.provider.name.lower(),
        seller.offering.provider_model_id,
    )


def _long_prompts_only(seller: Seller, component: str, *, mode: str) -> bool:
    headline = base_tier(seller.row.prices, component=component, mode=mode)
    return headline is not None and (headline.tier_min_tokens or 0) > 1


def _cheapest(sellers: Sequence[Seller], component: str, *, mode: str) -> Cheapest | None:
    found: list[tuple[Decimal, Seller]] = []
    for seller in sellers:
        if not seller.ranked:
            continue
        # A seller pricing only long prompts has no price for the shortest ones.
        parts = ("input", "output") if component == "blended" else (component,)
        if any(_long_prompts_only(seller, part, mode=mode) for part in parts):
            continue
        value = seller.row.blended if component == "blended" else seller.row.amounts.get(component)
        if value is not None:
            found.append((value, seller))
    if not found:
        return None
    found.sort(key=lambda pair: (pair[0], pair[1].offering.provider.name.lower(), pair[1].offering.id))
    amount, seller = found[0]
    line = None
    if component != "blended":
        headline = base_tier(seller.row.prices, component=component, mode=mode)
        line = next((v for v in seller.lines if headline is not None and v.line.id == headline.id), None)
    return Cheapest(component, amount, seller, line, len(found))


# --- the timeline -------------------------------------------------------------------------------------


def model_timeline(
    *, history: Sequence[Price], offerings: dict[int, Offering], display: Display, rates: Rates
) -> list[TimelineEvent]:
    """Dated events of the published history, newest first (no query):

    - ``listed``: the first price we know of each seller;
    - ``change``: a line's amount replaced by another (``previous`` → ``amount``);
    - ``promo``: a price that held for at most ``PROMO_MAX_DAYS`` and then rose, having not followed a
      lower price (DeepSeek's $0.014 cache hits from 2025-01-20 until 2025-02-08), with ``until``;
    - ``mode_window``: the span in which a seller charged a mode other than standard (off-peak, batch,
      flex, priority), with its prices then and ``until`` when the window closed;
    - ``ended``: a line the seller stopped charging, with no price after it.
    """
    lines: dict[tuple[Any, ...], list[Price]] = defaultdict(list)
    for price in history:
        if price.offering_id in offerings:
            lines[
                (
                    price.offering_id,
                    price.component,
                    price.mode,
                    price.tier_min_tokens,
                    price.tier_max_tokens,
                    price.currency,
                    price.conditions,
                )
            ].append(price)
    events: list[TimelineEvent] = []

    def shown(amount_per_mtok: Decimal, currency: str, offering: Offering) -> Decimal | None:
        return convert_amount(
            amount_per_mtok, from_currency=currency, display=display, rates=rates, ratio=display.ratio_of(offering)
        )

    def event(kind: str, price: Price, at: dt.datetime, **extra: Any) -> TimelineEvent:
        offering = offerings[price.offering_id]
        previous = extra.pop("previous_price", None)
        return TimelineEvent(
            at=at,
            kind=kind,
            offering=offering,
            component=price.component,
            mode=price.mode,
            tier=tier_label(price.tier_min_tokens, price.tier_max_tokens),
            tier_min_tokens=price.tier_min_tokens,
            tier_max_tokens=price.tier_max_tokens,
            conditions=conditions_label(price.conditions),
            currency=price.currency,
            amount_per_mtok=price.amount_per_mtok,
            previous_per_mtok=previous.amount_per_mtok if previous is not None else None,
            amount=shown(price.amount_per_mtok, price.currency, offering),
            previous=shown(previous.amount_per_mtok, previous.currency, offering) if previous is not None else None,
            source=price.source.name if price.source_id and price.source else "curator",
            **extra,
        )

    windows: dict[tuple[int, str], list[Price]] = defaultdict(list)
    for key, rows in lines.items():
        rows.sort(key=lambda p: (p.valid_from, p.id))
        if key[2] != "standard":
            windows[(key[0], key[2])].extend(rows)
        for index, price in enumerate(rows):
            before = rows[index - 1] if index else None
            after = rows[index + 1] if index + 1 < len(rows) else None
            if before is not None and before.amount_per_mtok != price.amount_per_mtok:
                events.append(event("change", price, price.valid_from, previous_price=before))
            if _is_promo(before, price, after):
                events.append(event("promo", price, price.valid_from, until=price.valid_to))
            if after is None and price.valid_to is not None and key[2] == "standard":
                events.append(event("ended", price, price.valid_to))
    for (offering_id, _mode), rows in windows.items():
        start = min(p.valid_from for p in rows)
        ends = [p.valid_to for p in rows]
        until = None if any(e is None for e in ends) else max(e for e in ends if e is not None)
        first = [p for p in rows if p.valid_from == start]
        first.sort(key=line_order)
        window = event("mode_window", first[0], start, until=until)
        offering = offerings[offering_id]
        window.lines = [(p.component, shown(p.amount_per_mtok, p.currency, offering)) for p in first]
        events.append(window)
    # Each seller's first known price, as one event listing its standard components then.
    firsts: dict[int, list[Price]] = defaultdict(list)
    for price in history:
        if price.offering_id in offerings:
            firsts[price.offering_id].append(price)
    for offering_id, rows in firsts.items():
        start = min(p.valid_from for p in rows)
        opening = sorted((p for p in rows if p.valid_from == start and p.mode == "standard"), key=line_order)
        if not opening:
            continue
        if any(e.kind == "promo" and e.offering.id == offering_id and e.at == start for e in events):
            continue  # its first prices were a promotion, listed as such
        listed = event("listed", opening[0], start)
        offering = offerings[offering_id]
        listed.lines = [
            (p.component, shown(p.amount_per_mtok, p.currency, offering))
            for p in opening
            if not p.tier_min_tokens and not p.conditions
        ]
        events.append(listed)
    kinds = {"promo": 0, "mode_window": 1, "change": 2, "ended": 3, "listed": 4}
    events.sort(key=lambda e: (e.at, -kinds.get(e.kind, 9)), reverse=True)
    return events


def _is_promo(before: Price | None, price: Price, after: Price | None) -> bool:
    if price.valid_to is None or after is None or after.valid_from != price.valid_to:
        return False
    if after.amount_per_mtok <= price.amount_per_mtok:
        return False
    if price.valid_to - price.valid_from > dt.timedelta(days=PROMO_MAX_DAYS):
        return False
    return before is None or before.amount_per_mtok >= after.amount_per_mtok


# --- best price per model (the leaderboard grouped by model) ---------------------------------------------


@dataclass
class ModelBest:
    """A model's cheapest ranked seller per headline component and blend, in the display's mode."""

    model_id: int
    slug: str
    name: str
    creator: str
    sellers: int
    amounts: dict[str, Decimal | None]
    cheapest_offering: dict[str, int | None]
    blended: Decimal | None
    blended_offering: int | None
    ratio: units.WordsRatio
    # Filled for the page shown (cheapest_offerings_fill): the cheapest sellers' offerings by id.
    offerings: dict[int, Offering] = field(default_factory=dict)

    def cheapest(self, component: str) -> Offering | None:
        """The offering charging the best price of ``component`` (or ``blended``), once filled."""
        chosen = self.blended_offering if component == "blended" else self.cheapest_offering.get(component)
        return self.offerings.get(chosen) if chosen is not None else None


MODEL_ORDERINGS = (*HEADLINE_COMPONENTS, "blended", "name", "sellers")


def models_best(
    *,
    display: Display,
    rates: Rates,
    as_of: dt.datetime | None = None,
    model_ids: Iterable[int] | None = None,
    **filters: Any,
) -> list[ModelBest]:
    """Every linked model with a ranked seller matching the offering ``filters`` (those of
    ``offerings_with_prices``), with its best prices: two queries (lines in force, tokenizers) whatever
    the number of offerings. Unordered; see :func:`models_best_sorted`."""
    offerings = offerings_with_prices(as_of=as_of, **filters).prefetch_related(None).filter(model__isnull=False)
    if model_ids is not None:
        offerings = offerings.filter(model_id__in=list(model_ids))
    # Only the lines a best price can come from: the display's mode, the headline components.
    lines = prices_in_force(as_of=as_of).filter(
        offering_id__in=offerings.order_by().values("id"), mode=display.mode, component__in=HEADLINE_COMPONENTS
    )
    rows = lines.order_by("offering_id").values_list(
        "offering_id",
        "offering__model_id",
        "offering__model__slug",
        "offering__model__name",
        "offering__model__creator",
        "offering__model__tokenizer_id",
        "component",
        "mode",
        "tier_min_tokens",
        "tier_max_tokens",
        "currency",
        "amount_per_mtok",
        "conditions",
        "source__trust_rank",
    )
    by_offering: dict[int, dict[str, list[LeanLine]]] = defaultdict(lambda: defaultdict(list))
    model_of: dict[int, tuple[int, str, str, str, int | None]] = {}
    for row in rows:
        offering_id, model_id, slug, name, creator, tokenizer_id = row[:6]
        component, mode, tier_min, tier_max, currency, amount, conditions, trust = row[6:]
        by_offering[offering_id][component].append(
            LeanLine(
                component, mode, tier_min, tier_max, currency, amount, conditions, 1000 if trust is None else trust
            )
        )
        model_of[offering_id] = (model_id, slug, name, creator, tokenizer_id)
    tokenizers = Tokenizer.objects.only("id", "words_per_token", "provenance", "curated_ratios").in_bulk(
        {m[4] for m in model_of.values() if m[4] is not None}
    )
    best: dict[int, ModelBest] = {}
    for offering_id, offering_lines in by_offering.items():
        owner, owner_slug, owner_name, owner_creator, owner_tokenizer = model_of[offering_id]
        ratio = display.ratio_of_tokenizer(tokenizers.get(owner_tokenizer) if owner_tokenizer else None)
        entry = best.get(owner)
        if entry is None:
            entry = best[owner] = ModelBest(
                owner,
                owner_slug,
                owner_name,
                owner_creator,
                0,
                dict.fromkeys(HEADLINE_COMPONENTS),
                {},
                None,
                None,
                ratio,
            )
        entry.sellers += 1
        amounts: dict[str, Decimal | None] = {}
        for component in HEADLINE_COMPONENTS:
            line = base_tier(offering_lines.get(component, ()), component=component, mode=display.mode)
            if line is not None and (line.tier_min_tokens or 0) > 1:
                line = None  # priced for long prompts only: no price for the shortest ones
            amounts[component] = (
                None
                if line is None
                else convert_amount(
                    line.amount_per_mtok, from_currency=line.currency, display=display, rates=rates, ratio=ratio
                )
            )
            value, current = amounts[component], entry.amounts[component]
            if value is not None and (current is None or value < current):
                entry.amounts[component] = value
                entry.cheapest_offering[component] = offering_id
        if amounts["input"] is not None and amounts["output"] is not None:
            blend = units.blended(amounts["input"], amounts["output"], ratio=display.ratio)
            if entry.blended is None or blend < entry.blended:
                entry.blended, entry.blended_offering = blend, offering_id
    return list(best.values())


def models_best_sorted(items: list[ModelBest], *, sort: str, descending: bool = False) -> list[ModelBest]:
    """Sorted on a best price, ``name`` or ``sellers``; unknown prices last either way, ties by name."""
    if sort not in MODEL_ORDERINGS:
        raise ValueError(f"cannot sort models on {sort!r}")
    items = sorted(items, key=lambda m: (m.name.lower(), m.model_id))

    def key(item: ModelBest) -> Any:
        if sort == "name":
            return item.name.lower()
        if sort == "sellers":
            return item.sellers
        return item.blended if sort == "blended" else item.amounts.get(sort)

    known = [m for m in items if key(m) is not None]
    known.sort(key=key, reverse=descending)
    return known + [m for m in items if key(m) is None]


def cheapest_offerings_fill(items: Sequence[ModelBest]) -> None:
    """Load the cheapest sellers' offerings (with their providers) of the models shown: one query, none
    for no models."""
    wanted = {i for m in items for i in (*m.cheapest_offering.values(), m.blended_offering) if i is not None}
    if not wanted:
        return
    loaded = Offering.objects.select_related("provider").in_bulk(wanted)
    for item in items:
        chosen = (*item.cheapest_offering.values(), item.blended_offering)
        item.offerings = {i: loaded[i] for i in chosen if i is not None and i in loaded}

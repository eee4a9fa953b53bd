"""LiteLLM's ``model_prices_and_context_window.json`` and models.dev's ``api.json``, from our prices.

Both files are built from the same view of each offering: every component and mode's headline family
(``selectors.headline_lines``: the most trusted source's plain price, all its prompt tiers), converted to
the asked currency at that day's rates. Only offerings with a public list price or a free variant are
listed (``Offering.listing``); conditional prices (thinking on, output length...) and lines a rate cannot
convert are left out, since neither format can say when they apply. Each entry carries our freshness and
source under ``EXTRA_FIELD``, which both formats' readers ignore.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from pricing import selectors
from pricing.models import Offering

EXTRA_FIELD = "token_prices"
MILLION = Decimal(1_000_000)
LISTED = (Offering.Listing.LIST_PRICE, Offering.Listing.FREE_VARIANT)

# --- LiteLLM -------------------------------------------------------------------------------------------

# LiteLLM's provider name for ours where they differ: the inverse of providers.litellm.PROVIDER_BY_LITELLM,
# choosing the name LiteLLM keys chat models under (``gemini/...``, ``together_ai/...``).
LITELLM_BY_PROVIDER = {"google": "gemini", "fireworks": "fireworks_ai", "together": "together_ai"}
# Providers whose chat models LiteLLM keys by the bare model id (``gpt-4o``, ``claude-sonnet-4-5``).
BARE_KEY_PROVIDERS = frozenset({"openai", "anthropic", "bedrock", "vertex_ai-language-models"})
LITELLM_BASE = {
    "input": "input_cost_per_token",
    "cached_input": "cache_read_input_token_cost",
    "cache_write_5m": "cache_creation_input_token_cost",
    "cache_write_1h": "cache_creation_input_token_cost_above_1hr",
    "output": "output_cost_per_token",
}
# off_peak has no LiteLLM spelling, so it is left out.
LITELLM_MODE_SUFFIX = {"standard": "", "batch": "_batches", "flex": "_flex", "priority": "_priority"}

# --- models.dev ----------------------------------------------------------------------------------------

MODELS_DEV_COST = {"input": "input", "output": "output", "cached_input": "cache_read", "cache_write_5m": "cache_write"}
MODELS_DEV_OVER_200K = 200_001


@dataclass(frozen=True)
class Line:
    """One converted price line of an entry: per 1M tokens in the file's currency."""

    component: str
    mode: str
    tier_min_tokens: int | None
    tier_max_tokens: int | None
    amount_per_mtok: Decimal


@dataclass(frozen=True)
class Entry:
    offering: Offering
    lines: tuple[Line, ...]
    extra: dict[str, Any]

    def base(self, component: str, mode: str = "standard") -> Line | None:
        return next((line for line in self.lines if (line.component, line.mode) == (component, mode)), None)

    @property
    def context_window(self) -> int | None:
        model = self.offering.model
        return self.offering.context_window or (model.context_window if model else None)


def _iso(moment: dt.datetime | None) -> str | None:
    return moment.isoformat().replace("+00:00", "Z") if moment else None


def entries(*, as_of: dt.datetime | None, currency: str, rates: selectors.Rates) -> Iterator[Entry]:
    """Listed offerings in force at ``as_of`` with their input and output prices (two queries, plus
    none per offering), each line converted to ``currency``; base tiers first within a component."""
    stale_before = selectors.stale_before()
    for offering in selectors.offerings_with_price_lines(as_of=as_of):
        if offering.listing not in LISTED:
            continue
        prices: Sequence[Any] = getattr(offering, "current_prices", [])
        lines: list[Line] = []
        used: list[Any] = []
        for component, mode in sorted({(p.component, p.mode) for p in prices if not p.conditions}):
            family = sorted(
                selectors.headline_lines(prices, component=component, mode=mode),
                key=lambda p: (p.tier_min_tokens or 0, p.tier_max_tokens is None, p.tier_max_tokens or 0),
            )
            for price in family:
                amount = rates.convert(price.amount_per_mtok, from_currency=price.currency, to_currency=currency)
                if amount is None:
                    continue
                lines.append(Line(component, mode, price.tier_min_tokens, price.tier_max_tokens, amount))
                used.append(price)
        entry = Entry(offering, tuple(lines), {})
        if entry.base("input") is None or entry.base("output") is None:
            continue
        seen = [p.last_seen_at or p.recorded_at for p in used]
        source = next((p.source for p in used if p.component == "input"), None)
        entry.extra.update(
            {
                "offering_id": offering.id,
                "provider": offering.provider.slug,
                "provider_model_id": offering.provider_model_id,
                "currency": currency,
                "as_of": _iso(as_of),
                "last_verified_at": _iso(max(seen)),
                "stale": max(seen) < stale_before,
                "valid_from": _iso(max(p.valid_from for p in used)),
                "source": source.slug if source else "curator",
                "source_kind": source.kind if source else "curated",
                "native_currency": sorted({p.currency for p in used}),
                "converted": any(p.currency != currency for p in used),
            }
        )
        yield entry


# --- LiteLLM's cost map --------------------------------------------------------------------------------


def litellm_provider(provider_slug: str) -> str:
    return LITELLM_BY_PROVIDER.get(provider_slug, provider_slug)


def litellm_key(provider_slug: str, provider_model_id: str) -> str:
    """The key LiteLLM files a model under: the bare id for the providers it keys that way, else
    ``<litellm_provider>/<id>``; an id that already starts with LiteLLM's route (``vertex_ai/claude-...`` of
    ``vertex_ai-anthropic_models``) stays as it is. ``providers.litellm.own_id`` reads each key back."""
    provider = litellm_provider(provider_slug)
    if provider_slug in BARE_KEY_PROVIDERS:
        return provider_model_id
    route, _, rest = provider_model_id.partition("/")
    if rest and route != provider and provider.replace("-", "_").startswith(route.replace("-", "_")):
        return provider_model_id
    return f"{provider}/{provider_model_id}"


def litellm_field(line: Line) -> str | None:
    """``input_cost_per_token_above_200k_tokens_priority`` for input, prompts over 200,000, priority; None
    where LiteLLM has no spelling (off-peak, a tier that does not start just past a whole thousand)."""
    suffix = LITELLM_MODE_SUFFIX.get(line.mode)
    if suffix is None:
        return None
    base = LITELLM_BASE[line.component]
    if line.tier_min_tokens is None or line.tier_min_tokens <= 1:
        return f"{base}{suffix}"
    thousands, remainder = divmod(line.tier_min_tokens - 1, 1000)
    if remainder:
        return None
    return f"{base}_above_{thousands}k_tokens{suffix}"


def per_token(amount_per_mtok: Decimal) -> float:
    """A JSON number per token, as LiteLLM's file writes them (2.5e-06)."""
    return float(amount_per_mtok / MILLION)


def litellm_cost_map(*, as_of: dt.datetime | None, currency: str, rates: selectors.Rates) -> dict[str, Any]:
    """LiteLLM's cost map: one entry per listed offering, keyed the way LiteLLM keys models; where two
    offerings would share a key (one model sold in several regions) the first, the plain one, keeps it."""
    cost_map: dict[str, Any] = {}
    for entry in entries(as_of=as_of, currency=currency, rates=rates):
        offering = entry.offering
        key = litellm_key(offering.provider.slug, offering.provider_model_id)
        if key in cost_map:
            continue
        item: dict[str, Any] = {"litellm_provider": litellm_provider(offering.provider.slug), "mode": "chat"}
        if entry.context_window:
            item["max_input_tokens"] = entry.context_window
        for line in entry.lines:
            field = litellm_field(line)
            if field is not None:
                item.setdefault(field, per_token(line.amount_per_mtok))
        if any(line.component in ("cached_input", "cache_write_5m", "cache_write_1h") for line in entry.lines):
            item["supports_prompt_caching"] = True
        item[EXTRA_FIELD] = entry.extra
        cost_map[key] = item
    return cost_map


# --- models.dev's api.json -----------------------------------------------------------------------------


def per_mtok(amount_per_mtok: Decimal) -> float:
    return float(amount_per_mtok.normalize())


def models_dev_cost(entry: Entry) -> dict[str, Any]:
    """``cost`` per 1M tokens of the standard mode: the base tier, ``context_over_200k`` for a tier that
    starts at 200,001 tokens, and every higher tier under ``tiers`` (``{"tier": {"size": N}}`` is prompts
    over N tokens, models.dev's own spelling)."""
    cost: dict[str, Any] = {}
    tiers: dict[int, dict[str, Any]] = {}
    for line in entry.lines:
        name = MODELS_DEV_COST.get(line.component)
        if name is None or line.mode != "standard":
            continue
        if line.tier_min_tokens is None or line.tier_min_tokens <= 1:
            cost.setdefault(name, per_mtok(line.amount_per_mtok))
        else:
            tiers.setdefault(line.tier_min_tokens - 1, {}).setdefault(name, per_mtok(line.amount_per_mtok))
    over_200k = tiers.get(MODELS_DEV_OVER_200K - 1)
    if over_200k:
        cost["context_over_200k"] = dict(over_200k)
    if tiers:
        cost["tiers"] = [{"tier": {"size": size}, **tiers[size]} for size in sorted(tiers)]
    return cost


def models_dev_api(*, as_of: dt.datetime | None, currency: str, rates: selectors.Rates) -> dict[str, Any]:
    """models.dev's api.json: providers by id, each with its models by the provider's own id."""
    api: dict[str, Any] = {}
    for entry in entries(as_of=as_of, currency=currency, rates=rates):
        offering = entry.offering
        provider = offering.provider
        block = api.setdefault(
            provider.slug,
            # The read layer does not load a provider's website; "doc" stays empty rather than cost a query each.
            {"id": provider.slug, "name": provider.name, "env": [], "npm": "", "doc": "", "models": {}},
        )
        if offering.provider_model_id in block["models"]:
            continue
        model = offering.model
        # Capabilities we do not track are stated as the most common chat model's, since readers such as
        # opencode require the fields; 0 is "unknown" for a limit.
        item: dict[str, Any] = {
            "id": offering.provider_model_id,
            "name": offering.name or (model.name if model else offering.provider_model_id),
            "attachment": False,
            "reasoning": False,
            "temperature": True,
            "tool_call": True,
            "open_weights": bool(model and model.open_weights),
            "cost": models_dev_cost(entry),
            "limit": {"context": entry.context_window or 0, "output": 0},
            "modalities": {"input": ["text"], "output": ["text"]},
        }
        item[EXTRA_FIELD] = entry.extra
        block["models"][offering.provider_model_id] = item
    return api

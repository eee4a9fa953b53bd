"""LiteLLM's community price map: one JSON object of ~3,000 entries, USD per token, for many providers.

Each entry is keyed by LiteLLM's model id (``gemini/gemini-2.5-pro``) and says who sells it in
``litellm_provider``. Prices are per-token numbers (``2.5e-06``), read as Decimal so they convert exactly.
Field names carry the component, an optional long-context threshold and an optional mode:
``cache_read_input_token_cost_above_200k_tokens_priority`` is cached input, prompts over 200K, priority.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from decimal import Decimal
from functools import lru_cache
from typing import Any

from pricing.units import NotationError, per_token_to_mtok, to_decimal
from providers.base import AGGREGATOR_TRUST, Document, ParseError, ScrapedPrice, Scraper, decimal_to_str
from providers.helpers import int_or_none

# Only text generation; embeddings, images, audio, rerank and moderation entries are other products.
TEXT_MODES = frozenset({"chat", "completion", "responses"})

# LiteLLM's provider names where ours differ. Anything not listed is kept as LiteLLM spells it
# (vertex_ai-anthropic_models stays: Vertex sells Claude at its own prices, under its own ids).
PROVIDER_BY_LITELLM = {
    "gemini": "google",
    "text-completion-openai": "openai",
    "codestral": "mistral",
    "text-completion-codestral": "mistral",
    "azure_text": "azure",
    "bedrock_converse": "bedrock",
    "cohere_chat": "cohere",
    "fireworks_ai": "fireworks",
    "together_ai": "together",
    "text-completion-inception": "inception",
}

# The base of a price field and the component it prices. Longer names first: the regex takes the first match.
COMPONENT_BY_BASE = {
    "input_cost_per_token_cache_hit": "cached_input",  # older DeepSeek-style name for cache_read
    "input_cost_per_token": "input",
    "output_cost_per_token": "output",
    "cache_read_input_token_cost": "cached_input",
    "cache_creation_input_token_cost_above_1hr": "cache_write_1h",
    "cache_creation_input_token_cost": "cache_write_5m",
}
MODE_BY_SUFFIX = {"batches": "batch", "priority": "priority", "flex": "flex"}
_BASES = "|".join(COMPONENT_BY_BASE)
_MODES = "|".join(MODE_BY_SUFFIX)
_FIELD = re.compile(rf"^(?P<base>{_BASES})(?:_above_(?P<thousands>\d+)k_tokens)?(?:_(?P<mode>{_MODES}))?$")
# The legacy field yields to cache_read_input_token_cost when both are present.
LEGACY_CACHE_HIT = "input_cost_per_token_cache_hit"

# (component, mode) -> {threshold in tokens or None for the plain field: (per-token value, field name)}
_Groups = dict[tuple[str, str], dict[int | None, tuple[Decimal, str]]]
# (component, mode, tier_min, tier_max) -> (per-token value, field name)
_Tiers = dict[tuple[str, str, int | None, int | None], tuple[Decimal, str]]


@lru_cache(maxsize=1024)
def read_field(name: str) -> tuple[str, str, int | None] | None:
    """``input_cost_per_token_above_200k_tokens_priority`` -> ("input", "priority", 200000); None when not ours."""
    match = _FIELD.match(name)
    if not match:
        return None
    thousands = match.group("thousands")
    return (
        COMPONENT_BY_BASE[match.group("base")],
        MODE_BY_SUFFIX.get(match.group("mode") or "", "standard"),
        int(thousands) * 1000 if thousands else None,
    )


class LiteLLM(Scraper):
    slug = "litellm"
    name = "LiteLLM model prices and context windows"
    kind = "aggregator"
    provider = ""
    provider_name = "LiteLLM (community price map)"
    provider_website = "https://github.com/BerriAI/litellm"
    urls = ("https://raw.githubusercontent.com/BerriAI/litellm/main/model_prices_and_context_window.json",)
    hosts = ("raw.githubusercontent.com",)
    trust_rank = AGGREGATOR_TRUST

    def parse(self, document: Document) -> list[ScrapedPrice]:
        try:
            entries = json.loads(document.content, parse_float=Decimal)
        except ValueError as exc:
            raise ParseError(f"not JSON: {exc}") from exc
        if not isinstance(entries, dict):
            raise ParseError("not a JSON object of model entries keyed by model id")
        text_entries = [
            (key, entry)
            for key, entry in entries.items()
            if key != "sample_spec"
            and isinstance(entry, dict)
            and entry.get("litellm_provider")
            and entry.get("mode") in TEXT_MODES
        ]
        if not text_entries:
            raise ParseError("no entries with a litellm_provider and mode chat, completion or responses")
        records: list[ScrapedPrice] = []
        # The seller's own id where LiteLLM prefixes its route ("gemini/gemini-2.5-pro" -> "gemini-2.5-pro"),
        # unless two entries of one seller would then share an id: LiteLLM lists "deepseek-chat" beside
        # "deepseek/deepseek-chat", not always at the same prices, so those keep their keys verbatim.
        ids = {
            key: (seller(str(entry["litellm_provider"])), own_id(key, str(entry["litellm_provider"])))
            for key, entry in text_entries
        }
        shared = Counter(ids.values())
        for key, entry in text_entries:
            own = ids[key][1]
            # The record names the key where two keys share an id (the page's own words, so both prices stay
            # checkable), but the offering is always the seller's own id: which siblings a copy of the file
            # holds never moves a model to another offering (and away from its history).
            model = own if shared[ids[key]] == 1 else key
            records.extend(record.replace(own_id=own) for record in self._entry_prices(key, entry, model))
        if not records:
            raise ParseError("no per-token prices (input_cost_per_token, output_cost_per_token, ...) in any entry")
        return records

    def _entry_prices(self, key: str, entry: dict[str, Any], model: str) -> list[ScrapedPrice]:
        litellm_provider = str(entry["litellm_provider"])
        notes: dict[str, Any] = {"litellm_provider": litellm_provider}
        if entry.get("deprecation_date"):
            notes["deprecation_date"] = str(entry["deprecation_date"])
        base = ScrapedPrice(
            provider=seller(litellm_provider),
            model=model,
            component="input",
            amount_per_mtok=Decimal(0),
            context_window=int_or_none(entry.get("max_input_tokens")) or int_or_none(entry.get("max_tokens")),
            notes=notes,
        )
        records = []
        tiered = entry.get("tiered_pricing")
        tiered_groups = self._tiered_groups(key, tiered) if isinstance(tiered, list) else {}
        for (component, mode), by_threshold in self._flat_groups(key, entry).items():
            if any(c == component and m == mode for c, m, _, _ in tiered_groups):
                continue  # the tier list is the fuller statement of the same price
            thresholds = sorted(by_threshold, key=lambda t: -1 if t is None else t)
            for index, threshold in enumerate(thresholds):
                # "above_200k" is prompts over 200,000 tokens; the next threshold (or nothing) closes it.
                following = thresholds[index + 1] if index + 1 < len(thresholds) else None
                value, field = by_threshold[threshold]
                tier_min = threshold + 1 if threshold is not None else None
                records.append(self._price(base, component, mode, tier_min, following, value, field))
        for (component, mode, tier_min, tier_max), (value, field) in tiered_groups.items():
            records.append(self._price(base, component, mode, tier_min, tier_max, value, field))
        return records

    def _flat_groups(self, key: str, entry: dict[str, Any]) -> _Groups:
        groups: _Groups = {}
        legacy: list[tuple[str, str, int | None, Decimal, str]] = []
        for field, raw in entry.items():
            parsed = read_field(field)
            if parsed is None or raw is None:
                continue
            component, mode, threshold = parsed
            value = _per_token(key, field, raw)
            if field.startswith(LEGACY_CACHE_HIT):
                legacy.append((component, mode, threshold, value, field))
            else:
                groups.setdefault((component, mode), {})[threshold] = (value, field)
        for component, mode, threshold, value, field in legacy:
            groups.setdefault((component, mode), {}).setdefault(threshold, (value, field))
        return groups

    def _tiered_groups(self, key: str, tiers: list[Any]) -> _Tiers:
        """``tiered_pricing: [{"range": [0, 32000], ...}, {"range": [32000, 128000], ...}]`` -> explicit tiers."""
        prices: _Tiers = {}
        for tier in tiers:
            bounds = tier.get("range") if isinstance(tier, dict) else None
            if not (isinstance(bounds, list) and len(bounds) == 2):
                raise ParseError(f"{key}: tiered_pricing item without a [from, to] range: {tier!r}")
            low, high = int_or_none(bounds[0]), int_or_none(bounds[1])
            # A range starts where the previous one ends: [32000, 128000] is prompts of 32,001..128,000 tokens.
            tier_min = low + 1 if low else None
            for field, raw in tier.items():
                parsed = read_field(field)
                if parsed is None or raw is None or parsed[2] is not None:
                    continue
                component, mode, _ = parsed
                prices.setdefault((component, mode, tier_min, high), (_per_token(key, field, raw), field))
        return prices

    @staticmethod
    def _price(
        base: ScrapedPrice,
        component: str,
        mode: str,
        tier_min: int | None,
        tier_max: int | None,
        value: Decimal,
        field: str,
    ) -> ScrapedPrice:
        return base.replace(
            component=component,
            mode=mode,
            tier_min_tokens=tier_min,
            tier_max_tokens=tier_max,
            # Plain digits: 1e-05 per token is 10 per 1M, not Decimal('1E+1').
            amount_per_mtok=Decimal(decimal_to_str(per_token_to_mtok(value))),
            original=f"${decimal_to_str(value)} / token",  # plain digits, never 1.5E-7
            excerpt=f'"{base.model}": {{"{field}": {value}}}'[:200],
        )


def seller(litellm_provider: str) -> str:
    return PROVIDER_BY_LITELLM.get(litellm_provider, litellm_provider)


def own_id(key: str, litellm_provider: str) -> str:
    """The seller's own model id: LiteLLM prefixes many keys with its route ("gemini/gemini-2.5-pro")."""
    prefix, _, rest = key.partition("/")
    if rest and prefix in (litellm_provider, seller(litellm_provider)):
        return rest
    return key


def _per_token(key: str, field: str, raw: Any) -> Decimal:
    if isinstance(raw, bool) or not isinstance(raw, int | Decimal | str):
        raise ParseError(f"{key}: {field} is not a number: {raw!r}")
    try:
        return to_decimal(raw)
    except NotationError as exc:
        raise ParseError(f"{key}: {field} is not a number: {raw!r}") from exc

"""models.dev's data set (``api.json``): one JSON object of ~140 sellers and their models, USD per 1M tokens.

``{"<seller>": {"id", "name", "models": {"<model id>": {"name", "limit": {"context"}, "cost": {...}}}}}``.
``cost`` holds ``input``, ``output``, ``cache_read``, ``cache_write`` (already per 1M tokens), long-context
tiers in ``cost.tiers[] = {"tier": {"type": "context", "size": S}, "input", ...}`` meaning prompts of more
than S tokens (256,001 and 272,001 as well as 200,001), and OpenAI/Anthropic "fast" prices in
``experimental.modes.fast.cost`` (OpenAI's priority processing). ``cost.context_over_200k`` is a legacy copy
of the one tier, whatever its size; it is ignored: reading it literally would start GPT-5.4's tier at 200,001.

An aggregator speaking for many sellers: each record's ``provider`` is the seller (as our slug), ``model``
the seller's own model id.
"""

from __future__ import annotations

import json
import logging
import re
from decimal import Decimal
from typing import Any

from providers.base import AGGREGATOR_TRUST, Document, ParseError, ScrapedPrice, Scraper
from providers.helpers import int_or_none

log = logging.getLogger(__name__)

COMPONENT_BY_KEY = {
    "input": "input",
    "output": "output",
    "cache_read": "cached_input",
    # models.dev states no cache lifetime; OpenAI/Anthropic's default write is the 5-minute one.
    "cache_write": "cache_write_5m",
}
MODE_BY_EXPERIMENTAL = {"fast": "priority"}
# models.dev seller ids that name a seller our other sources spell differently (LiteLLM's map, our own
# adapters); the same business and API, renamed. Sellers not listed keep models.dev's id (made URL-safe).
# The "-cn" twins (zhipuai, moonshotai-cn, minimax-cn...) are not mapped onto the official CNY sources:
# models.dev gives them USD figures copied from the international platforms.
PROVIDER_BY_MODELSDEV = {
    "togetherai": "together",
    "fireworks-ai": "fireworks",
    "amazon-bedrock": "bedrock",
    "novita-ai": "novita",
}
NOT_SLUG = re.compile(r"[^a-z0-9]+")


def seller_slug(modelsdev_id: str) -> str:
    """models.dev's seller id as our provider slug: renamed where we know the seller by another name, else
    lowercased with anything but letters and digits turned into "-" ("wafer.ai" -> "wafer-ai")."""
    mapped = PROVIDER_BY_MODELSDEV.get(modelsdev_id)
    return mapped or NOT_SLUG.sub("-", modelsdev_id.lower()).strip("-")


class ModelsDev(Scraper):
    slug = "modelsdev"
    name = "models.dev model data set"
    kind = "aggregator"
    provider = ""
    provider_name = "models.dev (community model data set)"
    provider_website = "https://models.dev"
    urls = ("https://models.dev/api.json",)
    hosts = ("models.dev",)
    # Ranks just below LiteLLM, so between the two aggregators the order is fixed.
    trust_rank = AGGREGATOR_TRUST - 1

    def parse(self, document: Document) -> list[ScrapedPrice]:
        try:
            sellers = json.loads(document.content, parse_float=Decimal)
        except ValueError as exc:
            raise ParseError(f"not JSON: {exc}") from exc
        if not isinstance(sellers, dict):
            raise ParseError("not a JSON object of sellers keyed by id")
        if isinstance(sellers.get("providers"), dict) and isinstance(sellers.get("_meta"), dict):
            # The data set as kept in the repository's history: {"_meta": {commit...}, "providers": {...}}.
            sellers = sellers["providers"]
        records: list[ScrapedPrice] = []
        seen_models = False
        for seller_id, seller in sellers.items():
            models = seller.get("models") if isinstance(seller, dict) else None
            if not isinstance(models, dict):
                continue
            seen_models = True
            provider = seller_slug(str(seller_id))
            for model_id, model in models.items():
                if isinstance(model, dict):
                    records.extend(self._model_prices(str(seller_id), provider, str(model_id), model))
        if not seen_models:
            raise ParseError('no seller with a "models" object (expected {"<seller>": {"models": {...}}})')
        if not records:
            raise ParseError("no model with a cost object (cost.input, cost.output, ...) under any seller")
        return records

    def _model_prices(self, seller_id: str, provider: str, model_id: str, model: dict[str, Any]) -> list[ScrapedPrice]:
        limit = model.get("limit")
        if not isinstance(limit, dict):
            limit = {}
        base = ScrapedPrice(
            provider=provider,
            model=model_id,
            component="input",
            amount_per_mtok=Decimal(0),
            model_name=str(model.get("name") or ""),
            context_window=int_or_none(limit.get("context")),
            notes={"modelsdev_provider": seller_id},
        )
        where = f'"{seller_id}".models."{model_id}"'
        records: list[ScrapedPrice] = []
        cost = model.get("cost")
        if isinstance(cost, dict):
            records.extend(self._cost_prices(base, cost, "standard", f"{where}.cost"))
        experimental = model.get("experimental")
        modes = experimental.get("modes") if isinstance(experimental, dict) else None
        for name, spec in modes.items() if isinstance(modes, dict) else ():
            mode = MODE_BY_EXPERIMENTAL.get(name)
            mode_cost = spec.get("cost") if isinstance(spec, dict) else None
            if not isinstance(mode_cost, dict):
                continue
            if mode is None:
                log.info("modelsdev: skipping %s.experimental.modes.%s: not a mode we know", where, name)
                continue
            path = f"{where}.experimental.modes.{name}.cost"
            records.extend(self._cost_prices(base, mode_cost, mode, path))
        return records

    def _cost_prices(self, base: ScrapedPrice, cost: dict[str, Any], mode: str, path: str) -> list[ScrapedPrice]:
        tiers = []
        listed = cost.get("tiers")
        for index, tier in enumerate(listed if isinstance(listed, list) else []):
            spec = tier.get("tier") if isinstance(tier, dict) else None
            size = int_or_none(spec.get("size")) if isinstance(spec, dict) else None
            # The repository's TOML leaves the type out of prompt-length tiers; api.json says "context".
            if not isinstance(spec, dict) or spec.get("type", "context") != "context" or size is None or size <= 0:
                log.info("modelsdev: skipping %s.tiers[%d]: not a prompt-length tier: %r", path, index, spec)
                continue
            tiers.append((size, index, tier))
        tiers.sort(key=lambda t: t[0])
        # The base prices hold up to the first tier's size; a tier runs from size + 1 to the next size.
        first = tiers[0][0] if tiers else None
        records = self._prices(base, cost, mode, None, first, path)
        for position, (size, index, tier) in enumerate(tiers):
            following = tiers[position + 1][0] if position + 1 < len(tiers) else None
            records.extend(self._prices(base, tier, mode, size + 1, following, f"{path}.tiers[{index}]"))
        return records

    @staticmethod
    def _prices(
        base: ScrapedPrice,
        cost: dict[str, Any],
        mode: str,
        tier_min: int | None,
        tier_max: int | None,
        path: str,
    ) -> list[ScrapedPrice]:
        records = []
        for key, component in COMPONENT_BY_KEY.items():
            raw = cost.get(key)
            if raw is None:
                continue
            amount = Decimal(raw) if isinstance(raw, int | Decimal) and not isinstance(raw, bool) else None
            if amount is None or not amount.is_finite() or amount < 0:
                # One seller's typo must not cost the other 13,000 prices: skip the cell, say so.
                log.warning("modelsdev: skipping %s.%s: not a price: %r", path, key, raw)
                continue
            records.append(
                base.replace(
                    component=component,
                    mode=mode,
                    tier_min_tokens=tier_min,
                    tier_max_tokens=tier_max,
                    amount_per_mtok=amount,
                    original=f"${raw} / 1M tokens",
                    excerpt=f"{path}.{key} = {raw}"[:200],
                )
            )
        return records

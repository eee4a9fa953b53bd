"""OpenRouter's models API: its own resale prices, USD per token as decimal strings."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from pricing.units import NotationError, per_token_to_mtok, to_decimal
from providers.base import OFFICIAL_TRUST, Document, ParseError, ScrapedPrice, Scraper

# OpenRouter's pricing keys that are text-token prices, and the component each one is.
COMPONENT_BY_KEY = {
    "prompt": "input",
    "completion": "output",
    "input_cache_read": "cached_input",
    "input_cache_write": "cache_write_5m",
    "input_cache_write_1h": "cache_write_1h",
}
# "-1" means the price varies per request (routers such as openrouter/auto): no fixed price to keep.
VARIABLE_PRICE = Decimal(-1)


class OpenRouter(Scraper):
    slug = "openrouter"
    name = "OpenRouter models API"
    kind = "official"
    provider = "openrouter"
    provider_name = "OpenRouter"
    provider_website = "https://openrouter.ai"
    urls = ("https://openrouter.ai/api/v1/models",)
    hosts = ("openrouter.ai",)
    trust_rank = OFFICIAL_TRUST

    def parse(self, document: Document) -> list[ScrapedPrice]:
        try:
            payload = json.loads(document.content)
        except ValueError as exc:
            raise ParseError(f"not JSON: {exc}") from exc
        models = payload.get("data") if isinstance(payload, dict) else None
        if not isinstance(models, list):
            raise ParseError('no "data" list of models in the response')
        records: list[ScrapedPrice] = []
        for entry in models:
            if isinstance(entry, dict) and isinstance(entry.get("pricing"), dict) and entry.get("id"):
                records.extend(self._entry_prices(entry))
        return records

    def _entry_prices(self, entry: dict[str, Any]) -> list[ScrapedPrice]:
        architecture = entry.get("architecture") or {}
        base = ScrapedPrice(
            provider=self.provider,
            model=str(entry["id"]),
            component="input",
            amount_per_mtok=Decimal(0),
            model_name=str(entry.get("name") or ""),
            context_window=_int_or_none(entry.get("context_length")),
            tokenizer=str(architecture.get("tokenizer") or ""),
            creator=str(entry["id"]).split("/", 1)[0] if "/" in str(entry["id"]) else "",
            # What names the model more surely than the id (pricing.identity): the creator's own repo id.
            notes={k: str(entry[k]) for k in ("hugging_face_id", "canonical_slug") if entry.get(k)},
        )
        pricing = entry["pricing"]
        records = self._tier_prices(base, pricing, min_tokens=None, max_tokens=None)
        overrides = sorted(
            (o for o in pricing.get("overrides") or [] if isinstance(o, dict) and "min_prompt_tokens" in o),
            key=lambda o: int(o["min_prompt_tokens"]),
        )
        if overrides:
            # Base prices apply below the first override; each override runs to the next one.
            first = int(overrides[0]["min_prompt_tokens"])
            records = [r.replace(tier_max_tokens=first - 1) for r in records]
            for index, override in enumerate(overrides):
                start = int(override["min_prompt_tokens"])
                end = int(overrides[index + 1]["min_prompt_tokens"]) - 1 if index + 1 < len(overrides) else None
                records.extend(self._tier_prices(base, override, min_tokens=start, max_tokens=end))
        return records

    def _tier_prices(
        self, base: ScrapedPrice, pricing: dict[str, Any], *, min_tokens: int | None, max_tokens: int | None
    ) -> list[ScrapedPrice]:
        records = []
        for key, component in COMPONENT_BY_KEY.items():
            raw = pricing.get(key)
            if raw in (None, ""):
                continue
            try:
                per_token = to_decimal(str(raw))
            except NotationError as exc:
                raise ParseError(f"{base.model}: pricing.{key} is not a number: {raw!r}") from exc
            if per_token == VARIABLE_PRICE:
                continue
            records.append(
                base.replace(
                    component=component,
                    amount_per_mtok=per_token_to_mtok(per_token),
                    tier_min_tokens=min_tokens,
                    tier_max_tokens=max_tokens,
                    original=f"${raw} / token",
                    excerpt=f'"id":"{base.model}" pricing.{key}="{raw}"',
                )
            )
        return records


def _int_or_none(value: Any) -> int | None:
    try:
        return int(value) if value is not None else None
    except (TypeError, ValueError):
        return None

"""Together AI's models API: its serverless prices for text models, USD per 1M tokens.

``GET https://api.together.xyz/v1/models`` answers a JSON array of models, each with a ``type`` (chat,
language, code, image, audio, embedding, rerank, moderation, ...) and ``pricing`` {hourly, input, output,
base, finetune}. ``input`` and ``output`` are already per 1M tokens for text models; for audio, image and
video models they price other units, so only text types are read. The numbers are JSON floats, some with
binary noise (``0.18000000000000002``): they are read as the exact decimal text Together sent.

The API wants a key (``Authorization: Bearer ...``); ``request_headers`` reads it from ``TOGETHER_API_KEY``.
"""

from __future__ import annotations

import json
import os
from decimal import Decimal
from typing import Any

from providers.base import OFFICIAL_TRUST, Document, ParseError, ScrapedPrice, Scraper
from providers.helpers import int_or_none

# Model types whose pricing.input/output are prices of text tokens.
TEXT_TYPES = frozenset({"chat", "language", "code"})
COMPONENT_BY_KEY = {"input": "input", "output": "output"}
API_KEY_ENV = "TOGETHER_API_KEY"


class Together(Scraper):
    slug = "together"
    name = "Together AI models API"
    kind = "official"
    provider = "together"
    provider_name = "Together AI"
    provider_website = "https://www.together.ai"
    urls = ("https://api.together.xyz/v1/models",)
    hosts = ("api.together.xyz",)
    trust_rank = OFFICIAL_TRUST

    def request_headers(self) -> dict[str, str]:
        """What a live fetch must send: the API key from the environment (nothing when it is unset)."""
        key = os.environ.get(API_KEY_ENV, "").strip()
        return {"Authorization": f"Bearer {key}"} if key else {}

    def parse(self, document: Document) -> list[ScrapedPrice]:
        try:
            payload = json.loads(document.content, parse_float=Decimal)
        except ValueError as exc:
            raise ParseError(f"not JSON: {exc}") from exc
        # A bare array today; an OpenAI-style {"data": [...]} is read the same way.
        models = payload.get("data") if isinstance(payload, dict) else payload
        if not isinstance(models, list):
            raise ParseError('no list of models (a JSON array, or {"data": [...]}) in the response')
        entries = [m for m in models if isinstance(m, dict) and m.get("id") and isinstance(m.get("pricing"), dict)]
        if not entries:
            raise ParseError("no model with an id and a pricing object in the response")
        records: list[ScrapedPrice] = []
        for entry in entries:
            if str(entry.get("type", "")).lower() in TEXT_TYPES:
                records.extend(self._entry_prices(entry))
        if not records:
            raise ParseError(f"no chat/language model with a token price among {len(entries)} models")
        return records

    def _entry_prices(self, entry: dict[str, Any]) -> list[ScrapedPrice]:
        model = str(entry["id"])
        pricing = entry["pricing"]
        amounts: dict[str, Decimal] = {}
        for key in COMPONENT_BY_KEY:
            raw = pricing.get(key)
            if raw is None:
                continue
            if isinstance(raw, bool) or not isinstance(raw, int | Decimal):
                raise ParseError(f"{model}: pricing.{key} is not a number: {raw!r}")
            amount = Decimal(raw)
            if not amount.is_finite() or amount < 0:
                raise ParseError(f"{model}: pricing.{key} is not a price: {raw!r}")
            amounts[key] = amount
        # Both zero: no serverless token price (a dedicated-only or retired model), not a free one.
        if not any(amounts.values()):
            return []
        base = ScrapedPrice(
            provider=self.provider,
            model=model,
            component="input",
            amount_per_mtok=Decimal(0),
            model_name=str(entry.get("display_name") or ""),
            context_window=int_or_none(entry.get("context_length")) or None,
            creator=model.split("/", 1)[0] if "/" in model else "",
            notes={"type": str(entry.get("type"))},
        )
        return [
            base.replace(
                component=COMPONENT_BY_KEY[key],
                amount_per_mtok=amount,
                original=f"${amount} / 1M tokens",
                excerpt=f'"id":"{model}" pricing.{key}={amount}',
            )
            for key, amount in amounts.items()
        ]

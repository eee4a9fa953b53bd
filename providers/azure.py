"""Azure OpenAI on Azure: the Azure Retail Prices API's token meters, by region and deployment scope.

The API answers ``{"BillingCurrency", "Items": [...], "NextPageLink", "Count"}``, 100 items a page; every
item is one meter in one region (``armRegionName``) with ``retailPrice`` per ``unitOfMeasure`` ("1M", "1K").
What a meter prices is only written in its ``skuName``, in Azure's abbreviations::

    5.4 mini Batch cd Inp Gl    -> gpt-5.4-mini, cached input, batch, Global
    5.4 pro longco opt Dz       -> gpt-5.4-pro, output, long context, Data Zone
    5.4 pp inp Gl               -> gpt-5.4, input, priority processing, Global

The model words come first, then flags in any order: ``Inp``/``opt`` (component), ``cd`` (cached),
``Batch``/``pp`` (mode), ``longco`` (long context), ``Gl``/``Dz``/``Rg`` (deployment scope). A meter with a
word we do not know (audio, realtime, fine-tuning, hosting...) is another product and is skipped.

Long-context meters state no threshold. The threshold comes from a page that states it (``LONG_CONTEXT``);
a long-context meter of a model not in that table is skipped with a log line, never guessed.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from pricing.units import NotationError, per_mtok, to_decimal
from providers.base import OFFICIAL_TRUST, Document, ParseError, ScrapedPrice, Scraper, decimal_to_str

log = logging.getLogger(__name__)

# Long-context thresholds (prompt tokens; the long tier starts one token above) for models whose own
# pricing page states them. OpenAI's API pricing page (https://developers.openai.com/api/docs/pricing, read
# 2026-08-21) heads its columns "Short context: ≤272K input tokens" / "Long context: >272K input tokens"
# and labels these rows "(<272K context length)". Add a model here only with such a source.
LONG_CONTEXT: dict[str, int] = {
    "gpt-5.4": 272_000,
    "gpt-5.4-pro": 272_000,
    "gpt-5.5": 272_000,
    "gpt-5.5-pro": 272_000,
    "gpt-5.6-sol": 272_000,
    "gpt-5.6-terra": 272_000,
    "gpt-5.6-luna": 272_000,
}

COMPONENT_WORDS = {"inp": "input", "input": "input", "opt": "output", "outp": "output", "output": "output"}
CACHED_WORDS = frozenset({"cd", "cached", "cchd"})
MODE_WORDS = {"batch": "batch", "pp": "priority", "priority": "priority"}
LONG_CONTEXT_WORDS = frozenset({"longco"})
SCOPE_WORDS = {
    "gl": "Global",
    "glbl": "Global",
    "global": "Global",
    "dz": "Data Zone",
    "dzone": "Data Zone",
    "datazone": "Data Zone",
    "rg": "Regional",
    "regnl": "Regional",
    "regional": "Regional",
}
FLAG_WORDS = (
    set(COMPONENT_WORDS) | CACHED_WORDS | set(MODE_WORDS) | LONG_CONTEXT_WORDS | set(SCOPE_WORDS) | {"std", "standard"}
)
# Words that make a meter another product than text tokens of a chat model.
OTHER_PRODUCT_WORDS = frozenset(
    {"aud", "audio", "img", "image", "images", "rt", "realtime", "ft", "fine", "tuned", "training", "trng"}
    | {"hosting", "hstng", "grader", "tts", "transcribe", "embedding", "embeddings", "ptu", "provisioned"}
)
UNIT = re.compile(r"^\s*(\d+)\s*([KM]?)\s*$", re.IGNORECASE)
UNIT_SCALE = {"": 1, "K": 1_000, "M": 1_000_000}
CONSUMPTION = "Consumption"


@dataclass(frozen=True)
class Meter:
    """What one skuName says."""

    model: str
    component: str
    mode: str
    long_context: bool
    deploy_scope: str


def read_sku(sku_name: str, product_name: str) -> Meter | None:
    """``"5.4 mini Batch cd Inp Gl"`` (product "Azure OpenAI GPT5") -> Meter; None when it is not a text-token meter."""
    words = sku_name.split()
    model_words: list[str] = []
    component = mode = scope = ""
    cached = long_context = False
    for word in words:
        low = word.lower()
        if low in OTHER_PRODUCT_WORDS:
            return None
        if low not in FLAG_WORDS:
            if component or mode or scope or cached or long_context:
                return None  # a model word after the flags: a grammar we do not know
            model_words.append(low)
        elif low in COMPONENT_WORDS:
            component = COMPONENT_WORDS[low]
        elif low in CACHED_WORDS:
            cached = True
        elif low in MODE_WORDS:
            mode = MODE_WORDS[low]
        elif low in LONG_CONTEXT_WORDS:
            long_context = True
        elif low in SCOPE_WORDS:
            scope = SCOPE_WORDS[low]
    if not model_words or not component or (cached and component != "input"):
        return None
    model = "-".join(model_words)
    # The GPT products drop the family name from their skus: "5.4 mini" is gpt-5.4-mini.
    if model[0].isdigit() and "gpt" in product_name.lower():
        model = f"gpt-{model}"
    return Meter(
        model=model,
        component="cached_input" if cached else component,
        mode=mode or "standard",
        long_context=long_context,
        deploy_scope=scope,
    )


class Azure(Scraper):
    slug = "azure"
    name = "Azure Retail Prices API (Azure OpenAI meters)"
    kind = "official"
    provider = "azure"
    provider_name = "Microsoft Azure"
    provider_website = "https://azure.microsoft.com/pricing/details/cognitive-services/openai-service/"
    # Azure OpenAI meters are the "Azure OpenAI…" products of the Foundry Models service, in every region.
    urls = (
        "https://prices.azure.com/api/retail/prices?$filter="
        "serviceName%20eq%20%27Foundry%20Models%27%20and%20contains(productName,%20%27Azure%20OpenAI%27)"
        "%20and%20priceType%20eq%20%27Consumption%27",
    )
    hosts = ("prices.azure.com",)
    trust_rank = OFFICIAL_TRUST

    def next_urls(self, document: Document) -> list[str]:
        """The API pages (100 items a page): the next page's URL, from the page itself."""
        link = _payload(document).get("NextPageLink")
        return [str(link)] if link else []

    def parse(self, document: Document) -> list[ScrapedPrice]:
        return self.parse_all([document])

    def parse_all(self, documents: Sequence[Document]) -> list[ScrapedPrice]:
        # All pages at once: a base meter and its long-context sibling may sit on different pages.
        items: list[dict[str, Any]] = []
        for document in documents:
            items.extend(item for item in _items(document) if isinstance(item, dict))
        fetched = [d.fetched_at for d in documents if d.fetched_at is not None]
        records = self._records(items, now=max(fetched) if fetched else None)
        if not records:
            raise ParseError("no Azure OpenAI token meters (skuName like '5.4 inp Gl', unitOfMeasure '1M') in Items")
        return records

    def _records(self, items: list[dict[str, Any]], *, now: dt.datetime | None) -> list[ScrapedPrice]:
        chosen: dict[tuple[Any, ...], tuple[str, ScrapedPrice]] = {}
        for item in items:
            read = self._item_price(item)
            if read is None:
                continue
            meter, record = read
            key = (*record.key, meter.long_context)
            started = str(item.get("effectiveStartDate") or "")
            if now is not None and started > now.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"):
                log.info("azure: skipping %r: its price starts %s, after the fetch", item.get("meterName"), started)
                continue
            # One meter listed twice (an older and a newer price): the latest start is the price now.
            if key not in chosen or started > chosen[key][0]:
                chosen[key] = (started, record)
        records = [record for _, record in chosen.values()]
        return close_base_tiers(records)

    def _item_price(self, item: dict[str, Any]) -> tuple[Meter, ScrapedPrice] | None:
        sku_name = str(item.get("skuName") or "")
        meter_name = str(item.get("meterName") or "")
        if item.get("type", CONSUMPTION) != CONSUMPTION or not meter_name.lower().endswith("tokens"):
            return None
        meter = read_sku(sku_name, str(item.get("productName") or ""))
        if meter is None:
            log.info("azure: skipping meter %r: not a text-token meter we can read", meter_name)
            return None
        if int(item.get("tierMinimumUnits") or 0) != 0:
            log.info("azure: skipping volume tier of %r (tierMinimumUnits %s)", meter_name, item["tierMinimumUnits"])
            return None
        tier_min = None
        if meter.long_context:
            threshold = LONG_CONTEXT.get(meter.model)
            if threshold is None:
                log.warning("azure: skipping long-context meter %r: no stated threshold for %s", sku_name, meter.model)
                return None
            tier_min = threshold + 1
        unit = UNIT.match(str(item.get("unitOfMeasure") or ""))
        if unit is None:
            log.info("azure: skipping %r: unit %r is not a token count", meter_name, item.get("unitOfMeasure"))
            return None
        unit_tokens = int(unit.group(1)) * UNIT_SCALE[unit.group(2).upper()]
        raw = item.get("retailPrice")
        try:
            amount = to_decimal(raw if isinstance(raw, int | Decimal | str) else str(raw))
        except NotationError as exc:
            raise ParseError(f"{meter_name}: retailPrice is not a number: {raw!r}") from exc
        if amount < 0:
            raise ParseError(f"{meter_name}: negative retailPrice {raw!r}")
        region = str(item.get("armRegionName") or "")
        facts = (("region", region), ("deploy_scope", meter.deploy_scope))
        attributes = {name: value for name, value in facts if value}
        record = ScrapedPrice(
            provider=self.provider,
            model=meter.model,
            component=meter.component,
            mode=meter.mode,
            amount_per_mtok=Decimal(decimal_to_str(per_mtok(amount, unit_tokens=unit_tokens))),
            currency=str(item.get("currencyCode") or "USD"),
            tier_min_tokens=tier_min,
            original=f"{raw} {item.get('currencyCode') or 'USD'} / {item.get('unitOfMeasure')} tokens",
            excerpt=f'"meterName":"{meter_name}","armRegionName":"{region}","retailPrice":{raw}',
            notes={"meter_id": str(item.get("meterId") or ""), "effective_start": str(item.get("effectiveStartDate"))},
            attributes=attributes,
        )
        return meter, record


def close_base_tiers(records: list[ScrapedPrice]) -> list[ScrapedPrice]:
    """A base meter whose line also has a long-context meter applies up to that meter's threshold."""
    long_starts = {
        _line(r): r.tier_min_tokens for r in records if r.tier_min_tokens is not None and r.tier_max_tokens is None
    }
    closed = []
    for record in records:
        start = long_starts.get(_line(record)) if record.tier_min_tokens is None else None
        closed.append(record.replace(tier_max_tokens=start - 1) if start else record)
    return closed


def _line(record: ScrapedPrice) -> tuple[Any, ...]:
    attributes = tuple(sorted(record.attributes.items()))
    return (record.model, record.component, record.mode, record.currency, attributes)


def _payload(document: Document) -> dict[str, Any]:
    try:
        payload = json.loads(document.content, parse_float=Decimal)
    except ValueError as exc:
        raise ParseError(f"not JSON: {exc}") from exc
    if not isinstance(payload, dict):
        raise ParseError("not a Retail Prices API answer: expected a JSON object with Items")
    return payload


def _items(document: Document) -> list[Any]:
    items = _payload(document).get("Items")
    if not isinstance(items, list):
        raise ParseError('no "Items" list in the Retail Prices API answer')
    return items

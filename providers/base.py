"""What every source adapter shares: the record it yields and the class it subclasses.

An adapter knows pages, never the database: ``parse`` takes one fetched document and returns
``ScrapedPrice`` records. Fetching, validation and storage are written once elsewhere
(``providers.http`` and ``pricing.services``).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, ClassVar, Literal

COMPONENTS = ("input", "cached_input", "cache_write_5m", "cache_write_1h", "output")
# Facts that tell apart several prices of one model, component, mode and prompt tier on one page.
# The first ones describe *how the offering is sold* (where, with which deployment scope, through which
# supply variant): each distinct combination is its own offering of one model. The others are
# *conditions of a price* within one offering (output length, thinking on/off, hours, cache kind).
OFFERING_ATTRIBUTES = ("region", "deploy_scope", "variant")
PRICE_CONDITIONS = ("output_tier", "thinking", "hours", "cache_type")
ATTRIBUTES = (*OFFERING_ATTRIBUTES, *PRICE_CONDITIONS)
MODES = ("standard", "batch", "flex", "priority", "off_peak")
SourceKind = Literal["official", "aggregator"]


class ParseError(Exception):
    """The document no longer has the shape the adapter knows how to read ("layout changed?")."""


@dataclass(frozen=True)
class Document:
    """One fetched (or saved) page or API response."""

    url: str
    content: bytes
    content_type: str = ""
    fetched_at: dt.datetime | None = None
    etag: str = ""
    last_modified: str = ""

    @property
    def text(self) -> str:
        return self.content.decode("utf-8", errors="replace")

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.content).hexdigest()


@dataclass(frozen=True)
class ScrapedPrice:
    """One price as a page states it, already normalised to an amount per 1M tokens.

    ``amount_per_mtok`` is exact (Decimal) and in ``currency``, the page's own currency.
    ``original`` keeps the figure and unit as printed (``"$0.00000014 / token"``).
    Offering facts (``model_name``, ``context_window``, ``tokenizer``, ``creator``) ride along on
    every record of the offering; ingest reads them once per offering.
    """

    provider: str
    model: str
    component: str
    amount_per_mtok: Decimal
    mode: str = "standard"
    currency: str = "USD"
    tier_min_tokens: int | None = None
    tier_max_tokens: int | None = None
    original: str = ""
    excerpt: str = ""
    # When the page itself dates the price ("through August 31, 2026"); None means "now on".
    valid_from: dt.datetime | None = None
    valid_to: dt.datetime | None = None
    model_name: str = ""
    # The seller's own id of the offering when ``model`` is another spelling of it that a source uses (a
    # routed key such as LiteLLM's "deepseek/deepseek-chat"); empty when ``model`` is the own id.
    own_id: str = ""
    context_window: int | None = None
    tokenizer: str = ""
    creator: str = ""
    # Free-form facts an adapter wants kept with the price (e.g. off-peak UTC hours).
    notes: dict[str, Any] = field(default_factory=dict, hash=False, compare=False)
    # Named ATTRIBUTES that tell this price apart from its siblings: strings as the page writes them
    # ("华北2（北京）", "Global", "on"), except ``output_tier``: {"min_tokens": N|None, "max_tokens": N|None}.
    attributes: dict[str, Any] = field(default_factory=dict, hash=False, compare=False)

    @property
    def offering_id(self) -> str:
        """The id the offering is stored under."""
        return self.own_id or self.model

    @property
    def key(self) -> tuple[str, str, str, str, int | None, int | None, str, str]:
        """Identity of a price line within one observation (excluding its dates and amount)."""
        return (
            self.provider,
            self.model,
            self.component,
            self.mode,
            self.tier_min_tokens,
            self.tier_max_tokens,
            self.currency,
            attributes_key(self.attributes),
        )

    def as_contract(self) -> dict[str, Any]:
        """The record as the scrape contract prints it (``--json``)."""
        record: dict[str, Any] = {
            "provider": self.provider,
            "model": self.model,
            "component": self.component,
            "mode": self.mode,
            "tier_min_tokens": self.tier_min_tokens,
            "tier_max_tokens": self.tier_max_tokens,
            "amount": decimal_to_str(self.amount_per_mtok),
            "currency": self.currency,
            "unit": "1M tokens",
        }
        if self.model_name:
            record["name"] = self.model_name
        if self.original:
            record["original"] = self.original
        if self.valid_from:
            record["valid_from"] = self.valid_from.isoformat()
        if self.valid_to:
            record["valid_to"] = self.valid_to.isoformat()
        if self.attributes:
            record["attributes"] = dict(self.attributes)
        return record

    def replace(self, **changes: Any) -> ScrapedPrice:
        return dataclasses.replace(self, **changes)


@dataclass(frozen=True)
class ScrapedRetirement:
    """A seller's own statement that one of its model ids is retired (or will be on ``retires_at``), and
    which model its requests now go to: "deepseek-chat ... deprecated 2026/07/24 ... corresponds to
    deepseek-v4-flash's non-thinking mode". Only a source run by the seller itself states these."""

    provider: str
    model: str
    retires_at: dt.datetime | None = None  # None: already retired when the document was captured
    successor: str = ""
    # Price conditions of the successor the old id maps to (PRICE_CONDITIONS: {"thinking": "off"}).
    successor_conditions: dict[str, str] = field(default_factory=dict, hash=False, compare=False)
    excerpt: str = ""

    def as_contract(self) -> dict[str, Any]:
        return {
            "provider": self.provider,
            "model": self.model,
            "retires_at": self.retires_at.isoformat() if self.retires_at else None,
            "successor": self.successor,
            "successor_conditions": dict(self.successor_conditions),
            "excerpt": self.excerpt,
        }


def attributes_key(attributes: dict[str, Any], names: Sequence[str] = ATTRIBUTES) -> str:
    """The ``names`` among ``attributes`` as one canonical string ("" when none): how lines are keyed.

    ``{"region": "eastus", "deploy_scope": "Global"}`` -> ``deploy_scope=Global;region=eastus``; an
    output tier is written ``output_tier=201-`` (inclusive bounds, open ends empty)."""
    parts = []
    for name in sorted(n for n in names if attributes.get(n) not in (None, "")):
        value = attributes[name]
        if isinstance(value, dict):
            low, high = value.get("min_tokens"), value.get("max_tokens")
            value = f"{'' if low is None else low}-{'' if high is None else high}"
        parts.append(f"{name}={value}")
    return ";".join(parts)


def match_key(model_id: str) -> str:
    """An id lowercased with every separator removed: "Claude Sonnet 4.5" and "claude-sonnet-4-5" meet."""
    return re.sub(r"[^0-9a-z]", "", model_id.lower())


def decimal_to_str(value: Decimal) -> str:
    """A Decimal as a plain string without exponent or trailing zeros: 0.14000000 -> "0.14"."""
    text = format(value.normalize(), "f")
    return "0" if text in ("-0", "") else text


class Scraper:
    """Base class of every source adapter: identity as class attributes, ``parse`` as the only logic.

    ``trust_rank``: higher is more trusted. The published price of an offering comes from the most
    trusted source that has it; a less trusted source fills gaps and raises review items.
    """

    slug: ClassVar[str]
    name: ClassVar[str]
    kind: ClassVar[SourceKind]
    # For an official source: the provider it speaks for (usually the slug itself).
    provider: ClassVar[str] = ""
    provider_name: ClassVar[str] = ""
    provider_website: ClassVar[str] = ""
    urls: ClassVar[Sequence[str]]
    hosts: ClassVar[Sequence[str]]
    trust_rank: ClassVar[int] = 100
    # A run that yields fewer than this share of the previous good run's records fails.
    min_share_of_previous: ClassVar[float] = 0.5

    def parse(self, document: Document) -> list[ScrapedPrice]:
        raise NotImplementedError

    def next_urls(self, document: Document) -> list[str]:
        """Further pages a fetched document leads to (an API's next-page link), fetched in the same run."""
        return []

    def request_headers(self) -> dict[str, str]:
        """Headers every live fetch of this source sends (an API key from the environment)."""
        return {}

    def retirements(self, document: Document) -> list[ScrapedRetirement]:
        """The seller's statements in ``document`` that ids are retired or map to another model."""
        return []

    def parse_all(self, documents: Sequence[Document]) -> list[ScrapedPrice]:
        records: list[ScrapedPrice] = []
        for document in documents:
            records.extend(self.parse(document))
        return records

    def retirements_all(self, documents: Sequence[Document]) -> list[ScrapedRetirement]:
        return [statement for document in documents for statement in self.retirements(document)]


OFFICIAL_TRUST = 100
AGGREGATOR_TRUST = 10

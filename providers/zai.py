"""Z.ai's pricing page (docs.z.ai/guides/overview/pricing), the international GLM platform, in USD.

A Mintlify doc: "All prices are in USD." and one static <table> per section ("Text Models", "Vision
Models", "Built-in Tools", image, video, audio, agents). The token price lists have the columns
``Model | Input | Cached Input | Cached Input Storage | Output`` with cells like ``$1.4`` per 1M tokens
("Prices per 1M tokens."); ``Free`` models and ``-`` or ``\\`` (not offered) cells carry no price.
The other sections price per use, image or video, or sell audio and agent products: their tables have
no Input/Output columns and are left alone.
"""

from __future__ import annotations

import re

from bs4 import Tag

from pricing.units import NotationError, parse_price
from providers.base import OFFICIAL_TRUST, Document, ParseError, ScrapedPrice, Scraper
from providers.helpers import cell_text, html_grid, page_tables

MODEL_HEADER = re.compile(r"^models?$", re.IGNORECASE)
# Column labels and their component; "Cached Input Storage" is a storage fee per hour, not a token price.
COLUMN_PATTERNS = (
    (None, re.compile(r"storage", re.IGNORECASE)),
    ("cached_input", re.compile(r"cache", re.IGNORECASE)),
    ("input", re.compile(r"^input", re.IGNORECASE)),
    ("output", re.compile(r"^output", re.IGNORECASE)),
)
# "Prices per 1M tokens." above a table: the unit its bare "$1.4" cells are priced per.
UNIT_SENTENCE = re.compile(
    r"per\s+(?:1\s*M|one million|million|1,000,000|1\s*K|1,000|thousand)\s+tokens", re.IGNORECASE
)
NO_PRICE = re.compile(r"^(?:-|—|\\|/|n/?a|free|limited[-\s]time free)?$", re.IGNORECASE)


class ZAI(Scraper):
    slug = "zai"
    name = "Z.ai pricing page"
    kind = "official"
    provider = "zai"
    provider_name = "Z.ai"
    provider_website = "https://z.ai"
    urls = ("https://docs.z.ai/guides/overview/pricing",)
    hosts = ("docs.z.ai",)
    trust_rank = OFFICIAL_TRUST

    def parse(self, document: Document) -> list[ScrapedPrice]:
        _, tables = page_tables(document.content)
        records: list[ScrapedPrice] = []
        for table in tables:
            records.extend(self._table_prices(table))
        if not records:
            raise ParseError("no price table (Model | Input | Output columns) with a priced row")
        return records

    def _table_prices(self, table: Tag) -> list[ScrapedPrice]:
        grid = html_grid(table)
        if not grid or not MODEL_HEADER.match(cell_text(grid[0][0])):
            return []
        labels = [cell_text(cell) for cell in grid[0]]
        columns = {i: component for i, label in enumerate(labels) if i and (component := _component(label))}
        if "input" not in columns.values() or "output" not in columns.values():
            return []
        section, unit = _section(table), _unit(table)
        records: list[ScrapedPrice] = []
        for row in grid[1:]:
            texts = [cell_text(cell) for cell in row]
            model = texts[0]
            if not model:
                continue
            for col, component in columns.items():
                cell = texts[col]
                if NO_PRICE.match(cell):
                    continue
                original = cell if re.search(r"/|\bper\b", cell, re.IGNORECASE) else f"{cell} {unit}"
                try:
                    price = parse_price(original, default_currency="USD")
                except NotationError as exc:
                    raise ParseError(f"{model} {labels[col]}: {exc}") from exc
                records.append(
                    ScrapedPrice(
                        provider=self.provider,
                        model=model,
                        component=component,
                        amount_per_mtok=price.amount_per_mtok,
                        currency=price.currency,
                        original=price.original,
                        excerpt=f"[{section}] {' | '.join(texts)}; {labels[col]} = {cell}",
                        creator="zhipu",
                    )
                )
        return records


def _component(label: str) -> str | None:
    for component, pattern in COLUMN_PATTERNS:
        if pattern.search(label):
            return component
    return None


def _section(table: Tag) -> str:
    heading = table.find_previous(["h2", "h3", "h4"])
    return " ".join(heading.get_text(" ", strip=True).replace("\u200b", "").split()) if heading else ""


def _unit(table: Tag) -> str:
    """The unit the sentence between the table and its heading prices by; per 1M tokens when none says."""
    for element in table.find_all_previous(["p", "h2", "h3", "h4"]):
        if not isinstance(element, Tag) or element.name != "p":
            break
        match = UNIT_SENTENCE.search(element.get_text(" ", strip=True))
        if match:
            return match.group(0)
    return "per 1M tokens"

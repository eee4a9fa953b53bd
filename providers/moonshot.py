"""Moonshot AI's Kimi pricing pages (platform.kimi.com/docs/pricing/...), one page per model family, in CNY.

Each page is a Mintlify-style doc with one price table: ``模型 | 计费单位 | 输入价格（缓存命中）|
输入价格（缓存未命中）| 输出价格 | 上下文窗口``, one row per model id, cells like ``¥1.10`` priced per the
row's billing unit (``1M tokens``). Every page has the same shape, so a page is read the same way
whichever family it prices; columns are found by their labels, never by position.
"""

from __future__ import annotations

import re

from bs4 import Tag

from pricing.units import NotationError, parse_price
from providers.base import OFFICIAL_TRUST, Document, ParseError, ScrapedPrice, Scraper
from providers.helpers import cell_text, html_grid, page_tables, token_count

MODEL_HEADER = re.compile(r"^(模型|模型名称|model)$", re.IGNORECASE)
# A cache-miss label also says "input", so it is matched before plain input.
COLUMN_PATTERNS = (
    ("input", re.compile(r"缓存未命中|cache\s*miss", re.IGNORECASE)),
    ("cached_input", re.compile(r"缓存命中|cache\s*hit|cached", re.IGNORECASE)),
    ("output", re.compile(r"输出|output", re.IGNORECASE)),
    ("input", re.compile(r"输入|input", re.IGNORECASE)),
)
UNIT_HEADER = re.compile(r"计费单位|unit", re.IGNORECASE)
CONTEXT_HEADER = re.compile(r"上下文|context", re.IGNORECASE)
# Cells that say "no price here" rather than a price.
NO_PRICE = re.compile(r"^(?:-|—|/|\\|n/?a|不支持|免费|free)?$", re.IGNORECASE)


class Moonshot(Scraper):
    slug = "moonshot"
    name = "Kimi API pricing pages"
    kind = "official"
    provider = "moonshot"
    provider_name = "Moonshot AI (Kimi)"
    provider_website = "https://www.moonshot.cn"
    urls = (
        "https://platform.kimi.com/docs/pricing/chat-k26",
        "https://platform.kimi.com/docs/pricing/chat-k25",
        "https://platform.kimi.com/docs/pricing/chat-k27-code",
    )
    hosts = ("platform.kimi.com",)
    trust_rank = OFFICIAL_TRUST

    def parse(self, document: Document) -> list[ScrapedPrice]:
        _, tables = page_tables(document.content)
        records: list[ScrapedPrice] = []
        for table in tables:
            records.extend(self._table_prices(table))
        if not records:
            raise ParseError("no price table (模型 | 输入价格 | 输出价格 columns) with a priced row")
        return records

    def _table_prices(self, table: Tag) -> list[ScrapedPrice]:
        grid = html_grid(table)
        if not grid or not MODEL_HEADER.match(cell_text(grid[0][0])):
            return []
        labels = [cell_text(cell) for cell in grid[0]]
        columns = {i: component for i, label in enumerate(labels) if i and (component := _component(label))}
        if not columns:
            return []
        unit_col = next((i for i, label in enumerate(labels) if UNIT_HEADER.search(label)), None)
        context_col = next((i for i, label in enumerate(labels) if CONTEXT_HEADER.search(label)), None)
        records: list[ScrapedPrice] = []
        for row in grid[1:]:
            texts = [cell_text(cell) for cell in row]
            model = texts[0]
            if not model or MODEL_HEADER.match(model):
                continue
            unit = texts[unit_col] if unit_col is not None else ""
            context = token_count(texts[context_col]) if context_col is not None else None
            for col, component in columns.items():
                cell = texts[col]
                if NO_PRICE.match(cell):
                    continue
                original = f"{cell} / {unit}" if unit else cell
                try:
                    price = parse_price(original, default_currency="CNY")
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
                        excerpt=f"{labels[col]}: {' | '.join(texts)}",
                        context_window=context,
                        creator="moonshot",
                    )
                )
        return records


def _component(label: str) -> str | None:
    if UNIT_HEADER.search(label) or CONTEXT_HEADER.search(label):
        return None
    return next((component for component, pattern in COLUMN_PATTERNS if pattern.search(label)), None)

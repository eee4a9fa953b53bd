"""MiniMax's enterprise API price page (platform.minimaxi.com, Token Plan, "API 企业" tab), in CNY.

A Next.js page whose language-model prices are not in <table>s but in Tailwind ``div.grid`` rows under
the h2 "语言模型": per card, one header grid (``模型 | 输入价格 百万 tokens | 输出价格 | 缓存读取`` or
``模型 | 输入(含多模态) | 输出 | 缓存读取 | 缓存写入``) and one grid per row. A model cell holds the id and
may hold a prompt-length condition (``上下文 ≤ 512K``, ``上下文 512K ~ 1M``) and a discount badge
(``永久五折``). A discounted price cell shows the struck-through list price (``line-through``) and the
price actually charged: the charged one is the price; the list price is kept in ``notes``.
A card may have tabs (标准 / 优先): only the selected tab is rendered, and it names the mode.
Video, speech and music (the page's <table>s) are priced per video, character or song: not read.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

from bs4 import BeautifulSoup, Tag

from pricing.units import NotationError, parse_price
from providers.base import OFFICIAL_TRUST, Document, ParseError, ScrapedPrice, Scraper
from providers.helpers import cell_text

SECTION_HEADING = re.compile(r"语言模型|language models?", re.IGNORECASE)
MODEL_HEADER = re.compile(r"^(模型|model)$", re.IGNORECASE)
# Column labels and their component; a cache write label also says "缓存", so it is matched first.
COLUMN_PATTERNS = (
    ("cache_write_5m", re.compile(r"缓存写入|cache\s*write", re.IGNORECASE)),
    ("cached_input", re.compile(r"缓存读取|缓存命中|cache\s*(read|hit)", re.IGNORECASE)),
    ("output", re.compile(r"输出|output", re.IGNORECASE)),
    ("input", re.compile(r"输入|input", re.IGNORECASE)),
)
MODES_BY_TAB = {"标准": "standard", "standard": "standard", "优先": "priority", "priority": "priority"}
CONDITION = re.compile(r"上下文|context", re.IGNORECASE)
# "≤ 512K", "512K ~ 1M", "> 1M"
BOUND = r"(\d+(?:\.\d+)?)\s*([KM])"
UP_TO = re.compile(rf"(?:≤|<=|<)\s*{BOUND}", re.IGNORECASE)
BETWEEN = re.compile(rf"{BOUND}\s*[~～\-–]\s*{BOUND}", re.IGNORECASE)
ABOVE = re.compile(rf"(?:>|≥|>=)\s*{BOUND}", re.IGNORECASE)
STRUCK = re.compile(r"line-through")
NO_PRICE = re.compile(r"^(?:-|—|/|不支持|免费|free)?$", re.IGNORECASE)


class MiniMax(Scraper):
    slug = "minimax"
    name = "MiniMax enterprise API pricing page"
    kind = "official"
    provider = "minimax"
    provider_name = "MiniMax"
    provider_website = "https://www.minimaxi.com"
    urls = ("https://platform.minimaxi.com/subscribe/token-plan?tab=api-enterprise",)
    hosts = ("platform.minimaxi.com",)
    trust_rank = OFFICIAL_TRUST

    def parse(self, document: Document) -> list[ScrapedPrice]:
        soup = BeautifulSoup(document.content, "lxml")
        heading = next(
            (
                h
                for h in soup.find_all(["h1", "h2", "h3"])
                if isinstance(h, Tag) and SECTION_HEADING.search(cell_text(h))
            ),
            None,
        )
        if heading is None:
            raise ParseError('no "语言模型" (language models) heading on the page')
        section = _section_of(heading)
        records: list[ScrapedPrice] = []
        for header in section.find_all("div", class_="grid"):
            if isinstance(header, Tag) and _is_header(header):
                records.extend(self._grid_prices(header))
        if not records:
            raise ParseError('no price grid (模型 | 输入 | 输出 columns) with a priced row under "语言模型"')
        return records

    def _grid_prices(self, header: Tag) -> list[ScrapedPrice]:
        # A header cell may stack its label and its unit ("输入价格" over "百万 tokens").
        labels = [cell.get_text(" ", strip=True) for cell in _cells(header)]
        columns = {i: component for i, label in enumerate(labels) if i and (component := _component(label))}
        if not columns:
            return []
        mode = _mode(header)
        records: list[ScrapedPrice] = []
        for row in header.find_next_siblings("div"):
            if not isinstance(row, Tag) or "grid" not in (row.get("class") or []) or _is_header(row):
                break
            cells = _cells(row)
            if len(cells) < len(labels):
                continue
            model, condition, badges = _model_cell(cells[0])
            if not model:
                continue
            tier = _tier(condition)
            for col, component in columns.items():
                charged, listed = _figures(cells[col])
                if NO_PRICE.match(charged):
                    continue
                unit = _unit(cells[col], labels[col])
                original = f"{charged} / {unit}"
                try:
                    price = parse_price(original, default_currency="CNY")
                except NotationError as exc:
                    raise ParseError(f"{model} {labels[col]}: {exc}") from exc
                notes: dict[str, Any] = {}
                if listed:
                    notes["list_price"] = listed
                if badges:
                    notes["discount"] = " ".join(badges)
                records.append(
                    ScrapedPrice(
                        provider=self.provider,
                        model=model,
                        component=component,
                        mode=mode,
                        amount_per_mtok=price.amount_per_mtok,
                        currency=price.currency,
                        tier_min_tokens=tier[0],
                        tier_max_tokens=tier[1],
                        original=price.original,
                        excerpt=_excerpt(model, condition, badges, labels[col], charged, listed),
                        creator="minimax",
                        notes=notes,
                    )
                )
        return records


def _section_of(heading: Tag) -> Tag:
    """The smallest ancestor of the heading that holds price grids (the heading sits in its own wrapper)."""
    for ancestor in heading.parents:
        if isinstance(ancestor, Tag) and ancestor.find("div", class_="grid"):
            return ancestor
    raise ParseError('no price grid under the "语言模型" heading')


def _cells(grid: Tag) -> list[Tag]:
    return [cell for cell in grid.find_all(recursive=False) if isinstance(cell, Tag)]


def _is_header(grid: Tag) -> bool:
    cells = _cells(grid)
    return bool(cells) and bool(MODEL_HEADER.match(cell_text(cells[0])))


def _component(label: str) -> str | None:
    return next((component for component, pattern in COLUMN_PATTERNS if pattern.search(label)), None)


def _mode(header: Tag) -> str:
    """The mode named by the selected tab of the card the grid is in; standard when the card has no tabs."""
    for ancestor in header.parents:
        if not isinstance(ancestor, Tag):
            continue
        tablist = ancestor.find(attrs={"role": "tablist"})
        if isinstance(tablist, Tag):
            selected = tablist.find(attrs={"role": "tab", "aria-selected": "true"})
            label = cell_text(selected) if isinstance(selected, Tag) else ""
            return MODES_BY_TAB.get(label.lower(), "standard") if label else "standard"
        if ancestor.find("h2") is not None:
            break
    return "standard"


def _model_cell(cell: Tag) -> tuple[str, str, list[str]]:
    """(model id, prompt-length condition, badges) of a row's first cell."""
    spans = [cell_text(span) for span in cell.find_all("span") if isinstance(span, Tag)]
    texts = [text for text in spans if text] or [cell_text(cell)]
    model = texts[0]
    condition = next((text for text in texts[1:] if CONDITION.search(text)), "")
    badges = [text for text in texts[1:] if text != condition]
    return model, condition, badges


def _tier(condition: str) -> tuple[int | None, int | None]:
    """Inclusive prompt-length bounds: "≤ 512K" -> (None, 512000); "512K ~ 1M" -> (512001, 1000000)."""
    if not condition:
        return None, None
    between = BETWEEN.search(condition)
    if between:
        return _tokens(between.group(1), between.group(2)) + 1, _tokens(between.group(3), between.group(4))
    up_to = UP_TO.search(condition)
    if up_to:
        return None, _tokens(up_to.group(1), up_to.group(2)) - (1 if "<" in condition and "≤" not in condition else 0)
    above = ABOVE.search(condition)
    if above:
        return _tokens(above.group(1), above.group(2)) + (0 if "≥" in condition else 1), None
    raise ParseError(f"cannot read a prompt-length tier from {condition!r}")


def _tokens(number: str, scale: str) -> int:
    return int(Decimal(number) * {"k": 1_000, "m": 1_000_000}[scale.lower()])


def _figures(cell: Tag) -> tuple[str, str]:
    """(charged figure, struck list figure or ""): the struck span is the list price, the other the price."""
    charged, listed = "", ""
    for span in cell.find_all("span"):
        if not isinstance(span, Tag):
            continue
        text = cell_text(span)
        if not re.search(r"\d", text) and not NO_PRICE.match(text):
            continue
        if STRUCK.search(" ".join(span.get("class") or [])) or span.find_parent(["del", "s"]) is not None:
            listed = listed or text
        elif not charged:
            charged = text
    return (charged or cell_text(cell)), listed


def _unit(cell: Tag, label: str) -> str:
    """The unit the cell or its column header states ("/ 百万 tokens", "百万 tokens"); 1M tokens by default."""
    for text in (cell_text(cell), label):
        match = re.search(r"(百万|千|万|1M|1K|M|K)?\s*tokens", text, re.IGNORECASE)
        if match:
            return match.group(0)
    return "百万 tokens"


def _excerpt(model: str, condition: str, badges: list[str], label: str, charged: str, listed: str) -> str:
    head = " ".join(part for part in (model, condition, *badges) if part)
    label = re.sub(r"\s*(百万|千|万)?\s*tokens\s*$", "", label, flags=re.IGNORECASE)
    figure = f"{listed} (struck) {charged}" if listed else charged
    return f"{head} | {label}: {figure}"

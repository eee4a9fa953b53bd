"""OpenAI's API pricing page (developers.openai.com/api/docs/pricing).

The page is server-rendered Astro. Every pricing table is an ``<astro-island>`` whose ``props``
attribute carries the table's data as JSON (Astro's ``[type, value]`` encoding), next to a
rendered ``<table>`` that shows only the first few rows: the rest ("All models": gpt-4o, o3, ...)
exist only in the props. The rendered table, in turn, is the only place with the long-context
columns of the flagship text-token tables. So each table is read from both: rendered rows first,
then the props rows of models the rendered table did not show.

Tabs (Standard / Batch / Flex / Fast mode) are all in the HTML at once, one island per tab; the
mode comes from the island's ``tier`` prop or the switcher pane around it. "Fast mode" is
``priority`` (OpenAI renamed Priority processing to Fast mode). "Cache writes" carry no TTL on the
page; they are recorded as ``cache_write_5m``. Short/long context thresholds come from the header
tooltips ("≤272K input tokens"), which the page carries only in island props.

Only text tokens are read: image, audio, video, transcription, tool, embedding, moderation and
fine-tuning tables are skipped.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from bs4 import BeautifulSoup, Tag

from pricing.units import NotationError, parse_price
from providers.base import OFFICIAL_TRUST, Document, ParseError, ScrapedPrice, Scraper

TEXT_TOKEN_TABLES = "TextTokenPricingTables"
TABLE_COMPONENTS = (TEXT_TOKEN_TABLES, "GroupedPricingTable", "PricingTable")
# Page sections (the ``id`` of the ``<h2>`` above a table) that hold text-token prices.
TEXT_SECTIONS = ("text-tokens", "cyber-models", "specialized-models")
# Groups inside those sections that are not text generation.
SKIPPED_GROUPS = ("embedding", "embeddings", "moderation")
MODE_BY_TAB = {"standard": "standard", "batch": "batch", "flex": "flex", "fast": "priority", "priority": "priority"}
COMPONENT_BY_HEADING = {
    "input": "input",
    "cached input": "cached_input",
    "cache writes": "cache_write_5m",
    "cache write": "cache_write_5m",
    "output": "output",
}
# TextTokenPricingTables props carry no headings: rows are [model, *values], the values being the
# short-context columns, with the cache-write column only for the models that have one.
TEXT_TOKEN_COLUMNS = {
    4: ("input", "cached_input", "cache_write_5m", "output"),
    3: ("input", "cached_input", "output"),
}
EMPTY_CELLS = ("", "-", "–", "—", "n/a")
PLAIN_DOLLARS = re.compile(r"\$\s*[0-9][0-9,]*(?:\.[0-9]+)?|\$\s*\.[0-9]+")
COMPARISON = re.compile(r"(<=|>=|≤|≥|<|>)\s*([0-9]+(?:\.[0-9]+)?)\s*([KkMm])?")
CONTEXT_QUALIFIER = re.compile(r"^(?P<model>.*?)\s*\((?P<comparison>[^()]*?)\s*context length\)\s*$", re.IGNORECASE)

Tier = tuple[int | None, int | None]
NO_TIER: Tier = (None, None)


@dataclass(frozen=True)
class _Column:
    component: str | None
    group: str = ""  # column group label, e.g. "short context"


@dataclass(frozen=True)
class _Row:
    label: str
    category: str
    cells: tuple[tuple[_Column, Any], ...]
    excerpt: str


class OpenAI(Scraper):
    slug = "openai"
    name = "OpenAI API pricing"
    kind = "official"
    provider = "openai"
    provider_name = "OpenAI"
    provider_website = "https://openai.com"
    urls = ("https://developers.openai.com/api/docs/pricing",)
    hosts = ("developers.openai.com",)
    trust_rank = OFFICIAL_TRUST

    def parse(self, document: Document) -> list[ScrapedPrice]:
        soup = BeautifulSoup(document.content, "lxml")
        islands = [
            i
            for i in soup.find_all("astro-island")
            if isinstance(i, Tag) and i.get("component-export") in TABLE_COMPONENTS
        ]
        if not islands:
            raise ParseError(
                "no pricing tables found: no <astro-island> with component-export " + " / ".join(TABLE_COMPONENTS)
            )
        props = [_island_props(island) for island in islands]
        context_tiers = _context_tiers(props)
        records: list[ScrapedPrice] = []
        seen: set[tuple[Any, ...]] = set()
        text_tables = 0
        for island, island_props in zip(islands, props, strict=True):
            if not _is_text_tokens(island):
                continue
            mode = _mode_of(island, island_props)
            if mode is None:
                continue
            text_tables += 1
            # A model shown in two tables (gpt-5.6-sol in Flagship and Cyber) is recorded once.
            for record in self._island_prices(island, island_props, mode, context_tiers):
                if record.key not in seen:
                    seen.add(record.key)
                    records.append(record)
        if not text_tables:
            raise ParseError(f"no text-token pricing table found (sections {', '.join(TEXT_SECTIONS)})")
        if not records:
            raise ParseError("text-token pricing tables found, but no price could be read from them")
        return records

    def _island_prices(
        self, island: Tag, props: dict[str, Any], mode: str, context_tiers: dict[str, Tier]
    ) -> Iterator[ScrapedPrice]:
        where = f"{island.get('component-export')} ({mode})"
        table = island.find("table")
        shown = _rendered_rows(table, where) if isinstance(table, Tag) else []
        shown_models = {_split_label(row.label, where)[0] for row in shown}
        hidden = [
            row for row in _prop_rows(island, props, where) if _split_label(row.label, where)[0] not in shown_models
        ]
        if not shown and not hidden:
            raise ParseError(f"{where}: neither a rendered <table> nor rows in the island props")
        for row in shown + hidden:
            if row.category.strip().lower() in SKIPPED_GROUPS:
                continue
            model, label_tier = _split_label(row.label, where)
            if not model:
                continue
            for column, raw in row.cells:
                if column.component is None:
                    continue
                price = _amount(raw)
                if price is None:
                    continue
                amount, original = price
                tier = _intersect(label_tier, _group_tier(column.group, context_tiers, where))
                yield ScrapedPrice(
                    provider=self.provider,
                    model=model,
                    component=column.component,
                    amount_per_mtok=amount,
                    mode=mode,
                    currency="USD",
                    tier_min_tokens=tier[0],
                    tier_max_tokens=tier[1],
                    original=original,
                    excerpt=row.excerpt[:200],
                    creator="openai",
                )


# --- islands --------------------------------------------------------------------------------------


def _island_props(island: Tag) -> dict[str, Any]:
    raw = island.get("props") or "{}"
    try:
        encoded = json.loads(str(raw), parse_float=Decimal)
    except json.JSONDecodeError as exc:
        raise ParseError(f"{island.get('component-export')} island {island.get('uid')}: props are not JSON") from exc
    if not isinstance(encoded, dict):
        raise ParseError(f"{island.get('component-export')} island {island.get('uid')}: props are not an object")
    return {key: _astro(value) for key, value in encoded.items()}


def _astro(value: Any) -> Any:
    """Decode Astro's prop encoding: ``[0, value]`` plain, ``[1, [...]]`` array, ``[0]`` undefined."""
    if not isinstance(value, list) or not value:
        return value
    if len(value) == 1:
        return None
    kind, payload = value[0], value[1]
    if kind == 0:
        return {k: _astro(v) for k, v in payload.items()} if isinstance(payload, dict) else payload
    if kind == 1 and isinstance(payload, list):
        return [_astro(item) for item in payload]
    return payload  # dates, sets, URLs...: never price data


def _is_text_tokens(island: Tag) -> bool:
    if island.get("component-export") == TEXT_TOKEN_TABLES:
        return True
    heading = island.find_previous("h2")
    return isinstance(heading, Tag) and heading.get("id") in TEXT_SECTIONS


def _mode_of(island: Tag, props: dict[str, Any]) -> str | None:
    tab = props.get("tier")
    if not isinstance(tab, str):
        pane = island.find_parent(attrs={"data-content-switcher-pane": True})
        tab = str(pane.get("data-value") or "standard") if isinstance(pane, Tag) else "standard"
    # A tab we have no mode for (a new service tier) is left out rather than guessed.
    return MODE_BY_TAB.get(tab.strip().lower())


def _context_tiers(all_props: list[dict[str, Any]]) -> dict[str, Tier]:
    """Column-group label -> token range, from header tooltips such as ``≤272K input tokens``."""
    tiers: dict[str, Tier] = {}
    for props in all_props:
        for heading in _tooltip_headings(props):
            label, tooltip = _text(heading.get("label")).lower(), _text(heading.get("tooltip"))
            tier = _comparison_tier(tooltip)
            if label and tier is not None and "token" in tooltip.lower():
                tiers.setdefault(label, tier)
    return tiers


def _tooltip_headings(value: Any) -> Iterator[dict[str, Any]]:
    if isinstance(value, dict):
        heading = value.get("__pricingTooltipHeading")
        if isinstance(heading, dict):
            yield heading
        for item in value.values():
            yield from _tooltip_headings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _tooltip_headings(item)


def _prop_rows(island: Tag, props: dict[str, Any], where: str) -> list[_Row]:
    export = island.get("component-export")
    if export == TEXT_TOKEN_TABLES:
        rows = []
        for values in _list(props.get("rows")):
            values = _list(values)
            if not values:
                continue
            components = TEXT_TOKEN_COLUMNS.get(len(values) - 1)
            if components is None:
                raise ParseError(
                    f"{where}: island row {_excerpt(values)} has {len(values) - 1} prices, expected 3 or 4"
                )
            columns = [_Column(component) for component in components]
            rows.append(_Row(_text(values[0]), "", tuple(zip(columns, values[1:], strict=True)), _excerpt(values)))
        return rows
    columns = _prop_columns(props)
    names = [_text(h).strip().lower() for h in _list(props.get("headings"))]
    if "model" not in names:
        return []
    model_index = names.index("model")
    if export == "PricingTable":
        return [_row(_list(values), "", columns, model_index, 0) for values in _list(props.get("rows"))]
    # GroupedPricingTable: the first heading is the group column (the model itself, or a category).
    rows = []
    for group in _list(props.get("groups")):
        if not isinstance(group, dict):
            continue
        group_name = _text(group.get("model"))
        for values in _list(group.get("rows")):
            values = _list(values)
            if model_index == 0:
                rows.append(_row([group_name, *values], "", columns, 0, 0))
            else:
                rows.append(_row(values, group_name, columns, model_index, 1))
    return rows


def _prop_columns(props: dict[str, Any]) -> list[_Column]:
    labels = _list(props.get("headingLabels")) or _list(props.get("headings"))
    groups: list[str] = []
    for group in _list(props.get("headingGroups")):
        if isinstance(group, dict):
            span = group.get("colSpan")
            groups.extend([_text(group.get("label")).strip().lower()] * (span if isinstance(span, int) else 1))
    return [_column(_text(label), groups[i] if i < len(groups) else "") for i, label in enumerate(labels)]


def _row(values: list[Any], category: str, columns: list[_Column], model_index: int, offset: int) -> _Row:
    """A row whose ``values[j]`` sits under ``columns[j + offset]``."""
    cells = tuple((columns[j + offset], value) for j, value in enumerate(values) if j + offset < len(columns))
    label = _text(values[model_index - offset]) if 0 <= model_index - offset < len(values) else ""
    return _Row(label, category, cells, _excerpt([category, *values] if category else values))


# --- rendered tables ------------------------------------------------------------------------------


def _rendered_rows(table: Tag, where: str) -> list[_Row]:
    grid = _grid(table)
    header_rows = [row for row, is_header in grid if is_header]
    body_rows = [row for row, is_header in grid if not is_header]
    if not header_rows:
        raise ParseError(f"{where}: rendered table has no header row")
    names = [cell.lower() for cell in header_rows[-1]]
    groups = [cell.lower() for cell in header_rows[-2]] if len(header_rows) > 1 else [""] * len(names)
    if "model" not in names:
        raise ParseError(f"{where}: rendered table has no 'Model' column (headers: {header_rows[-1]})")
    model_index = names.index("model")
    category_index = names.index("category") if "category" in names else None
    columns = [_column(name, groups[i] if i < len(groups) else "") for i, name in enumerate(names)]
    rows = []
    for cells in body_rows:
        if len(cells) <= model_index:
            continue
        category = cells[category_index] if category_index is not None and category_index < len(cells) else ""
        priced = tuple((columns[i], cell) for i, cell in enumerate(cells) if i < len(columns) and i != model_index)
        rows.append(_Row(cells[model_index], category, priced, " | ".join(cells)))
    return rows


def _grid(table: Tag) -> list[tuple[list[str], bool]]:
    """Rows of cell texts with row- and colspans expanded, each flagged as header or body."""
    grid: list[tuple[list[str], bool]] = []
    carried: dict[int, tuple[int, str]] = {}  # column -> (rows still covered, text)
    for tr in table.find_all("tr"):
        if not isinstance(tr, Tag):
            continue
        cells = [cell for cell in tr.find_all(["td", "th"], recursive=False) if isinstance(cell, Tag)]
        row: list[str] = []
        column = 0
        queue = list(cells)
        while queue or column in carried:
            if column in carried:
                left, text = carried[column]
                row.append(text)
                if left > 1:
                    carried[column] = (left - 1, text)
                else:
                    del carried[column]
                column += 1
                continue
            cell = queue.pop(0)
            text = " ".join(cell.get_text(" ", strip=True).split())
            for _ in range(_span(cell.get("colspan"))):
                rowspan = _span(cell.get("rowspan"))
                if rowspan > 1:
                    carried[column] = (rowspan - 1, text)
                row.append(text)
                column += 1
        is_header = bool(cells) and all(cell.name == "th" for cell in cells)
        grid.append((row, is_header))
    return grid


def _span(value: Any) -> int:
    try:
        return max(1, int(str(value)))
    except (TypeError, ValueError):
        return 1


# --- cells ----------------------------------------------------------------------------------------


def _column(heading: str, group: str) -> _Column:
    name = " ".join(heading.split()).lower()
    # Flat props headings spell the group out: "Short context cached input".
    prefix = re.match(r"^((?:short|long) context)\s+(.+)$", name)
    if prefix and not group:
        group, name = prefix.group(1), prefix.group(2)
    return _Column(COMPONENT_BY_HEADING.get(name), group)


def _group_tier(group: str, context_tiers: dict[str, Tier], where: str) -> Tier:
    if not group:
        return NO_TIER
    if group not in context_tiers:
        raise ParseError(f"{where}: no token threshold found for the column group {group!r} (header tooltips)")
    return context_tiers[group]


def _split_label(label: str, where: str) -> tuple[str, Tier]:
    """``gpt-5.5 (<272K context length)`` -> (``gpt-5.5``, up to 271999 tokens)."""
    label = " ".join(label.split())
    match = CONTEXT_QUALIFIER.match(label)
    if not match:
        return label, NO_TIER
    tier = _comparison_tier(match.group("comparison"))
    if tier is None:
        raise ParseError(f"{where}: cannot read the context qualifier of {label!r}")
    return match.group("model"), tier


def _comparison_tier(text: str) -> Tier | None:
    """``<272K`` -> (None, 271999); ``≤272K`` -> (None, 272000); ``>272K`` -> (272001, None)."""
    match = COMPARISON.search(text)
    if not match:
        return None
    operator, number, scale = match.groups()
    tokens = int(Decimal(number) * {"k": 1_000, "m": 1_000_000}.get((scale or "").lower(), 1))
    return {
        "<": (None, tokens - 1),
        "<=": (None, tokens),
        "≤": (None, tokens),
        ">": (tokens + 1, None),
        ">=": (tokens, None),
        "≥": (tokens, None),
    }[operator]


def _intersect(a: Tier, b: Tier) -> Tier:
    lows = [x for x in (a[0], b[0]) if x is not None]
    highs = [x for x in (a[1], b[1]) if x is not None]
    return (max(lows) if lows else None, min(highs) if highs else None)


def _amount(raw: Any) -> tuple[Decimal, str] | None:
    """A price cell (props number or printed text) -> (USD per 1M tokens, original); None if empty or not per token."""
    if raw is None or isinstance(raw, bool):
        return None
    if isinstance(raw, int | Decimal):
        return Decimal(raw), f"${raw} / 1M tokens"
    text = " ".join(_text(raw).split())
    if text.lower() in EMPTY_CELLS:
        return None
    if text.lower() == "free":
        return Decimal(0), "Free"
    # Anything but a bare dollar figure is priced per another unit (characters, minutes, calls).
    if not PLAIN_DOLLARS.fullmatch(text):
        return None
    try:
        parsed = parse_price(text, unit_tokens=1_000_000)
    except NotationError:
        return None
    return parsed.amount_per_mtok, f"{text} / 1M tokens"


def _text(value: Any) -> str:
    """Visible text of a props value: a string, a ``__pricingHtml`` snippet or a ``__pricingTooltipHeading``."""
    if value is None:
        return ""
    if isinstance(value, dict):
        if "__pricingTooltipHeading" in value:
            return _text((value["__pricingTooltipHeading"] or {}).get("label"))
        if "__pricingHtml" in value:
            html = str(value["__pricingHtml"] or "")
            return " ".join(BeautifulSoup(html, "lxml").get_text(" ", strip=True).split())
        return ""
    return str(value)


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _excerpt(values: list[Any]) -> str:
    return json.dumps([_text(v) if not isinstance(v, int | Decimal) else str(v) for v in values], ensure_ascii=False)[
        :200
    ]

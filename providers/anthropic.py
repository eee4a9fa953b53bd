"""Anthropic's pricing page: Claude prices per MTok in USD, as HTML tables or their Markdown rendition.

The page is read as tables whatever its rendition: the server-rendered HTML (``<table>``) or a Markdown
copy of it (pipe tables). Each table is then read by its column headers, so the same code reads
- the model pricing table (base input, 5m/1h cache writes, cache hits, output; older pages have a
  single "Cache Writes" column, which was the 5-minute cache),
- the batch table ("Batch input" / "Batch output"),
- the long-context table (tier columns "≤ 200K input tokens" / "> 200K input tokens" whose cells
  hold labelled prices, "Input: $5 / MTok<br>Output: $25 / MTok").
Tables of tools, searches or anything not priced per MTok have no price cell this reads and are skipped.

The page names models by display name ("Claude Sonnet 4.5") and gives no API ids in its tables, so
the display name is the model. A model cell may carry a dated qualifier ("through August 31, 2026",
"starting September 1, 2026"): it becomes ``valid_to``/``valid_from`` instead of a second current price.
"""

from __future__ import annotations

import datetime as dt
import html
import re
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal

from bs4 import BeautifulSoup, Tag

from pricing.units import NotationError, parse_price
from providers.base import OFFICIAL_TRUST, Document, ParseError, ScrapedPrice, Scraper

# A price this adapter reads: dollars per million tokens. "$0.25 / MTok1" carries a footnote marker.
_PRICE = re.compile(
    r"\$\s*[0-9][0-9,]*(?:\.[0-9]+)?\s*(?:/|per)\s*(?:MTok|1M tokens|M tokens|million tokens)",
    re.IGNORECASE,
)
_FOOTNOTE = re.compile(r"^\s*(\d{1,2})\b")
_TIER = re.compile(
    r"(≤|<=|<|≥|>=|>|\bup to\b|\bunder\b|\bover\b|\babove\b|\bmore than\b)\s*([0-9][0-9,]*(?:\.[0-9]+)?)\s*([KM])?\b",
    re.IGNORECASE,
)
_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_DATE = r"([A-Za-z]{3,9})\.?\s+(\d{1,2}),?\s+(\d{4})"
_VALIDITY = re.compile(
    rf"\(?\s*\b(through|thru|until|till|ending|before|starting|beginning|from|effective|as of|after)\s+{_DATE}\s*\)?",
    re.IGNORECASE,
)
# Words in a section heading that say its tables are no token prices of ours (tools, other clouds...).
_OUT_OF_SCOPE_HEADINGS = (
    "tool",
    "search",
    "fetch",
    "code execution",
    "third-party",
    "third party",
    "data residency",
    "regional",
    "image",
    "audio",
    "fine-tun",
    "embedding",
)


@dataclass(frozen=True)
class _Table:
    """One table of the page, whatever its rendition. Line breaks inside a cell are kept as "\\n"."""

    heading: str
    header: list[str]
    rows: list[list[str]]


@dataclass(frozen=True)
class _Column:
    label: str
    component: str | None
    mode: str | None
    tier: tuple[int | None, int | None] | None


class Anthropic(Scraper):
    slug = "anthropic"
    name = "Anthropic pricing page"
    kind = "official"
    provider = "anthropic"
    provider_name = "Anthropic"
    provider_website = "https://www.anthropic.com"
    urls = ("https://platform.claude.com/docs/en/about-claude/pricing",)
    hosts = ("platform.claude.com", "docs.anthropic.com")
    trust_rank = OFFICIAL_TRUST

    def parse(self, document: Document) -> list[ScrapedPrice]:
        text = document.text
        if not text.strip():
            raise ParseError("empty document")
        # A Markdown copy may quote "<table>" in its prose, so HTML is only tried first, not trusted blindly.
        renditions = [_markdown_tables]
        if "html" in document.content_type.lower() or re.search(r"<table[\s>]", text, re.IGNORECASE):
            renditions.insert(0, _html_tables)
        found_tables = False
        records: list[ScrapedPrice] = []
        for read_tables in renditions:
            tables = read_tables(text)
            found_tables = found_tables or bool(tables)
            records = self._prices(tables)
            if records:
                break
        if not found_tables:
            raise ParseError("no pricing table found: neither an HTML <table> nor a Markdown pipe table")
        if not any(r.mode == "standard" and r.component == "input" and r.tier_max_tokens is None for r in records):
            raise ParseError(
                "no model pricing table found: no table with a 'Model' column and a priced "
                "'Base Input Tokens' column ($ / MTok)"
            )
        return records

    def _prices(self, tables: list[_Table]) -> list[ScrapedPrice]:
        records: list[ScrapedPrice] = []
        for table in tables:
            for record in self._table_prices(table):
                if record not in records:  # a table the page repeats
                    records.append(record)
        return records

    def _table_prices(self, table: _Table) -> Iterator[ScrapedPrice]:
        heading = table.heading.lower()
        if any(word in heading for word in _OUT_OF_SCOPE_HEADINGS):
            return
        model_index = next((i for i, label in enumerate(table.header) if re.match(r"\s*model\b", label, re.I)), None)
        if model_index is None:
            return
        columns = [_column(label) for label in table.header]
        table_mode = _mode_of(table.heading) or "standard"
        for row in table.rows:
            if len(row) < len(table.header) or not row[model_index].strip():
                continue  # a truncated or spacer row
            page_label = " ".join(row[model_index].split())
            names, valid_from, valid_to, notes = _model_cell(row[model_index])
            for index, cell in enumerate(row[: len(columns)]):
                if index == model_index:
                    continue
                for line in cell.split("\n"):
                    priced = _line_price(line, columns[index], table_mode)
                    if priced is None:
                        continue
                    component, mode, tier, amount, original, footnote = priced
                    line_notes = {**notes, "footnote": footnote} if footnote else notes
                    for model in names:
                        yield ScrapedPrice(
                            provider=self.provider,
                            model=model,
                            component=component,
                            amount_per_mtok=amount,
                            mode=mode,
                            currency="USD",
                            tier_min_tokens=tier[0],
                            tier_max_tokens=tier[1],
                            original=original,
                            excerpt=f"{page_label} | {columns[index].label}: {' '.join(line.split())}"[:200],
                            valid_from=valid_from,
                            valid_to=valid_to,
                            model_name=model,
                            creator="anthropic",
                            notes=dict(line_notes),
                        )


# --- reading the renditions into tables -------------------------------------------------------------


def _html_tables(text: str) -> list[_Table]:
    soup = BeautifulSoup(text, "lxml")
    tables = []
    for table in soup.select("table"):
        for br in table.select("br"):
            br.replace_with("\n")
        for block in table.select("p, div, li"):
            block.append("\n")
        rows = [tr for tr in table.select("tr") if tr.find_parent("table") is table]
        if not rows:
            continue
        header_row = next(iter(table.select("thead tr")), rows[0])
        header = [_cell_text(cell) for cell in header_row.select(":scope > th, :scope > td")]
        body = [
            [_cell_text(cell) for cell in tr.select(":scope > td, :scope > th")] for tr in rows if tr is not header_row
        ]
        heading = table.find_previous(["h1", "h2", "h3", "h4", "h5", "h6"])
        tables.append(_Table(heading.get_text(" ", strip=True) if heading else "", header, body))
    return tables


def _cell_text(cell: Tag) -> str:
    lines = (" ".join(line.split()) for line in cell.get_text().split("\n"))
    return "\n".join(line for line in lines if line)


_SEPARATOR = re.compile(r"^\s*\|?\s*:?-{2,}:?\s*(?:\|\s*:?-{2,}:?\s*)*\|?\s*$")


def _markdown_tables(text: str) -> list[_Table]:
    lines = text.splitlines()
    tables = []
    heading = ""
    index = 0
    while index < len(lines):
        line = lines[index]
        if line.lstrip().startswith("#"):
            heading = _heading_text(line.lstrip().lstrip("#"))
        elif re.fullmatch(r"\s*(?:-{3,}|={3,})\s*", line) and index > 0 and "|" not in lines[index - 1]:
            heading = _heading_text(lines[index - 1])  # a setext heading: the line above is underlined
        elif "|" in line and index + 1 < len(lines) and _SEPARATOR.match(lines[index + 1]):
            header = _markdown_cells(line)
            body = []
            index += 2
            while index < len(lines) and lines[index].lstrip().startswith("|"):
                body.append(_markdown_cells(lines[index]))
                index += 1
            tables.append(_Table(heading, header, body))
            continue
        index += 1
    return tables


def _heading_text(text: str) -> str:
    # Mintlify headings carry an empty anchor link: "### [](#model-pricing) Model pricing".
    return " ".join(re.sub(r"\[\]\([^)]*\)", "", text).split())


def _markdown_cells(line: str) -> list[str]:
    stripped = line.strip()
    if stripped.startswith("|"):
        stripped = stripped[1:]
    if stripped.endswith("|") and not stripped.endswith("\\|"):
        stripped = stripped[:-1]
    cells = []
    for raw in re.split(r"(?<!\\)\|", stripped):
        cell = re.sub(r"<br\s*/?>", "\n", raw, flags=re.IGNORECASE)
        cell = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", cell)  # [text](link) -> text
        cell = html.unescape(cell.replace("**", "").replace("`", "").replace("\\|", "|"))
        cells.append("\n".join(" ".join(part.split()) for part in cell.split("\n") if part.strip()))
    return cells


# --- reading cells -------------------------------------------------------------------------------------


def _column(label: str) -> _Column:
    tier = _tier_of(label)
    # A tier column ("≤ 200K input tokens") names no component: its cells label their prices.
    return _Column(label=label, component=None if tier else _component_of(label), mode=_mode_of(label), tier=tier)


def _component_of(label: str) -> str | None:
    text = label.lower()
    if "cache" in text:
        if any(word in text for word in ("hit", "read", "refresh")):
            return "cached_input"
        if "write" in text:
            return "cache_write_1h" if re.search(r"\b1\s*h|\bhour", text) else "cache_write_5m"
        return None
    if "output" in text:
        return "output"
    if "input" in text:
        return "input"
    return None


def _mode_of(label: str) -> str | None:
    text = label.lower()
    if "batch" in text:
        return "batch"
    if "fast mode" in text or "priority" in text:
        return "priority"
    return None


def _tier_of(text: str) -> tuple[int | None, int | None] | None:
    """Prompt-length bounds (inclusive) of "≤ 200K" (max 200000) or "> 200K" (min 200001)."""
    match = _TIER.search(text)
    if not match:
        return None
    operator = match.group(1).lower()
    scale = {"k": 1_000, "m": 1_000_000}.get((match.group(3) or "").lower(), 1)
    tokens = int(Decimal(match.group(2).replace(",", "")) * scale)
    if operator in ("≤", "<=", "up to"):
        return (None, tokens)
    if operator in ("<", "under"):
        return (None, tokens - 1)
    if operator in ("≥", ">="):
        return (tokens, None)
    return (tokens + 1, None)


def _line_price(
    line: str, column: _Column, table_mode: str
) -> tuple[str, str, tuple[int | None, int | None], Decimal, str, str] | None:
    """The price one line of a cell states, with the component, mode and tier it is for."""
    match = _PRICE.search(line)
    if not match:
        return None
    label = line[: match.start()]
    component = _component_of(label) or column.component
    if component is None:
        return None
    try:
        price = parse_price(match.group(0))
    except NotationError:
        return None
    mode = _mode_of(label) or column.mode or table_mode
    tier = _tier_of(label) or column.tier or (None, None)
    footnote = _FOOTNOTE.match(line[match.end() :])
    return component, mode, tier, price.amount_per_mtok, price.original, footnote.group(1) if footnote else ""


def _model_cell(cell: str) -> tuple[list[str], dt.datetime | None, dt.datetime | None, dict[str, str]]:
    """Model names, dates and qualifiers of a model cell.

    "Claude Sonnet 5\\nthrough August 31, 2026" is Sonnet 5 until 2026-09-01T00:00Z;
    "Claude Opus 4.1 (retired, except on Bedrock)" is Opus 4.1 with a qualifier;
    "Claude Sonnet 4.5 / 4" is two models.
    """
    text = " ".join(cell.split())
    notes: dict[str, str] = {}
    valid_from = valid_to = None
    validity = _VALIDITY.search(text)
    if validity:
        day = _date(validity.group(2), validity.group(3), validity.group(4))
        if day is not None:
            word = validity.group(1).lower()
            if word in ("through", "thru", "until", "till", "ending"):
                valid_to = day + dt.timedelta(days=1)
            elif word == "before":
                valid_to = day
            elif word == "after":
                valid_from = day + dt.timedelta(days=1)
            else:
                valid_from = day
            notes["validity"] = " ".join(validity.group(0).strip("() ").split())
            text = (text[: validity.start()] + " " + text[validity.end() :]).strip()
    qualifiers: list[str] = []
    while match := re.search(r"\s*\(([^()]*)\)\s*$", text):
        qualifiers.insert(0, " ".join(match.group(1).split()))
        text = text[: match.start()].strip()
    if any(qualifiers):
        notes["qualifier"] = "; ".join(q for q in qualifiers if q)
    return _model_names(" ".join(text.split())), valid_from, valid_to, notes


def _model_names(text: str) -> list[str]:
    """ "Claude Sonnet 4.5 / 4" -> ["Claude Sonnet 4.5", "Claude Sonnet 4"]."""
    first, *others = [part.strip() for part in text.split(" / ") if part.strip()] or [text]
    names = [first]
    family = re.sub(r"\s*\d+(?:\.\d+)*\s*$", "", first)
    for other in others:
        if re.fullmatch(r"\d+(?:\.\d+)*", other):
            names.append(f"{family} {other}")
        elif not other.lower().startswith("claude") and first.lower().startswith("claude "):
            names.append(f"Claude {other}")
        else:
            names.append(other)
    return names


def _date(month: str, day: str, year: str) -> dt.datetime | None:
    key = month[:3].lower()
    if key not in _MONTHS:
        return None
    try:
        return dt.datetime(int(year), _MONTHS.index(key) + 1, int(day), tzinfo=dt.UTC)
    except ValueError:
        return None

"""Google's Gemini API pricing page: one section per model, one table per mode, USD per 1M tokens.

The page (ai.google.dev devsite HTML) reads, per model::

    <h2 data-text="Gemini 2.5 Pro">…</h2> <em><code>gemini-2.5-pro</code></em>
    <devsite-selector>
      <section><h3>Standard</h3><table class="pricing-table">  (| Free Tier | Paid Tier, per 1M tokens in USD |)
      <section><h3>Batch</h3>…  Flex…  Priority…

Only the Paid Tier column is read: the free tier is a rate-limited trial, not a price. A paid cell
holds several prices separated by ``<br>``: prompt-length tiers (``$1.25, prompts <= 200k tokens``),
modalities (``$0.30 (text / image / video)``, ``$1.00 (audio)``) and the context-cache storage price
per hour. Google writes ``<=`` and ``>`` unescaped inside cells, so only a real HTML parser reads them.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal

from bs4 import BeautifulSoup, Tag

from pricing.units import MILLION, NotationError, parse_price, to_decimal
from providers.base import OFFICIAL_TRUST, Document, ParseError, ScrapedPrice, Scraper

# Row labels of the paid column that are text-token prices; grounding, Maps, "used to improve our
# products", image and video prices are other rows and are left alone.
COMPONENT_BY_LABEL = (
    ("input price", "input"),
    ("output price", "output"),
    ("context caching price", "cached_input"),
)
MODE_BY_SECTION = {"standard": "standard", "batch": "batch", "flex": "flex", "priority": "priority"}

_FIGURE = re.compile(r"(?:US)?\$\s*[0-9][0-9,]*(?:\.[0-9]+)?")
_TIER = re.compile(r"prompts?\s*(<=|≤|>=|≥|<|>)\s*([0-9][0-9,.]*)\s*([km])?", re.IGNORECASE)
_TIER_SCALE = {"": 1, "k": 1_000, "m": 1_000_000}
_PARENTHESES = re.compile(r"\(([^)]*)\)")
_OTHER_MODALITY = re.compile(r"\b(audio|images?|videos?|pdfs?)\b", re.IGNORECASE)
_TEXT_MODALITY = re.compile(r"\btext\b", re.IGNORECASE)
_OWN_UNIT = re.compile(r"(?:/|\bper\b)\s*(.+)", re.IGNORECASE)
# Context-cache storage is billed per token-hour: not a price per token read.
_STORAGE = re.compile(r"\b(hour|storage)\b", re.IGNORECASE)
_FREE = re.compile(r"^\s*free(?: of charge)?\s*$", re.IGNORECASE)
_MODEL_ID = re.compile(r"^[a-z0-9][a-z0-9._\-]*$")
_CELL_BREAK = "\x1e"


@dataclass
class _Section:
    """Where the walk is: the model heading above, and the mode tab the next table belongs to."""

    name: str
    model_ids: list[str]
    ids_open: bool = True
    mode_title: str = "Standard"


class Google(Scraper):
    slug = "google"
    name = "Gemini API pricing page"
    kind = "official"
    provider = "google"
    provider_name = "Google"
    provider_website = "https://ai.google.dev"
    urls = ("https://ai.google.dev/gemini-api/docs/pricing",)
    hosts = ("ai.google.dev",)
    trust_rank = OFFICIAL_TRUST

    def parse(self, document: Document) -> list[ScrapedPrice]:
        if not document.content.strip():
            raise ParseError("empty document")
        soup = BeautifulSoup(document.text, "lxml")
        records: list[ScrapedPrice] = []
        seen: set[tuple] = set()
        tables = 0
        for section, table in _model_tables(soup):
            paid = _paid_column(table)
            if paid is None:
                continue
            tables += 1
            for record in self._table_prices(section, table, paid):
                if record.key not in seen:  # a cell naming the same price twice keeps the first
                    seen.add(record.key)
                    records.append(record)
        if not tables:
            raise ParseError('no pricing table with a "Paid Tier" column under a model heading (<h2>)')
        if not records:
            raise ParseError(f"{tables} pricing tables found, but no input, output or context caching price in them")
        return records

    def _table_prices(self, section: _Section, table: Tag, paid: _PaidColumn) -> Iterator[ScrapedPrice]:
        # A tab that is no known mode (a "Live API" tab, say) is skipped rather than guessed.
        mode = MODE_BY_SECTION.get((section.mode_title.lower().split() or [""])[0])
        # Embedding models price input tokens too, but they are no text-generation offering.
        if mode is None or "embedding" in f"{section.name} {' '.join(section.model_ids)}".lower():
            return
        for row in _rows(table):
            cells = _tags(row, ["td", "th"], recursive=False)
            if len(cells) <= paid.index:
                continue
            label = " ".join(cells[0].get_text(" ").split())
            component = _component_of(label)
            if component is None:
                continue
            for line in _cell_lines(cells[paid.index]):
                for segment in _segments(line):
                    price = _read_segment(segment, paid)
                    if price is None:
                        continue
                    amount, original, tier_min, tier_max, modality = price
                    excerpt = f"{section.name} / {section.mode_title} / {label}: {line}"
                    for model in section.model_ids or [section.name]:
                        yield ScrapedPrice(
                            provider=self.provider,
                            model=model,
                            component=component,
                            amount_per_mtok=amount,
                            mode=mode,
                            currency=paid.currency,
                            tier_min_tokens=tier_min,
                            tier_max_tokens=tier_max,
                            original=original,
                            excerpt=excerpt[:200],
                            model_name=section.name,
                            creator="google",
                            notes={"modality": modality} if modality else {},
                        )


@dataclass(frozen=True)
class _PaidColumn:
    index: int
    currency: str
    unit_text: str


def _model_tables(soup: BeautifulSoup) -> Iterator[tuple[_Section, Tag]]:
    """Every table in document order with the model heading and mode tab it sits under.

    Walks the flat document order rather than the tree: devsite wraps headings and tables in
    ``div``/``section`` levels that differ between models, and a stray tag can nest them oddly.
    """
    section: _Section | None = None
    for tag in _tags(soup, ["h2", "h3", "code", "table"]):
        if tag.name == "h2":
            section = _Section(name=_heading_text(tag), model_ids=[], mode_title="Standard")
        elif section is None:
            continue
        elif tag.name == "code":
            text = tag.get_text().strip()
            in_heading = tag.find_parent("em") is not None or tag.find_parent(class_="heading-group") is not None
            if section.ids_open and in_heading and _MODEL_ID.match(text) and text not in section.model_ids:
                section.model_ids.append(text)
        elif tag.name == "h3":
            section.ids_open = False
            section.mode_title = _heading_text(tag)
        else:
            section.ids_open = False
            yield section, tag


def _tags(parent: Tag, names: list[str], *, recursive: bool = True) -> list[Tag]:
    return [tag for tag in parent.find_all(names, recursive=recursive) if isinstance(tag, Tag)]


def _heading_text(heading: Tag) -> str:
    """devsite repeats a heading's clean text in ``data-text``; the element text may hold anchors."""
    return str(heading.get("data-text") or "").strip() or " ".join(heading.get_text(" ").split())


def _rows(table: Tag) -> list[Tag]:
    """The table's own rows, not those of a table nested inside one of its cells."""
    return [row for row in _tags(table, ["tr"]) if row.find_parent("table") is table]


def _paid_column(table: Tag) -> _PaidColumn | None:
    for row in _rows(table):
        if not _tags(row, ["th"], recursive=False):
            continue
        for index, header in enumerate(_tags(row, ["td", "th"], recursive=False)):
            text = " ".join(header.get_text(" ").split())
            if "paid" in text.lower():
                currency = re.search(r"\bin ([A-Z]{3})\b", text)
                unit_text = text.split(",", 1)[1].strip() if "," in text else ""
                return _PaidColumn(index, currency.group(1) if currency else "USD", unit_text)
    return None


def _component_of(label: str) -> str | None:
    lowered = label.lower()
    for prefix, component in COMPONENT_BY_LABEL:
        if lowered.startswith(prefix):
            # A label such as "Input price (audio)" is a price of another modality.
            return None if _is_other_modality(_PARENTHESES.findall(label)) else component
    return None


def _is_other_modality(qualifiers: list[str]) -> bool:
    return any(_OTHER_MODALITY.search(q) and not _TEXT_MODALITY.search(q) for q in qualifiers)


def _cell_lines(cell: Tag) -> list[str]:
    for br in cell.find_all("br"):
        br.replace_with(_CELL_BREAK)
    lines = (" ".join(part.split()) for part in cell.get_text(" ").split(_CELL_BREAK))
    return [line for line in lines if line]


def _segments(line: str) -> list[str]:
    """One line may carry several prices ("$0.50 (text), $3.00 (audio)"): one segment per figure."""
    if _FREE.match(line):
        return [line]
    starts = [match.start() for match in _FIGURE.finditer(line)]
    ends = [*starts[1:], len(line)]
    return [line[start:end].strip(" ,;") for start, end in zip(starts, ends, strict=False)]


def _read_segment(segment: str, paid: _PaidColumn) -> tuple[Decimal, str, int | None, int | None, str] | None:
    """A segment's amount per 1M tokens, its prompt-length tier and modality; None if it is no text-token price."""
    qualifiers = _PARENTHESES.findall(segment)
    if _STORAGE.search(segment) or _is_other_modality(qualifiers):
        return None
    unit_text = paid.unit_text or "per 1M tokens"
    if _FREE.match(segment):
        return Decimal(0), f"{segment} ({unit_text})", None, None, ""
    figure = _FIGURE.match(segment)
    if figure is None:
        return None
    after = _PARENTHESES.sub("", segment[figure.end() :])
    own_unit = _OWN_UNIT.search(after)
    try:
        if own_unit:
            # "$0.039 per image" is not a token price; "$30 / 1,000,000 tokens" states its own unit.
            if "token" not in own_unit.group(1).lower():
                return None
            parsed = parse_price(f"{figure.group(0)} / {own_unit.group(1)}", default_currency=paid.currency)
            original = segment
        else:
            # The page's convention, stated in the Paid Tier header: per 1M tokens.
            parsed = parse_price(figure.group(0), default_currency=paid.currency, unit_tokens=int(MILLION))
            original = f"{segment} ({unit_text})"
    except NotationError:
        return None
    tier_min, tier_max = _tier_of(after)
    modality = next((q.strip() for q in qualifiers if _TEXT_MODALITY.search(q)), "")
    return parsed.amount_per_mtok, original, tier_min, tier_max, modality


def _tier_of(text: str) -> tuple[int | None, int | None]:
    """``prompts <= 200k tokens`` -> (None, 200000); ``prompts > 200k`` -> (200001, None). Both ends inclusive."""
    match = _TIER.search(text)
    if match is None:
        return None, None
    operator, number, scale = match.group(1), match.group(2).rstrip(".,"), (match.group(3) or "").lower()
    tokens = int(to_decimal(number) * _TIER_SCALE[scale])
    return {
        "<=": (None, tokens),
        "≤": (None, tokens),
        "<": (None, tokens - 1),
        ">=": (tokens, None),
        "≥": (tokens, None),
        ">": (tokens + 1, None),
    }[operator]

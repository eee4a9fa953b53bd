"""Reading the Ark price tables that Volcano Engine (CNY) and BytePlus ModelArk (USD) publish.

Both sites serve one doc page (article 1544106) from the same doc editor: sections are headings
(``<h2>`` or an ``ace-line heading-h2`` block), and each large-language-model table has a header row
naming the model column ("模型名称" / "Model ID"), a condition column ("条件 千 token" / "Pricing tiers
(K tokens)") and one column per price with its unit ("输入(非音频) 元/百万token" / "Output (USD/M
tokens)"). A merged model cell is written as a ``rowspan`` cell followed, in the rows it covers, by hidden
placeholder cells (``class="table-hide" rowspan="0"``); those are dropped before the grid is built.

The section heading gives the mode ("批量推理" / "Offline batch inference" is batch, "在线推理（低延迟）"
is the low-latency tier, stored as priority); the condition cell gives the prompt-length tier and, for a
few models, an output-length tier ("输入长度 [0, 32] 且输出长度 (0.2,+∞)"), kept as ``output_tier``.
Tables priced per TPM, per video, per image, for embeddings or for fine-tuned models are not token list
prices of a model and are left out by their headers.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from bs4 import BeautifulSoup, NavigableString, Tag

from pricing.units import NotationError, parse_price, to_decimal
from providers.base import Document, ParseError, ScrapedPrice
from providers.helpers import cell_span, html_grid, unique_cells

ZERO_WIDTH = re.compile("[\u200b\u200c\u200d\ufeff]")
BLOCKS = frozenset({"div", "p", "li", "br", "tr"})
HEADING_CLASS = re.compile(r"^heading-h([1-6])$")

MODEL_HEADER = re.compile(r"模型|model", re.IGNORECASE)
CONDITION_HEADER = re.compile(r"条件|tier|condition", re.IGNORECASE)
# Fine-tuned models' inference and embeddings are not a model's list price for text tokens.
SKIPPED_SECTION = re.compile(r"精调|微调|fine-?tun|向量|embedding", re.IGNORECASE)
# A price column's unit names tokens; TPM packages and cache storage ("/小时", "/hour") are not token prices.
TOKEN_UNIT = re.compile(r"token", re.IGNORECASE)
NOT_A_TOKEN_PRICE = re.compile(r"TPM|小时|hour|存储|storage", re.IGNORECASE)
AUDIO = re.compile(r"(?<!非)音频|(?<!non-)audio", re.IGNORECASE)
# Column label -> component; cache hits say "input" too, so they are matched first.
COMPONENT_PATTERNS = (
    ("cached_input", re.compile(r"缓存命中|cache[\s-]*hit|cached", re.IGNORECASE)),
    ("output", re.compile(r"输出|output", re.IGNORECASE)),
    ("input", re.compile(r"输入|input", re.IGNORECASE)),
)
BATCH = re.compile(r"批量|离线|batch|offline", re.IGNORECASE)
LOW_LATENCY = re.compile(r"低延迟|low[\s-]*latency", re.IGNORECASE)

# A figure, maybe with its currency, then at most a remark ("0.80", "$0.5", "1.20（限时）", "0.80*").
AMOUNT = re.compile(r"^(?:US\$|\$|¥|￥)?\s*(\d[\d,]*(?:\.\d+)?)\s*(?:元|USD|CNY)?(?:\s*[*†^¹²³]|\s*[(（][^\d]*[)）])*$")
FREE = re.compile(r"^(?:免费|限时免费|free)$", re.IGNORECASE)
NO_PRICE = re.compile(r"^(?:-|—|–|/|N/?A|不支持|暂不支持|not supported.*)?$", re.IGNORECASE)
# "[0, 32]", "(32, 128]", "(0.2,+∞)", "[0, 256)"
INTERVAL = re.compile(
    r"([\[(（【])\s*(\d+(?:\.\d+)?)\s*[,，]\s*(\+?\s*(?:∞|inf)|\d+(?:\.\d+)?)\s*([\])）】])", re.IGNORECASE
)
# "≤ 32", "> 128", "<=32"
COMPARISON = re.compile(r"(≤|<=|＜=|<|＜|≥|>=|＞=|>|＞)\s*(\d+(?:\.\d+)?)")
OUTPUT_CONDITION = re.compile(r"输出|output", re.IGNORECASE)
SPLIT_CONDITIONS = re.compile(r"且|并且|\band\b|[;；,，](?![^\[(（【]*[\])）】])", re.IGNORECASE)
TOKEN_SCALES = (("百万", 1_000_000), ("万", 10_000), ("千", 1_000), ("M", 1_000_000), ("K", 1_000))


@dataclass(frozen=True)
class Column:
    index: int
    component: str
    unit: str
    label: str


def parse_ark_page(document: Document, *, provider: str, currency: str) -> list[ScrapedPrice]:
    """Every token price of the large-language-model tables on an Ark pricing page."""
    soup = BeautifulSoup(document.content, "lxml")
    if soup.find("table") is None:
        raise ParseError("no <table> on the page")
    records: list[ScrapedPrice] = []
    for table, headings in _tables_with_headings(soup):
        records.extend(_table_prices(table, headings, provider=provider, currency=currency))
    if not records:
        raise ParseError(
            "no model price table: no table with a model column and input/output columns priced per token "
            "(模型名称 / Model ID, 输入 / Input, 输出 / Output)"
        )
    return records


def block_text(element: Tag) -> list[str]:
    """An element's text split into its lines (block elements and <br>), zero-width spaces dropped."""
    lines = [""]
    for node in element.descendants:
        if isinstance(node, Tag):
            if node.name in BLOCKS:
                lines.append("")
        elif isinstance(node, NavigableString) and type(node) is NavigableString:
            lines[-1] += str(node)
    cleaned = (" ".join(ZERO_WIDTH.sub("", line).split()) for line in lines)
    return [line for line in cleaned if line]


def text_of(element: Tag) -> str:
    return " ".join(block_text(element))


def _heading_level(tag: Tag) -> int | None:
    if re.fullmatch(r"h[1-6]", tag.name or ""):
        return int(tag.name[1])
    for css_class in tag.get("class") or ():
        if match := HEADING_CLASS.match(css_class):
            return int(match.group(1))
    return None


def _tables_with_headings(soup: BeautifulSoup) -> Iterator[tuple[Tag, list[str]]]:
    """Each table with the headings it sits under, innermost first ("批量推理", "大语言模型")."""
    open_headings: dict[int, str] = {}
    for tag in soup.find_all(lambda t: t.name == "table" or _heading_level(t) is not None):
        if not isinstance(tag, Tag):
            continue
        if tag.name == "table":
            if tag.find_parent("table") is None:
                yield tag, [open_headings[level] for level in sorted(open_headings, reverse=True)]
            continue
        level = _heading_level(tag)
        if level is None or tag.find_parent("table") is not None or not (text := text_of(tag)):
            continue
        open_headings = {lvl: heading for lvl, heading in open_headings.items() if lvl < level}
        open_headings[level] = text


def _columns(header: list[Tag]) -> tuple[int | None, int | None, list[Column]]:
    model_col = condition_col = None
    columns: list[Column] = []
    for index, cell in enumerate(header):
        lines = block_text(cell)
        label = " ".join(lines)
        if not label:
            continue
        if model_col is None and MODEL_HEADER.search(label) and not TOKEN_UNIT.search(label):
            model_col = index
        elif condition_col is None and CONDITION_HEADER.search(label) and not TOKEN_UNIT.search(label.split()[0]):
            condition_col = index
        elif TOKEN_UNIT.search(label) and not NOT_A_TOKEN_PRICE.search(label) and not AUDIO.search(label):
            component = next((c for c, pattern in COMPONENT_PATTERNS if pattern.search(label)), None)
            if component and not any(column.component == component for column in columns):
                columns.append(Column(index, component, _unit(label), label))
    return model_col, condition_col, columns


def _header(grid: list[list[Tag]]) -> tuple[int, int, int | None, list[Column]] | None:
    """The header: the first row naming a model column and input and output prices per token."""
    for index, row in enumerate(grid[:3]):
        model_col, condition_col, columns = _columns(row)
        if model_col is not None and {"input", "output"} <= {column.component for column in columns}:
            return index, model_col, condition_col, columns
    return None


def _unit(label: str) -> str:
    """The unit part of a column header: "输入(非音频) 元/百万token" -> "元/百万token"."""
    match = re.search(r"[(（]?\s*((?:USD|CNY|元|\$|¥)?\s*/\s*[^()（）]*token[^()（）]*)[)）]?", label, re.IGNORECASE)
    return " ".join(match.group(1).split()) if match else label


def _tier_scale(label: str) -> int:
    """Tokens per unit of the condition column ("条件 千 token", "Pricing tiers (K tokens)")."""
    for marker, scale in TOKEN_SCALES:
        if re.search(rf"(?<![a-z]){marker}\s*tokens?", label, re.IGNORECASE):
            return scale
    raise ParseError(f"condition column {label!r} does not say in which unit its lengths are (千 token / K tokens)")


def _table_prices(table: Tag, headings: list[str], *, provider: str, currency: str) -> list[ScrapedPrice]:
    if any(SKIPPED_SECTION.search(heading) for heading in headings):
        return []
    for cell in table.find_all(["td", "th"]):
        # The editor's placeholders in the slots a merged cell covers; rowspan="0" is never a real span here.
        if isinstance(cell, Tag) and ("table-hide" in (cell.get("class") or ()) or cell.get("rowspan") == "0"):
            cell.decompose()
    grid = html_grid(table)
    found = _header(grid)
    if found is None:
        return []
    header_index, model_col, condition_col, columns = found
    header = grid[header_index]
    width = sum(cell_span(cell.get("colspan")) for cell in unique_cells(header) if cell.parent is header[0].parent)
    for row in grid[header_index + 1 :]:
        if any(text_of(cell) for cell in row[width:]):
            raise ParseError(f"a row of {text_of(row[0])!r} has more cells than its header: merged cells misread?")
    model_label = text_of(header[model_col])
    if SKIPPED_SECTION.search(model_label):
        return []
    scale = _tier_scale(text_of(header[condition_col])) if condition_col is not None else 1_000
    mode, section = _mode(headings), (headings[0] if headings else "")
    records: list[ScrapedPrice] = []
    for row in grid[header_index + 1 :]:
        model_lines = block_text(row[model_col])
        if not model_lines or model_lines[0] == model_label:
            continue
        model = model_lines[0]
        condition = text_of(row[condition_col]) if condition_col is not None else ""
        (tier_min, tier_max), output_tier = _condition_tiers(condition, scale, model=model)
        attributes = {"output_tier": output_tier} if output_tier else {}
        for column in columns:
            shown = text_of(row[column.index])
            amount = _amount(shown, column=column, model=model)
            if amount is None:
                continue
            try:
                price = parse_price(f"{amount} {column.unit}", default_currency=currency)
            except NotationError as exc:
                raise ParseError(f"{model} {column.label}: cannot read {shown!r} as a price") from exc
            records.append(
                ScrapedPrice(
                    provider=provider,
                    model=model,
                    component=column.component,
                    amount_per_mtok=price.amount_per_mtok,
                    mode=mode,
                    currency=price.currency,
                    tier_min_tokens=tier_min,
                    tier_max_tokens=tier_max,
                    original=f"{amount} {column.unit}",
                    excerpt=f"[{section}] {model} | {condition or '-'} | {column.label}: {shown}"[:200],
                    notes={"section": section, "condition": condition} if condition else {"section": section},
                    attributes=attributes,
                )
            )
    return records


def _mode(headings: list[str]) -> str:
    for heading in headings:
        if BATCH.search(heading):
            return "batch"
        if LOW_LATENCY.search(heading):
            return "priority"
    return "standard"


def _amount(shown: str, *, column: Column, model: str) -> str | None:
    """The figure of a price cell; None for a dash (not offered); a loud error for two figures or prose."""
    text = shown.strip()
    if NO_PRICE.match(text):
        return None
    if FREE.match(text):
        return "0"
    match = AMOUNT.match(text)
    if not match:
        raise ParseError(f"{model} {column.label}: {shown!r} is neither a price nor '-'")
    return match.group(1).replace(",", "")


def _condition_tiers(
    condition: str, scale: int, *, model: str
) -> tuple[tuple[int | None, int | None], dict[str, int | None] | None]:
    """Prompt-length bounds and the output-length tier of a condition cell, in tokens, both ends inclusive.

    "输入长度 (32, 128]" -> (32001, 128000); "且输出长度 [0, 0.2]" -> output_tier {None, 200}."""
    prompt: tuple[int | None, int | None] = (None, None)
    output: dict[str, int | None] | None = None
    if NO_PRICE.match(condition.strip()):
        return prompt, output
    found = False
    for part in SPLIT_CONDITIONS.split(condition):
        bounds = _bounds(part, scale)
        if bounds is None:
            continue
        found = True
        if OUTPUT_CONDITION.search(part):
            output = {"min_tokens": bounds[0], "max_tokens": bounds[1]}
        else:
            prompt = bounds
    if not found:
        raise ParseError(f"{model}: condition {condition!r} has no length range that reads as tokens")
    return prompt, output


def _bounds(text: str, scale: int) -> tuple[int | None, int | None] | None:
    if match := INTERVAL.search(text):
        opening, low_text, high_text, closing = match.groups()
        low = to_decimal(low_text) * scale
        low_tokens = None if low == 0 else int(low) + (0 if opening == "[" else 1)
        if "∞" in high_text or "inf" in high_text.lower():
            return low_tokens, None
        high = to_decimal(high_text) * scale
        return low_tokens, int(high) - (0 if closing in "]】" else 1)
    if match := COMPARISON.search(text):
        sign, value = match.group(1), to_decimal(match.group(2)) * scale
        inclusive = "=" in sign or sign in "≤≥"
        if sign[0] in "<＜≤":
            return None, int(value) - (0 if inclusive else 1)
        low_tokens = int(value) + (0 if inclusive else 1)
        return (low_tokens or None), None
    return None

"""DeepSeek's own pricing page, in English (USD) and Chinese (CNY).

The page is Docusaurus static HTML: one table per price list with the model ids across the top
(``MODEL | deepseek-chat | deepseek-reasoner``), a rowspan block of price rows ("1M INPUT TOKENS
(CACHE HIT)", "百万tokens输入（缓存命中）", ...), <sup> footnote markers, and merged (colspan) cells
where one price holds for every model. Older versions had a second rowspan block of off-peak
prices ("DISCOUNT PRICE (UTC 16:30-00:30)"), a paragraph dating each of two tables ("Starting from
16:00 UTC Time on Sept 5th, 2025 ..."), cells holding an original and a promotional price, and one
early version put the models down the rows instead; all of them read here.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

from bs4 import BeautifulSoup, Tag

from pricing.units import NotationError, parse_price, to_decimal
from providers.base import OFFICIAL_TRUST, Document, ParseError, ScrapedPrice, ScrapedRetirement, Scraper
from providers.helpers import cell_lines, cell_text, html_grid, page_tables, unique_cells

BEIJING = dt.timezone(dt.timedelta(hours=8))
MODEL_HEADERS = ("model", "模型")
# Rows by their label; a cache-miss label also says "input", so it is matched first.
COMPONENT_PATTERNS = (
    ("input", re.compile(r"cache\s*miss|缓存未命中", re.IGNORECASE)),
    ("cached_input", re.compile(r"cache\s*hit|缓存命中", re.IGNORECASE)),
    ("output", re.compile(r"output|输出", re.IGNORECASE)),
    ("input", re.compile(r"input|输入", re.IGNORECASE)),
)
# A price row says what it is priced per, or sits in a "PRICING" / "价格" block; "MAX OUTPUT" does not.
PRICE_LABEL = re.compile(r"\b1M\b|百万|million|pric|价", re.IGNORECASE)
OFF_PEAK_LABEL = re.compile(r"discount|off[\s-]?peak|优惠|错峰|夜间", re.IGNORECASE)
HOURS = re.compile(r"(UTC|北京时间)\s*(\d{1,2}):(\d{2})\s*[-–~至]\s*(\d{1,2}):(\d{2})")
FOOTNOTE = re.compile(r"[(（]\s*\d{1,2}\s*[)）]")
PARENTHESISED = re.compile(r"[(（][^()（）]*[)）]")
AMOUNT = re.compile(r"(?:US\$|\$|¥|￥)\s*\d[\d,]*(?:\.\d+)?|\d[\d,]*(?:\.\d+)?\s*(?:元|USD|CNY)")
BARE_NUMBER = re.compile(r"\d[\d,]*(?:\.\d+)?")
SIZE = re.compile(r"^(\d+(?:\.\d+)?)\s*([KM])$", re.IGNORECASE)
MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
# "16:00 UTC Time on Sept 5th, 2025"
EN_MOMENT = re.compile(
    r"(\d{1,2}):(\d{2})\s*UTC[a-z\s]*?(?:on\s+)?([A-Z][a-z]{2,8})\.?\s+(\d{1,2})(?:st|nd|rd|th)?,?\s+(\d{4})",
    re.IGNORECASE,
)
# "2025-02-08 16:00 (UTC)", "北京时间 2025年9月6日 00:00", "2026/07/24 23:59"
NUMERIC_MOMENT = re.compile(r"(\d{4})\s*[-/年]\s*(\d{1,2})\s*[-/月]\s*(\d{1,2})\s*日?\s*(\d{1,2}):(\d{2})")
# "deepseek-chat and deepseek-reasoner will be deprecated on <moment>. ... they correspond to the
# non-thinking and thinking modes of deepseek-v4-flash, respectively", and the Chinese page's
# "... 将于北京时间 <moment> 弃用。... 二者分别对应 ... 的非思考与思考模式"
RETIRES = re.compile(r"deprecat|retire|discontinu|弃用|下线|停用", re.IGNORECASE)
MAPS_TO = re.compile(r"correspond|maps?\s+to|point(?:s|ed)?\s+to|rout|对应|指向", re.IGNORECASE)
MODEL_ID = re.compile(r"deepseek(?:-[a-z0-9]+(?:\.[0-9]+)*)+", re.IGNORECASE)
THINKING = re.compile(r"non-?\s*thinking|非思考|thinking|思考", re.IGNORECASE)
CONTROL = re.compile(r"[\x00-\x1f\x7f\u200b-\u200f\ufeff]")
SENTENCE_END = re.compile(r"(?<=[。；;])|(?<=\.)\s+")


class DeepSeek(Scraper):
    slug = "deepseek"
    name = "DeepSeek pricing page"
    kind = "official"
    provider = "deepseek"
    provider_name = "DeepSeek"
    provider_website = "https://www.deepseek.com"
    urls = (
        "https://api-docs.deepseek.com/quick_start/pricing",
        "https://api-docs.deepseek.com/zh-cn/quick_start/pricing",
    )
    hosts = ("api-docs.deepseek.com",)
    trust_rank = OFFICIAL_TRUST

    def parse(self, document: Document) -> list[ScrapedPrice]:
        soup, tables = page_tables(document.content)
        footnotes, page_currency = _footnotes(soup), _page_currency(soup)
        records: list[ScrapedPrice] = []
        for table in tables:
            records.extend(self._table_prices(table, footnotes, default_currency=page_currency))
        if not records:
            raise ParseError("no price rows (cache hit / cache miss / output) under a MODEL / 模型 header in any table")
        return records

    def retirements(self, document: Document) -> list[ScrapedRetirement]:
        """The page's notes that model ids are deprecated on a date and which model they now map to."""
        soup = BeautifulSoup(document.content, "html.parser")
        found: dict[str, ScrapedRetirement] = {}
        for block in soup.find_all(["p", "li"]):
            for line in cell_lines(block) if isinstance(block, Tag) else ():
                for statement in _retirements_in(" ".join(line.split())):
                    found.setdefault(statement.model, statement)
        return list(found.values())

    def _table_prices(self, table: Tag, footnotes: dict[str, str], *, default_currency: str) -> list[ScrapedPrice]:
        grid = html_grid(table)
        header = next((i for i, row in enumerate(grid) if row and _is_model_header(row[0])), None)
        if header is None:
            return []
        if any(_component(cell_text(cell)) for cell in grid[header][1:]):
            # The early layout: one row per model, prices in columns.
            grid = [list(column) for column in zip(*grid[header:], strict=True)]
            header = 0
        label_cell = grid[header][0]
        models = _models(grid[header], label_cell)
        if not models:
            return []
        first_value_col = min(models)
        currency = _table_currency(table) or default_currency
        valid_from, valid_to = _table_dates(table)
        facts = _model_facts(grid, models, first_value_col)
        records: list[ScrapedPrice] = []
        for row in grid[header + 1 :]:
            labels = unique_cells(row[:first_value_col])
            if not labels:
                continue
            label = cell_text(labels[-1])
            context = " ".join(cell_text(cell) for cell in labels)
            component = _component(label)
            if component is None or not PRICE_LABEL.search(context):
                continue
            mode = "off_peak" if OFF_PEAK_LABEL.search(context) else "standard"
            notes = {"off_peak_utc": hours} if mode == "off_peak" and (hours := _utc_hours(context)) else {}
            unit = "百万tokens" if "百万" in label else "1M tokens"
            row_prices: list[ScrapedPrice] = []
            for col, model in models.items():
                shown = cell_text(row[col])
                base = ScrapedPrice(
                    provider=self.provider,
                    model=model,
                    component=component,
                    amount_per_mtok=Decimal(0),
                    mode=mode,
                    currency=currency,
                    excerpt=f"{context}: {model} {shown}"[:200],
                    valid_from=valid_from,
                    valid_to=valid_to,
                    creator="deepseek",
                    notes=notes,
                    **facts.get(col, {}),
                )
                row_prices.extend(_cell_prices(base, row[col], unit, footnotes))
            if not row_prices:
                raise ParseError(f"price row {context!r} has no amount that reads as a price")
            records.extend(row_prices)
        return records


def _cell_prices(base: ScrapedPrice, cell: Tag, unit: str, footnotes: dict[str, str]) -> list[ScrapedPrice]:
    """One cell's prices: usually one; two when it prints an original price and a dated promotional one."""
    amounts = _amounts(cell_text(cell))
    prices = []
    for amount_text in amounts:
        try:
            parsed = parse_price(amount_text, default_currency=base.currency, unit_tokens=1_000_000)
        except NotationError as exc:
            raise ParseError(f"{base.model} {base.component}: cannot read the price {amount_text!r}") from exc
        prices.append(
            base.replace(
                amount_per_mtok=parsed.amount_per_mtok, currency=parsed.currency, original=f"{amount_text} / {unit}"
            )
        )
    if len(prices) < 2:
        return prices
    # "$0.27(5) $0.14": the original price, then the promotional one its footnote dates ("until 2025-02-08 16:00").
    markers = re.findall(r"\d{1,2}", " ".join(sup.get_text() for sup in cell.find_all("sup")))
    markers += re.findall(r"[(（]\s*(\d{1,2})\s*[)）]", cell.get_text(" "))
    ends = [_moment(footnotes[m]) for m in markers if m in footnotes]
    end = next((moment for moment in ends if moment), None)
    if end is None:
        # Undated pair: only the price printed last (the one charged now) is certain.
        return prices[-1:]
    original, promotional = prices[0], prices[-1]
    return [promotional.replace(valid_to=end), original.replace(valid_from=end)]


def _is_model_header(cell: Tag) -> bool:
    return FOOTNOTE.sub("", cell_text(cell)).strip().lower() in MODEL_HEADERS


def _models(header_row: list[Tag], label_cell: Tag) -> dict[int, str]:
    """Column index -> model id, for each column of the header row past its label."""
    models: dict[int, str] = {}
    for col, cell in enumerate(header_row):
        if cell is label_cell:
            continue
        model = FOOTNOTE.sub("", cell_text(cell)).strip()
        if model and model not in models.values():
            models[col] = model
    return models


def _model_facts(grid: list[list[Tag]], models: dict[int, str], first_value_col: int) -> dict[int, dict]:
    """Display name ("MODEL VERSION") and context window ("CONTEXT LENGTH") per model column."""
    facts: dict[int, dict] = {col: {} for col in models}
    for row in grid:
        label = " ".join(cell_text(cell) for cell in unique_cells(row[:first_value_col])).lower()
        for col in models:
            value = FOOTNOTE.sub("", cell_text(row[col])).strip()
            if not value:
                continue
            if label in ("model version", "模型版本"):
                facts[col]["model_name"] = value
            elif label in ("context length", "上下文长度") and (size := SIZE.match(value)):
                scale = 1_000 if size.group(2).upper() == "K" else 1_000_000
                facts[col]["context_window"] = int(to_decimal(size.group(1)) * scale)
    return facts


def _component(label: str) -> str | None:
    for component, pattern in COMPONENT_PATTERNS:
        if pattern.search(label):
            return component
    return None


def _amounts(text_in_cell: str) -> list[str]:
    """The price figures of a cell, without "(50% OFF)", "（5折）" or footnote numbers."""
    text = PARENTHESISED.sub(" ", text_in_cell)
    found = [" ".join(match.split()) for match in AMOUNT.findall(text)]
    if not found and BARE_NUMBER.fullmatch(text.strip()):
        found = [text.strip()]
    return found


def _utc_hours(text: str) -> str:
    """An hours window in UTC: "UTC 16:30-00:30" as printed, "北京时间 00:30-08:30" (UTC+8) as "16:30-00:30"."""
    match = HOURS.search(text)
    if not match:
        return ""
    shift = -8 if match.group(1) == "北京时间" else 0
    start = (int(match.group(2)) + shift) % 24, match.group(3)
    end = (int(match.group(4)) + shift) % 24, match.group(5)
    return f"{start[0]:02d}:{start[1]}-{end[0]:02d}:{end[1]}"


def _moment(text: str) -> dt.datetime | None:
    """The first date and time a sentence names, in UTC (Beijing time when it says 北京时间)."""
    tz = BEIJING if "北京时间" in text else dt.UTC
    if match := NUMERIC_MOMENT.search(text):
        year, month, day, hour, minute = (int(group) for group in match.groups())
    elif (match := EN_MOMENT.search(text)) and match.group(3)[:3].lower() in MONTHS:
        hour, minute, day, year = int(match.group(1)), int(match.group(2)), int(match.group(4)), int(match.group(5))
        month = MONTHS.index(match.group(3)[:3].lower()) + 1
    else:
        return None
    try:
        return dt.datetime(year, month, day, hour, minute, tzinfo=tz).astimezone(dt.UTC)
    except ValueError:
        return None


def _retirements_in(text: str) -> list[ScrapedRetirement]:
    """Statements in one note: the ids a sentence says are deprecated on a moment, and the model (and its
    thinking mode, in the ids' order where it says "respectively") that the sentence after maps them to."""
    sentences = [s for s in SENTENCE_END.split(FOOTNOTE.sub(" ", text)) if s and s.strip()]
    for index, sentence in enumerate(sentences):
        moment = _moment(sentence)
        if moment is None or not RETIRES.search(sentence):
            continue
        mapping = MAPS_TO.search(sentence)
        retired_part = sentence[: mapping.start()] if mapping else sentence
        retired = list(dict.fromkeys(m.group(0).lower() for m in MODEL_ID.finditer(retired_part)))
        if not retired:
            continue
        mapping_text = sentence[mapping.start() :] if mapping else ""
        if not mapping_text and index + 1 < len(sentences) and MAPS_TO.search(sentences[index + 1]):
            mapping_text = sentences[index + 1]
        named = [m.group(0).lower() for m in MODEL_ID.finditer(mapping_text)]
        successor = next((model_id for model_id in named if model_id not in retired), "")
        modes = [_thinking(m.group(0)) for m in THINKING.finditer(mapping_text)]
        paired = len(modes) == len(retired) if successor else False
        excerpt = sentence + (" " + mapping_text if mapping_text and mapping_text not in sentence else "")
        excerpt = " ".join(CONTROL.sub(" ", excerpt).split())[:300]
        return [
            ScrapedRetirement(
                provider="deepseek",
                model=model_id,
                retires_at=moment,
                successor=successor,
                successor_conditions={"thinking": modes[i]} if paired else {},
                excerpt=excerpt,
            )
            for i, model_id in enumerate(retired)
        ]
    return []


def _thinking(phrase: str) -> str:
    return "off" if "non" in phrase.lower() or "非" in phrase else "on"


def _table_dates(table: Tag) -> tuple[dt.datetime | None, dt.datetime | None]:
    """A price list introduced by "Starting from <moment> ..." or "... remain in effect until <moment>"."""
    intro = table.find_previous(["p", "h1", "h2", "h3", "table"])
    if not isinstance(intro, Tag) or intro.name != "p":
        return None, None
    text = " ".join(intro.get_text(" ").split())
    moment = _moment(text)
    if moment is None or FOOTNOTE.match(text) or not re.search(r"pric|价", text, re.IGNORECASE):
        return None, None
    if re.search(r"until|remain|截至|之前|为止", text, re.IGNORECASE):
        return None, moment
    return moment, None


def _footnotes(soup: BeautifulSoup) -> dict[str, str]:
    """Footnote number -> its text, from the "(1) ..." lines under the tables."""
    notes: dict[str, str] = {}
    for block in soup.find_all(["p", "li"]):
        for line in cell_lines(block) if isinstance(block, Tag) else ():
            match = re.match(r"\s*[(（](\d{1,2})[)）]\s*(\S.*)", " ".join(line.split()))
            if match:
                notes.setdefault(match.group(1), match.group(2))
    return notes


def _table_currency(table: Tag) -> str:
    text = table.get_text(" ")
    if "$" in text or "USD" in text:
        return "USD"
    if any(marker in text for marker in ("元", "¥", "￥", "CNY")):
        return "CNY"
    return ""


def _page_currency(soup: BeautifulSoup) -> str:
    html = soup.find("html")
    lang = str(html.get("lang", "")) if isinstance(html, Tag) else ""
    return "CNY" if lang.lower().startswith("zh") else "USD"

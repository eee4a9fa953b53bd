"""Zhipu AI's price page (open.bigmodel.cn/pricing), the Chinese GLM platform, in CNY.

A Vue single-page app (the captured page is the rendered DOM). Each price list is an Element-UI
``div.el-table`` made of a header <table> and a body <table>; several lists sit in tab panes
(``ul.tab-nav-list`` of ``li`` labels, then one pane per label, all rendered).

- Flagship lists (旗舰模型): ``模型名称 | 上下文(千tokens) | 输入单价(百万tokens) | 输出单价(百万tokens) |
  缓存存储(百万tokens/小时) | 缓存命中(百万tokens)``, cells ``8元``. The 上下文 cell is either a context size
  (``1M``, ``200K``) or the prompt-length tier of the row in 千tokens, ``输入长度 [0, 32)`` / ``[32+)``,
  sometimes with an output-length tier ``输出长度 [0, 0.2)`` under it. Half-open ``[a, b)`` becomes the
  inclusive ``a*1000 .. b*1000-1``. The model cell may carry a ``新品`` badge; the cache storage fee
  (per hour, "限时免费") is not a token price.
- Other lists (模型推理, 查看历史模型): ``模型 | 简介 | 上下文 | 单价 | Batch API 定价``, cells
  ``5 元 / 百万Tokens``: one price per token, in or out, so it is recorded as input and output (notes
  ``single_price``); the Batch column is mode ``batch``.

Free rows, "不支持" cells, prices per call, image, character or minute, embeddings, rerank and speech
models, fine-tuning and private-instance lists carry no per-token text price and are skipped.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

from bs4 import BeautifulSoup, Tag

from pricing.units import NotationError, ParsedPrice, parse_price
from providers.base import OFFICIAL_TRUST, Document, ParseError, ScrapedPrice, Scraper
from providers.helpers import cell_text, html_grid

MODEL_HEADER = re.compile(r"^模型(名称)?$")
# Flagship column labels (unit stripped) and their component; 缓存存储 is a storage fee, not a token price.
FLAGSHIP_COLUMNS = (
    ("input", re.compile(r"^输入单价")),
    ("output", re.compile(r"^输出单价")),
    ("cached_input", re.compile(r"^缓存命中")),
)
SINGLE_PRICE_HEADER = re.compile(r"^单价$")
BATCH_HEADER = re.compile(r"^batch", re.IGNORECASE)
CONTEXT_HEADER = re.compile(r"^上下文")
DESCRIPTION_HEADER = re.compile(r"^简介$")
# Tabs and rows that price things other than text generation by the token.
NOT_TEXT_GENERATION = re.compile(
    r"向量|embedding|重排序|rerank|语音|voice|audio|speech|多模态生成|图像生成|视频生成", re.IGNORECASE
)
BADGE = re.compile(r"\s*(新品|new|hot|热门|限时)\s*$", re.IGNORECASE)
PER_TOKEN_UNIT = re.compile(r"tokens", re.IGNORECASE)
NO_PRICE = re.compile(r"^(?:-|—|/|\\|不支持|免费|限时免费|free)?$", re.IGNORECASE)
# "输入长度 [0, 32)", "输入长度 [32+)", "输出长度 [0.2+)": a half-open range in the header's unit.
RANGE = re.compile(r"(输入|输出)长度\s*[\[(（]\s*(\d+(?:\.\d+)?)\s*(?:,\s*(\d+(?:\.\d+)?)\s*|\+\s*)[)\]）]")
CONTEXT_SIZE = re.compile(r"^(\d+(?:\.\d+)?)\s*([KM])$", re.IGNORECASE)
UNIT_SCALES = (("百万", 1_000_000), ("千", 1_000), ("万", 10_000))


class Zhipu(Scraper):
    slug = "zhipu"
    name = "Zhipu BigModel pricing page"
    kind = "official"
    provider = "zhipu"
    provider_name = "Zhipu AI (BigModel)"
    provider_website = "https://open.bigmodel.cn"
    urls = ("https://open.bigmodel.cn/pricing",)
    hosts = ("open.bigmodel.cn",)
    trust_rank = OFFICIAL_TRUST

    def parse(self, document: Document) -> list[ScrapedPrice]:
        soup = BeautifulSoup(document.content, "lxml")
        if not soup.find("table"):
            raise ParseError("no <table> on the page (is it the rendered page or the empty app shell?)")
        tabs = _tab_labels(soup)
        records: list[ScrapedPrice] = []
        seen: set[tuple[Any, ...]] = set()
        for header, body, container in _price_lists(soup):
            tab = next((label for pane, label in tabs if pane in container.parents or pane is container), "")
            if NOT_TEXT_GENERATION.search(tab):
                continue
            for record in self._list_prices(header, body):
                # A model listed twice at one price is one price; two prices for one line are left for ingest.
                if (record.key, record.amount_per_mtok) not in seen:
                    seen.add((record.key, record.amount_per_mtok))
                    records.append(record)
        if not records:
            raise ParseError("no price list (模型 | 输入单价 / 输出单价, or 模型 | 单价) with a priced row")
        return records

    def _list_prices(self, header: list[Tag], body: list[list[Tag]]) -> Iterator[ScrapedPrice]:
        labels = [_label(cell) for cell in header]
        if not labels or not MODEL_HEADER.match(labels[0][0]):
            return
        flagship = {
            i: component
            for i, (label, _) in enumerate(labels)
            for component, pattern in FLAGSHIP_COLUMNS
            if pattern.search(label)
        }
        single = {i: "standard" for i, (label, _) in enumerate(labels) if SINGLE_PRICE_HEADER.match(label)}
        single.update({i: "batch" for i, (label, _) in enumerate(labels) if BATCH_HEADER.match(label)})
        if not flagship and not single:
            return
        context_col = next((i for i, (label, _) in enumerate(labels) if CONTEXT_HEADER.match(label)), None)
        context_scale = _scale(labels[context_col][1]) if context_col is not None else 1_000
        description_col = next((i for i, (label, _) in enumerate(labels) if DESCRIPTION_HEADER.match(label)), None)
        for row in body:
            if len(row) < len(labels):
                continue
            model = _model_name(row[0])
            if not model or (
                description_col is not None and NOT_TEXT_GENERATION.search(cell_text(row[description_col]))
            ):
                continue
            if NOT_TEXT_GENERATION.search(model):
                continue
            condition = _condition(row[context_col]) if context_col is not None else ""
            tier, output_tier, context_window = _tiers(condition, context_scale)
            base = ScrapedPrice(
                provider=self.provider,
                model=model,
                component="input",
                amount_per_mtok=Decimal(0),
                currency="CNY",
                tier_min_tokens=tier[0],
                tier_max_tokens=tier[1],
                context_window=context_window,
                creator="zhipu",
                attributes={"output_tier": {"min_tokens": output_tier[0], "max_tokens": output_tier[1]}}
                if output_tier
                else {},
            )
            for col, component in flagship.items():
                price = _price(row[col], labels[col], model)
                if price is not None:
                    yield base.replace(
                        component=component,
                        amount_per_mtok=price.amount_per_mtok,
                        currency=price.currency,
                        original=price.original,
                        excerpt=_excerpt(model, condition, labels[col], row[col]),
                    )
            for col, mode in single.items():
                price = _price(row[col], labels[col], model)
                if price is None:
                    continue
                for component in ("input", "output"):
                    yield base.replace(
                        component=component,
                        mode=mode,
                        amount_per_mtok=price.amount_per_mtok,
                        currency=price.currency,
                        original=price.original,
                        excerpt=_excerpt(model, "", labels[col], row[col]),
                        notes={"single_price": True},
                    )


def _price_lists(soup: BeautifulSoup) -> Iterator[tuple[list[Tag], list[list[Tag]], Tag]]:
    """Each list as (header cells, body rows, its element): an Element-UI table or a plain <table>."""
    in_el_tables: set[int] = set()
    for el_table in soup.select("div.el-table"):
        header_table = el_table.select_one(".el-table__header-wrapper table, table.el-table__header")
        body_table = el_table.select_one(".el-table__body-wrapper table, table.el-table__body")
        if header_table is None or body_table is None:
            continue
        in_el_tables.update(id(t) for t in el_table.find_all("table"))
        header_rows = html_grid(header_table)
        if header_rows:
            yield header_rows[-1], html_grid(body_table), el_table
    for table in soup.find_all("table"):
        if isinstance(table, Tag) and id(table) not in in_el_tables:
            grid = html_grid(table)
            if len(grid) > 1:
                yield grid[0], grid[1:], table


def _tab_labels(soup: BeautifulSoup) -> list[tuple[Tag, str]]:
    """Each tab pane with its label: the ``li`` labels of a tab list name the element siblings after it, in order."""
    panes: list[tuple[Tag, str]] = []
    for nav in soup.select("ul.tab-nav-list"):
        labels = [cell_text(li) for li in nav.find_all("li") if isinstance(li, Tag)]
        siblings = [s for s in nav.find_next_siblings() if isinstance(s, Tag)]
        panes.extend(zip(siblings, labels, strict=False))
    return panes


def _label(cell: Tag) -> tuple[str, str]:
    """A header cell as (label, unit): "输入单价(百万tokens)" -> ("输入单价", "百万tokens")."""
    text = cell_text(cell)
    match = re.match(r"^(.*?)\s*[(（]([^()（）]*)[)）]\s*$", text)
    return (match.group(1).strip(), match.group(2).strip()) if match else (text, "")


def _model_name(cell: Tag) -> str:
    name_box = cell.select_one(".name-box")
    if name_box is not None:
        first = name_box.find("p")
        if isinstance(first, Tag):
            return cell_text(first)
    return BADGE.sub("", cell_text(cell))


def _condition(cell: Tag) -> str:
    """The 上下文 cell's lines joined by a space ("输入长度 [0, 32) 输出长度 [0, 0.2)")."""
    lines = [cell_text(p) for p in cell.find_all("p") if isinstance(p, Tag)] or [cell_text(cell)]
    return " ".join(line for line in lines if line)


def _scale(unit: str) -> int:
    return next((size for word, size in UNIT_SCALES if word in unit), 1)


def _tiers(
    condition: str, scale: int
) -> tuple[tuple[int | None, int | None], tuple[int | None, int | None] | None, int | None]:
    """(prompt tier, output tier or None, context window) from a 上下文 cell."""
    prompt: tuple[int | None, int | None] = (None, None)
    output: tuple[int | None, int | None] | None = None
    ranges = RANGE.findall(condition)
    for side, low_text, high_text in ranges:
        low = int(Decimal(low_text) * scale) or None
        high = int(Decimal(high_text) * scale) - 1 if high_text else None
        if side == "输入":
            prompt = (low, high)
        else:
            output = (low, high)
    size = CONTEXT_SIZE.match(condition.strip())
    context = int(Decimal(size.group(1)) * {"k": 1_000, "m": 1_000_000}[size.group(2).lower()]) if size else None
    return prompt, output, context


def _price(cell: Tag, label: tuple[str, str], model: str) -> ParsedPrice | None:
    """The cell's price per 1M tokens; None for free or unsupported cells and prices per anything but tokens."""
    text = cell_text(cell)
    if NO_PRICE.match(text):
        return None
    if "/" in text:
        original = text  # "5 元 / 百万Tokens"; "0.1 元 / 次" is priced per call
    elif PER_TOKEN_UNIT.search(label[1]):
        original = f"{text} / {label[1]}"  # "8元" under "输入单价(百万tokens)"
    else:
        return None
    if not PER_TOKEN_UNIT.search(original.split("/", 1)[1]):
        return None
    try:
        return parse_price(original, default_currency="CNY")
    except NotationError as exc:
        raise ParseError(f"{model} {label[0]}: {exc}") from exc


def _excerpt(model: str, condition: str, label: tuple[str, str], cell: Tag) -> str:
    head = f"{label[0]}({label[1]})" if label[1] else label[0]
    return " | ".join(part for part in (model, condition, f"{head}: {cell_text(cell)}") if part)

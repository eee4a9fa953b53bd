"""Tencent Cloud's TokenHub model prices: the China site in CNY and the international site in USD.

Both pages are Slate-rendered documents. A price table reads "模型名称 | 条件（token） | 推理输入（元/百万 tokens） |
推理输出（...） | 缓存命中（...）"; the international page prints "美元/百万 tokens". Each page keeps its own
currency, read from the column headers. A row spanning several tiers continues in rows that start with a
hidden zero-span placeholder cell (``<td class="hidden" rowspan="0" colspan="0">`` holding U+FEFF), which
is dropped before the grid is built. Region tables sit in tabs ("广州" / "新加坡"): the tab label is the
region. A model cell may carry a supply variant ("原厂直供": sold as the model maker's own service), an
edition ("正式版") and a retirement note ("（2026-08-31 下线）"); only the model id stays in ``model``.
Tables under a "批量任务场景" heading are batch prices. Image, video, speech and embedding tables have no
input/output token columns and are left alone.
"""

from __future__ import annotations

import re
from typing import Any

from bs4 import BeautifulSoup, Tag

from pricing.units import NotationError, parse_price
from providers.base import OFFICIAL_TRUST, Document, ParseError, ScrapedPrice, Scraper
from providers.helpers import cell_text, html_grid, prompt_tier, tables_under_headings

# Column headers by what they price; a cache-hit header is matched before the plain input one.
COMPONENTS = (
    ("cached_input", re.compile(r"缓存命中|cache\s*hit|cached", re.IGNORECASE)),
    ("input", re.compile(r"输入|input", re.IGNORECASE)),
    ("output", re.compile(r"输出|output", re.IGNORECASE)),
)
SUPPLY_VARIANT = re.compile(r"原厂直供|腾讯云自建|自建")
CJK_WORD = re.compile(r"^[\u3000-\u9fff\uff00-\uffef]+$")
ASIDE = re.compile(r"\s*[（(]([^（）()]*)[）)]\s*")
BATCH = re.compile(r"批量|batch", re.IGNORECASE)
NUMBER = re.compile(r"\d")
# A price cell is one figure ("0.0028"), at most with its currency; anything else with digits is not read.
PRICE_CELL = re.compile(r"(?:US\$|\$|¥|￥)?\s*\d[\d,]*(?:\.\d+)?\s*(?:美元|元)?")


class Tencent(Scraper):
    slug = "tencent"
    name = "Tencent Cloud TokenHub model prices (China site in CNY, international site in USD)"
    kind = "official"
    provider = "tencent"
    provider_name = "Tencent Cloud"
    provider_website = "https://cloud.tencent.com"
    urls = (
        "https://cloud.tencent.com/document/product/1823/130055",
        "https://www.tencentcloud.com/zh/document/product/1300/78937",
    )
    hosts = ("cloud.tencent.com", "www.tencentcloud.com")
    trust_rank = OFFICIAL_TRUST

    def parse(self, document: Document) -> list[ScrapedPrice]:
        soup = BeautifulSoup(document.content, "lxml")
        for placeholder in soup.find_all(["td", "th"]):
            if isinstance(placeholder, Tag) and _is_placeholder(placeholder):
                placeholder.decompose()
        tables = list(tables_under_headings(soup))
        if not tables:
            raise ParseError("no <table> on the page")
        records: list[ScrapedPrice] = []
        for chain, table in tables:
            records.extend(self._table_prices(chain, table))
        if not records:
            raise ParseError('no "模型名称" table with 推理输入 / 推理输出 / 缓存命中 prices per token')
        return records

    def _table_prices(self, chain: dict[str, str], table: Tag) -> list[ScrapedPrice]:
        grid = html_grid(table)
        if len(grid) < 2:
            return []
        columns = _columns(grid[0])
        if "model" not in columns or not columns["prices"]:
            return []
        region = _tab_label(table)
        title = " / ".join(chain[h] for h in sorted(chain) if h != "h1")
        where = f"{title} / {region}" if region else title
        mode = "batch" if any(BATCH.search(heading) for heading in chain.values()) else "standard"
        records: list[ScrapedPrice] = []
        for row in grid[1:]:
            label = cell_text(row[columns["model"]]).replace("\ufeff", "").strip()
            if not label:
                continue
            model, facts = _model_label(label)
            condition = cell_text(row[columns["condition"]]) if "condition" in columns else ""
            try:
                tier = prompt_tier(condition)
            except ValueError as exc:
                raise ParseError(f"{label}: cannot read the condition {condition!r} ({title})") from exc
            attributes: dict[str, Any] = {}
            if region:
                attributes["region"] = region
            if facts.get("variant"):
                attributes["variant"] = facts.pop("variant")
            notes: dict[str, Any] = {"table": title, **facts}
            if label != model:
                notes["page_label"] = label
            if condition and tier:
                notes["condition"] = condition
            for col, (component, header, unit_tokens, currency) in columns["prices"].items():
                shown = cell_text(row[col])
                if not NUMBER.search(shown):
                    continue  # "-": not sold this way
                if not PRICE_CELL.fullmatch(shown):
                    raise ParseError(f"{label} {header}: cannot read the price {shown!r}")
                try:
                    parsed = parse_price(shown, default_currency=currency, unit_tokens=unit_tokens)
                except NotationError as exc:
                    raise ParseError(f"{label} {header}: cannot read the price {shown!r}") from exc
                records.append(
                    ScrapedPrice(
                        provider=self.provider,
                        model=model,
                        component=component,
                        amount_per_mtok=parsed.amount_per_mtok,
                        mode=mode,
                        currency=currency,
                        tier_min_tokens=tier[0] if tier else None,
                        tier_max_tokens=tier[1] if tier else None,
                        original=f"{shown} {_unit(header)}".strip(),
                        excerpt=f"[{where}] {label} | {condition} | {header}: {shown}"[:200],
                        notes=notes,
                        attributes=dict(attributes),
                    )
                )
        return records


def _is_placeholder(cell: Tag) -> bool:
    """The hidden zero-span cell that stands where a rowspan cell continues."""
    zero_span = str(cell.get("rowspan", "")) == "0" and str(cell.get("colspan", "")) == "0"
    return zero_span or "hidden" in (cell.get("class") or [])


def _columns(header: list[Tag]) -> dict[str, Any]:
    """Which column holds the model name, the condition and each price (component, header, tokens, currency)."""
    columns: dict[str, Any] = {"prices": {}}
    for col, cell in enumerate(header):
        label = cell_text(cell)
        compact = label.replace(" ", "")
        if not compact:
            continue
        if compact.startswith("模型名称") and "model" not in columns:
            columns["model"] = col
        elif compact.startswith("条件"):
            columns["condition"] = col
        elif "tokens" in compact.lower() and ("百万" in compact or "千" in compact):
            component = next((name for name, pattern in COMPONENTS if pattern.search(compact)), None)
            if component is None:
                continue  # "价格（元/百万 tokens）" beside a "计费项" column: embeddings, by kind of input
            unit_tokens = 1_000_000 if "百万" in compact else 1_000
            currency = "USD" if "美元" in compact or "$" in compact or "USD" in compact else "CNY"
            columns["prices"][col] = (component, label, unit_tokens, currency)
    return columns


def _unit(header: str) -> str:
    match = re.search(r"[（(]([^（）()]*tokens?[^（）()]*)[）)]", header, re.IGNORECASE)
    return match.group(1).strip() if match else ""


def _model_label(label: str) -> tuple[str, dict[str, str]]:
    """ "DeepSeek-V4-Flash 正式版 原厂直供" -> ("DeepSeek-V4-Flash", {"variant": "原厂直供", "edition": "正式版"});
    "Hy3 preview（2026-08-31 下线）" -> ("Hy3 preview", {"qualifier": "2026-08-31 下线"})."""
    facts: dict[str, str] = {}
    asides = ASIDE.findall(label)
    if asides:
        facts["qualifier"] = "; ".join(" ".join(aside.split()) for aside in asides)
    words = ASIDE.sub(" ", label).split()
    model_words, editions = [], []
    for word in words:
        if SUPPLY_VARIANT.fullmatch(word):
            facts["variant"] = word
        elif CJK_WORD.match(word):
            editions.append(word)
        else:
            model_words.append(word)
    if editions:
        facts["edition"] = " ".join(editions)
    return " ".join(model_words) or label, facts


def _tab_label(table: Tag) -> str:
    """The label of the tab a table sits in ("广州", "新加坡"); "" outside tabs."""
    content = table.find_parent(class_="tse-tabs__cont")
    tabs = content.find_parent(class_="tse-tabs") if isinstance(content, Tag) else None
    if not isinstance(content, Tag) or not isinstance(tabs, Tag):
        return ""
    contents = [c for c in tabs.find_all(class_="tse-tabs__cont") if isinstance(c, Tag)]
    labels = [cell_text(label) for label in tabs.find_all(class_="tse-tabs__item-label") if isinstance(label, Tag)]
    index = next((i for i, c in enumerate(contents) if c is content), -1)
    return labels[index] if 0 <= index < len(labels) else ""

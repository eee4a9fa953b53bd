"""Alibaba Cloud's own model prices, in CNY, from two help-centre documents of one site.

- Model Studio (Bailian) "模型调用价格": the help centre's JSON API wraps the page's HTML in ``data.content``.
  Sections are headings: h2 a family of models ("文本生成-千问", "文本生成-第三方模型", "图像生成" ...), h3 a
  model line ("千问Max"), h4 the region ("华北2（北京）", "新加坡"), h5 "更多模型" for a second table. A table
  has one row per model id and prompt-length tier: "服务部署范围" (全球 / 国际 / 美国 ...) tells apart two
  prices of one id in one region, "单次请求的输入Token数" holds the tier ("32K<Token≤128K"), and a two-row
  header may split the output price into "非思考模式" / "思考模式". Prices read "12元" per 1M tokens, or
  "原价 12元 限时5折" (the list price, with a time-limited discount whose rate is not a printed price).
  Only the text-generation sections ("文本生成-*") are token prices of text models; the others price
  images, seconds of audio or video, characters.
- Hologres "托管模型计费": a static page whose token table ("地域 | 模型名称 | 模型类别 | 输入 Token 阶梯 | ...")
  prices per 1K tokens (元/千 Token), with explicit and implicit cache columns.

``parse`` tells the two apart by content: JSON (or HTML) with "模型 ID" tables is Bailian, HTML with a
"地域 / 模型名称" token table is Hologres.
"""

from __future__ import annotations

import json
import re
from typing import Any

from bs4 import BeautifulSoup, Tag

from pricing.units import NotationError, parse_price
from providers.base import OFFICIAL_TRUST, Document, ParseError, ScrapedPrice, Scraper
from providers.helpers import cell_text, html_grid, prompt_tier, tables_under_headings, unique_cells

TEXT_SECTION = re.compile(r"^文本生成")
# "12元", "原价 12元 限时5折", "$0.5": the figure; a cell without one ("限时免费", "已下线", "-") has no price.
FIGURE = re.compile(r"(US\$|\$)?\s*(\d[\d,]*(?:\.\d+)?)\s*(元)?")
DISCOUNT = re.compile(r"限时\s*[\d.]+\s*折")
LIST_PRICE = re.compile(r"原价\s*(?:US\$|\$)?\s*(\d[\d,]*(?:\.\d+)?)")


class Alibaba(Scraper):
    slug = "alibaba"
    name = "Alibaba Cloud Model Studio (Bailian) and Hologres model pricing"
    kind = "official"
    provider = "alibaba"
    provider_name = "Alibaba Cloud"
    provider_website = "https://www.aliyun.com"
    urls = (
        "https://help.aliyun.com/help/json/document_detail.json"
        "?alias=%2Fmodel-studio%2Fmodel-pricing&pageNum=1&pageSize=20&website=cn&language=zh",
        "https://help.aliyun.com/zh/hologres/user-guide/managed-models-billing",
    )
    hosts = ("help.aliyun.com",)
    trust_rank = OFFICIAL_TRUST

    def parse(self, document: Document) -> list[ScrapedPrice]:
        text = document.text.strip()
        if not text:
            raise ParseError("empty document")
        html = _bailian_content(text) if text.startswith("{") else text
        soup = BeautifulSoup(html, "lxml")
        tables = list(tables_under_headings(soup))
        if not tables:
            raise ParseError("no <table> in the document")
        if any(_is_bailian_table(table) for _, table in tables):
            records = self._bailian(tables)
            what = 'no price in the text-generation ("文本生成") tables with a "模型 ID" column'
        elif any(_hologres_header(table) for _, table in tables):
            records = self._hologres([table for _, table in tables])
            what = 'no token price in the "地域 / 模型名称" table (元/千 Token)'
        else:
            raise ParseError('neither a Model Studio "模型 ID" price table nor a Hologres "地域 / 模型名称" table')
        if not records:
            raise ParseError(what)
        return records

    # --- Model Studio (Bailian) -------------------------------------------------------------------

    def _bailian(self, tables: list[tuple[dict[str, str], Tag]]) -> list[ScrapedPrice]:
        records: list[ScrapedPrice] = []
        for chain, table in tables:
            section = chain.get("h2", "")
            if TEXT_SECTION.match(section) and _is_bailian_table(table):
                records.extend(self._bailian_table(chain, table))
        return records

    def _bailian_table(self, chain: dict[str, str], table: Tag) -> list[ScrapedPrice]:
        grid = html_grid(table)
        model_cell = grid[0][0]
        header_rows = [row for row in grid if row[0] is model_cell]
        columns = _bailian_columns(header_rows)
        region = chain.get("h4", "")
        title = " / ".join(chain[h] for h in ("h2", "h3", "h5") if chain.get(h))
        records: list[ScrapedPrice] = []
        for row in grid[len(header_rows) :]:
            if len(unique_cells(row)) < 2:
                continue  # a note spanning the whole table
            model, badges = _model_and_badges(row[0])
            if not model:
                continue
            attributes: dict[str, Any] = {"region": region} if region else {}
            notes: dict[str, Any] = {"table": title}
            tier: tuple[int | None, int | None] | None = None
            condition = ""
            for col, (role, _label, _thinking) in columns.items():
                value = cell_text(row[col])
                if role == "deploy_scope" and value:
                    attributes["deploy_scope"] = value
                elif role == "model_mode" and value:
                    notes["model_mode"] = value
                elif role == "tier":
                    condition = value
                    try:
                        tier = prompt_tier(value)
                    except ValueError as exc:
                        raise ParseError(f"{model}: cannot read the tier {value!r} ({title})") from exc
            if badges:
                notes["badges"] = badges
            for col, (role, label, thinking) in columns.items():
                if role not in ("input", "output"):
                    continue
                shown = cell_text(row[col])
                price = _bailian_figure(shown)
                if price is None:
                    continue  # "限时免费", "已下线", "-": no price to keep
                amount_text, currency, discount = price
                try:
                    parsed = parse_price(amount_text, default_currency=currency, unit_tokens=1_000_000)
                except NotationError as exc:
                    raise ParseError(f"{model} {role}: cannot read the price {shown!r}") from exc
                price_attributes = dict(attributes)
                if thinking:
                    price_attributes["thinking"] = thinking
                price_notes = dict(notes, discount=discount) if discount else notes
                records.append(
                    ScrapedPrice(
                        provider=self.provider,
                        model=model,
                        component=role,
                        amount_per_mtok=parsed.amount_per_mtok,
                        currency=parsed.currency,
                        tier_min_tokens=tier[0] if tier else None,
                        tier_max_tokens=tier[1] if tier else None,
                        original=f"{amount_text}{'元' if currency == 'CNY' else ''} / 每百万Token",
                        excerpt=f"[{region}] {model} | {condition} | {label}: {shown}"[:200],
                        notes=dict(price_notes, condition=condition) if condition else price_notes,
                        attributes=price_attributes,
                    )
                )
        return records

    # --- Hologres ----------------------------------------------------------------------------------

    def _hologres(self, tables: list[Tag]) -> list[ScrapedPrice]:
        records: list[ScrapedPrice] = []
        for table in tables:
            header = _hologres_header(table)
            if header:
                records.extend(self._hologres_table(table, header))
        return records

    def _hologres_table(self, table: Tag, header: dict[str, Any]) -> list[ScrapedPrice]:
        grid = html_grid(table)
        records: list[ScrapedPrice] = []
        for row in grid[1:]:
            model = cell_text(row[header["model"]])
            if not model or len(unique_cells(row)) < 3:
                continue
            region = _regions(row[header["region"]])
            category = cell_text(row[header["category"]]) if "category" in header else ""
            if "向量" in category:
                continue  # embeddings: an input price of vectors, not of a text model
            condition = cell_text(row[header["tier"]]) if "tier" in header else ""
            try:
                tier = prompt_tier(condition) if condition else None
            except ValueError as exc:
                raise ParseError(f"{model}: cannot read the tier {condition!r}") from exc
            for col, (component, cache_type, label, unit_tokens, currency, unit) in header["prices"].items():
                shown = cell_text(row[col])
                if not re.fullmatch(r"\d[\d,]*(?:\.\d+)?", shown):
                    continue  # "-": not sold this way
                try:
                    parsed = parse_price(shown, default_currency=currency, unit_tokens=unit_tokens)
                except NotationError as exc:
                    raise ParseError(f"{model} {label}: cannot read the price {shown!r}") from exc
                attributes: dict[str, Any] = {"region": region} if region else {}
                if cache_type:
                    attributes["cache_type"] = cache_type
                records.append(
                    ScrapedPrice(
                        provider=self.provider,
                        model=model,
                        component=component,
                        amount_per_mtok=parsed.amount_per_mtok,
                        currency=parsed.currency,
                        tier_min_tokens=tier[0] if tier else None,
                        tier_max_tokens=tier[1] if tier else None,
                        original=f"{shown} {unit}",
                        excerpt=f"[{region}] {model} | {category} | {condition} | {label}: {shown}"[:200],
                        notes={"model_category": category, "condition": condition} if category else {},
                        attributes=attributes,
                    )
                )
        return records


def _bailian_content(text: str) -> str:
    """The page HTML inside the help centre's JSON answer ({"data": {"content": "<div ..."}})."""
    try:
        payload = json.loads(text)
    except ValueError as exc:
        raise ParseError(f"not JSON: {exc}") from exc
    data = payload.get("data") if isinstance(payload, dict) else None
    content = data.get("content") if isinstance(data, dict) else None
    if not isinstance(content, str) or not content.strip():
        raise ParseError('no "data.content" HTML in the help-centre JSON')
    return content


def _is_bailian_table(table: Tag) -> bool:
    first = table.find(["td", "th"])
    return isinstance(first, Tag) and cell_text(first).replace(" ", "").startswith("模型ID")


def _bailian_columns(header_rows: list[list[Tag]]) -> dict[int, tuple[str, str, str]]:
    """Column -> (role, header label, thinking mode) for a Model Studio table's header rows."""
    columns: dict[int, tuple[str, str, str]] = {}
    for col in range(1, len(header_rows[0])):
        cells = unique_cells([row[col] for row in header_rows])
        label = " ".join(cell_text(cell) for cell in cells)
        top = cell_text(cells[0]).replace(" ", "")
        sub = " ".join(cell_text(cell) for cell in cells[1:])
        if "服务部署范围" in top:
            columns[col] = ("deploy_scope", label, "")
        elif top == "模式":
            columns[col] = ("model_mode", label, "")
        elif "单价" in top and "Token" in top:
            component = "input" if "输入" in top else "output" if "输出" in top else ""
            if not component or "每百万" not in top:
                continue
            if not sub:
                columns[col] = (component, label, "")
            elif "非思考" in sub:
                columns[col] = (component, label, "non-thinking")
            elif "思考" in sub:
                columns[col] = (component, label, "thinking")
            # Any other split (文本 / 音频 / 图片) prices one kind of input or output: not a text token price.
        elif "Token" in top and "单价" not in top:
            columns[col] = ("tier", label, "")
    if not any(role in ("input", "output") for role, _, _ in columns.values()):
        return {}
    return columns


def _model_and_badges(cell: Tag) -> tuple[str, str]:
    """The model id (the cell's first paragraph) and the notes printed under it ("Batch调用 半价")."""
    first = cell.find("p")
    if isinstance(first, Tag):
        model = cell_text(first)
        rest = cell_text(cell)[len(model) :] if cell_text(cell).startswith(model) else ""
    else:
        words = cell_text(cell).split()
        model, rest = (words[0], " ".join(words[1:])) if words else ("", "")
    if " " in model or not re.search(r"[0-9A-Za-z]", model):
        return "", ""
    return model, rest.strip()


def _bailian_figure(shown: str) -> tuple[str, str, str] | None:
    """(amount, currency, discount label) of a Model Studio price cell; None when it holds no price."""
    discount_match = DISCOUNT.search(shown)
    discount = discount_match.group(0).replace(" ", "") if discount_match else ""
    without_discount = DISCOUNT.sub(" ", shown)
    listed = LIST_PRICE.search(without_discount)
    figure = FIGURE.search(without_discount)
    if listed:
        amount = listed.group(1)
    elif figure and (figure.group(1) or figure.group(3)):
        amount = figure.group(2)
    else:
        return None
    currency = "USD" if "$" in without_discount else "CNY"
    return amount.replace(",", ""), currency, discount


def _regions(cell: Tag) -> str:
    """One region cell as "北京/上海/杭州/深圳": its paragraphs (or words) joined by slashes."""
    paragraphs = [cell_text(p) for p in cell.find_all("p") if isinstance(p, Tag) and cell_text(p)]
    return "/".join(paragraphs if len(paragraphs) > 1 else cell_text(cell).split())


def _hologres_header(table: Tag) -> dict[str, Any]:
    """Column roles of a Hologres token table ("地域 | 模型名称 | ... | 输入单价（元/千 Token）"); {} otherwise."""
    grid = html_grid(table)
    if not grid:
        return {}
    labels = [cell_text(cell) for cell in grid[0]]
    header: dict[str, Any] = {"prices": {}}
    for col, label in enumerate(labels):
        compact = label.replace(" ", "")
        if compact == "地域":
            header["region"] = col
        elif compact in ("模型名称", "模型"):
            header["model"] = col
        elif "类别" in compact:
            header["category"] = col
        elif "阶梯" in compact and "Token" in compact:
            header["tier"] = col
        elif "Token" in compact and ("单价" in compact or "缓存" in compact):
            price = _hologres_price_column(compact, label)
            if price:
                header["prices"][col] = price
    if "region" not in header or "model" not in header or not header["prices"]:
        return {}
    return header


def _hologres_price_column(compact: str, label: str) -> tuple[str, str, str, int, str, str] | None:
    """(component, cache type, label, tokens per unit, currency, unit) of a price column header."""
    unit_match = re.search(r"[（(]([^()（）]*Token[^()（）]*)[)）]", label, re.IGNORECASE)
    unit = unit_match.group(1).strip() if unit_match else ""
    if "百万" in compact:
        unit_tokens = 1_000_000
    elif "千" in compact:
        unit_tokens = 1_000
    else:
        return None
    currency = "USD" if "美元" in compact or "$" in compact else "CNY"
    cache_type = "explicit" if "显式" in compact else "implicit" if "隐式" in compact else ""
    if "缓存" in compact and ("创建" in compact or "写入" in compact):
        component = "cache_write_5m"
    elif "缓存" in compact and "命中" in compact:
        component = "cached_input"
    elif "输入" in compact:
        component = "input"
    elif "输出" in compact:
        component = "output"
    else:
        return None
    return component, cache_type, label, unit_tokens, currency, unit

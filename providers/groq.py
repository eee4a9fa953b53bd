"""Groq's pricing page (groq.com/pricing): USD per 1M tokens, in server-rendered HTML tables.

Each section ("Large Language Models", "Prompt Caching", speech, tools) is one ``<table>`` with a
``<thead>`` of column labels. Every body cell repeats its column label in a mobile-only block
(``PricingTable_..._mobileLabel``) before its value, and price cells carry a tokens-per-dollar aside
("$0.075 (13.3M / $1)*"). The model table names models by display name with the context window
appended ("GPT OSS 20B 128k"); the caching table names them by API id. Tables are read by their
column labels, so speech (per character / hour) and tool (per request) tables are skipped.
"""

from __future__ import annotations

import re

from bs4 import Tag

from pricing.units import NotationError, parse_price
from providers.base import OFFICIAL_TRUST, Document, ParseError, ScrapedPrice, Scraper
from providers.helpers import cell_text, html_grid, labelled_figures, page_tables, token_count

MODEL_HEADER = re.compile(r"^(?:ai\s+)?model$", re.IGNORECASE)
# Column label -> component; "uncached input" must win over "cached input", which must win over "input".
COMPONENT_HEADERS = (
    ("input", re.compile(r"\buncached\s+input", re.IGNORECASE)),
    ("cached_input", re.compile(r"\bcached\s+input", re.IGNORECASE)),
    ("input", re.compile(r"\binput\b", re.IGNORECASE)),
    ("output", re.compile(r"\boutput\b", re.IGNORECASE)),
)
MODE_HEADERS = (("batch", re.compile(r"\bbatch\b", re.IGNORECASE)), ("flex", re.compile(r"\bflex\b", re.IGNORECASE)))
PER_MILLION_TOKENS = re.compile(r"per\s+(?:million|1\s*m|m)\s+tokens", re.IGNORECASE)
# "GPT OSS 20B 128k": the context window the page appends to the model's name.
TRAILING_CONTEXT = re.compile(r"\s+(\d+(?:\.\d+)?\s*[kKmM])$")


class Groq(Scraper):
    slug = "groq"
    name = "Groq pricing page"
    kind = "official"
    provider = "groq"
    provider_name = "Groq"
    provider_website = "https://groq.com"
    urls = ("https://groq.com/pricing",)
    hosts = ("groq.com", "www.groq.com")
    trust_rank = OFFICIAL_TRUST

    def parse(self, document: Document) -> list[ScrapedPrice]:
        soup, tables = page_tables(document.content)
        # The mobile copy of each column label sits inside every body cell; drop it before reading values.
        for label in soup.select('[class*="mobileLabel"]'):
            label.decompose()
        records: list[ScrapedPrice] = []
        for table in tables:
            records.extend(self._table_prices(table))
        if not records:
            raise ParseError(
                "no token-price table: no table has a Model column and input/output columns priced per million tokens"
            )
        return records

    def _table_prices(self, table: Tag) -> list[ScrapedPrice]:
        grid = html_grid(table)
        if not grid:
            return []
        headers = [cell_text(cell) for cell in grid[0]]
        model_col = next((i for i, text in enumerate(headers) if MODEL_HEADER.match(text)), None)
        columns = {i: component for i, text in enumerate(headers) if (component := _component(text))}
        if model_col is None or not columns:
            return []
        section = _section_title(table)
        records: list[ScrapedPrice] = []
        for row in grid[1:]:
            label = _strip_label(cell_text(row[model_col]), headers[model_col])
            if not label:
                continue
            model, context = label, ""
            if match := TRAILING_CONTEXT.search(label):
                model, context = label[: match.start()].strip(), match.group(1)
            for col, component in columns.items():
                shown = _strip_label(cell_text(row[col]), headers[col])
                figures = labelled_figures(shown)
                if not figures:
                    continue  # "—" or an empty cell: no price for this component
                figure = figures[0][0]
                try:
                    amount = parse_price(figure, unit_tokens=1_000_000).amount_per_mtok
                except NotationError as exc:
                    raise ParseError(f"{section}: {model} {component}: cannot read {shown!r}") from exc
                records.append(
                    ScrapedPrice(
                        provider=self.provider,
                        model=model,
                        component=component,
                        amount_per_mtok=amount,
                        mode=_mode(headers[col]),
                        currency="USD",
                        original=f"{figure} / 1M tokens",
                        excerpt=f"[{section}] {label} | {headers[col]}: {figure}"[:200],
                        model_name=model,
                        context_window=token_count(context) if context else None,
                        notes={"table": section, "page_label": label} if context else {"table": section},
                    )
                )
        return records


def _component(header: str) -> str | None:
    """The component a column prices, only for token prices per million tokens."""
    if not PER_MILLION_TOKENS.search(header):
        return None
    for component, pattern in COMPONENT_HEADERS:
        if pattern.search(header):
            return component
    return None


def _mode(header: str) -> str:
    return next((mode for mode, pattern in MODE_HEADERS if pattern.search(header)), "standard")


def _strip_label(text: str, header: str) -> str:
    """A cell's value without its column label, in case the mobile label is not marked by its class."""
    for prefix in (header, re.split(r"[(（]", header, maxsplit=1)[0].strip()):
        if prefix and text.startswith(prefix) and len(text) > len(prefix):
            return text[len(prefix) :].strip()
    return text.strip()


def _section_title(table: Tag) -> str:
    heading = table.find_previous(["h2", "h3"])
    return " ".join(heading.get_text(" ").split()) if isinstance(heading, Tag) else ""

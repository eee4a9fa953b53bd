"""Fireworks AI's pricing page (fireworks.ai/pricing): serverless text prices, USD per 1M tokens.

The "Text and Vision" section is one ``<table>`` (``Base model | $ / 1M tokens``) mixing two kinds of
rows: parameter-size buckets ("4B - 16B parameters", "MoE 0B - 56B parameters (e.g. Mixtral 8x7B)")
with one price for input and output alike, and named models (a link to the model page, sometimes
two links sharing one row) whose cell labels each figure ("$0.60 input, $0.10 cached input, $3.00
output"). A bucket is not a model: it is kept under its label as printed, with
``notes["model_category"] = "parameter_size_bucket"``, priced as input and as output. Other sections
(speech, images, embeddings, fine tuning, GPU hours) are not per-token generation prices and are skipped.
The lines under the table ("cached input at 50% unless specified", "batch at 50%") state rules, not
prices, so no record is computed from them.
"""

from __future__ import annotations

import re

from bs4 import Tag

from pricing.units import NotationError, parse_price
from providers.base import OFFICIAL_TRUST, Document, ParseError, ScrapedPrice, Scraper
from providers.helpers import cell_text, html_grid, labelled_figures, page_tables

PRICE_HEADER = re.compile(r"(?:\$\s*/|per)\s*1\s*M\s+tokens", re.IGNORECASE)
MODEL_HEADER = re.compile(r"\bmodel\b", re.IGNORECASE)
SKIPPED_SECTIONS = re.compile(r"embedding|fine[\s-]*tun|speech|image|audio", re.IGNORECASE)
SIZE_BUCKET = re.compile(
    r"\bparameters?\b|^\s*(?:MoE\s+)?(?:up to|less than|more than)?\s*\d+(?:\.\d+)?\s*B\b", re.IGNORECASE
)
LABELS = (
    ("cached_input", re.compile(r"^cached\s+input", re.IGNORECASE)),
    ("input", re.compile(r"^input", re.IGNORECASE)),
    ("output", re.compile(r"^output", re.IGNORECASE)),
)


class Fireworks(Scraper):
    slug = "fireworks"
    name = "Fireworks AI pricing page"
    kind = "official"
    provider = "fireworks"
    provider_name = "Fireworks AI"
    provider_website = "https://fireworks.ai"
    urls = ("https://fireworks.ai/pricing",)
    hosts = ("fireworks.ai", "www.fireworks.ai")
    trust_rank = OFFICIAL_TRUST

    def parse(self, document: Document) -> list[ScrapedPrice]:
        _, tables = page_tables(document.content)
        records: list[ScrapedPrice] = []
        for table in tables:
            if not SKIPPED_SECTIONS.search(_section_title(table)):
                records.extend(self._table_prices(table))
        if not records:
            raise ParseError("no serverless text table: no 'Base model | $ / 1M tokens' table with prices")
        return records

    def _table_prices(self, table: Tag) -> list[ScrapedPrice]:
        grid = html_grid(table)
        if not grid:
            return []
        headers = [cell_text(cell) for cell in grid[0]]
        model_col = next((i for i, text in enumerate(headers) if MODEL_HEADER.search(text)), None)
        price_col = next((i for i, text in enumerate(headers) if PRICE_HEADER.search(text)), None)
        if model_col is None or price_col is None:
            return []
        section = _section_title(table)
        records: list[ScrapedPrice] = []
        for row in grid[1:]:
            label, shown = cell_text(row[model_col]), cell_text(row[price_col])
            figures = labelled_figures(shown)
            if not label or not figures:
                continue
            prices = _components(figures)
            if not prices:
                raise ParseError(f"{section}: {label!r}: no input/output price in {shown!r}")
            links = [a for a in row[model_col].find_all("a") if isinstance(a, Tag) and cell_text(a)]
            if links:
                models = [(cell_text(a), {"link": str(a.get("href", ""))}) for a in links]
                category = "named_model"
            else:
                models = [(label, {})]
                category = "parameter_size_bucket" if SIZE_BUCKET.search(label) else "named_model"
            for model, facts in models:
                notes: dict[str, object] = {"table": section, "model_category": category, **facts}
                if len(models) > 1:
                    notes["page_label"] = label
                if len(figures) == 1:
                    notes["single_price"] = True
                for component, figure in prices:
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
                            currency="USD",
                            original=f"{figure} / 1M tokens",
                            excerpt=f"[{section}] {label} | {shown}"[:200],
                            model_name=model,
                            notes=notes,
                        )
                    )
        return records


def _components(figures: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """(component, figure) pairs of one price cell: one unlabelled figure prices input and output alike."""
    if len(figures) == 1 and not figures[0][1]:
        return [("input", figures[0][0]), ("output", figures[0][0])]
    found = []
    for figure, label in figures:
        component = next((c for c, pattern in LABELS if pattern.match(label)), None)
        if component is not None:
            found.append((component, figure))
    return found


def _section_title(table: Tag) -> str:
    heading = table.find_previous(["h2", "h3"])
    return " ".join(heading.get_text(" ").split()) if isinstance(heading, Tag) else ""

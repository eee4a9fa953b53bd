"""DeepInfra: its OpenAI-compatible models API and its pricing page, both USD per 1M tokens.

- ``GET https://api.deepinfra.com/v1/openai/models``: ``{"object": "list", "data": [{"id", "metadata":
  {"context_length", "pricing": {"input_tokens", "output_tokens", "cache_read_tokens"}}}]}``. Prices
  are numbers already per 1M tokens and are read exactly as written (``parse_float=Decimal``), float
  noise such as 0.030000000000000002 included: that is DeepInfra's own figure. Entries whose metadata
  is null (embeddings, image and speech models) have no token price and are skipped.
- ``https://deepinfra.com/pricing``: one MUI table per model family or size section, each rendered
  twice, some models listed in several sections: ``Model | Context | $ per 1M input tokens | $ per 1M
  output tokens | Actions``; an input cell may add the cached price ("$0.26 / $0.13 cached"). The
  model id is the path of the row's link (the visible text can be shorter). Tables without both an
  input and an output column (embeddings, audio minutes, images, GPU hours, usage tiers) are skipped.

``parse`` tells the two apart by content. When both are fetched in one run, the API's figure of a
price line wins, the page adds lines the API does not carry, and a page figure that disagrees with the
API's is named in the run's problems.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit

from bs4 import Tag

from pricing.units import NotationError, parse_price
from providers.base import OFFICIAL_TRUST, Document, ParseError, ScrapedPrice, Scraper
from providers.helpers import cell_text, html_grid, int_or_none, labelled_figures, page_tables

COMPONENT_BY_KEY = {
    "input_tokens": "input",
    "cache_read_tokens": "cached_input",
    "output_tokens": "output",
}
MODEL_HEADER = re.compile(r"^model$", re.IGNORECASE)
INPUT_HEADER = re.compile(r"per\s+1\s*M\s+input\s+tokens", re.IGNORECASE)
OUTPUT_HEADER = re.compile(r"per\s+1\s*M\s+output\s+tokens", re.IGNORECASE)
CACHED_LABEL = re.compile(r"^cached?\b|^cache\s+(?:read|hit)", re.IGNORECASE)


class DeepInfra(Scraper):
    slug = "deepinfra"
    name = "DeepInfra models API and pricing page"
    kind = "official"
    provider = "deepinfra"
    provider_name = "DeepInfra"
    provider_website = "https://deepinfra.com"
    urls = ("https://api.deepinfra.com/v1/openai/models", "https://deepinfra.com/pricing")
    hosts = ("api.deepinfra.com", "deepinfra.com", "www.deepinfra.com")
    trust_rank = OFFICIAL_TRUST

    def parse(self, document: Document) -> list[ScrapedPrice]:
        head = document.content.lstrip()[:1]
        if head in (b"{", b"["):
            return self._api_prices(document)
        if head == b"<":
            return self._page_prices(document)
        raise ParseError("neither the models API's JSON nor the pricing page's HTML (empty or unknown document)")

    def parse_all(self, documents: Sequence[Document]) -> list[ScrapedPrice]:
        """The API's lines first, then the page's. The two are a cross-check: where they state the same
        figure, ingest keeps one; where the page adds a line, it is taken; where they disagree, ingest keeps
        the API's figure and names the page's in the run's problems (a second amount for one price)."""
        parsed = [self.parse(document) for document in documents]
        parsed.sort(key=lambda records: not (records and records[0].notes.get("source") == "api"))
        records: list[ScrapedPrice] = []
        stated: dict[tuple[object, ...], Decimal] = {}
        for record in (record for batch in parsed for record in batch):
            line = (record.model, record.component, record.mode, record.tier_min_tokens, record.tier_max_tokens)
            earlier = stated.setdefault(line, record.amount_per_mtok)
            if earlier is not record.amount_per_mtok and _same_figure(earlier, record.amount_per_mtok):
                continue  # the page rounds what the API states (0.03 for 0.030000000000000002)
            records.append(record)
        return records

    # --- the models API -------------------------------------------------------------------------

    def _api_prices(self, document: Document) -> list[ScrapedPrice]:
        try:
            payload = json.loads(document.content, parse_float=Decimal)
        except ValueError as exc:
            raise ParseError(f"not JSON: {exc}") from exc
        models = payload.get("data") if isinstance(payload, dict) else None
        if not isinstance(models, list):
            raise ParseError('no "data" list of models in the response')
        records: list[ScrapedPrice] = []
        for entry in models:
            metadata = entry.get("metadata") if isinstance(entry, dict) else None
            if isinstance(metadata, dict) and isinstance(metadata.get("pricing"), dict) and entry.get("id"):
                records.extend(self._entry_prices(str(entry["id"]), metadata))
        if not records:
            raise ParseError("no model in data[] has metadata.pricing with input_tokens/output_tokens")
        return records

    def _entry_prices(self, model: str, metadata: dict[str, Any]) -> list[ScrapedPrice]:
        records = []
        for key, component in COMPONENT_BY_KEY.items():
            raw = metadata["pricing"].get(key)
            if raw is None:
                continue
            if isinstance(raw, bool) or not isinstance(raw, (int, Decimal)) or not Decimal(raw).is_finite():
                raise ParseError(f"{model}: metadata.pricing.{key} is not a number: {raw!r}")
            if raw < 0:
                continue  # not a price anyone is charged
            records.append(
                ScrapedPrice(
                    provider=self.provider,
                    model=model,
                    component=component,
                    amount_per_mtok=Decimal(raw),
                    currency="USD",
                    original=f"${raw} / 1M tokens",
                    excerpt=f'"id": "{model}" metadata.pricing.{key}: {raw}',
                    context_window=int_or_none(metadata.get("context_length")),
                    creator=model.split("/", 1)[0].lower() if "/" in model else "",
                    notes={"source": "api", "tags": list(metadata.get("tags") or [])},
                )
            )
        return records

    # --- the pricing page -----------------------------------------------------------------------

    def _page_prices(self, document: Document) -> list[ScrapedPrice]:
        _, tables = page_tables(document.content)
        records: dict[tuple[str, str], ScrapedPrice] = {}
        for table in tables:
            for record in self._table_prices(table):
                # Each section is rendered twice and a model may sit in several sections: keep it once.
                records.setdefault((record.model, record.component), record)
        if not records:
            raise ParseError("no 'Model | $ per 1M input tokens | $ per 1M output tokens' table with prices")
        return list(records.values())

    def _table_prices(self, table: Tag) -> list[ScrapedPrice]:
        grid = html_grid(table)
        if not grid:
            return []
        headers = [cell_text(cell) for cell in grid[0]]
        model_col = _column(headers, MODEL_HEADER)
        input_col, output_col = _column(headers, INPUT_HEADER), _column(headers, OUTPUT_HEADER)
        if model_col is None or input_col is None or output_col is None:
            return []
        context_col = next((i for i, text in enumerate(headers) if text.lower() == "context"), None)
        section = _section_id(table)
        records: list[ScrapedPrice] = []
        for row in grid[1:]:
            label = cell_text(row[model_col])
            if not label:
                continue
            model = _model_id(row[model_col]) or label
            notes = {"source": "page", "table": section, "page_label": label}
            if context_col is not None:
                notes["context"] = cell_text(row[context_col])
            for col, component in ((input_col, "input"), (output_col, "output")):
                shown = cell_text(row[col])
                for figure_component, figure in _cell_figures(shown, component):
                    try:
                        amount = parse_price(figure, unit_tokens=1_000_000).amount_per_mtok
                    except NotationError as exc:
                        raise ParseError(f"{model} {figure_component}: cannot read {shown!r}") from exc
                    records.append(
                        ScrapedPrice(
                            provider=self.provider,
                            model=model,
                            component=figure_component,
                            amount_per_mtok=amount,
                            currency="USD",
                            original=f"{figure} / 1M tokens",
                            excerpt=f"{label} | {headers[col]}: {shown}"[:200],
                            model_name=label,
                            creator=model.split("/", 1)[0].lower() if "/" in model else "",
                            notes=notes,
                        )
                    )
        return records


def _same_figure(one: Decimal, other: Decimal) -> bool:
    """Two statements of one price that differ only by rounding (within half a percent)."""
    if one == other:
        return True
    return abs(one - other) <= max(abs(one), abs(other)) * Decimal("0.005")


def _column(headers: list[str], pattern: re.Pattern[str]) -> int | None:
    return next((i for i, text in enumerate(headers) if pattern.search(text)), None)


def _cell_figures(shown: str, component: str) -> list[tuple[str, str]]:
    """(component, figure) of a price cell: "$0.26 / $0.13 cached" -> input 0.26 and cached_input 0.13."""
    base = cached = ""
    for figure, label in labelled_figures(shown):
        if not label:
            base = base or figure
        elif component == "input" and CACHED_LABEL.match(label):
            cached = cached or figure
    return [(name, figure) for name, figure in ((component, base), ("cached_input", cached)) if figure]


def _model_id(cell: Tag) -> str:
    """The model path of the row's link ("https://deepinfra.com/meta-llama/Llama-4-Scout-17B-16E-Instruct")."""
    link = cell.find("a", href=True)
    if not isinstance(link, Tag):
        return ""
    path = urlsplit(str(link["href"])).path.strip("/")
    return path if path.count("/") == 1 else ""


def _section_id(table: Tag) -> str:
    anchor = table.find_previous(id=True)
    return str(anchor.get("id", "")) if isinstance(anchor, Tag) else ""

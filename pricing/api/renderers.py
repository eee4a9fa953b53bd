"""Renderers: JSON that writes amounts exactly, and CSV for spreadsheets."""

from __future__ import annotations

import csv
import io
import re
import secrets
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from rest_framework.renderers import JSONRenderer


def decimal_text(value: Decimal) -> str:
    """``Decimal("0.014000000000")`` -> ``"0.014"``; never an exponent, never a float detour."""
    if value.is_nan() or value.is_infinite():
        raise ValueError(f"not a finite amount: {value}")
    text = format(value, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


class ExactJSONRenderer(JSONRenderer):
    """JSON with every ``Decimal`` written as its plain decimal text, as a JSON number.

    The standard encoder turns a Decimal into a float (``0.014000000000000002``) or a string. The
    json module cannot emit raw number text, so each Decimal goes out as a one-off marker string and
    the marker is swapped for the digits afterwards; the marker carries a random nonce per response
    so no stored text can ever look like one.
    """

    def render(self, data: Any, accepted_media_type: str | None = None, renderer_context: Any = None) -> bytes:
        nonce = secrets.token_hex(8)
        numbers: list[str] = []

        def mark(value: Any) -> Any:
            if isinstance(value, Decimal):
                numbers.append(decimal_text(value))
                return f"{nonce}:{len(numbers) - 1}"
            if isinstance(value, Mapping):
                return {key: mark(item) for key, item in value.items()}
            if isinstance(value, list | tuple):
                return [mark(item) for item in value]
            return value

        rendered = super().render(mark(data), accepted_media_type, renderer_context)
        if not numbers:
            return rendered
        pattern = re.compile(rb'"' + nonce.encode() + rb':(\d+)"')
        return pattern.sub(lambda match: numbers[int(match.group(1))].encode(), rendered)


class CSVRenderer(JSONRenderer):
    """``?format=csv``: the rows of a list (its ``results``), one line each, nested objects flattened
    to ``parent.child`` columns. Nested lists (an offering's ``prices``) are left out: ask for JSON."""

    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(self, data: Any, accepted_media_type: str | None = None, renderer_context: Any = None) -> bytes:
        if data is None:
            return b""
        rows = data.get("results", [data]) if isinstance(data, Mapping) else data
        flat = [dict(_flatten(row)) for row in rows if isinstance(row, Mapping)]
        columns: list[str] = []
        for row in flat:
            columns.extend(key for key in row if key not in columns)
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=columns, extrasaction="ignore", lineterminator="\r\n")
        writer.writeheader()
        writer.writerows({key: _cell(value) for key, value in row.items()} for row in flat)
        return buffer.getvalue().encode("utf-8")


def _flatten(row: Mapping[str, Any], prefix: str = "") -> list[tuple[str, Any]]:
    items: list[tuple[str, Any]] = []
    for key, value in row.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            items.extend(_flatten(value, prefix=f"{name}."))
        elif not isinstance(value, list | tuple):
            items.append((name, value))
    return items


# A spreadsheet reads a cell starting with one of these as a formula (OWASP "CSV injection").
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "\n")


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return decimal_text(value)  # digits we wrote: a negative amount stays a number
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return value
    text = str(value)
    # Text comes from scraped pages and curators: a leading quote makes a spreadsheet show it as text.
    return f"'{text}" if text.startswith(FORMULA_TRIGGERS) else text

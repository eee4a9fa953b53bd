"""What adapters share: HTML table grids, cell text, and integer cells. One copy each, so parsers agree.

Price notations ("$0.50 / 1M tokens", "¥2/百万tokens") are read by ``pricing.units``; this module only turns
page structure into text and numbers.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

from bs4 import BeautifulSoup, Comment, Tag


def html_grid(table: Tag) -> list[list[Tag]]:
    """The table as rows of cells, with rowspan and colspan cells repeated in every slot they cover."""
    grid: list[list[Tag]] = []
    pending: dict[tuple[int, int], Tag] = {}
    rows = [tr for tr in table.find_all("tr") if isinstance(tr, Tag) and tr.find_parent("table") is table]
    for r, tr in enumerate(rows):
        row: list[Tag] = []
        cells = iter([cell for cell in tr.find_all(["td", "th"], recursive=False) if isinstance(cell, Tag)])
        col = 0
        while True:
            if (r, col) in pending:
                row.append(pending.pop((r, col)))
                col += 1
                continue
            cell = next(cells, None)
            if cell is None:
                break
            rowspan, colspan = cell_span(cell.get("rowspan")), cell_span(cell.get("colspan"))
            for dc in range(colspan):
                row.append(cell)
                for dr in range(1, rowspan):
                    pending[(r + dr, col + dc)] = cell
            col += colspan
        grid.append(row)
    # Ragged rows padded with one empty cell, so columns line up (and the early layout can be transposed).
    width = max((len(row) for row in grid), default=0)
    empty = BeautifulSoup("", "lxml").new_tag("td")
    return [row + [empty] * (width - len(row)) for row in grid]


def cell_span(value: object) -> int:
    try:
        return max(1, min(int(str(value)), 50))
    except ValueError:
        return 1


def cell_text(cell: Tag) -> str:
    """Cell text on one line, without <sup> footnote markers ("deepseek-v4-flash(1)" -> "deepseek-v4-flash")."""
    return " ".join(" ".join(cell_lines(cell, skip_sup=True)).split())


def cell_lines(element: Tag, *, skip_sup: bool = False) -> list[str]:
    """An element's text split where the page breaks lines (<br>), so two prices or two footnotes stay apart."""
    lines = [""]
    for node in element.descendants:
        if isinstance(node, Tag):
            if node.name == "br":
                lines.append("")
            elif node.name == "sup" and skip_sup:
                lines[-1] += " "
        elif not (skip_sup and node.find_parent("sup") is not None) and not isinstance(node, Comment):
            lines[-1] += str(node)
    return lines


def unique_cells(cells: list[Tag]) -> list[Tag]:
    seen: list[Tag] = []
    for cell in cells:
        if not any(cell is other for other in seen):
            seen.append(cell)
    return seen


def int_or_none(value: Any) -> int | None:
    """An integer from a JSON value or a cell ("128000", 128000, "1,048,576"); None when it is not one."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, str):
        value = value.replace(",", "").replace("_", "").strip()
    try:
        return int(value)
    except (TypeError, ValueError, ArithmeticError):
        return None


# A money figure and the words after it, up to the next figure or separator ("$0.10 cached input").
_LABELLED_FIGURE = re.compile(r"((?:US\$|\$|€|£|¥|￥)\s*\d[\d,]*(?:\.\d+)?)\s*([^\d$€£¥￥,;/|+]*)")
_ASIDE = re.compile(r"[(（][^()（）]*[)）]")
_TOKEN_COUNT = re.compile(r"^\s*(\d[\d,]*(?:\.\d+)?)\s*([kKmM])?\s*(?:tokens?)?\s*$")


def labelled_figures(text: str) -> list[tuple[str, str]]:
    """Each money figure of a cell with the label that follows it, asides in parentheses dropped:
    "$0.60 input, $0.10 cached input" -> [("$0.60", "input"), ("$0.10", "cached input")];
    "$0.075 (13.3M / $1)*" -> [("$0.075", "*")]."""
    plain = _ASIDE.sub(" ", text)
    return [(" ".join(figure.split()), " ".join(label.split())) for figure, label in _LABELLED_FIGURE.findall(plain)]


def token_count(text: str) -> int | None:
    """A context size as pages print it: "128k" -> 128000, "1M" -> 1000000, "131,072" -> 131072; else None.

    "k" is read as 1,000: pages do not say whether they round 131,072 to "128k" or "131k"."""
    match = _TOKEN_COUNT.match(text)
    if not match:
        return None
    scale = {"k": 1_000, "m": 1_000_000}.get((match.group(2) or "").lower(), 1)
    return int(Decimal(match.group(1).replace(",", "")) * scale)

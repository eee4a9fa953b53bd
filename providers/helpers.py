"""What adapters share: HTML table grids, cell text, and integer cells. One copy each, so parsers agree.

Price notations ("$0.50 / 1M tokens", "¥2/百万tokens") are read by ``pricing.units``; this module only turns
page structure into text and numbers.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

from bs4 import BeautifulSoup, Comment, Tag

from providers.base import ParseError


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


_TIER_SCALES = {"": 1, "k": 1_000, "m": 1_000_000, "万": 10_000}
_TIER_TOKEN = re.compile(r"(\d[\d,]*(?:\.\d+)?)\s*([kKmM万]?)|([<≤>≥~+\[\]()（）])")
_TIER_CHARS = str.maketrans("＜＞≦≧［］", "<>≤≥[]")


def prompt_tier(text: str) -> tuple[int | None, int | None] | None:
    """Inclusive prompt-length bounds of a tier condition, None when the text names no length ("-", "无阶梯计价").

    Reads comparisons ("0<Token≤32K", "0 ≤ 输入长度 ＜ 32k", "输入长度 ≥ 32k", "≤256K"), intervals ("（0, 16k）",
    "[16k, 32k）", "（128k, 256k]", "[32k+）"), open ends ("512k+", above the number) and ranges ("256K~1M", above
    the first number). A lower bound of 0 is open (None). Raises ValueError on a length it cannot place.
    """
    normalised = text.translate(_TIER_CHARS)
    normalised = normalised.replace("<=", "≤").replace(">=", "≥")
    tokens: list[int | str] = []
    for number, scale, symbol in _TIER_TOKEN.findall(normalised):
        tokens.append(int(Decimal(number.replace(",", "")) * _TIER_SCALES[scale.lower()]) if number else symbol)
    numbers = [t for t in tokens if isinstance(t, int)]
    if not numbers:
        return None
    low: int | None = None
    high: int | None = None
    symbols = [t for t in tokens if isinstance(t, str)]
    if "~" in symbols and len(numbers) == 2:
        low, high = numbers[0] + 1, numbers[1]
    elif any(s in "([（" for s in symbols):
        opening = next(s for s in symbols if s in "([（")
        closing = next((s for s in reversed(symbols) if s in ")]）"), "]")
        low = numbers[0] if opening == "[" else numbers[0] + 1
        if len(numbers) > 1:
            high = numbers[1] if closing == "]" else numbers[1] - 1
    elif any(s in "<≤>≥" for s in symbols):
        for i, token in enumerate(tokens):
            if not isinstance(token, str) or token not in "<≤>≥":
                continue
            left = tokens[i - 1] if i > 0 and isinstance(tokens[i - 1], int) else None
            right = tokens[i + 1] if i + 1 < len(tokens) and isinstance(tokens[i + 1], int) else None
            strict = token in "<>"
            if right is not None and token in "<≤":  # x < N
                high = int(right) - strict
            elif right is not None:  # x > N
                low = int(right) + strict
            elif left is not None and token in "<≤":  # N < x
                low = int(left) + strict
            elif left is not None:  # N > x
                high = int(left) - strict
    elif "+" in symbols and len(numbers) == 1:
        low = numbers[0] + 1
    else:
        raise ValueError(f"cannot read a prompt-length tier from {text!r}")
    if low is not None and low <= 1:
        low = None
    if low is None and high is None:
        raise ValueError(f"cannot read a prompt-length tier from {text!r}")
    return low, high


HEADINGS = ("h1", "h2", "h3", "h4", "h5", "h6")


def tables_under_headings(root: Tag) -> Iterator[tuple[dict[str, str], Tag]]:
    """Each outermost table with the headings it sits under ({"h2": "文本生成-千问", "h4": "新加坡"}), in page order.

    A heading closes every deeper one before it, so a table under an h5 still knows its h4."""
    chain: dict[str, str] = {}
    for element in root.find_all([*HEADINGS, "table"]):
        if not isinstance(element, Tag):
            continue
        if element.name == "table":
            if element.find_parent("table") is None:
                yield dict(chain), element
            continue
        level = int(element.name[1])
        chain = {name: text for name, text in chain.items() if int(name[1]) < level}
        chain[element.name] = " ".join(element.get_text(" ").split())


def page_tables(content: bytes) -> tuple[BeautifulSoup, list[Tag]]:
    """A page parsed with lxml and its tables; ParseError when it has none (an app shell, a moved page)."""
    soup = BeautifulSoup(content, "lxml")
    tables = [table for table in soup.find_all("table") if isinstance(table, Tag)]
    if not tables:
        raise ParseError("no <table> on the page")
    return soup, tables

"""Money and unit formatting for the public pages: Decimal in, text out, never float."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from urllib.parse import urlencode

from django import template

from pricing import units

register = template.Library()

# Unambiguous signs only: "¥" alone is both the yuan and the yen, so each gets its country prefix.
# Any other currency is written as its ISO code after the amount.
SYMBOLS = {"USD": "$", "EUR": "€", "GBP": "£", "CNY": "CN¥", "JPY": "JP¥"}


def _significant(amount: Decimal) -> Decimal:
    """Two decimals for ordinary prices, more for tiny ones so $0.014 never reads as $0.01."""
    if amount == 0:
        return Decimal(0)
    if abs(amount) >= 1:
        return amount.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    exponent = amount.adjusted()  # 0.014 -> -2
    places = min(max(2, -exponent + 2), 10)
    value = amount.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
    # Drop trailing zeros past the cents: 0.0140 -> 0.014, 0.50 stays 0.50.
    while places > 2 and value == value.quantize(Decimal(1).scaleb(-(places - 1))):
        places -= 1
        value = value.quantize(Decimal(1).scaleb(-places))
    return value


@register.filter
def money(amount: Decimal | None, currency: str = "USD") -> str:
    """``money:"USD"`` -> ``$0.014``; None -> an em dash."""
    if amount is None or amount == "":
        return "—"
    value = _significant(Decimal(amount))
    text = f"{value:,f}"
    symbol = SYMBOLS.get(currency)
    return f"{symbol}{text}" if symbol else f"{text} {currency}"


@register.filter
def money_exact(amount: Decimal | None, currency: str = "USD") -> str:
    """Every digit we store, at least the cents: a change smaller than ``money``'s rounding still shows
    ($0.1375 → $0.138, where ``money`` writes $0.138 twice)."""
    if amount is None or amount == "":
        return "—"
    whole_part, _, fraction = f"{Decimal(amount):,f}".partition(".")
    text = f"{whole_part}.{fraction.rstrip('0').ljust(2, '0')}"
    symbol = SYMBOLS.get(currency)
    return f"{symbol}{text}" if symbol else f"{text} {currency}"


@register.filter
def plain_amount(amount: Decimal | None) -> str:
    """An amount without a currency sign, for data attributes and tables of numbers."""
    if amount is None:
        return ""
    return f"{_significant(Decimal(amount)):f}"


@register.filter
def tokens(count: int | Decimal | None) -> str:
    """A token count (a context window, a tier bound) written one way everywhere: exact, with thousands
    separators (``128,000``, ``131,072``, ``1,048,576``), so two sizes never look alike when they differ."""
    if count is None or count == "":
        return "—"
    return f"{int(count):,}"


@register.filter
def as_printed(text: str | None) -> str:
    """A price as its source printed it, with any scientific notation spelled in plain digits."""
    return units.plain_figures(str(text)) if text else ""


@register.filter
def whole(amount: Decimal | int | None) -> str:
    """A count with thousands separators, rounded to a whole number."""
    if amount is None:
        return "—"
    return f"{Decimal(amount).quantize(Decimal(1), rounding=ROUND_HALF_UP):,f}"


@register.filter
def percent(value: Decimal | None) -> str:
    if value is None:
        return "new"
    sign = "+" if value > 0 else ""
    return f"{sign}{value}%"


@register.simple_tag(takes_context=True)
def query(context: template.Context, **changes: object) -> str:
    """The current query string with some parameters changed (None or "" removes one): links keep state."""
    request = context["request"]
    params = request.GET.copy()
    for key, value in changes.items():
        if value is None or value == "":
            params.pop(key, None)
        else:
            params[key] = str(value)
    params.pop("page", None) if "page" not in changes else None
    encoded = urlencode(sorted((k, v) for k in params for v in params.getlist(k)))
    return f"?{encoded}" if encoded else "?"


@register.filter
def label(value: object) -> str:
    """``cached_input`` -> ``cached input``."""
    return str(value).replace("_", " ")


@register.filter
def context_window(offering: object) -> int | None:
    """The offering's own context window, else its model's."""
    own = getattr(offering, "context_window", None)
    model = getattr(offering, "model", None)
    return own or (model.context_window if model is not None else None)

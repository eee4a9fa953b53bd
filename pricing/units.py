"""Pure Decimal maths for prices: notations, units, currencies, words, blends and workloads.

No Django here, no float anywhere: every amount is a ``Decimal`` and every function is small.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import ROUND_CEILING, Decimal, InvalidOperation

MILLION = Decimal(1_000_000)
ASSUMED_WORDS_PER_TOKEN = Decimal("0.75")
DEFAULT_BLEND_RATIO = (3, 1)


class NotationError(ValueError):
    """A price text this module cannot read."""


@dataclass(frozen=True)
class ParsedPrice:
    """A price text read into an amount per 1M tokens; ``high_per_mtok`` is set for ranges."""

    amount_per_mtok: Decimal
    currency: str
    original: str
    high_per_mtok: Decimal | None = None


# Currency markers as pages print them. Order matters: longer markers first.
_CURRENCY_MARKERS: tuple[tuple[str, str], ...] = (
    ("US$", "USD"),
    ("USD", "USD"),
    ("CNY", "CNY"),
    ("RMB", "CNY"),
    ("EUR", "EUR"),
    ("GBP", "GBP"),
    ("JPY", "JPY"),
    ("$", "USD"),
    ("¥", "CNY"),
    ("￥", "CNY"),
    ("元", "CNY"),
    ("€", "EUR"),
    ("£", "GBP"),
)

# Token counts named by unit words; checked longest first.
_UNIT_WORDS: tuple[tuple[str, int], ...] = (
    ("百万", 1_000_000),
    ("千万", 10_000_000),
    ("万", 10_000),
    ("千", 1_000),
    ("mtok", 1_000_000),
    ("ktok", 1_000),
    ("million", 1_000_000),
    ("thousand", 1_000),
)

_NUMBER = r"[0-9][0-9,]*(?:\.[0-9]+)?|\.[0-9]+"
_RANGE = re.compile(rf"({_NUMBER})\s*(?:-|–|—|to|~)\s*\$?\s*({_NUMBER})")
_SCALED_UNIT = re.compile(r"(?:per|/)\s*([0-9][0-9,.]*)\s*([kmb])?\b", re.IGNORECASE)
_FREE = re.compile(r"^\s*(free|免费|0)\s*$", re.IGNORECASE)


_SCIENTIFIC = re.compile(r"(?<![0-9A-Za-z_.\-])([0-9]+(?:\.[0-9]+)?[eE][+-]?[0-9]{1,3})(?![0-9A-Za-z_.])")


def plain(amount: Decimal) -> str:
    """A Decimal in plain digits, never in scientific notation: ``1.4E-7`` -> ``0.00000014``."""
    text = f"{amount:f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text or "0"


def plain_figures(text: str) -> str:
    """A text with every number written in scientific notation spelled in plain digits, so a price kept
    as a source printed it (``$1.4E-7 / token``) reads ``$0.00000014 / token``."""
    return _SCIENTIFIC.sub(lambda match: plain(Decimal(match.group(1))), text)


def to_decimal(text: str | int | Decimal) -> Decimal:
    """Read a number exactly; accepts thousands separators. Rejects floats by type."""
    if isinstance(text, float):  # pragma: no cover - guarded by typing, kept as a tripwire
        raise TypeError("floats are not money; pass a string")
    try:
        return Decimal(str(text).replace(",", "").strip())
    except InvalidOperation as exc:
        raise NotationError(f"not a number: {text!r}") from exc


def per_mtok(amount: Decimal, *, unit_tokens: int | Decimal) -> Decimal:
    """An amount per ``unit_tokens`` tokens expressed per 1M tokens."""
    if Decimal(unit_tokens) <= 0:
        raise ValueError("unit_tokens must be positive")
    return amount * MILLION / Decimal(unit_tokens)


def per_token_to_mtok(amount_per_token: Decimal) -> Decimal:
    """Per-token strings (OpenRouter, LiteLLM) to per 1M tokens: a decimal-point shift, exact."""
    return amount_per_token.scaleb(6)


def from_mtok(amount_per_mtok: Decimal, *, unit_tokens: int | Decimal) -> Decimal:
    """Inverse of :func:`per_mtok`."""
    return amount_per_mtok * Decimal(unit_tokens) / MILLION


def _currency_of(text: str, default: str) -> str:
    for marker, code in _CURRENCY_MARKERS:
        if marker in text:
            return code
    return default


def _unit_tokens_of(text: str) -> int:
    lowered = text.lower()
    for word, size in _UNIT_WORDS:
        if word in lowered:
            return size
    match = _SCALED_UNIT.search(lowered)
    if match:
        base = to_decimal(match.group(1))
        scale = {"k": 1_000, "m": 1_000_000, "b": 1_000_000_000}.get((match.group(2) or "").lower(), 1)
        return int(base * scale)
    if re.search(r"\b1m\b|\bm\s*tokens|\bmillion", lowered):
        return 1_000_000
    if re.search(r"\b1k\b|\bk\s*tokens", lowered):
        return 1_000
    if re.search(r"(?:per|/)\s*tokens?\b", lowered):
        return 1
    return 1_000_000


def parse_price(text: str, *, default_currency: str = "USD", unit_tokens: int | None = None) -> ParsedPrice:
    """Read a price as printed into an amount per 1M tokens.

    Understands ``$0.50 / 1M tokens``, ``$2 / MTok``, per 1K, per token, ``5 cents per 100M tokens``,
    ``¥2/百万tokens``, ``0.002元/千tokens``, ``Free`` and ranges (``$0.10 - $0.40``: low is the amount,
    high is kept). ``unit_tokens`` overrides the unit when the page states it elsewhere (a table header).
    """
    original = " ".join(text.split())
    if not original:
        raise NotationError("empty price text")
    if _FREE.match(original):
        return ParsedPrice(Decimal(0), default_currency, original)
    currency = _currency_of(original, default_currency)
    cents = bool(re.search(r"\bcents?\b|¢", original, re.IGNORECASE))
    size = unit_tokens if unit_tokens is not None else _unit_tokens_of(original)
    if size <= 0:
        raise NotationError(f"no positive token count in the unit of {original!r}")
    # Strip the unit part before looking for the amount, so "per 1M" never reads as the amount.
    amount_part = re.split(r"(?:/|\bper\b|每)", original, maxsplit=1, flags=re.IGNORECASE)[0]
    range_match = _RANGE.search(amount_part)
    if range_match:
        low, high = to_decimal(range_match.group(1)), to_decimal(range_match.group(2))
    else:
        number = re.search(_NUMBER, amount_part)
        if not number:
            raise NotationError(f"no amount in {original!r}")
        low, high = to_decimal(number.group(0)), None
    divisor = Decimal(100) if cents else Decimal(1)
    amount = per_mtok(low / divisor, unit_tokens=size)
    high_amount = per_mtok(high / divisor, unit_tokens=size) if high is not None else None
    return ParsedPrice(amount, currency, original, high_amount)


# --- currency -------------------------------------------------------------------------------------


def convert_currency(amount: Decimal, *, units_per_eur_from: Decimal, units_per_eur_to: Decimal) -> Decimal:
    """Convert through EUR-based reference rates (the ECB publishes units of each currency per 1 EUR)."""
    if units_per_eur_from <= 0 or units_per_eur_to <= 0:
        raise ValueError("exchange rates must be positive")
    return amount / units_per_eur_from * units_per_eur_to


# --- words ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class WordsRatio:
    """Words per token with where the figure comes from: measured, curated or assumed."""

    words_per_token: Decimal
    provenance: str = "assumed"


ASSUMED_RATIO = WordsRatio(ASSUMED_WORDS_PER_TOKEN, "assumed")


def per_mwords(amount_per_mtok: Decimal, *, words_per_token: Decimal = ASSUMED_WORDS_PER_TOKEN) -> Decimal:
    """Price per 1M words: 1M words take 1M / words_per_token tokens."""
    if words_per_token <= 0:
        raise ValueError("words_per_token must be positive")
    return amount_per_mtok / words_per_token


def tokens_to_words(tokens: int | Decimal, *, words_per_token: Decimal = ASSUMED_WORDS_PER_TOKEN) -> Decimal:
    return Decimal(tokens) * words_per_token


def words_to_tokens(words: int | Decimal, *, words_per_token: Decimal = ASSUMED_WORDS_PER_TOKEN) -> Decimal:
    if words_per_token <= 0:
        raise ValueError("words_per_token must be positive")
    return Decimal(words) / words_per_token


def words_to_whole_tokens(words: int | Decimal, *, words_per_token: Decimal) -> int:
    """Words as the tokens they are billed as: a partial token is billed whole, so round up."""
    tokens = words_to_tokens(words, words_per_token=words_per_token)
    return int(tokens.to_integral_value(rounding=ROUND_CEILING))


# --- blends and workloads -------------------------------------------------------------------------


def parse_ratio(text: str) -> tuple[int, int]:
    """``"3:1"`` -> (3, 1). Both parts non-negative integers, not both zero."""
    match = re.fullmatch(r"\s*(\d{1,6})\s*:\s*(\d{1,6})\s*", text or "")
    if not match:
        raise ValueError(f"ratio must look like 3:1, got {text!r}")
    ratio = int(match.group(1)), int(match.group(2))
    if ratio == (0, 0):
        raise ValueError("ratio 0:0 has no meaning")
    return ratio


def blended(
    input_per_mtok: Decimal, output_per_mtok: Decimal, *, ratio: tuple[int, int] = DEFAULT_BLEND_RATIO
) -> Decimal:
    """Price per 1M tokens of a mix of ``ratio[0]`` input tokens to ``ratio[1]`` output tokens."""
    weight_in, weight_out = ratio
    return (input_per_mtok * weight_in + output_per_mtok * weight_out) / Decimal(weight_in + weight_out)


@dataclass(frozen=True)
class TierPrice:
    """One component's price in one mode for prompts of ``min_tokens``..``max_tokens`` (inclusive)."""

    component: str
    amount_per_mtok: Decimal
    mode: str = "standard"
    min_tokens: int | None = None
    max_tokens: int | None = None

    def covers(self, prompt_tokens: int) -> bool:
        low_ok = self.min_tokens is None or prompt_tokens >= self.min_tokens
        high_ok = self.max_tokens is None or prompt_tokens <= self.max_tokens
        return low_ok and high_ok


@dataclass(frozen=True)
class Workload:
    input_tokens: int = 0
    cached_input_tokens: int = 0
    output_tokens: int = 0
    cache_write_5m_tokens: int = 0
    cache_write_1h_tokens: int = 0
    mode: str = "standard"

    @property
    def prompt_tokens(self) -> int:
        """Prompt length for tier selection: every token the model reads."""
        return self.input_tokens + self.cached_input_tokens + self.cache_write_5m_tokens + self.cache_write_1h_tokens

    def tokens_of(self, component: str) -> int:
        return {
            "input": self.input_tokens,
            "cached_input": self.cached_input_tokens,
            "output": self.output_tokens,
            "cache_write_5m": self.cache_write_5m_tokens,
            "cache_write_1h": self.cache_write_1h_tokens,
        }[component]


@dataclass(frozen=True)
class CostLine:
    component: str
    tokens: int
    amount_per_mtok: Decimal
    cost: Decimal
    min_tokens: int | None
    max_tokens: int | None


@dataclass(frozen=True)
class WorkloadCost:
    total: Decimal
    lines: tuple[CostLine, ...]
    missing: tuple[str, ...]

    @property
    def complete(self) -> bool:
        return not self.missing


def select_tier(prices: Iterable[TierPrice], *, component: str, mode: str, prompt_tokens: int) -> TierPrice | None:
    """The price of ``component`` in ``mode`` whose prompt-length tier covers ``prompt_tokens``.

    The whole request is priced at the tier its prompt length falls in (how providers with
    long-context tiers bill). Cached input falls back to plain input when no cached price is listed.
    """
    candidates = [p for p in prices if p.component == component and p.mode == mode and p.covers(prompt_tokens)]
    if not candidates:
        return None
    # The narrowest matching tier wins (a stated ">200K" beats an untiered fallback).
    return max(candidates, key=lambda p: (p.min_tokens or 0))


def workload_cost(prices: Sequence[TierPrice], workload: Workload) -> WorkloadCost:
    """Cost of a workload: each component's tokens at the tier that applies, missing ones reported."""
    lines: list[CostLine] = []
    missing: list[str] = []
    for component in ("input", "cached_input", "cache_write_5m", "cache_write_1h", "output"):
        tokens = workload.tokens_of(component)
        if tokens == 0:
            continue
        price = select_tier(prices, component=component, mode=workload.mode, prompt_tokens=workload.prompt_tokens)
        if price is None and component == "cached_input":
            price = select_tier(prices, component="input", mode=workload.mode, prompt_tokens=workload.prompt_tokens)
        if price is None:
            missing.append(component)
            continue
        cost = price.amount_per_mtok * Decimal(tokens) / MILLION
        lines.append(CostLine(component, tokens, price.amount_per_mtok, cost, price.min_tokens, price.max_tokens))
    return WorkloadCost(sum((line.cost for line in lines), Decimal(0)), tuple(lines), tuple(missing))

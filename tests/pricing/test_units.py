"""pricing.units: pure Decimal maths, checked by examples from real pages and by properties."""

import ast
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pricing import units
from pricing.units import (
    NotationError,
    TierPrice,
    Workload,
    blended,
    convert_currency,
    from_mtok,
    parse_price,
    parse_ratio,
    per_mtok,
    per_mwords,
    per_token_to_mtok,
    select_tier,
    to_decimal,
    tokens_to_words,
    words_to_tokens,
    workload_cost,
)

amounts = st.decimals(min_value=0, max_value=1_000_000, places=9, allow_nan=False, allow_infinity=False)
positive_amounts = st.decimals(
    min_value="0.000001", max_value=1_000_000, places=6, allow_nan=False, allow_infinity=False
)
# Units real pages use: per token, per 1K, per 1M, per 100M, per 1B.
page_units = st.sampled_from([1, 1_000, 10_000, 1_000_000, 100_000_000, 1_000_000_000])
rates = st.decimals(min_value="0.0001", max_value=100_000, places=4, allow_nan=False, allow_infinity=False)
ratios = st.tuples(st.integers(0, 1000), st.integers(0, 1000)).filter(lambda r: r != (0, 0))


def close(a: Decimal, b: Decimal) -> bool:
    return abs(a - b) <= max(abs(a), abs(b), Decimal(1)) * Decimal("1e-20")


# --- notations as real pages print them ------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "amount_per_mtok", "currency"),
    [
        ("$0.50 / 1M tokens", "0.5", "USD"),
        ("$2 / MTok", "2", "USD"),
        ("US$3 per million tokens", "3", "USD"),
        ("$0.002 / 1K tokens", "2", "USD"),
        ("0.2 cents / 1K tokens", "2", "USD"),
        ("$0.0000025 per token", "2.5", "USD"),
        ("$0.0000025/token", "2.5", "USD"),
        ("5 cents per 100M tokens", "0.0005", "USD"),
        ("$1,000 / 1B tokens", "1", "USD"),
        ("¥2/百万tokens", "2", "CNY"),
        ("￥0.5 / 百万tokens", "0.5", "CNY"),
        ("0.002元/千tokens", "2", "CNY"),
        ("€0.40 / 1M tokens", "0.4", "EUR"),
        ("1.50 USD / 1M tokens", "1.5", "USD"),
        ("Free", "0", "USD"),
        ("免费", "0", "USD"),
    ],
)
def test_it_reads_every_notation_the_pages_use(text, amount_per_mtok, currency):
    parsed = parse_price(text)
    assert parsed.amount_per_mtok == Decimal(amount_per_mtok)
    assert type(parsed.amount_per_mtok) is Decimal
    assert parsed.currency == currency
    assert parsed.original == text
    assert parsed.high_per_mtok is None


@pytest.mark.parametrize("text", ["$0.10 - $0.40 / 1M tokens", "$0.10 to $0.40", "$0.10–$0.40 / 1M tokens"])
def test_it_reads_a_range_as_its_low_end_and_keeps_the_high_end(text):
    parsed = parse_price(text)
    assert (parsed.amount_per_mtok, parsed.high_per_mtok) == (Decimal("0.10"), Decimal("0.40"))


def test_it_reads_a_range_in_the_unit_it_is_quoted_in():
    parsed = parse_price("$0.001 - $0.002 / 1K tokens")
    assert (parsed.amount_per_mtok, parsed.high_per_mtok) == (Decimal(1), Decimal(2))


def test_it_lets_a_table_header_state_the_unit():
    assert parse_price("$0.002", unit_tokens=1_000).amount_per_mtok == Decimal(2)


def test_it_uses_the_default_currency_when_the_text_names_none():
    assert parse_price("0.14", default_currency="CNY").currency == "CNY"


def test_it_collapses_whitespace_in_the_original():
    assert parse_price("  $0.50\n /  1M tokens ").original == "$0.50 / 1M tokens"


@pytest.mark.parametrize(
    "text", ["", "   ", "n/a", "TBD", "--", "contact sales", "$1 per 0 tokens", "$1 / 0.0001 tokens"]
)
def test_it_refuses_text_without_a_price_with_a_clear_error(text):
    with pytest.raises(NotationError):
        parse_price(text)


@given(amount=amounts, unit=st.sampled_from([("1K tokens", 1_000), ("1M tokens", 1_000_000), ("token", 1)]))
def test_it_reads_any_printed_amount_exactly(amount, unit):
    label, size = unit
    parsed = parse_price(f"${format(amount, 'f')} / {label}")
    assert parsed.amount_per_mtok == amount * Decimal(1_000_000) / size


@given(amount=amounts)
def test_it_reads_chinese_thousand_token_prices_exactly(amount):
    parsed = parse_price(f"{format(amount, 'f')}元/千tokens")
    assert (parsed.amount_per_mtok, parsed.currency) == (amount * 1000, "CNY")


@given(text=st.text(max_size=40))
def test_it_reads_any_text_or_says_clearly_why_not(text):
    try:
        parsed = parse_price(text)
    except NotationError:
        return
    assert type(parsed.amount_per_mtok) is Decimal


# --- units ---------------------------------------------------------------------------------------


@given(amount=amounts, unit_tokens=page_units)
def test_it_round_trips_per_mtok_and_from_mtok_exactly_for_page_units(amount, unit_tokens):
    assert from_mtok(per_mtok(amount, unit_tokens=unit_tokens), unit_tokens=unit_tokens) == amount


@given(amount=amounts, unit_tokens=st.integers(1, 10**12))
def test_it_round_trips_per_mtok_for_any_unit_within_decimal_precision(amount, unit_tokens):
    assert close(from_mtok(per_mtok(amount, unit_tokens=unit_tokens), unit_tokens=unit_tokens), amount)


@given(amount=st.decimals(min_value=0, max_value=1, places=18, allow_nan=False, allow_infinity=False))
def test_it_shifts_per_token_prices_to_per_mtok_exactly(amount):
    assert per_token_to_mtok(amount) == per_mtok(amount, unit_tokens=1) == amount * 1_000_000


@given(low=amounts, high=amounts, unit_tokens=page_units)
def test_it_keeps_the_order_of_amounts(low, high, unit_tokens):
    low, high = sorted((low, high))
    assert per_mtok(low, unit_tokens=unit_tokens) <= per_mtok(high, unit_tokens=unit_tokens)


@given(amount=positive_amounts, small=page_units, big=page_units)
def test_it_prices_a_figure_quoted_per_more_tokens_lower(amount, small, big):
    small, big = sorted((small, big))
    assert per_mtok(amount, unit_tokens=big) <= per_mtok(amount, unit_tokens=small)


@pytest.mark.parametrize("unit_tokens", [0, -1000])
def test_it_refuses_a_unit_that_is_not_positive(unit_tokens):
    with pytest.raises(ValueError, match="positive"):
        per_mtok(Decimal(1), unit_tokens=unit_tokens)


def test_it_refuses_floats_as_money():
    with pytest.raises(TypeError):
        to_decimal(0.1)


def test_it_reads_thousands_separators_and_rejects_garbage():
    assert to_decimal("1,000.50") == Decimal("1000.50")
    with pytest.raises(NotationError):
        to_decimal("1.2.3")


def test_it_never_uses_float_in_its_source():
    tree = ast.parse(Path(units.__file__).read_text())
    float_calls = [n for n in ast.walk(tree) if isinstance(n, ast.Call) and getattr(n.func, "id", "") == "float"]
    float_literals = [n for n in ast.walk(tree) if isinstance(n, ast.Constant) and type(n.value) is float]
    assert not float_calls and not float_literals


# --- currency, words ----------------------------------------------------------------------------


@given(amount=amounts, rate_from=rates, rate_to=rates)
def test_it_round_trips_a_currency_conversion(amount, rate_from, rate_to):
    there = convert_currency(amount, units_per_eur_from=rate_from, units_per_eur_to=rate_to)
    back = convert_currency(there, units_per_eur_from=rate_to, units_per_eur_to=rate_from)
    assert type(there) is Decimal
    assert close(back, amount)


def test_it_converts_cny_to_usd_through_the_euro():
    # 2 CNY per 1M tokens at 8.2 CNY/EUR and 1.17 USD/EUR
    usd = convert_currency(Decimal(2), units_per_eur_from=Decimal("8.2"), units_per_eur_to=Decimal("1.17"))
    assert usd.quantize(Decimal("0.000001")) == Decimal("0.285366")


def test_it_refuses_a_rate_that_is_not_positive():
    with pytest.raises(ValueError, match="positive"):
        convert_currency(Decimal(1), units_per_eur_from=Decimal(0), units_per_eur_to=Decimal(1))


def test_it_prices_a_million_words_with_the_assumed_ratio():
    # The seed article: $0.014 per 1M tokens is "roughly 700,000 words" per dollar-figure; per 1M words it costs more.
    assert per_mwords(Decimal("0.75")) == Decimal(1)
    assert per_mwords(Decimal("0.014")) > Decimal("0.014")
    assert units.ASSUMED_RATIO.provenance == "assumed"


@given(tokens=st.integers(0, 10**9), ratio=st.decimals(min_value="0.1", max_value=2, places=3))
def test_it_round_trips_tokens_and_words(tokens, ratio):
    assert close(
        words_to_tokens(tokens_to_words(tokens, words_per_token=ratio), words_per_token=ratio), Decimal(tokens)
    )


@given(cheap=amounts, dear=amounts, ratio=st.decimals(min_value="0.1", max_value=2, places=3))
def test_it_keeps_the_order_of_prices_per_million_words(cheap, dear, ratio):
    cheap, dear = sorted((cheap, dear))
    assert per_mwords(cheap, words_per_token=ratio) <= per_mwords(dear, words_per_token=ratio)


@pytest.mark.parametrize("ratio", [Decimal(0), Decimal(-1)])
def test_it_refuses_a_words_ratio_that_is_not_positive(ratio):
    with pytest.raises(ValueError):
        per_mwords(Decimal(1), words_per_token=ratio)
    with pytest.raises(ValueError):
        words_to_tokens(100, words_per_token=ratio)


# --- blends -------------------------------------------------------------------------------------


def test_it_blends_three_input_tokens_to_one_output_token_by_default():
    assert blended(Decimal("3"), Decimal("15")) == Decimal(6)


@given(a=amounts, b=amounts, ratio=ratios)
def test_it_keeps_a_blend_between_its_input_and_output_prices(a, b, ratio):
    mix = blended(a, b, ratio=ratio)
    assert type(mix) is Decimal
    assert min(a, b) - Decimal("1e-20") <= mix <= max(a, b) + Decimal("1e-20")


@given(a=amounts, b=amounts, more=amounts, ratio=ratios)
def test_it_never_lowers_a_blend_when_a_price_rises(a, b, more, ratio):
    assert blended(a + more, b, ratio=ratio) >= blended(a, b, ratio=ratio)
    assert blended(a, b + more, ratio=ratio) >= blended(a, b, ratio=ratio)


@pytest.mark.parametrize(("text", "ratio"), [("3:1", (3, 1)), (" 1 : 1 ", (1, 1)), ("0:1", (0, 1))])
def test_it_reads_a_ratio(text, ratio):
    assert parse_ratio(text) == ratio


@pytest.mark.parametrize("text", ["", "3", "3:1:1", "a:b", "-1:3", "0:0", "1.5:1", "9999999:1"])
def test_it_refuses_a_ratio_it_cannot_read(text):
    with pytest.raises(ValueError):
        parse_ratio(text)


# --- workloads ----------------------------------------------------------------------------------

LONG_CONTEXT = [
    TierPrice("input", Decimal("1.25"), max_tokens=200_000),
    TierPrice("input", Decimal("2.50"), min_tokens=200_001),
    TierPrice("output", Decimal("10"), max_tokens=200_000),
    TierPrice("output", Decimal("15"), min_tokens=200_001),
    TierPrice("input", Decimal("0.625"), mode="batch"),
    TierPrice("output", Decimal("5"), mode="batch"),
]


def test_it_prices_a_workload_at_the_tier_its_prompt_falls_in():
    short = workload_cost(LONG_CONTEXT, Workload(input_tokens=200_000, output_tokens=1_000))
    long = workload_cost(LONG_CONTEXT, Workload(input_tokens=200_001, output_tokens=1_000))
    assert short.total == Decimal("0.25") + Decimal("0.01")
    # Past the threshold the whole request, output included, moves to the long-context tier.
    assert long.total == Decimal("2.50") * 200_001 / 1_000_000 + Decimal("0.015")
    assert [line.min_tokens for line in long.lines] == [200_001, 200_001]


def test_it_counts_cached_tokens_in_the_prompt_length_that_picks_the_tier():
    cost = workload_cost(LONG_CONTEXT, Workload(input_tokens=150_000, cached_input_tokens=60_000))
    assert {line.amount_per_mtok for line in cost.lines} == {Decimal("2.50")}


def test_it_falls_back_to_the_input_price_for_cached_tokens_when_none_is_listed():
    cost = workload_cost(LONG_CONTEXT, Workload(cached_input_tokens=100_000))
    assert cost.total == Decimal("0.125")
    assert cost.complete


def test_it_reports_the_components_it_has_no_price_for():
    cost = workload_cost(LONG_CONTEXT, Workload(input_tokens=1000, cache_write_1h_tokens=1000, mode="flex"))
    assert cost.missing == ("input", "cache_write_1h")
    assert not cost.complete
    assert cost.total == 0


def test_it_prices_each_mode_with_its_own_prices():
    cost = workload_cost(LONG_CONTEXT, Workload(input_tokens=1_000_000, output_tokens=1_000_000, mode="batch"))
    assert cost.total == Decimal("5.625")


def test_it_prefers_a_stated_tier_over_an_untiered_fallback():
    prices = [TierPrice("input", Decimal(1)), TierPrice("input", Decimal(2), min_tokens=128_001)]
    assert select_tier(prices, component="input", mode="standard", prompt_tokens=200_000).amount_per_mtok == 2
    assert select_tier(prices, component="input", mode="standard", prompt_tokens=1_000).amount_per_mtok == 1


@given(
    input_tokens=st.integers(0, 2_000_000),
    output_tokens=st.integers(0, 2_000_000),
    extra=st.integers(0, 1_000_000),
)
def test_it_never_charges_less_for_more_output(input_tokens, output_tokens, extra):
    base = workload_cost(LONG_CONTEXT, Workload(input_tokens=input_tokens, output_tokens=output_tokens))
    more = workload_cost(LONG_CONTEXT, Workload(input_tokens=input_tokens, output_tokens=output_tokens + extra))
    assert type(base.total) is Decimal
    assert more.total >= base.total


@given(prompt=st.integers(0, 5_000_000))
def test_it_always_finds_exactly_the_tier_covering_a_prompt(prompt):
    price = select_tier(LONG_CONTEXT, component="input", mode="standard", prompt_tokens=prompt)
    assert price is not None and price.covers(prompt)
    assert price.amount_per_mtok == (Decimal("1.25") if prompt <= 200_000 else Decimal("2.50"))


# --- words billed as whole tokens ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("words", "ratio", "tokens"),
    [(0, "0.75", 0), (1, "0.75", 2), (3, "0.75", 4), (750_000, "0.75", 1_000_000), (5, "0.5", 10), (1, "1.25", 1)],
)
def test_it_bills_words_as_whole_tokens_rounding_up(words, ratio, tokens):
    assert units.words_to_whole_tokens(words, words_per_token=Decimal(ratio)) == tokens


@given(words=st.integers(0, 10**10), ratio=st.decimals(min_value="0.1", max_value=2, places=5))
def test_it_never_bills_a_partial_token_short(words, ratio):
    tokens = units.words_to_whole_tokens(words, words_per_token=ratio)
    exact = words_to_tokens(words, words_per_token=ratio)
    assert isinstance(tokens, int)
    assert exact <= tokens < exact + 1

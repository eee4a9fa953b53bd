"""How figures are written on every page: unambiguous currency signs, never scientific notation, token
counts one way."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest

from pricing import units
from pricing.templatetags.pricing_format import as_printed, money, tokens


@pytest.mark.parametrize(
    ("currency", "written"),
    [("USD", "$2.00"), ("EUR", "€2.00"), ("GBP", "£2.00"), ("CNY", "CN¥2.00"), ("JPY", "JP¥2.00"), ("CHF", "2.00 CHF")],
)
def test_each_currency_is_written_unambiguously(currency, written):
    assert money(Decimal(2), currency) == written


@pytest.mark.parametrize(
    ("amount", "written"),
    [
        (Decimal("1.4E-7"), "$0.00000014"),
        (Decimal("6E-7"), "$0.0000006"),
        (Decimal("0.014"), "$0.014"),
        (Decimal("1E+3"), "$1,000.00"),
        (Decimal("1.25E+6"), "$1,250,000.00"),
    ],
)
def test_money_is_never_in_scientific_notation(amount, written):
    assert money(amount, "USD") == written


@pytest.mark.parametrize(
    ("printed", "shown"),
    [
        ("$1.4E-7 / token", "$0.00000014 / token"),
        ("$6.0E-7 / token", "$0.0000006 / token"),
        ("1.5e-07元/token", "0.00000015元/token"),
        ("$0.50 / 1M tokens", "$0.50 / 1M tokens"),
        ("gpt-4e-1 at 2e3", "gpt-4e-1 at 2000"),
    ],
)
def test_a_price_as_printed_spells_scientific_notation_in_plain_digits(printed, shown):
    assert as_printed(printed) == shown
    assert units.plain_figures(printed) == shown


@pytest.mark.parametrize(
    ("count", "written"),
    [(128_000, "128,000"), (131_072, "131,072"), (1_000_000, "1,000,000"), (1_048_576, "1,048,576"), (None, "—")],
)
def test_token_counts_are_written_one_way(count, written):
    assert tokens(count) == written


@pytest.mark.django_db
def test_no_page_shows_a_price_in_scientific_notation(client, priced, deepseek_model):
    offering = priced("litellm", "deepseek-chat", "0.15", "0.6", model=deepseek_model)
    offering.prices.filter(component="input").update(original="$1.5E-7 / token")
    offering.prices.filter(component="output").update(original="$6.0E-7 / token")

    for url in ("/models/deepseek-v3/", "/?q=deepseek", "/calculator/?q=deepseek", "/?q=deepseek&currency=EUR"):
        body = client.get(url).content.decode()
        assert not re.search(r"\d[eE][-+]?\d", body), url
    assert "$0.00000015 / token" in client.get("/models/deepseek-v3/").content.decode()

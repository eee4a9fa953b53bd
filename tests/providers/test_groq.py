from decimal import Decimal
from pathlib import Path

import pytest

from providers import REGISTRY
from providers.base import OFFICIAL_TRUST, Document, ParseError
from providers.groq import Groq

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "providers" / "groq"


def parse(html: str | bytes) -> list:
    content = html.encode() if isinstance(html, str) else html
    return Groq().parse(Document(url=Groq.urls[0], content=content))


def parse_fixture() -> list:
    return parse((FIXTURES / "pricing.html").read_bytes())


def rows(records: list) -> list[tuple]:
    return [(r.model, r.component, r.mode, r.amount_per_mtok, r.currency) for r in records]


def page(*tables: str) -> str:
    return "<html><body>" + "".join(f"<section><h2>Section</h2>{t}</section>" for t in tables) + "</body></html>"


def test_it_is_registered_as_the_official_groq_source():
    assert REGISTRY["groq"] is Groq
    assert Groq.kind == "official"
    assert Groq.trust_rank == OFFICIAL_TRUST
    assert Groq.urls == ("https://groq.com/pricing",)


def test_it_reads_the_model_table_by_display_name_without_the_context_window():
    records = [
        r for r in parse((FIXTURES / "pricing.html").read_bytes()) if r.notes["table"] == "Large Language Models"
    ]

    assert rows(records) == [
        ("GPT OSS 20B", "input", "standard", Decimal("0.075"), "USD"),
        ("GPT OSS 20B", "output", "standard", Decimal("0.30"), "USD"),
        ("GPT OSS Safeguard 20B", "input", "standard", Decimal("0.075"), "USD"),
        ("GPT OSS Safeguard 20B", "output", "standard", Decimal("0.30"), "USD"),
        ("Kimi K2-0905 1T", "input", "standard", Decimal("1.00"), "USD"),
        ("Kimi K2-0905 1T", "output", "standard", Decimal("3.00"), "USD"),
        ("Qwen3 32B", "input", "standard", Decimal("0.29"), "USD"),
        ("Qwen3 32B", "output", "standard", Decimal("0.59"), "USD"),
    ]
    windows = {r.model: r.context_window for r in records}
    assert windows == {
        "GPT OSS 20B": 128_000,
        "GPT OSS Safeguard 20B": None,
        "Kimi K2-0905 1T": 256_000,
        "Qwen3 32B": 131_000,
    }
    assert records[0].original == "$0.075 / 1M tokens"


def test_it_reads_cached_input_from_the_prompt_caching_table_by_api_id():
    records = [r for r in parse_fixture() if r.notes["table"] == "Prompt Caching"]

    assert rows(records) == [
        ("moonshotai/kimi-k2-instruct-0905", "input", "standard", Decimal("1.00"), "USD"),
        ("moonshotai/kimi-k2-instruct-0905", "cached_input", "standard", Decimal("0.50"), "USD"),
        ("moonshotai/kimi-k2-instruct-0905", "output", "standard", Decimal("3.00"), "USD"),
        ("openai/gpt-oss-20b", "input", "standard", Decimal("0.075"), "USD"),
        ("openai/gpt-oss-20b", "cached_input", "standard", Decimal("0.0375"), "USD"),
        ("openai/gpt-oss-20b", "output", "standard", Decimal("0.30"), "USD"),
    ]


def test_it_skips_speech_and_tool_tables_that_are_not_priced_per_token():
    models = {r.model for r in parse_fixture()}

    assert not models & {"Canopy Labs Orpheus English", "Whisper V3 Large", "Basic Search", "Code Execution"}


def test_it_reads_cells_whose_column_label_is_plain_text_before_the_value():
    table = (
        "<table><thead><tr><th>AI Model</th><th>Current Speed (Tokens per Second)</th>"
        "<th>Input Token Price (Per Million Tokens)</th><th>Output Token Price (Per Million Tokens)</th></tr></thead>"
        "<tbody><tr><td>AI Model GPT OSS 120B 128k</td><td>Current Speed 500 TPS</td>"
        "<td>Input Token Price (Per Million Tokens) $0.15 (6.67M / $1)*</td>"
        "<td>Output Token Price (Per Million Tokens) $0.75 (1.33M / $1)*</td></tr></tbody></table>"
    )

    assert rows(parse(page(table))) == [
        ("GPT OSS 120B", "input", "standard", Decimal("0.15"), "USD"),
        ("GPT OSS 120B", "output", "standard", Decimal("0.75"), "USD"),
    ]


def test_it_reads_a_batch_price_column_as_batch_mode():
    table = (
        "<table><thead><tr><th>Model</th><th>Input Token Price (Per Million Tokens)</th>"
        "<th>Batch Input Token Price (Per Million Tokens)</th></tr></thead>"
        "<tbody><tr><td>Qwen3 32B 131k</td><td>$0.29</td><td>$0.145</td></tr></tbody></table>"
    )

    assert [(r.component, r.mode, r.amount_per_mtok) for r in parse(page(table))] == [
        ("input", "standard", Decimal("0.29")),
        ("input", "batch", Decimal("0.145")),
    ]


def test_it_skips_a_price_cell_without_a_figure():
    table = (
        "<table><thead><tr><th>Model</th><th>Uncached Input Tokens (Per M Tokens)</th>"
        "<th>Cached Input Tokens (Per M Tokens)</th><th>Output Tokens (Per M Tokens)</th></tr></thead>"
        "<tbody><tr><td>openai/gpt-oss-120b</td><td>$0.15</td><td>—</td><td>$0.60</td></tr></tbody></table>"
    )

    assert rows(parse(page(table))) == [
        ("openai/gpt-oss-120b", "input", "standard", Decimal("0.15"), "USD"),
        ("openai/gpt-oss-120b", "output", "standard", Decimal("0.60"), "USD"),
    ]


def test_it_fails_loudly_on_a_page_without_tables():
    with pytest.raises(ParseError, match="no <table>"):
        parse("<html><body><h1>Pricing</h1></body></html>")


def test_it_fails_loudly_when_no_table_is_priced_per_token():
    tools = (
        "<table><thead><tr><th>Tool</th><th>Price</th></tr></thead>"
        "<tbody><tr><td>Basic Search</td><td>$5 / 1000 requests</td></tr></tbody></table>"
    )

    with pytest.raises(ParseError, match="no token-price table"):
        parse(page(tools))

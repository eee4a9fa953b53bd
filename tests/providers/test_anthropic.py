import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest

from providers import REGISTRY
from providers.anthropic import Anthropic
from providers.base import Document, ParseError

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "providers" / "anthropic"
URL = "https://platform.claude.com/docs/en/about-claude/pricing"
SEPT_1_2026 = dt.datetime(2026, 9, 1, tzinfo=dt.UTC)
TABLE_COMPONENTS = ("input", "cache_write_5m", "cache_write_1h", "cached_input", "output")


def parse_fixture(name: str):
    return Anthropic().parse(Document(url=URL, content=(FIXTURES / name).read_bytes()))


def parse_text(text: str):
    return Anthropic().parse(Document(url=URL, content=text.encode()))


def rows(records):
    return [
        (r.model, r.component, r.mode, r.tier_min_tokens, r.tier_max_tokens, r.amount_per_mtok, r.currency)
        for r in records
    ]


def model_row(model, *amounts, mode="standard", components=TABLE_COMPONENTS):
    return [(model, c, mode, None, None, Decimal(a), "USD") for c, a in zip(components, amounts, strict=True)]


def batch_row(model, input_amount, output_amount):
    return model_row(model, input_amount, output_amount, mode="batch", components=("input", "output"))


def tier_rows(model, low, high, *, components=("input", "output")):
    """Long-context rows: ``low`` amounts for prompts up to 200K tokens, ``high`` beyond."""
    return [(model, c, "standard", None, 200_000, Decimal(a), "USD") for c, a in zip(components, low, strict=True)] + [
        (model, c, "standard", 200_001, None, Decimal(a), "USD") for c, a in zip(components, high, strict=True)
    ]


def interleave(*groups):
    """Rows of a table cell shared by several models come model by model for each price."""
    return [row for rows_of_price in zip(*groups, strict=True) for row in rows_of_price]


def test_it_is_registered_as_an_official_source():
    assert REGISTRY["anthropic"] is Anthropic
    assert Anthropic.kind == "official"
    assert Anthropic.provider == "anthropic"
    assert "platform.claude.com" in Anthropic.hosts
    assert all(url.startswith("https://platform.claude.com/") for url in Anthropic.urls)


def test_it_reads_every_table_of_the_html_page():
    sonnet_45_tiers = tier_rows("Claude Sonnet 4.5", ("3", "15"), ("6", "22.50"))
    sonnet_4_tiers = tier_rows("Claude Sonnet 4", ("3", "15"), ("6", "22.50"))
    assert rows(parse_fixture("pricing.html")) == [
        *model_row("Claude Opus 4.6", "5", "6.25", "10", "0.50", "25"),
        *model_row("Claude Sonnet 5", "2", "2.50", "4", "0.20", "10"),
        *model_row("Claude Sonnet 5", "3", "3.75", "6", "0.30", "15"),
        *model_row("Claude Sonnet 4.5", "3", "3.75", "6", "0.30", "15"),
        *model_row("Claude Sonnet 4", "3", "3.75", "6", "0.30", "15"),
        *model_row("Claude Haiku 4.5", "1", "1.25", "2", "0.10", "5"),
        *batch_row("Claude Opus 4.6", "2.50", "12.50"),
        *batch_row("Claude Haiku 4.5", "0.50", "2.50"),
        *tier_rows("Claude Opus 4.6", ("5", "25"), ("10", "37.50")),
        *interleave(sonnet_45_tiers, sonnet_4_tiers),
    ]


def test_it_reads_the_markdown_rendition_of_the_page():
    sonnet_45_tiers = tier_rows("Claude Sonnet 4.5", ("3", "15"), ("6", "22.50"))
    sonnet_4_tiers = tier_rows("Claude Sonnet 4", ("3", "15"), ("6", "22.50"))
    assert rows(parse_fixture("pricing.md")) == [
        *model_row("Claude Fable 5.1", "10", "12.50", "20", "0.25", "50"),
        *model_row("Claude Mythos 5", "10", "12.50", "20", "1", "50"),
        *model_row("Claude Sonnet 3.7", "3", "3.75", "6", "0.30", "15"),
        *model_row("Claude Haiku 3", "0.25", "0.30", "0.50", "0.03", "1.25"),
        *batch_row("Claude Sonnet 3.7", "1.50", "7.50"),
        *batch_row("Claude Haiku 3", "0.125", "0.625"),
        *interleave(sonnet_45_tiers, sonnet_4_tiers),
    ]


def test_it_reads_the_single_cache_writes_column_of_older_pages_as_the_5_minute_cache():
    components = ("input", "cache_write_5m", "cached_input", "output")
    assert rows(parse_fixture("legacy_models.md")) == [
        *model_row("Claude 3.7 Sonnet", "3", "3.75", "0.30", "15", components=components),
        *model_row("Claude 3.5 Haiku", "0.80", "1", "0.08", "4", components=components),
    ]


def test_it_dates_an_introductory_price_instead_of_listing_two_current_prices():
    sonnet_5_input = [
        r for r in parse_fixture("pricing.html") if r.model == "Claude Sonnet 5" and r.component == "input"
    ]
    introductory, regular = sonnet_5_input
    assert (introductory.amount_per_mtok, introductory.valid_from, introductory.valid_to) == (
        Decimal(2),
        None,
        SEPT_1_2026,
    )
    assert (regular.amount_per_mtok, regular.valid_from, regular.valid_to) == (Decimal(3), SEPT_1_2026, None)
    assert introductory.valid_to.tzinfo is dt.UTC
    assert introductory.notes["validity"] == "through August 31, 2026"


def test_it_reads_a_date_qualifier_written_on_the_same_line_in_markdown():
    records = parse_text(
        "| Model | Base Input Tokens | Output Tokens |\n"
        "|---|---|---|\n"
        "| Claude Sonnet 5 (through Aug 31, 2026) | $2 / MTok | $10 / MTok |\n"
        "| Claude Sonnet 5 starting September 1, 2026 | $3 / MTok | $15 / MTok |\n"
    )
    assert [(r.model, r.component, r.amount_per_mtok, r.valid_from, r.valid_to) for r in records] == [
        ("Claude Sonnet 5", "input", Decimal(2), None, SEPT_1_2026),
        ("Claude Sonnet 5", "output", Decimal(10), None, SEPT_1_2026),
        ("Claude Sonnet 5", "input", Decimal(3), SEPT_1_2026, None),
        ("Claude Sonnet 5", "output", Decimal(15), SEPT_1_2026, None),
    ]


def test_it_keeps_status_qualifiers_and_footnotes_out_of_the_model_name():
    records = parse_fixture("pricing.md")
    mythos = next(r for r in records if r.model == "Claude Mythos 5")
    fable_hits = next(r for r in records if r.model == "Claude Fable 5.1" and r.component == "cached_input")
    assert mythos.notes["qualifier"] == "limited availability"
    assert mythos.model_name == "Claude Mythos 5"
    assert fable_hits.notes["footnote"] == "1"
    assert fable_hits.original == "$0.25 / MTok"


def test_it_keeps_the_figure_as_printed_and_a_short_excerpt():
    retired = next(r for r in parse_fixture("pricing.html") if r.model == "Claude Sonnet 4")
    assert retired.original == "$3 / MTok"
    assert retired.excerpt == (
        "Claude Sonnet 4 (retired, except on Bedrock and Google Cloud) | Base Input Tokens: $3 / MTok"
    )
    assert retired.notes["qualifier"] == "retired, except on Bedrock and Google Cloud"
    assert all(len(r.excerpt) <= 200 for r in parse_fixture("pricing.html"))


def test_it_reads_markdown_even_when_its_prose_mentions_an_html_table():
    records = parse_text(
        "NOTE: the live page renders this as an HTML <table>.\n\n"
        "| Model | Base Input Tokens | Output Tokens |\n|---|---|---|\n| Claude Haiku 4.5 | $1 / MTok | $5 / MTok |\n"
    )
    assert rows(records) == model_row("Claude Haiku 4.5", "1", "5", components=("input", "output"))


def test_it_fails_on_an_empty_page():
    with pytest.raises(ParseError, match="empty document"):
        parse_text("  \n")


def test_it_fails_when_the_page_has_no_table():
    with pytest.raises(ParseError, match="no pricing table found"):
        parse_text("<html><body><h2>Model pricing</h2><p>See claude.com/pricing.</p></body></html>")


def test_it_fails_when_no_table_is_the_model_pricing_table():
    with pytest.raises(ParseError, match="no model pricing table found"):
        parse_text(
            "<h2>Web search tool</h2><table><tr><th>Tool</th><th>Price</th></tr>"
            "<tr><td>Web search</td><td>$10 per 1,000 searches</td></tr></table>"
        )


def test_it_fails_on_a_malformed_page_whose_cells_hold_no_prices():
    with pytest.raises(ParseError, match="no model pricing table found"):
        parse_text("<table><tr><th>Model</th><th>Base Input Tokens</th><tr><td>Claude Opus 4.6<td>TBD</table")


def test_it_fails_on_binary_garbage():
    with pytest.raises(ParseError):
        Anthropic().parse(Document(url=URL, content=bytes(range(256))))

from decimal import Decimal
from pathlib import Path

import pytest

from providers import REGISTRY
from providers.base import OFFICIAL_TRUST, Document, ParseError
from providers.openai import OpenAI

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "providers" / "openai" / "pricing.html"
SHORT = (None, 272000)
LONG = (272001, None)
UNDER_272K = (None, 271999)
UNTIERED = (None, None)


def _sol(mode, short, long):
    components = ("input", "cached_input", "cache_write_5m", "output")
    return [("gpt-5.6-sol", c, mode, *SHORT, a) for c, a in zip(components, short, strict=True)] + [
        ("gpt-5.6-sol", c, mode, *LONG, a) for c, a in zip(components, long, strict=True)
    ]


# (model, component, mode, tier_min_tokens, tier_max_tokens, USD per 1M tokens), in page order.
EXPECTED = [
    # Text tokens / Standard: rendered row (both context tiers), then the "All models" rows from the props.
    *_sol("standard", ("5", "0.5", "6.25", "30"), ("10", "1", "12.5", "45")),
    ("gpt-5.5", "input", "standard", *UNDER_272K, "5"),
    ("gpt-5.5", "cached_input", "standard", *UNDER_272K, "0.5"),
    ("gpt-5.5", "output", "standard", *UNDER_272K, "30"),
    ("gpt-4o", "input", "standard", *UNTIERED, "2.5"),
    ("gpt-4o", "cached_input", "standard", *UNTIERED, "1.25"),
    ("gpt-4o", "output", "standard", *UNTIERED, "10"),
    ("gpt-5-pro", "input", "standard", *UNTIERED, "15"),
    ("gpt-5-pro", "output", "standard", *UNTIERED, "120"),
    # Batch, Flex, Fast mode (= priority) tabs.
    *_sol("batch", ("2.5", "0.25", "3.125", "15"), ("5", "0.5", "6.25", "22.5")),
    ("gpt-4o", "input", "batch", *UNTIERED, "1.25"),
    ("gpt-4o", "output", "batch", *UNTIERED, "5"),
    *_sol("flex", ("2.5", "0.25", "3.125", "15"), ("5", "0.5", "6.25", "22.5")),
    *_sol("priority", ("10", "1", "12.5", "60"), ("20", "2", "25", "90")),
    ("gpt-4o", "input", "priority", *UNTIERED, "4.25"),
    ("gpt-4o", "cached_input", "priority", *UNTIERED, "2.125"),
    ("gpt-4o", "output", "priority", *UNTIERED, "17"),
    # Cyber models: gpt-5.6-sol repeats the flagship row and is recorded once; gpt-5.5-cyber is hidden.
    ("gpt-5.6-cyber", "input", "standard", *SHORT, "12.5"),
    ("gpt-5.6-cyber", "cached_input", "standard", *SHORT, "1.25"),
    ("gpt-5.6-cyber", "cache_write_5m", "standard", *SHORT, "15.625"),
    ("gpt-5.6-cyber", "output", "standard", *SHORT, "75"),
    ("gpt-5.5-cyber", "input", "standard", *SHORT, "12.5"),
    ("gpt-5.5-cyber", "cached_input", "standard", *SHORT, "1.25"),
    ("gpt-5.5-cyber", "output", "standard", *SHORT, "75"),
    # Specialized models: embeddings and moderation are left out.
    ("gpt-5.3-codex", "input", "standard", *UNTIERED, "1.75"),
    ("gpt-5.3-codex", "cached_input", "standard", *UNTIERED, "0.175"),
    ("gpt-5.3-codex", "output", "standard", *UNTIERED, "14"),
    ("gpt-5-search-api", "input", "standard", *UNTIERED, "1.25"),
    ("gpt-5-search-api", "cached_input", "standard", *UNTIERED, "0.125"),
    ("gpt-5-search-api", "output", "standard", *UNTIERED, "10"),
    ("gpt-5.3-codex", "input", "priority", *UNTIERED, "3.5"),
    ("gpt-5.3-codex", "cached_input", "priority", *UNTIERED, "0.35"),
    ("gpt-5.3-codex", "output", "priority", *UNTIERED, "28"),
]


def _parse(content: bytes | str):
    if isinstance(content, str):
        content = content.encode()
    return OpenAI().parse(Document(url=OpenAI.urls[0], content=content, content_type="text/html"))


@pytest.fixture(scope="module")
def records():
    return _parse(FIXTURE.read_bytes())


def _island(export: str, props: str, table: str = "") -> str:
    return f"<astro-island component-export='{export}' props='{props}'>{table}</astro-island>"


def test_it_is_registered_as_an_official_source():
    assert REGISTRY["openai"] is OpenAI
    assert OpenAI.kind == "official"
    assert OpenAI.provider == "openai"
    assert OpenAI.trust_rank == OFFICIAL_TRUST
    assert OpenAI.hosts == ("developers.openai.com",)
    assert OpenAI.urls == ("https://developers.openai.com/api/docs/pricing",)


def test_it_reads_every_text_token_price_of_the_page_exactly(records):
    parsed = [(r.model, r.component, r.mode, r.tier_min_tokens, r.tier_max_tokens, r.amount_per_mtok) for r in records]
    assert parsed == [(*row[:5], Decimal(row[5])) for row in EXPECTED]
    assert {r.currency for r in records} == {"USD"}
    assert {r.provider for r in records} == {"openai"}


def test_it_keeps_amounts_as_exact_decimals(records):
    assert all(isinstance(r.amount_per_mtok, Decimal) for r in records)
    write = next(
        r for r in records if r.model == "gpt-5.6-sol" and r.mode == "batch" and r.component == "cache_write_5m"
    )
    assert write.amount_per_mtok == Decimal("3.125")


def test_it_reads_the_rows_hidden_behind_all_models_from_the_island_props(records):
    gpt_4o = [r for r in records if r.model == "gpt-4o" and r.mode == "standard"]
    assert [(r.component, r.amount_per_mtok) for r in gpt_4o] == [
        ("input", Decimal("2.5")),
        ("cached_input", Decimal("1.25")),
        ("output", Decimal("10")),
    ]
    assert gpt_4o[0].original == "$2.5 / 1M tokens"
    assert gpt_4o[0].excerpt == '["gpt-4o", "2.5", "1.25", "10"]'


def test_it_keeps_the_printed_figure_and_row_of_a_rendered_cell(records):
    long_input = next(
        r for r in records if r.model == "gpt-5.6-sol" and r.mode == "standard" and r.tier_min_tokens == 272001
    )
    assert long_input.component == "input"
    assert long_input.original == "$10.00 / 1M tokens"
    assert long_input.excerpt.startswith("gpt-5.6-sol | $5.00 | $0.50 | $6.25 | $30.00 | $10.00")
    assert all(len(r.excerpt) <= 200 for r in records)


def test_it_strips_the_context_qualifier_from_the_model_id(records):
    assert "gpt-5.5" in {r.model for r in records}
    assert not any("context length" in r.model for r in records)


def test_it_calls_fast_mode_priority(records):
    assert {r.mode for r in records} == {"standard", "batch", "flex", "priority"}


def test_it_skips_audio_image_tool_embedding_moderation_and_fine_tuning_rows(records):
    models = {r.model for r in records}
    for skipped in (
        "gpt-realtime-2.1",
        "tts-1",
        "Web search",
        "text-embedding-3-small",
        "omni-moderation-latest",
        "gpt-4.1-2025-04-14",
        "davinci-002",
    ):
        assert skipped not in models


def test_it_records_a_model_listed_in_two_tables_once(records):
    keys = [r.key for r in records]
    assert len(keys) == len(set(keys))


def test_it_fails_on_an_empty_page():
    with pytest.raises(ParseError, match="no pricing tables found"):
        _parse(b"")


def test_it_fails_on_a_page_without_pricing_tables():
    with pytest.raises(ParseError, match="no pricing tables found"):
        _parse("<html><body><h2 id='text-tokens'></h2><table><tr><td>gpt-4o</td></tr></table></body></html>")


def test_it_fails_when_only_out_of_scope_tables_are_left():
    page = "<h2 id='fine-tuning'></h2>" + _island("PricingTable", '{"headings":[1,[[0,"Model"],[0,"Input"]]]}')
    with pytest.raises(ParseError, match="no text-token pricing table found"):
        _parse(page)


def test_it_fails_on_island_props_that_are_not_json():
    with pytest.raises(ParseError, match="props are not JSON"):
        _parse(_island("TextTokenPricingTables", '{"tier":[0,"standard"],"rows":[1,['))


def test_it_fails_when_a_text_token_table_has_no_rows():
    with pytest.raises(ParseError, match="neither a rendered <table> nor rows"):
        _parse(_island("TextTokenPricingTables", '{"tier":[0,"standard"]}'))


def test_it_fails_on_an_island_row_of_an_unknown_shape():
    props = '{"tier":[0,"standard"],"rows":[1,[[1,[[0,"gpt-4o"],[0,2.5]]]]]}'
    with pytest.raises(ParseError, match="has 1 prices, expected 3 or 4"):
        _parse(_island("TextTokenPricingTables", props))


def test_it_fails_when_the_long_context_threshold_is_missing():
    table = (
        "<table><thead><tr><th></th><th colspan='2'>Short context</th><th colspan='2'>Long context</th></tr>"
        "<tr><th>Model</th><th>Input</th><th>Output</th><th>Input</th><th>Output</th></tr></thead>"
        "<tbody><tr><td>gpt-5.6-sol</td><td>$5.00</td><td>$30.00</td><td>$10.00</td><td>$45.00</td></tr></tbody></table>"
    )
    with pytest.raises(ParseError, match="no token threshold found for the column group 'short context'"):
        _parse(_island("TextTokenPricingTables", '{"tier":[0,"standard"]}', table))


def test_it_fails_when_tables_hold_no_price():
    props = '{"tier":[0,"standard"],"rows":[1,[[1,[[0,"gpt-x"],[0,"-"],[0,null],[0,"-"]]]]]}'
    with pytest.raises(ParseError, match="no price could be read"):
        _parse(_island("TextTokenPricingTables", props))

import json
import time
from decimal import Decimal
from pathlib import Path

import pytest

from providers import REGISTRY
from providers.base import AGGREGATOR_TRUST, Document, ParseError
from providers.litellm import LiteLLM, read_field

FIXTURE = (
    Path(__file__).resolve().parents[1] / "fixtures" / "providers" / "litellm" / "model_prices_and_context_window.json"
)

# (model, component, mode, tier_min_tokens, tier_max_tokens, USD per 1M tokens)
EXPECTED = {
    ("gpt-4o", "input", "standard", None, None, "2.5"),
    ("gpt-4o", "cached_input", "standard", None, None, "1.25"),
    ("gpt-4o", "output", "standard", None, None, "10"),
    ("gpt-4o", "input", "batch", None, None, "1.25"),
    ("gpt-4o", "output", "batch", None, None, "5"),
    ("gpt-4o", "input", "priority", None, None, "4.25"),
    ("gpt-4o", "cached_input", "priority", None, None, "2.125"),
    ("gpt-4o", "output", "priority", None, None, "17"),
    ("gpt-5.4", "input", "standard", None, 272000, "2.5"),
    ("gpt-5.4", "input", "standard", 272001, None, "5"),
    ("gpt-5.4", "cached_input", "standard", None, 272000, "0.25"),
    ("gpt-5.4", "cached_input", "standard", 272001, None, "0.5"),
    ("gpt-5.4", "output", "standard", None, 272000, "15"),
    ("gpt-5.4", "output", "standard", 272001, None, "22.5"),
    ("gpt-5.4", "input", "flex", None, None, "1.25"),
    ("gpt-5.4", "cached_input", "flex", None, None, "0.13"),
    ("gpt-5.4", "output", "flex", None, None, "7.5"),
    ("o3-pro", "input", "standard", None, None, "20"),
    ("o3-pro", "output", "standard", None, None, "80"),
    ("o3-pro", "input", "batch", None, None, "10"),
    ("o3-pro", "output", "batch", None, None, "40"),
    ("gpt-3.5-turbo-instruct", "input", "standard", None, None, "1.5"),
    ("gpt-3.5-turbo-instruct", "output", "standard", None, None, "2"),
    ("claude-sonnet-4-5", "input", "standard", None, 200000, "3"),
    ("claude-sonnet-4-5", "input", "standard", 200001, None, "6"),
    ("claude-sonnet-4-5", "cached_input", "standard", None, 200000, "0.3"),
    ("claude-sonnet-4-5", "cached_input", "standard", 200001, None, "0.6"),
    ("claude-sonnet-4-5", "cache_write_5m", "standard", None, 200000, "3.75"),
    ("claude-sonnet-4-5", "cache_write_5m", "standard", 200001, None, "7.5"),
    ("claude-sonnet-4-5", "cache_write_1h", "standard", None, 200000, "6"),
    ("claude-sonnet-4-5", "cache_write_1h", "standard", 200001, None, "12"),
    ("claude-sonnet-4-5", "output", "standard", None, 200000, "15"),
    ("claude-sonnet-4-5", "output", "standard", 200001, None, "22.5"),
    ("gemini-2.5-pro", "input", "standard", None, 200000, "1.25"),
    ("gemini-2.5-pro", "input", "standard", 200001, None, "2.5"),
    ("gemini-2.5-pro", "cached_input", "standard", None, 200000, "0.125"),
    ("gemini-2.5-pro", "cached_input", "standard", 200001, None, "0.25"),
    ("gemini-2.5-pro", "output", "standard", None, 200000, "10"),
    ("gemini-2.5-pro", "output", "standard", 200001, None, "15"),
    ("gemini-2.5-pro", "input", "priority", None, 200000, "1.25"),
    ("gemini-2.5-pro", "input", "priority", 200001, None, "2.5"),
    ("gemini-2.5-pro", "output", "priority", None, 200000, "10"),
    ("gemini-2.5-pro", "output", "priority", 200001, None, "15"),
    ("gemini-2.5-flash", "input", "standard", None, None, "0.3"),
    ("gemini-2.5-flash", "cached_input", "standard", None, None, "0.03"),
    ("gemini-2.5-flash", "output", "standard", None, None, "2.5"),
    ("deepseek-chat", "input", "standard", None, None, "0.28"),
    ("deepseek-chat", "cached_input", "standard", None, None, "0.028"),
    ("deepseek-chat", "cache_write_5m", "standard", None, None, "0"),
    ("deepseek-chat", "output", "standard", None, None, "0.42"),
    ("deepseek-coder", "input", "standard", None, None, "0.14"),
    ("deepseek-coder", "cached_input", "standard", None, None, "0.014"),
    ("deepseek-coder", "output", "standard", None, None, "0.28"),
    ("qwen3-coder-plus", "input", "standard", None, 32000, "1"),
    ("qwen3-coder-plus", "cached_input", "standard", None, 32000, "0.1"),
    ("qwen3-coder-plus", "output", "standard", None, 32000, "5"),
    ("qwen3-coder-plus", "input", "standard", 32001, 128000, "1.8"),
    ("qwen3-coder-plus", "cached_input", "standard", 32001, 128000, "0.18"),
    ("qwen3-coder-plus", "output", "standard", 32001, 128000, "9"),
    ("qwen3-coder-plus", "input", "standard", 128001, 256000, "3"),
    ("qwen3-coder-plus", "cached_input", "standard", 128001, 256000, "0.3"),
    ("qwen3-coder-plus", "output", "standard", 128001, 256000, "15"),
    ("qwen3-coder-plus", "input", "standard", 256001, 1000000, "6"),
    ("qwen3-coder-plus", "cached_input", "standard", 256001, 1000000, "0.6"),
    ("qwen3-coder-plus", "output", "standard", 256001, 1000000, "60"),
    ("vertex_ai/claude-sonnet-4-5", "input", "standard", None, None, "3"),
    ("vertex_ai/claude-sonnet-4-5", "output", "standard", None, None, "15"),
}


def parse(content: bytes | str | object) -> list:
    if not isinstance(content, bytes | str):
        content = json.dumps(content)
    if isinstance(content, str):
        content = content.encode()
    return LiteLLM().parse(Document(url=LiteLLM.urls[0], content=content))


def parse_fixture() -> list:
    return parse(FIXTURE.read_bytes())


def test_it_reads_every_text_price_of_the_fixture_exactly():
    records = parse_fixture()

    parsed = [(r.model, r.component, r.mode, r.tier_min_tokens, r.tier_max_tokens, r.amount_per_mtok) for r in records]
    assert len(parsed) == len(EXPECTED)
    assert set(parsed) == {(*row[:5], Decimal(row[5])) for row in EXPECTED}
    assert {r.currency for r in records} == {"USD"}
    assert all(isinstance(r.amount_per_mtok, Decimal) for r in records)


def test_it_yields_each_price_line_once():
    keys = [r.key for r in parse_fixture()]

    assert len(keys) == len(set(keys))


def test_it_names_the_seller_from_litellm_provider():
    providers = {r.model: r.provider for r in parse_fixture()}

    assert providers["gpt-4o"] == "openai"
    assert providers["gpt-3.5-turbo-instruct"] == "openai"  # LiteLLM says text-completion-openai
    assert providers["gemini-2.5-pro"] == "google"
    assert providers["claude-sonnet-4-5"] == "anthropic"
    assert providers["deepseek-chat"] == "deepseek"
    assert providers["qwen3-coder-plus"] == "dashscope"
    assert providers["vertex_ai/claude-sonnet-4-5"] == "vertex_ai-anthropic_models"


def test_it_keeps_litellm_own_provider_name_in_the_notes():
    record = next(r for r in parse_fixture() if r.model == "gemini-2.5-pro")

    assert record.notes["litellm_provider"] == "gemini"


def test_it_skips_embeddings_images_moderation_and_the_sample_spec():
    models = {r.model for r in parse_fixture()}

    assert models.isdisjoint({"sample_spec", "dall-e-3", "text-embedding-3-small", "omni-moderation-latest"})


def test_it_skips_audio_and_reasoning_fields_of_a_chat_model():
    flash = [r for r in parse_fixture() if r.model == "gemini-2.5-flash"]

    assert {r.component for r in flash} == {"input", "cached_input", "output"}
    assert next(r for r in flash if r.component == "input").amount_per_mtok == Decimal("0.3")


def test_it_converts_per_token_figures_to_exact_decimals_per_million():
    records = parse(
        b'{"m": {"litellm_provider": "openai", "mode": "chat", "input_cost_per_token": 2.5e-06,'
        b' "output_cost_per_token": 1e-05, "cache_read_input_token_cost": 3.625e-09}}'
    )

    amounts = {r.component: r.amount_per_mtok for r in records}
    assert amounts == {"input": Decimal("2.5"), "output": Decimal("10"), "cached_input": Decimal("0.003625")}
    assert str(amounts["output"]) == "10"
    assert next(r for r in records if r.component == "output").as_contract()["amount"] == "10"


def test_it_keeps_the_figure_as_printed_and_a_short_excerpt():
    record = next(r for r in parse_fixture() if r.model == "gpt-4o" and r.component == "input" and r.mode == "batch")

    assert record.original == "$0.00000125 / token"
    assert record.excerpt == '"gpt-4o": {"input_cost_per_token_batches": 0.00000125}'
    assert all(len(r.excerpt) <= 200 for r in parse_fixture())


def test_it_keeps_the_context_window():
    windows = {r.model: r.context_window for r in parse_fixture()}

    assert windows["gpt-4o"] == 128000
    assert windows["gemini-2.5-pro"] == 1048576


def test_it_falls_back_to_max_tokens_for_the_context_window():
    records = parse(
        {"m": {"litellm_provider": "groq", "mode": "chat", "max_tokens": 8192, "input_cost_per_token": 1e-7}}
    )

    assert records[0].context_window == 8192


def test_it_records_the_legacy_cache_hit_price_once_when_it_matches_cache_read():
    cached = [r for r in parse_fixture() if r.model == "deepseek-chat" and r.component == "cached_input"]

    assert [r.amount_per_mtok for r in cached] == [Decimal("0.028")]
    assert "cache_read_input_token_cost" in cached[0].excerpt


def test_it_prefers_cache_read_when_the_legacy_cache_hit_price_differs():
    records = parse(
        {
            "deepseek-chat": {
                "litellm_provider": "deepseek",
                "mode": "chat",
                "input_cost_per_token_cache_hit": 1.4e-08,
                "cache_read_input_token_cost": 2.8e-08,
            }
        }
    )

    assert [(r.component, r.amount_per_mtok) for r in records] == [("cached_input", Decimal("0.028"))]


def test_it_chains_several_long_context_thresholds_into_adjacent_tiers():
    records = parse(
        {
            "m": {
                "litellm_provider": "openai",
                "mode": "chat",
                "input_cost_per_token": 1e-06,
                "input_cost_per_token_above_512k_tokens": 4e-06,
                "input_cost_per_token_above_128k_tokens": 2e-06,
            }
        }
    )

    tiers = sorted((r.tier_min_tokens or 0, r.tier_max_tokens, r.amount_per_mtok) for r in records)
    assert tiers == [(0, 128000, Decimal(1)), (128001, 512000, Decimal(2)), (512001, None, Decimal(4))]


def test_it_leaves_a_component_untiered_when_only_others_have_long_context_prices():
    records = parse(
        {
            "m": {
                "litellm_provider": "openai",
                "mode": "chat",
                "input_cost_per_token": 1e-06,
                "input_cost_per_token_above_200k_tokens": 2e-06,
                "output_cost_per_token": 4e-06,
            }
        }
    )

    output = next(r for r in records if r.component == "output")
    assert (output.tier_min_tokens, output.tier_max_tokens) == (None, None)


def test_it_ignores_top_level_values_that_are_not_entries_and_null_prices():
    records = parse(
        {
            "last_updated": "2026-07-24T18:23:43+00:00",
            "m": {
                "litellm_provider": "xai",
                "mode": "chat",
                "input_cost_per_token": 3e-06,
                "output_cost_per_token": None,
            },
        }
    )

    assert [(r.model, r.component) for r in records] == [("m", "input")]


@pytest.mark.parametrize(
    ("field", "reading"),
    [
        ("input_cost_per_token", ("input", "standard", None)),
        ("input_cost_per_token_cache_hit", ("cached_input", "standard", None)),
        ("cache_creation_input_token_cost_above_1hr", ("cache_write_1h", "standard", None)),
        ("cache_creation_input_token_cost_above_1hr_above_200k_tokens", ("cache_write_1h", "standard", 200000)),
        ("cache_read_input_token_cost_above_272k_tokens_priority", ("cached_input", "priority", 272000)),
        ("output_cost_per_token_batches", ("output", "batch", None)),
        ("input_cost_per_token_flex", ("input", "flex", None)),
        ("input_cost_per_audio_token", None),
        ("output_cost_per_reasoning_token", None),
        ("input_dbu_cost_per_token", None),
        ("search_context_cost_per_query", None),
    ],
)
def test_it_reads_component_mode_and_threshold_from_a_field_name(field, reading):
    assert read_field(field) == reading


def test_it_declares_itself_an_aggregator_reading_github():
    assert REGISTRY["litellm"] is LiteLLM
    assert LiteLLM.kind == "aggregator"
    assert LiteLLM.trust_rank == AGGREGATOR_TRUST
    assert LiteLLM.hosts == ("raw.githubusercontent.com",)


def test_it_parses_a_file_of_thousands_of_entries_well_under_a_second():
    entries = json.loads(FIXTURE.read_text())
    big = {f"{key}-{n}": value for n in range(200) for key, value in entries.items()}
    content = json.dumps(big).encode()

    started = time.perf_counter()
    records = parse(content)
    elapsed = time.perf_counter() - started

    assert len(records) == 200 * len(EXPECTED)
    assert elapsed < 1.0


def test_it_rejects_a_document_that_is_not_json():
    with pytest.raises(ParseError, match="not JSON"):
        parse(b"<html><body>404: Not Found</body></html>")


def test_it_rejects_an_empty_document():
    with pytest.raises(ParseError, match="not JSON"):
        parse(b"")


def test_it_rejects_json_that_is_not_an_object_of_entries():
    with pytest.raises(ParseError, match="not a JSON object of model entries"):
        parse(b"[]")


def test_it_rejects_an_object_without_text_model_entries():
    with pytest.raises(ParseError, match="no entries with a litellm_provider and mode chat"):
        parse(
            {"sample_spec": {"mode": "chat", "litellm_provider": "x"}, "text-embedding-3-small": {"mode": "embedding"}}
        )


def test_it_rejects_text_entries_that_carry_no_per_token_price():
    with pytest.raises(ParseError, match="no per-token prices"):
        parse({"m": {"litellm_provider": "openai", "mode": "chat", "input_cost_per_second": 0.0001}})


def test_it_rejects_a_price_that_is_not_a_number():
    with pytest.raises(ParseError, match=r"m: input_cost_per_token is not a number: 'n/a'"):
        parse({"m": {"litellm_provider": "openai", "mode": "chat", "input_cost_per_token": "n/a"}})


def test_it_rejects_a_price_tier_without_a_range():
    with pytest.raises(ParseError, match="tiered_pricing item without a"):
        parse(
            {"m": {"litellm_provider": "dashscope", "mode": "chat", "tiered_pricing": [{"input_cost_per_token": 1e-6}]}}
        )

import json
from decimal import Decimal

import pytest

from providers import REGISTRY
from providers.base import OFFICIAL_TRUST, Document, ParseError
from providers.openrouter import OpenRouter

URL = "https://openrouter.ai/api/v1/models"


@pytest.fixture
def records(fixture_bytes):
    return OpenRouter().parse(Document(url=URL, content=fixture_bytes("providers/openrouter/models.json")))


def by_line(records):
    return {(r.model, r.component, r.tier_min_tokens, r.tier_max_tokens): r.amount_per_mtok for r in records}


def parse_models(*entries):
    return OpenRouter().parse(Document(url=URL, content=json.dumps({"data": list(entries)}).encode()))


def test_it_is_registered_as_official_for_its_own_resale_prices():
    assert REGISTRY["openrouter"] is OpenRouter
    assert OpenRouter.kind == "official"
    assert OpenRouter.provider == "openrouter"
    assert OpenRouter.trust_rank == OFFICIAL_TRUST
    assert OpenRouter.hosts == ("openrouter.ai",)


def test_it_turns_per_token_strings_into_exact_amounts_per_million_tokens(records):
    lines = by_line(records)
    assert lines[("openai/gpt-4o", "input", None, None)] == Decimal("2.5")
    assert lines[("openai/gpt-4o", "output", None, None)] == Decimal("10")
    assert lines[("deepseek/deepseek-chat", "input", None, None)] == Decimal("0.2002")
    assert lines[("deepseek/deepseek-chat", "output", None, None)] == Decimal("0.8001")
    assert all(isinstance(r.amount_per_mtok, Decimal) for r in records)
    assert all(r.currency == "USD" and r.mode == "standard" and r.provider == "openrouter" for r in records)


def test_it_reads_cache_reads_and_both_cache_writes(records):
    lines = by_line(records)
    assert lines[("openai/gpt-4o", "cached_input", None, None)] == Decimal("1.25")
    assert lines[("anthropic/claude-sonnet-4.5", "cached_input", None, 199999)] == Decimal("0.3")
    assert lines[("anthropic/claude-sonnet-4.5", "cache_write_5m", None, 199999)] == Decimal("3.75")
    assert lines[("anthropic/claude-sonnet-4.5", "cache_write_1h", None, 199999)] == Decimal("6")


def test_it_turns_overrides_into_prompt_length_tiers(records):
    lines = by_line(records)
    assert lines[("anthropic/claude-sonnet-4.5", "input", None, 199999)] == Decimal("3")
    assert lines[("anthropic/claude-sonnet-4.5", "input", 200000, None)] == Decimal("6")
    assert lines[("anthropic/claude-sonnet-4.5", "output", 200000, None)] == Decimal("22.5")
    assert lines[("anthropic/claude-sonnet-4.5", "cache_write_1h", 200000, None)] == Decimal("12")
    assert lines[("openai/gpt-5.5", "input", None, 271999)] == Decimal("5")
    assert lines[("openai/gpt-5.5", "output", 272000, None)] == Decimal("45")


def test_it_chains_several_overrides_each_up_to_the_next(records):
    lines = by_line(records)
    qwen = "qwen/qwen3-coder-flash"
    assert lines[(qwen, "input", None, 31999)] == Decimal("0.195")
    assert lines[(qwen, "input", 32000, 127999)] == Decimal("0.325")
    assert lines[(qwen, "input", 128000, None)] == Decimal("0.52")
    assert lines[(qwen, "cache_write_5m", 32000, 127999)] == Decimal("0.40625")
    assert not any(r.model == qwen and r.tier_min_tokens is None and r.tier_max_tokens is None for r in records)


def test_it_skips_the_minus_one_sentinel_of_routers_with_no_fixed_price(records):
    assert not [r for r in records if r.model == "openrouter/auto"]
    assert all(r.amount_per_mtok >= 0 for r in records)


def test_it_keeps_free_models_as_explicit_zero_prices(records):
    lines = by_line(records)
    assert lines[("tencent/hy3:free", "input", None, None)] == Decimal(0)
    assert lines[("openai/gpt-oss-20b:free", "output", None, None)] == Decimal(0)


def test_it_ignores_prices_that_are_not_text_tokens(records):
    assert {r.component for r in records} <= {"input", "output", "cached_input", "cache_write_5m", "cache_write_1h"}
    assert not [r for r in records if "web_search" in r.excerpt]


def test_it_keeps_context_length_tokenizer_creator_and_name(records):
    sonnet = next(r for r in records if r.model == "anthropic/claude-sonnet-4.5")
    assert sonnet.context_window == 1000000
    assert sonnet.tokenizer == "Claude"
    assert sonnet.creator == "anthropic"
    assert sonnet.model_name == "Anthropic: Claude Sonnet 4.5"
    deepseek = next(r for r in records if r.model == "deepseek/deepseek-chat")
    assert (deepseek.context_window, deepseek.tokenizer) == (131072, "DeepSeek")


def test_it_keeps_the_figure_as_printed_and_where_it_was_read(records):
    gpt4o = next(r for r in records if r.model == "openai/gpt-4o" and r.component == "input")
    assert gpt4o.original == "$0.0000025 / token"
    assert "pricing.prompt" in gpt4o.excerpt
    assert gpt4o.as_contract()["amount"] == "2.5"


def test_it_counts_every_price_line_of_the_fixture(records):
    # gpt-4o 3, sonnet 5x2, qwen 4x3, deepseek 2, gpt-5.5 3x2, auto 0, two free models 2 each
    assert len(records) == 3 + 10 + 12 + 2 + 6 + 0 + 4


def test_it_rejects_a_body_that_is_not_json():
    with pytest.raises(ParseError, match="not JSON"):
        OpenRouter().parse(Document(url=URL, content=b"<html>maintenance</html>"))


def test_it_rejects_json_without_a_data_list():
    with pytest.raises(ParseError, match="data"):
        OpenRouter().parse(Document(url=URL, content=b'{"error": {"code": 500}}'))


def test_it_rejects_a_price_that_is_not_a_number():
    entry = {"id": "acme/broken", "pricing": {"prompt": "n/a", "completion": "0.000001"}}
    with pytest.raises(ParseError, match="acme/broken"):
        parse_models(entry)


def test_it_skips_entries_without_id_or_pricing():
    records = parse_models({"name": "no id", "pricing": {"prompt": "0.000001"}}, {"id": "acme/no-pricing"})
    assert records == []

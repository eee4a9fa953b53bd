import json
import logging
from decimal import Decimal

import pytest

from providers import REGISTRY
from providers.base import AGGREGATOR_TRUST, Document, ParseError
from providers.litellm import LiteLLM
from providers.modelsdev import ModelsDev, seller_slug

URL = "https://models.dev/api.json"


@pytest.fixture
def records(fixture_bytes):
    return ModelsDev().parse(Document(url=URL, content=fixture_bytes("providers/modelsdev/api.json")))


def by_line(records):
    return {
        (r.provider, r.model, r.component, r.mode, r.tier_min_tokens, r.tier_max_tokens): r.amount_per_mtok
        for r in records
    }


def parse_sellers(sellers):
    return ModelsDev().parse(Document(url=URL, content=json.dumps(sellers).encode()))


def test_it_is_an_aggregator_ranked_just_below_litellm():
    assert REGISTRY["modelsdev"] is ModelsDev
    assert ModelsDev.kind == "aggregator"
    assert ModelsDev.trust_rank == AGGREGATOR_TRUST - 1 < LiteLLM.trust_rank
    assert ModelsDev.hosts == ("models.dev",)


def test_it_speaks_for_each_seller_under_the_sellers_own_model_id(records):
    lines = by_line(records)
    assert lines[("deepseek", "deepseek-chat", "input", "standard", None, None)] == Decimal("0.14")
    assert lines[("deepseek", "deepseek-chat", "cached_input", "standard", None, None)] == Decimal("0.0028")
    assert lines[("anthropic", "claude-sonnet-4-5", "cache_write_5m", "standard", None, None)] == Decimal("3.75")
    opus = [r for r in records if r.provider == "openrouter"]
    assert {r.model for r in opus} == {"anthropic/claude-opus-4.7"}
    assert all(r.currency == "USD" for r in records)


def test_it_keeps_offering_facts_and_the_modelsdev_seller_id(records):
    sonnet = next(r for r in records if r.model == "claude-sonnet-4-5")
    assert (sonnet.model_name, sonnet.context_window) == ("Claude Sonnet 4.5 (latest)", 200000)
    together = next(r for r in records if r.model == "MiniMaxAI/MiniMax-M2.5")
    assert together.provider == "together"
    assert together.notes == {"modelsdev_provider": "togetherai"}


def test_it_starts_a_long_context_tier_one_token_above_its_stated_size(records):
    lines = by_line(records)
    # GPT-5.4's tier is sized 272,000 although models.dev's legacy key says "context_over_200k".
    assert lines[("openai", "gpt-5.4", "input", "standard", None, 272000)] == Decimal("2.5")
    assert lines[("openai", "gpt-5.4", "input", "standard", 272001, None)] == Decimal("5")
    assert lines[("openai", "gpt-5.4", "cached_input", "standard", 272001, None)] == Decimal("0.5")
    assert not [r for r in records if r.tier_min_tokens == 200001 and r.provider == "openai"]
    assert lines[("openrouter", "anthropic/claude-opus-4.7", "cache_write_5m", "standard", 200001, None)] == Decimal(
        "12.5"
    )


def test_it_chains_several_tiers_in_size_order(records):
    lines = by_line(records)
    model = ("aihubmix", "doubao-seed-2-0-pro")
    assert lines[(*model, "input", "standard", None, 32000)] == Decimal("0.48")
    assert lines[(*model, "input", "standard", 32001, 128000)] == Decimal("0.72")
    assert lines[(*model, "input", "standard", 128001, None)] == Decimal("1.45")
    assert lines[(*model, "cached_input", "standard", 128001, None)] == Decimal("0.28932")


def test_it_reads_fast_mode_as_priority(records):
    lines = by_line(records)
    assert lines[("openai", "gpt-5.4", "output", "priority", None, None)] == Decimal("30")
    assert lines[("openai", "gpt-5.4", "cached_input", "priority", None, None)] == Decimal("0.5")


def test_it_keeps_free_prices_and_skips_models_without_cost_and_non_text_rates(records):
    lines = by_line(records)
    assert lines[("aihubmix", "coding-glm-5.1-free", "input", "standard", None, None)] == Decimal("0")
    assert not [r for r in records if r.provider == "groq"]
    qwen = {(r.component, r.amount_per_mtok) for r in records if r.model == "qwen-plus"}
    assert qwen == {("input", Decimal("0.4")), ("output", Decimal("1.2"))}  # "reasoning": 4 is not a component


def test_it_keeps_the_exact_printed_number_even_float_noise():
    records = parse_sellers({"x": {"models": {"m": {"cost": {"input": 0.49299999999999994}}}}})
    assert records[0].amount_per_mtok == Decimal("0.49299999999999994")


def test_it_makes_seller_ids_url_safe_and_uses_our_names_for_known_sellers():
    assert seller_slug("wafer.ai") == "wafer-ai"
    assert seller_slug("fireworks-ai") == "fireworks"
    assert seller_slug("moonshotai-cn") == "moonshotai-cn"


def test_it_skips_an_absurd_cell_and_a_tier_that_is_not_about_prompt_length(caplog):
    sellers = {
        "x": {
            "models": {
                "m": {
                    "cost": {
                        "input": -1,
                        "output": "2",
                        "cache_read": 0.5,
                        "tiers": [{"input": 9, "tier": {"type": "requests", "size": 100}}],
                    }
                }
            }
        }
    }
    with caplog.at_level(logging.INFO, logger="providers.modelsdev"):
        records = parse_sellers(sellers)
    assert [(r.component, r.amount_per_mtok, r.tier_max_tokens) for r in records] == [
        ("cached_input", Decimal("0.5"), None)
    ]
    assert "not a price: -1" in caplog.text
    assert "not a prompt-length tier" in caplog.text


def test_it_fails_loudly_on_bad_json_or_a_data_set_without_models_or_prices():
    with pytest.raises(ParseError, match="not JSON"):
        ModelsDev().parse(Document(url=URL, content=b"<!doctype html>"))
    with pytest.raises(ParseError, match="not a JSON object"):
        parse_sellers([1, 2])
    with pytest.raises(ParseError, match='no seller with a "models" object'):
        parse_sellers({"openai": {"id": "openai"}})
    with pytest.raises(ParseError, match="no model with a cost object"):
        parse_sellers({"groq": {"models": {"orpheus": {"name": "Orpheus"}}}})


def test_it_reads_the_data_set_as_kept_in_the_repository_history():
    """Copies from the repository's history wrap the sellers in {"_meta", "providers"}, each seller's own
    facts under "provider", and leave the type out of prompt-length tiers."""
    history = {
        "_meta": {"commit": "f3fc692", "commit_date": "2026-07-02 00:40:28 +0800"},
        "providers": {
            "google": {
                "provider": {"name": "Google", "env": ["GOOGLE_API_KEY"]},
                "models": {
                    "gemini-2.5-pro": {
                        "name": "Gemini 2.5 Pro",
                        "cost": {
                            "input": 1.25,
                            "output": 10.0,
                            "cache_read": 0.125,
                            "tiers": [{"tier": {"size": 200000}, "input": 2.5, "output": 15.0, "cache_read": 0.25}],
                        },
                        "limit": {"context": 1048576, "output": 65536},
                    }
                },
            }
        },
    }
    lines = by_line(parse_sellers(history))
    assert lines == {
        ("google", "gemini-2.5-pro", "input", "standard", None, 200000): Decimal("1.25"),
        ("google", "gemini-2.5-pro", "output", "standard", None, 200000): Decimal("10.0"),
        ("google", "gemini-2.5-pro", "cached_input", "standard", None, 200000): Decimal("0.125"),
        ("google", "gemini-2.5-pro", "input", "standard", 200001, None): Decimal("2.5"),
        ("google", "gemini-2.5-pro", "output", "standard", 200001, None): Decimal("15.0"),
        ("google", "gemini-2.5-pro", "cached_input", "standard", 200001, None): Decimal("0.25"),
    }

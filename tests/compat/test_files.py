"""The compatible price files: content, as_of, currency, listing, conditional GETs, gzip, query counts."""

from __future__ import annotations

import datetime as dt
import gzip
import json
from decimal import Decimal

import pytest
from django.utils import timezone

from pricing.compat.files import LITELLM_BY_PROVIDER, litellm_key, litellm_provider
from providers.base import Document
from providers.litellm import LiteLLM, own_id, seller
from tests.compat.conftest import prices
from tests.factories import (
    OfferingFactory,
    PriceFactory,
    ProviderFactory,
    SourceFactory,
)

LITELLM_URL = "/compat/litellm/model_prices_and_context_window.json"
MODELS_DEV_URL = "/compat/models.dev/api.json"


def get_json(client, url, **params):
    response = client.get(url, params)
    assert response.status_code == 200, response.content
    return json.loads(response.content)


def test_it_serves_litellm_entries_keyed_and_spelled_as_litellm_does(client, catalogue):
    cost_map = get_json(client, LITELLM_URL)

    assert set(cost_map) == {"gpt-4o", "claude-sonnet-4-5", "gemini/gemini-2.5-pro", "deepseek/deepseek-chat"}
    gpt = cost_map["gpt-4o"]
    assert gpt["litellm_provider"] == "openai"
    assert gpt["mode"] == "chat"
    assert gpt["max_input_tokens"] == 128000
    assert gpt["input_cost_per_token"] == 2.5e-06
    assert gpt["output_cost_per_token"] == 1e-05
    assert gpt["cache_read_input_token_cost"] == 1.25e-06
    assert gpt["input_cost_per_token_batches"] == 1.25e-06
    assert gpt["output_cost_per_token_batches"] == 5e-06
    assert gpt["input_cost_per_token_priority"] == 4.25e-06
    assert gpt["output_cost_per_token_priority"] == 1.7e-05
    assert not [field for field in gpt if "off_peak" in field]
    claude = cost_map["claude-sonnet-4-5"]
    assert claude["input_cost_per_token"] == 3e-06
    assert claude["input_cost_per_token_above_200k_tokens"] == 6e-06
    assert claude["output_cost_per_token_above_200k_tokens"] == 2.25e-05
    assert claude["cache_creation_input_token_cost"] == 3.75e-06
    assert claude["cache_creation_input_token_cost_above_1hr"] == 6e-06
    assert claude["cache_read_input_token_cost"] == 3e-07
    assert claude["supports_prompt_caching"] is True
    gemini = cost_map["gemini/gemini-2.5-pro"]
    assert gemini["litellm_provider"] == "gemini"
    assert gemini["output_cost_per_token"] == 1e-05  # not the thinking-on price


def test_it_carries_freshness_and_source_in_an_extra_field(client, catalogue):
    extra = get_json(client, LITELLM_URL)["gpt-4o"]["token_prices"]

    assert extra["offering_id"] == catalogue["gpt"].id
    assert extra["source"] == "openai"
    assert extra["source_kind"] == "official"
    assert extra["currency"] == "USD"
    assert extra["stale"] is False
    assert extra["last_verified_at"].endswith("Z")


def test_it_converts_native_currencies_at_the_days_rate(client, catalogue):
    chat = get_json(client, LITELLM_URL)["deepseek/deepseek-chat"]
    # 2 CNY per 1M at 7.70 CNY and 1.10 USD per EUR.
    assert chat["input_cost_per_token"] == pytest.approx(2 / 7.70 * 1.10 / 1e6, rel=1e-9)
    assert chat["token_prices"]["native_currency"] == ["CNY"]
    assert chat["token_prices"]["converted"] is True

    in_cny = get_json(client, LITELLM_URL, currency="cny")["deepseek/deepseek-chat"]
    assert in_cny["input_cost_per_token"] == 2e-06
    assert in_cny["token_prices"]["currency"] == "CNY"


def test_it_refuses_an_unknown_currency_or_a_malformed_date(client, catalogue):
    assert client.get(LITELLM_URL, {"currency": "XYZ"}).status_code == 400
    response = client.get(MODELS_DEV_URL, {"as_of": "yesterday"})
    assert response.status_code == 400
    assert "as_of" in response.json()


def test_it_leaves_out_unlisted_offerings(client, catalogue):
    assert "deepseek/deepseek-local" not in get_json(client, LITELLM_URL)
    assert "deepseek-local" not in get_json(client, MODELS_DEV_URL)["deepseek"]["models"]


def test_it_serves_the_file_as_it_was_on_an_earlier_day(client, catalogue):
    gpt = catalogue["gpt"]
    changed_at = timezone.now() - dt.timedelta(days=3)
    line = gpt.prices.get(component="input", mode="standard")
    line.valid_to = changed_at
    line.save()
    PriceFactory(offering=gpt, source=line.source, component="input", amount_per_mtok=Decimal(2), valid_from=changed_at)
    before = (changed_at - dt.timedelta(days=1)).date().isoformat()

    assert get_json(client, LITELLM_URL)["gpt-4o"]["input_cost_per_token"] == 2e-06
    then = get_json(client, LITELLM_URL, as_of=before)
    assert then["gpt-4o"]["input_cost_per_token"] == 2.5e-06
    assert then["gpt-4o"]["token_prices"]["as_of"].startswith(before)
    assert get_json(client, MODELS_DEV_URL, as_of=before)["openai"]["models"]["gpt-4o"]["cost"]["input"] == 2.5
    long_ago = (timezone.now() - dt.timedelta(days=400)).date().isoformat()
    assert get_json(client, LITELLM_URL, as_of=long_ago) == {}


def test_it_serves_models_dev_providers_models_and_costs_per_million(client, catalogue):
    api = get_json(client, MODELS_DEV_URL)

    assert set(api) == {"openai", "anthropic", "google", "deepseek"}
    assert api["anthropic"]["id"] == "anthropic"
    assert api["anthropic"]["name"] == "Anthropic"
    claude = api["anthropic"]["models"]["claude-sonnet-4-5"]
    assert claude["id"] == "claude-sonnet-4-5"
    assert claude["cost"] == {
        "input": 3.0,
        "output": 15.0,
        "cache_read": 0.3,
        "cache_write": 3.75,
        "context_over_200k": {"input": 6.0, "output": 22.5},
        "tiers": [{"tier": {"size": 200000}, "input": 6.0, "output": 22.5}],
    }
    assert claude["limit"] == {"context": 1000000, "output": 0}
    assert claude["open_weights"] is False
    assert claude["token_prices"]["source"] == "anthropic"
    assert api["openai"]["models"]["gpt-4o"]["cost"] == {"input": 2.5, "output": 10.0, "cache_read": 1.25}


def test_it_matches_the_structure_of_the_real_models_dev_file(client, catalogue, shared_models_dev):
    """Every field we write exists in the real file with the same JSON type (ours may write fewer)."""
    real_provider, real_model = shared_models_dev
    ours = get_json(client, MODELS_DEV_URL)["anthropic"]
    for name, value in ours.items():
        if name in ("id", "models"):
            continue  # the reference copy nests provider fields under "provider"; api.json has them inline
        assert type(real_provider[name]) is type(value) or (name == "doc" and isinstance(value, str)), name
    model = ours["models"]["claude-sonnet-4-5"]
    for name, value in model.items():
        if name in ("id", "token_prices"):
            continue
        assert isinstance(value, type(real_model[name])), name
    for name in model["cost"]:
        assert name in {"input", "output", "cache_read", "cache_write", "context_over_200k", "tiers"}
    assert set(model["cost"]["tiers"][0]) <= set(real_model["cost"]["tiers"][0]) | {"tier"}


@pytest.fixture
def shared_models_dev():
    from pathlib import Path

    path = Path(__file__).resolve().parents[3] / "shared/reference-data/models.dev/models_dev__2026-07-02_f3fc692.json"
    if not path.exists():
        pytest.skip("../shared/reference-data is not beside this checkout")
    providers = json.loads(path.read_text())["providers"]
    real_model = next(m for m in providers["302ai"]["models"].values() if "tiers" in m.get("cost", {}))
    return providers["anthropic"]["provider"], real_model


def test_it_reads_back_through_our_own_litellm_reader_to_the_same_prices(client, catalogue):
    content = client.get(LITELLM_URL).content
    records = LiteLLM().parse(Document(url="https://example.test/cost.json", content=content))
    read = {(r.provider, r.model, r.component, r.mode, r.tier_min_tokens): r.amount_per_mtok for r in records}

    assert read[("openai", "gpt-4o", "input", "standard", None)] == Decimal("2.5")
    assert read[("openai", "gpt-4o", "output", "batch", None)] == Decimal(5)
    assert read[("anthropic", "claude-sonnet-4-5", "input", "standard", 200001)] == Decimal(6)
    assert read[("anthropic", "claude-sonnet-4-5", "cache_write_1h", "standard", None)] == Decimal(6)
    assert read[("google", "gemini-2.5-pro", "output", "standard", None)] == Decimal(10)


def test_it_answers_conditional_gets_from_the_price_stamp(client, catalogue):
    first = client.get(LITELLM_URL)
    assert first["ETag"] and first["Last-Modified"]

    again = client.get(LITELLM_URL, HTTP_IF_NONE_MATCH=first["ETag"])
    assert again.status_code == 304
    since = client.get(MODELS_DEV_URL, HTTP_IF_MODIFIED_SINCE=first["Last-Modified"])
    assert since.status_code == 304
    assert client.get(LITELLM_URL, {"currency": "EUR"})["ETag"] != first["ETag"]


def test_it_compresses_for_clients_that_accept_gzip(client, catalogue):
    plain = client.get(LITELLM_URL).content
    response = client.get(LITELLM_URL, HTTP_ACCEPT_ENCODING="gzip")

    assert response["Content-Encoding"] == "gzip"
    assert gzip.decompress(response.content) == plain


@pytest.mark.parametrize("url", [LITELLM_URL, MODELS_DEV_URL])
def test_it_runs_a_fixed_number_of_queries_whatever_the_number_of_offerings(
    client, catalogue, url, django_assert_max_num_queries
):
    with django_assert_max_num_queries(6) as few:
        client.get(url, {"currency": "EUR"})
    provider = ProviderFactory(slug="mistral")
    source = SourceFactory(slug="mistral", provider=provider)
    for n in range(15):
        prices(OfferingFactory(provider=provider, provider_model_id=f"m-{n}"), source, input="1", output="2")
    with django_assert_max_num_queries(len(few.captured_queries)):
        client.get(url, {"currency": "EUR", "as_of": timezone.now().date().isoformat()})


def test_it_names_providers_so_that_our_litellm_reader_maps_them_back():
    for ours in LITELLM_BY_PROVIDER:
        assert seller(litellm_provider(ours)) == ours
    assert litellm_key("openrouter", "deepseek/deepseek-chat") == "openrouter/deepseek/deepseek-chat"
    assert litellm_key("vertex_ai-anthropic_models", "vertex_ai/claude-x") == "vertex_ai/claude-x"
    assert own_id(litellm_key("google", "gemini-2.5-pro"), "gemini") == "gemini-2.5-pro"

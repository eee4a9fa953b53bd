"""LiteLLM itself (pinned in requirements-dev.txt), pointed at our file, prices workloads as we do."""

from __future__ import annotations

import os
from decimal import Decimal

import pytest

from pricing import selectors
from tests.compat.test_files import LITELLM_URL

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")  # no network at import
litellm = pytest.importorskip("litellm")
from litellm.litellm_core_utils.get_model_cost_map import GetModelCostMap  # noqa: E402

# (LiteLLM key, our offering, prompt tokens not cached, cached prompt tokens, completion tokens)
WORKLOADS = [
    ("gpt-4o", "gpt", 1_000, 0, 500),
    ("gpt-4o", "gpt", 8_000, 2_000, 1_000),
    ("claude-sonnet-4-5", "claude", 10_000, 0, 2_000),
    ("claude-sonnet-4-5", "claude", 250_000, 0, 2_000),  # over 200K: the whole request at the upper tier
    ("gemini/gemini-2.5-pro", "gemini", 3_000, 0, 3_000),
    ("deepseek/deepseek-chat", "chat", 5_000, 5_000, 800),  # CNY converted to USD
]


@pytest.fixture
def cost_map_from_our_url(live_server, catalogue, monkeypatch):
    # LiteLLM's own fetch of LITELLM_MODEL_COST_MAP_URL; its integrity check (at least 50 entries, half its
    # bundled map) would refuse a small test file, so the fetched map is installed as it installs one.
    fetched = GetModelCostMap.fetch_remote_model_cost_map(live_server.url + LITELLM_URL)
    assert GetModelCostMap.validate_model_cost_map(fetched, backup_model_count=0, min_model_count=1)
    monkeypatch.setattr(litellm, "model_cost", fetched)
    return fetched


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(("key", "offering", "fresh", "cached", "output"), WORKLOADS)
def test_it_computes_the_same_cost_as_our_estimate(
    cost_map_from_our_url, catalogue, key, offering, fresh, cached, output
):
    prompt_cost, completion_cost = litellm.cost_per_token(
        model=key, prompt_tokens=fresh + cached, completion_tokens=output, cache_read_input_tokens=cached
    )
    loaded = selectors.offerings_with_price_lines(offering_ids=[catalogue[offering].id])
    spec = selectors.WorkloadSpec(input_tokens=fresh, cached_input_tokens=cached, output_tokens=output)
    [estimate] = selectors.workload_estimates(
        loaded, spec=spec, display=selectors.display_for(), rates=selectors.rates_on()
    )

    assert estimate.cost.complete
    assert Decimal(repr(prompt_cost + completion_cost)) == pytest.approx(estimate.cost.total, rel=Decimal("1e-9"))

"""Open weights from a model's creator and canonical key: what the rules know, and what they leave unknown."""

from __future__ import annotations

import pytest

from pricing.openweights import open_weights


@pytest.mark.parametrize(
    ("creator", "key", "expected"),
    [
        ("meta-llama", "llama-3.3-70b", True),
        ("deepseek", "deepseek-chat", True),
        ("openai", "gpt-oss-120b", True),
        ("openai", "gpt-4o", False),
        ("anthropic", "claude-sonnet-4", False),
        ("google", "gemma-3-27b", True),
        ("google", "gemini-2.5-pro", False),
        ("qwen", "qwen-2.5-72b", True),
        ("qwen", "qwen-max", False),
        ("qwen", "qwen-3-coder-plus", False),
        ("mistralai", "mixtral-8x7b", True),
        ("mistralai", "mistral-medium-3", False),
        ("moonshotai", "kimi-k-2-0905", True),
        ("moonshotai", "moonshot-v-1-8k", False),
        ("z-ai", "glm-4.6", True),
        ("z-ai", "glm-4-plus", False),
        ("baidu", "ernie-4.5-300b-a-47b", True),
        ("x-ai", "grok-4", False),
    ],
)
def test_it_knows_the_families_whose_weights_are_published_or_kept(creator, key, expected):
    assert open_weights(creator=creator, key=key) is expected


@pytest.mark.parametrize(
    ("creator", "key"),
    [
        ("mistralai", "mistral-large-2411"),  # weights under a research licence for some versions only
        ("z-ai", "glm-5"),
        ("some-lab", "model-x"),
        ("", "llama-3.3-70b"),
    ],
)
def test_it_leaves_what_no_rule_knows_unknown(creator, key):
    assert open_weights(creator=creator, key=key) is None


@pytest.mark.django_db
def test_linking_gives_new_models_their_value_and_the_fill_leaves_a_curators_alone():
    from pricing.models import Model
    from pricing.services.linking import models_link, models_open_weights_fill
    from tests.factories import ModelFactory, OfferingFactory, ProviderFactory

    seller = ProviderFactory(slug="together")
    offering = OfferingFactory(provider=seller, provider_model_id="meta-llama/Llama-3.3-70B-Instruct-Turbo")
    curated = ModelFactory(slug="gpt-4o", creator="openai", identity_key="gpt-4o", open_weights=True)
    unknown = ModelFactory(slug="qwen-max", creator="qwen", identity_key="qwen-max", open_weights=None)

    models_link(offerings=[offering])
    filled = models_open_weights_fill()

    offering.refresh_from_db()
    assert offering.model.open_weights is True
    assert filled == 1
    assert Model.objects.get(pk=unknown.pk).open_weights is False
    assert Model.objects.get(pk=curated.pk).open_weights is True  # a curator's value is never overwritten

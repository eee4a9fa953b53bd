"""pricing.identity on real sellers' ids (from the LiteLLM and OpenRouter captures): groups that must
meet as one model, and pairs that must never share one."""

from __future__ import annotations

import itertools

import pytest

from pricing.identity import identify, may_share_model

# (seller, id) groups that name one model.
SAME_MODEL = {
    "Llama 3.3 70B": [
        ("openrouter", "meta-llama/llama-3.3-70b-instruct"),
        ("openrouter", "meta-llama/llama-3.3-70b-instruct:free"),
        ("together", "meta-llama/Llama-3.3-70B-Instruct-Turbo"),
        ("deepinfra", "meta-llama/Llama-3.3-70B-Instruct"),
        ("fireworks", "accounts/fireworks/models/llama-v3p3-70b-instruct"),
        ("bedrock", "meta.llama3-3-70b-instruct-v1:0"),
        ("bedrock", "us.meta.llama3-3-70b-instruct-v1:0"),
        ("cloudflare", "@cf/meta/llama-3.3-70b-instruct-fp8-fast"),
        ("groq", "llama-3.3-70b-versatile"),
        ("cerebras", "llama3.3-70b"),
        ("databricks", "databricks-meta-llama-3-3-70b-instruct"),
        ("watsonx", "meta-llama/llama-3-3-70b-instruct"),
        ("ovhcloud", "Meta-Llama-3_3-70B-Instruct"),
        ("oci", "meta.llama-3.3-70b-instruct-fp8-dynamic"),
        ("vercel_ai_gateway", "meta/llama-3.3-70b"),
        ("lambda_ai", "llama3.3-70b-instruct-fp8"),
    ],
    "Claude Sonnet 4": [
        ("anthropic", "claude-sonnet-4-20250514"),
        ("anthropic", "Claude Sonnet 4"),
        ("anthropic", "claude-4-sonnet-20250514"),
        ("bedrock", "anthropic.claude-sonnet-4-20250514-v1:0"),
        ("bedrock", "eu.anthropic.claude-sonnet-4-20250514-v1:0"),
        ("bedrock", "global.anthropic.claude-sonnet-4-20250514-v1:0"),
        ("vertex_ai-anthropic_models", "vertex_ai/claude-sonnet-4@20250514"),
        ("openrouter", "anthropic/claude-sonnet-4"),
        ("databricks", "databricks-claude-sonnet-4"),
    ],
    "Claude 3.5 Sonnet (October)": [
        ("anthropic", "claude-3-5-sonnet-20241022"),
        ("bedrock", "us.anthropic.claude-3-5-sonnet-20241022-v2:0"),
        ("openrouter", "anthropic/claude-3.5-sonnet"),
        ("gradient_ai", "anthropic-claude-3.5-sonnet"),
    ],
    "DeepSeek V3.1": [
        ("fireworks", "accounts/fireworks/models/deepseek-v3p1"),
        ("deepinfra", "deepseek-ai/DeepSeek-V3.1"),
        ("novita", "deepseek/deepseek-v3.1"),
        ("sambanova", "DeepSeek-V3.1"),
        ("openrouter", "deepseek/deepseek-chat-v3.1"),
        ("vertex_ai-deepseek_models", "vertex_ai/deepseek-ai/deepseek-v3.1-maas"),
    ],
    "DeepSeek V4 Flash": [
        ("deepseek", "deepseek-v4-flash"),
        ("deepseek", "deepseek/deepseek-v4-flash"),
        ("openrouter", "deepseek/deepseek-v4-flash"),
        ("azure_ai", "deepseek-v4-flash"),
    ],
    "GPT-4o mini": [
        ("openai", "gpt-4o-mini"),
        ("azure", "gpt-4o-mini"),
        ("azure", "global-standard/gpt-4o-mini"),
        ("openrouter", "openai/gpt-4o-mini"),
    ],
    "GPT-4o 2024-08-06": [
        ("openai", "gpt-4o-2024-08-06"),
        ("azure", "eu/gpt-4o-2024-08-06"),
        ("openrouter", "openai/gpt-4o-2024-08-06"),
    ],
    "GPT-3.5 Turbo": [("openai", "gpt-3.5-turbo"), ("azure", "gpt-35-turbo"), ("openrouter", "openai/gpt-3.5-turbo")],
    "Kimi K2.5": [
        ("moonshot", "kimi-k2.5"),
        ("fireworks", "accounts/fireworks/models/kimi-k2p5"),
        ("bedrock", "us-east-1/moonshotai.kimi-k2.5"),
        ("baseten", "moonshotai/Kimi-K2.5"),
    ],
    "Kimi K2 0905": [
        ("together", "moonshotai/Kimi-K2-Instruct-0905"),
        ("openrouter", "moonshotai/kimi-k2-0905"),
        ("groq", "moonshotai/kimi-k2-instruct-0905"),
    ],
    "Qwen 2.5 72B Instruct": [
        ("deepinfra", "Qwen/Qwen2.5-72B-Instruct"),
        ("fireworks", "accounts/fireworks/models/qwen2p5-72b-instruct"),
        ("openrouter", "qwen/qwen-2.5-72b-instruct"),
    ],
    "GLM 4.5": [
        ("zai", "glm-4.5"),
        ("openrouter", "z-ai/glm-4.5"),
        ("fireworks", "accounts/fireworks/models/glm-4p5"),
        ("deepinfra", "zai-org/GLM-4.5"),
    ],
    "Gemma 3 12B": [
        ("openrouter", "google/gemma-3-12b-it"),
        ("bedrock", "google.gemma-3-12b-it"),
        ("databricks", "databricks-gemma-3-12b"),
    ],
    "Amazon Nova Lite": [
        ("bedrock", "amazon.nova-lite-v1:0"),
        ("bedrock", "apac.amazon.nova-lite-v1:0"),
        ("openrouter", "amazon/nova-lite-v1"),
    ],
    "Mistral 7B Instruct v0.2": [
        ("bedrock", "mistral.mistral-7b-instruct-v0:2"),
        ("deepinfra", "mistralai/Mistral-7B-Instruct-v0.2"),
    ],
}

# Pairs that are different models, however alike their ids.
DIFFERENT_MODELS = [
    (("deepinfra", "deepseek-ai/DeepSeek-V3.1"), ("deepinfra", "deepseek-ai/DeepSeek-V3.1-Terminus")),
    (("deepinfra", "deepseek-ai/DeepSeek-V3.1"), ("deepinfra", "deepseek-ai/DeepSeek-V3-0324")),
    (("novita", "deepseek/deepseek-v3.1-terminus"), ("novita", "deepseek/deepseek-v3-0324")),
    (("deepinfra", "deepseek-ai/DeepSeek-V3"), ("deepinfra", "deepseek-ai/DeepSeek-V3-0324")),
    (("openai", "gpt-4o-mini"), ("openai", "gpt-4o-mini-search-preview")),
    (("openai", "gpt-4o-mini"), ("openai", "ft:gpt-4o-mini-2024-07-18")),
    (("openai", "gpt-4o-mini-2024-07-18"), ("openai", "ft:gpt-4o-mini-2024-07-18")),
    (("openai", "gpt-4o-mini"), ("openai", "gpt-4o-mini-2024-07-18")),
    (("openai", "gpt-4o"), ("openai", "gpt-4o-2024-05-13")),
    (("openai", "gpt-3.5-turbo"), ("openai", "gpt-3.5-turbo-instruct")),
    (("azure", "gpt-35-turbo-instruct"), ("azure", "gpt-35-turbo")),
    (("lambda_ai", "deepseek-llama3.3-70b"), ("cerebras", "llama3.3-70b")),
    (("lambda_ai", "deepseek-llama3.3-70b"), ("groq", "deepseek-r1-distill-llama-70b")),
    (("groq", "deepseek-r1-distill-llama-70b"), ("groq", "llama-3.3-70b-versatile")),
    (("moonshot", "kimi-k2.5"), ("moonshot", "kimi-k2.6")),
    (("fireworks", "accounts/fireworks/models/kimi-k2p5"), ("fireworks", "accounts/fireworks/models/kimi-k2p6")),
    (("moonshot", "kimi-k2.5"), ("openrouter", "moonshotai/kimi-k2")),
    (("openrouter", "moonshotai/kimi-k2"), ("openrouter", "moonshotai/kimi-k2-0905")),
    (("deepinfra", "NousResearch/Hermes-3-Llama-3.1-405B"), ("deepinfra", "meta-llama/Meta-Llama-3.1-405B-Instruct")),
    (("openrouter", "sao10k/l3.3-euryale-70b"), ("openrouter", "meta-llama/llama-3.3-70b-instruct")),
    (("nebius", "nvidia/Llama-3.3-Nemotron-Super-49B-v1"), ("nebius", "meta-llama/Llama-3.3-70B-Instruct")),
    (("snowflake", "snowflake-llama-3.3-70b"), ("snowflake", "llama3.3-70b")),
    (("hyperbolic", "meta-llama/Meta-Llama-3.1-405B"), ("hyperbolic", "meta-llama/Meta-Llama-3.1-405B-Instruct")),
    (
        ("fireworks", "accounts/fireworks/models/mixtral-8x7b"),
        ("fireworks", "accounts/fireworks/models/mixtral-8x7b-instruct"),
    ),
    (("replicate", "mistralai/mistral-7b-v0.1"), ("deepinfra", "mistralai/Mistral-7B-Instruct-v0.1")),
    (("anthropic", "claude-3-5-sonnet-20240620"), ("anthropic", "claude-3-5-sonnet-20241022")),
    (("anthropic", "claude-sonnet-4-20250514"), ("anthropic", "claude-sonnet-4-5-20250929")),
    (("anthropic", "claude-opus-4-20250514"), ("anthropic", "claude-opus-4-1-20250805")),
    (("anthropic", "claude-3-5-sonnet-latest"), ("anthropic", "claude-3-5-sonnet-20241022")),
    (("xai", "grok-4"), ("xai", "grok-4-fast-reasoning")),
    (("xai", "grok-code-fast-1"), ("xai", "grok-4-1-fast-reasoning")),
    (("openai", "gpt-4-turbo"), ("openai", "gpt-4")),
    (("dashscope", "qwen-turbo"), ("dashscope", "qwen-plus")),
    (("deepinfra", "Qwen/Qwen3-235B-A22B"), ("deepinfra", "Qwen/Qwen3-235B-A22B-Instruct-2507")),
    (("deepinfra", "Qwen/Qwen3-235B-A22B-Instruct-2507"), ("deepinfra", "Qwen/Qwen3-235B-A22B-Thinking-2507")),
    (("google", "gemini-2.5-flash"), ("google", "gemini-2.5-flash-preview-04-17")),
    (("google", "gemini-2.5-flash"), ("google", "gemini-2.5-flash-lite")),
    (("deepseek", "deepseek-r1"), ("deepseek", "deepseek-r1-0528")),
    (("novita", "deepseek/deepseek-r1-0528-qwen3-8b"), ("novita", "deepseek/deepseek-r1-0528")),
]


def ident(seller: str, model_id: str):
    return identify(model_id, seller=seller)


@pytest.mark.parametrize("label", SAME_MODEL)
def test_it_gives_every_seller_of_one_model_one_identity(label):
    identities = {(seller, model_id): ident(seller, model_id) for seller, model_id in SAME_MODEL[label]}
    assert all(i.certain for i in identities.values()), {k: i.reason for k, i in identities.items() if not i.certain}
    assert len({i.pair for i in identities.values()}) == 1, {k: i.pair for k, i in identities.items()}


@pytest.mark.parametrize(("a", "b"), DIFFERENT_MODELS, ids=[f"{a[1]}|{b[1]}" for a, b in DIFFERENT_MODELS])
def test_it_never_gives_two_different_models_one_identity(a, b):
    assert ident(*a).pair != ident(*b).pair


def test_it_keeps_the_groups_apart_from_each_other():
    pairs = {label: ident(*members[0]).pair for label, members in SAME_MODEL.items()}
    for (la, pa), (lb, pb) in itertools.combinations(pairs.items(), 2):
        assert pa != pb, (la, lb)


def test_it_keeps_what_differs_between_sellers_as_offering_attributes():
    assert ident("bedrock", "eu.anthropic.claude-sonnet-4-20250514-v1:0").attributes == {
        "deploy_scope": "eu",
        "api_version": "v1:0",
        "snapshot": "20250514",
    }
    assert ident("bedrock", "ap-south-1/minimax.minimax-m2.5").attributes["region"] == "ap-south-1"
    assert ident("azure", "global-standard/gpt-4o-mini").attributes == {"deploy_scope": "global-standard"}
    assert ident("openrouter", "meta-llama/llama-3.3-70b-instruct:free").attributes == {"variant": "free"}


def test_it_trusts_a_hugging_face_id_over_the_sellers_id():
    by_id = identify("deepseek/deepseek-chat", seller="openrouter")
    by_repo = identify("deepseek/deepseek-chat", seller="openrouter", hugging_face_id="deepseek-ai/DeepSeek-V3")
    assert not by_id.certain  # another seller's moving alias: a curator decides
    assert by_repo.certain and by_repo.pair == ident("deepinfra", "deepseek-ai/DeepSeek-V3").pair


def test_it_links_a_moving_alias_only_at_its_creators_own_api():
    assert ident("deepseek", "deepseek-chat").certain
    assert ident("deepseek", "deepseek/deepseek-chat").pair == ident("deepseek", "deepseek-chat").pair
    assert not ident("openrouter", "deepseek/deepseek-chat").certain
    assert not ident("azure", "mistral-large-latest").certain
    assert ident("mistral", "mistral-large-latest").certain


def test_it_is_unsure_of_a_creator_it_cannot_name():
    identity = ident("fireworks", "accounts/fireworks/models/mythomax-l2-13b")
    assert not identity.certain and identity.reason == "creator unknown"


def test_it_names_the_creator_a_first_party_seller_sells():
    assert ident("ai21", "j2-ultra").creator == "ai21"
    assert ident("mistral", "codestral/codestral-latest").pair == ("mistralai", "codestral-latest")


def test_it_vets_suggestions_across_model_making_words():
    assert not may_share_model(ident("openai", "gpt-4o-mini"), ident("openai", "gpt-4o-mini-search-preview"))
    assert not may_share_model(ident("moonshot", "kimi-k2.5"), ident("moonshot", "kimi-k2.6"))
    assert may_share_model(ident("fireworks", "llama-v3p3-70b-instruct"), ident("groq", "llama-3.3-70b-versatile"))

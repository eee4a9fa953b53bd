"""Offerings meet their canonical Model through ingest, whatever order the sources run in; only
certain identities link, the rest wait for a curator as suggestions; the Model gets its tokenizer at once."""

from __future__ import annotations

from decimal import Decimal

import pytest

from pricing import services
from pricing.models import AliasSuggestion, Model, Offering, ScrapeRun
from pricing.services.linking import models_link, models_link_all
from providers.base import ScrapedPrice

pytestmark = pytest.mark.django_db


def run(slug: str, *records: ScrapedPrice) -> None:
    result = services.records_ingest(slug=slug, records=list(records), kind=ScrapeRun.Kind.FILE)
    assert result.ok, result.error


def price(provider: str, model: str, amount: str = "2.5", **kw) -> ScrapedPrice:
    return ScrapedPrice(provider=provider, model=model, component="input", amount_per_mtok=Decimal(amount), **kw)


def model_of(provider: str, model_id: str) -> Model | None:
    return Offering.objects.select_related("model").get(provider__slug=provider, provider_model_id=model_id).model


def test_it_defines_the_model_from_the_creators_own_offering():
    run("openai", price("openai", "gpt-4o", model_name="GPT-4o", creator="openai"))
    model = model_of("openai", "gpt-4o")
    assert model is not None and (model.slug, model.creator, model.identity_key) == ("gpt-4o", "openai", "gpt-4o")


def test_it_links_every_sellers_spelling_of_one_model():
    run("openai", price("openai", "gpt-4o", creator="openai"))
    run(
        "litellm",
        price("azure", "gpt-4o"),
        price("azure", "global-standard/gpt-4o-mini"),
        price("openai", "gpt-4o-mini"),
    )
    run("openrouter", price("openrouter", "openai/gpt-4o", creator="openai"), price("openrouter", "openai/gpt-4o:free"))
    gpt_4o = model_of("openai", "gpt-4o")
    assert model_of("azure", "gpt-4o") == gpt_4o
    assert model_of("openrouter", "openai/gpt-4o") == gpt_4o
    assert model_of("openrouter", "openai/gpt-4o:free") == gpt_4o
    assert model_of("azure", "global-standard/gpt-4o-mini") == model_of("openai", "gpt-4o-mini") != gpt_4o


def test_it_links_resellers_whichever_source_runs_first():
    run("openrouter", price("openrouter", "anthropic/claude-sonnet-4.5", creator="anthropic"))
    run(
        "anthropic",
        price("anthropic", "Claude Sonnet 4.5", amount="3"),
        price("anthropic", "claude-sonnet-4-5-20250929"),
    )
    model = model_of("anthropic", "Claude Sonnet 4.5")
    assert model is not None
    assert model_of("openrouter", "anthropic/claude-sonnet-4.5") == model
    assert model_of("anthropic", "claude-sonnet-4-5-20250929") == model
    assert Model.objects.count() == 1


def test_it_links_llama_at_its_hosts_to_one_model_and_never_a_distill():
    run(
        "litellm",
        price("together", "meta-llama/Llama-3.3-70B-Instruct-Turbo"),
        price("groq", "llama-3.3-70b-versatile"),
        price("bedrock", "us.meta.llama3-3-70b-instruct-v1:0"),
        price("fireworks", "accounts/fireworks/models/llama-v3p3-70b-instruct"),
        price("lambda_ai", "deepseek-llama3.3-70b"),
        price("groq", "deepseek-r1-distill-llama-70b"),
    )
    llama = model_of("groq", "llama-3.3-70b-versatile")
    assert llama is not None and llama.creator == "meta-llama"
    for provider, model_id in [
        ("together", "meta-llama/Llama-3.3-70B-Instruct-Turbo"),
        ("bedrock", "us.meta.llama3-3-70b-instruct-v1:0"),
        ("fireworks", "accounts/fireworks/models/llama-v3p3-70b-instruct"),
    ]:
        assert model_of(provider, model_id) == llama
    assert model_of("lambda_ai", "deepseek-llama3.3-70b") not in (None, llama)
    assert model_of("groq", "deepseek-r1-distill-llama-70b") not in (None, llama)


def test_it_suggests_instead_of_linking_another_sellers_moving_alias():
    run("deepseek", price("deepseek", "deepseek-chat", creator="deepseek"))
    run("openrouter", price("openrouter", "deepseek/deepseek-chat", creator="deepseek"))
    assert model_of("openrouter", "deepseek/deepseek-chat") is None
    suggestion = AliasSuggestion.objects.get()
    assert suggestion.model == model_of("deepseek", "deepseek-chat")
    assert "moving alias" in suggestion.reason


def test_it_links_by_a_sources_hugging_face_id():
    run("litellm", price("deepinfra", "deepseek-ai/DeepSeek-V3"))
    run("openrouter", price("openrouter", "deepseek/deepseek-chat", creator="deepseek"))
    offering = Offering.objects.select_related("provider").get(provider_model_id="deepseek/deepseek-chat")
    assert models_link(offerings=[offering], notes={offering.pk: {"hugging_face_id": "deepseek-ai/DeepSeek-V3"}}) == 1
    assert model_of("openrouter", "deepseek/deepseek-chat") == model_of("deepinfra", "deepseek-ai/DeepSeek-V3")


def test_it_leaves_an_unknown_creator_unlinked():
    run("litellm", price("fireworks", "accounts/fireworks/models/mythomax-l2-13b"))
    assert model_of("fireworks", "accounts/fireworks/models/mythomax-l2-13b") is None
    assert Model.objects.count() == 0


def test_it_never_relinks_what_a_curator_linked():
    curated = Model.objects.create(slug="my-gpt", name="Mine", creator="openai", identity_key="mine")
    run("openai", price("openai", "gpt-4o", creator="openai"))
    Offering.objects.filter(provider_model_id="gpt-4o").update(model=curated)
    run("openai", price("openai", "gpt-4o", amount="2.6", creator="openai"))
    assert model_of("openai", "gpt-4o") == curated


def test_it_gives_a_new_model_its_tokenizer_with_the_rule_that_chose_it():
    run("litellm", price("groq", "llama-3.3-70b-versatile"), price("deepseek", "deepseek-v4-flash"))
    llama, deepseek = model_of("groq", "llama-3.3-70b-versatile"), model_of("deepseek", "deepseek-v4-flash")
    assert llama.tokenizer.slug == "llama3" and llama.tokenizer_rule.startswith("name rule")
    assert deepseek.tokenizer.slug == "deepseek"


def test_it_links_a_database_made_before_the_rules(django_assert_max_num_queries):
    run("openai", price("openai", "gpt-4o", creator="openai"))
    run("litellm", price("azure", "eu/gpt-4o"))
    Offering.objects.update(model=None)
    Model.objects.all().delete()
    with django_assert_max_num_queries(20):
        assert models_link_all() == 2
    assert model_of("azure", "eu/gpt-4o") == model_of("openai", "gpt-4o")


def test_it_links_in_a_constant_number_of_queries(django_assert_max_num_queries):
    run("openai", price("openai", "gpt-4o", creator="openai"))
    ids = [f"meta-llama/Llama-3.{n}-{size}B-Instruct" for n in (1, 2, 3) for size in (8, 70, 405)]
    run("litellm", *[price("deepinfra", model_id) for model_id in ids])
    Offering.objects.update(model=None)
    offerings = list(Offering.objects.select_related("provider"))
    with django_assert_max_num_queries(12):
        models_link(offerings=offerings)


def test_openrouters_hugging_face_id_rides_on_its_records():
    from providers.base import Document
    from providers.openrouter import OpenRouter

    payload = (
        b'{"data": [{"id": "deepseek/deepseek-chat", "canonical_slug": "deepseek/deepseek-chat-v3",'
        b' "hugging_face_id": "deepseek-ai/DeepSeek-V3", "name": "DeepSeek: DeepSeek V3",'
        b' "pricing": {"prompt": "0.0000003", "completion": "0.00000085"}}]}'
    )
    records = OpenRouter().parse(Document(url="https://openrouter.ai/api/v1/models", content=payload))
    assert records[0].notes == {
        "hugging_face_id": "deepseek-ai/DeepSeek-V3",
        "canonical_slug": "deepseek/deepseek-chat-v3",
    }


def test_ingest_links_by_the_hugging_face_id_its_records_carry():
    """The note travels from the record through ingest: no hand call to models_link needed."""
    run("litellm", price("deepinfra", "deepseek-ai/DeepSeek-V3"))
    run(
        "openrouter",
        price(
            "openrouter",
            "deepseek/deepseek-chat",
            creator="deepseek",
            notes={"hugging_face_id": "deepseek-ai/DeepSeek-V3", "canonical_slug": "deepseek/deepseek-chat-v3"},
        ),
    )
    linked = model_of("openrouter", "deepseek/deepseek-chat")
    assert linked is not None and linked == model_of("deepinfra", "deepseek-ai/DeepSeek-V3")

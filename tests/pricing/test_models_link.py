"""Offerings meet their canonical Model only where the match is certain: same creator, same id after
normalising case and separators. Whatever order the sources run in."""

from __future__ import annotations

from decimal import Decimal

import pytest

from pricing import services
from pricing.models import Model, Offering, ScrapeRun
from providers.base import ScrapedPrice

pytestmark = pytest.mark.django_db


def run(slug: str, *records: ScrapedPrice) -> None:
    result = services.records_ingest(slug=slug, records=list(records), kind=ScrapeRun.Kind.FILE)
    assert result.ok, result.error


def price(provider: str, model: str, amount: str = "2.5", **kw) -> ScrapedPrice:
    return ScrapedPrice(provider=provider, model=model, component="input", amount_per_mtok=Decimal(amount), **kw)


def model_of(provider: str, model_id: str) -> Model | None:
    return Offering.objects.select_related("model").get(provider__slug=provider, provider_model_id=model_id).model


def test_an_official_first_party_offering_defines_the_model():
    run("openai", price("openai", "gpt-4o", model_name="GPT-4o", creator="openai"))
    model = model_of("openai", "gpt-4o")
    assert model is not None and (model.slug, model.creator) == ("gpt-4o", "openai")


def test_a_reseller_links_to_the_creators_model():
    run("openai", price("openai", "gpt-4o", creator="openai"))
    run("openrouter", price("openrouter", "openai/gpt-4o", creator="openai"), price("openrouter", "openai/gpt-4o:free"))
    assert model_of("openrouter", "openai/gpt-4o") == model_of("openai", "gpt-4o")
    assert model_of("openrouter", "openai/gpt-4o:free") == model_of("openai", "gpt-4o")


def test_a_reseller_seen_before_the_creators_page_links_once_the_page_defines_the_model():
    run("openrouter", price("openrouter", "anthropic/claude-sonnet-4.5", creator="anthropic"))
    assert model_of("openrouter", "anthropic/claude-sonnet-4.5") is None
    run("anthropic", price("anthropic", "Claude Sonnet 4.5", amount="3"))
    assert model_of("openrouter", "anthropic/claude-sonnet-4.5") == model_of("anthropic", "Claude Sonnet 4.5")


def test_an_aggregator_spelling_of_the_same_id_meets_the_official_offering():
    run("google", price("google", "gemini-2.5-pro", amount="1.25", creator="google"))
    run("litellm", price("google", "Gemini-2.5-Pro", amount="1.25"))
    assert Offering.objects.filter(provider__slug="google").count() == 1


def test_it_guesses_nothing_uncertain():
    run("openai", price("openai", "gpt-4o", creator="openai"))
    # Another seller's bare id, and a creator no official page defines: left for curators.
    run("litellm", price("azure", "gpt-4o"), price("together", "meta-llama/llama-3.1-405b"))
    assert model_of("azure", "gpt-4o") is None
    assert model_of("together", "meta-llama/llama-3.1-405b") is None
    assert Model.objects.count() == 1

"""Search people can use: token-based, blind to case and separators, through every seller's spelling."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from pricing import search
from pricing.models import Offering
from tests.factories import ModelFactory, OfferingFactory, ProviderFactory

pytestmark = pytest.mark.django_db


def offering(seller: str, model_id: str, model=None, name: str = "") -> Offering:
    provider = ProviderFactory(slug=seller.lower().replace(" ", "-"), name=seller)
    return OfferingFactory(provider=provider, provider_model_id=model_id, name=name or model_id, model=model)


@pytest.fixture
def catalogue() -> dict[str, Offering]:
    """Sellers' own spellings of a few models, as real price pages and catalogues write them."""
    deepseek = ModelFactory(slug="deepseek-v3", name="DeepSeek-V3", identity_key="deepseek-v3", creator="deepseek")
    llama33 = ModelFactory(slug="llama-3-3-70b", name="Llama 3.3 70B", identity_key="llama-3.3-70b", creator="meta")
    llama31 = ModelFactory(slug="llama-3-1-70b", name="Llama 3.1 70B", identity_key="llama-3.1-70b", creator="meta")
    sonnet4 = ModelFactory(slug="claude-sonnet-4", name="Claude Sonnet 4", identity_key="claude-sonnet-4")
    sonnet45 = ModelFactory(slug="claude-sonnet-4-5", name="Claude Sonnet 4.5", identity_key="claude-sonnet-4.5")
    sonnet37 = ModelFactory(slug="claude-3-7-sonnet", name="Claude 3.7 Sonnet", identity_key="claude-sonnet-3.7")
    gpt4o = ModelFactory(slug="gpt-4o", name="GPT-4o", identity_key="gpt-4o", creator="openai")
    mini = ModelFactory(slug="gpt-4o-mini", name="GPT-4o mini", identity_key="gpt-4o-mini", creator="openai")
    gpt41 = ModelFactory(slug="gpt-4-1", name="GPT-4.1", identity_key="gpt-4.1", creator="openai")
    return {
        "deepseek-chat": offering("DeepSeek", "deepseek-chat", deepseek, "DeepSeek Chat"),
        "router-chat": offering("OpenRouter", "deepseek/deepseek-chat", deepseek, "DeepSeek: DeepSeek V3"),
        "together-v3": offering("Together AI", "deepseek-ai/DeepSeek-V3", deepseek),
        "together-llama": offering("Together AI", "meta-llama/Llama-3.3-70B-Instruct-Turbo", llama33),
        "groq-llama": offering("Groq", "llama-3.3-70b-versatile", llama33),
        "fireworks-llama": offering("Fireworks", "accounts/fireworks/models/llama-v3p3-70b-instruct", llama33),
        "llama31": offering("DeepInfra", "meta-llama/Meta-Llama-3.1-70B-Instruct", llama31),
        "sonnet4": offering("Anthropic", "claude-sonnet-4-20250514", sonnet4, "Claude Sonnet 4"),
        "bedrock-sonnet4": offering("Bedrock", "us.anthropic.claude-sonnet-4-20250514-v1:0", sonnet4),
        "sonnet45": offering("Anthropic", "claude-sonnet-4-5", sonnet45, "Claude Sonnet 4.5"),
        "sonnet37": offering("Anthropic", "claude-3-7-sonnet-20250219", sonnet37, "Claude Sonnet 3.7"),
        "gpt4o": offering("OpenAI", "gpt-4o", gpt4o),
        "mini": offering("OpenAI", "gpt-4o-mini", mini),
        "gpt41": offering("OpenAI", "gpt-4.1", gpt41),
        "unlinked": offering("Acme", "acme-chat-large"),
    }


def found(text: str, catalogue: dict[str, Offering]) -> list[str]:
    names = {o.id: name for name, o in catalogue.items()}
    return [names[i] for i in search.offering_ids(text)]


def test_it_splits_text_into_tokens_whatever_the_case_and_separators():
    assert search.tokens("meta-llama/Llama-3.3-70B_Instruct") == (
        "meta",
        "llama",
        "llama",
        "3",
        "3",
        "70",
        "b",
        "instruct",
    )
    assert search.tokens("gpt4o") == ("gpt", "4", "o")
    assert search.tokens("Mistral Médium") == ("mistral", "medium")
    assert search.compact("Claude Sonnet-4") == "claudesonnet4"


def test_deepseek_chat_finds_deepseeks_chat_model_at_every_seller(catalogue):
    result = found("deepseek chat", catalogue)

    assert result[0] == "deepseek-chat"
    assert set(result) == {"deepseek-chat", "router-chat", "together-v3"}


def test_llama_3_3_70b_finds_every_spelling_and_not_llama_3_1(catalogue):
    result = found("llama 3.3 70b", catalogue)

    assert set(result) == {"together-llama", "groq-llama", "fireworks-llama"}
    assert found("LLAMA_3.3-70B", catalogue) == result
    assert found("llama3.3 70b", catalogue) == result


def test_sonnet_4_ranks_sonnet_4_before_sonnet_4_5_and_leaves_3_7_out(catalogue):
    result = found("sonnet 4", catalogue)

    assert set(result[:2]) == {"sonnet4", "bedrock-sonnet4"}
    assert "sonnet45" in result
    assert "sonnet37" not in result


def test_an_id_with_its_separators_finds_its_model_at_every_seller(catalogue):
    result = found("claude-sonnet-4", catalogue)

    assert set(result[:2]) == {"sonnet4", "bedrock-sonnet4"}
    assert result.index("sonnet45") > 1


def test_gpt4o_written_together_finds_gpt_4o_first(catalogue):
    result = found("gpt4o", catalogue)

    assert result[0] == "gpt4o"
    assert "mini" in result and "gpt41" not in result


def test_the_last_word_may_be_the_start_of_a_word(catalogue):
    assert {"sonnet4", "sonnet45", "sonnet37", "bedrock-sonnet4"} <= set(found("claude sonn", catalogue))


def test_words_run_together_match_without_their_separators(catalogue):
    assert set(found("deepseekv3", catalogue)) == {"deepseek-chat", "router-chat", "together-v3"}


def test_a_seller_and_a_model_together_narrow_to_that_seller(catalogue):
    assert found("groq llama 3.3", catalogue) == ["groq-llama"]


def test_nothing_to_search_finds_nothing(catalogue):
    assert search.offering_ids("") == []
    assert search.offering_ids("  --/  ") == []
    assert found("no such model anywhere", catalogue) == []


def test_models_are_found_through_their_sellers_ids(catalogue):
    ids = search.model_ids("deepseek chat")

    from pricing.models import Model

    assert [Model.objects.get(id=i).slug for i in ids] == ["deepseek-v3"]


def test_a_new_offering_is_found_at_once(catalogue):
    assert found("qwen 3", catalogue) == []

    catalogue["qwen"] = offering("Alibaba", "qwen3-235b-a22b")

    assert found("qwen 3", catalogue) == ["qwen"]


def test_a_relinked_offering_is_found_through_its_new_model(catalogue):
    assert "unlinked" not in found("gpt 4o", catalogue)

    catalogue["unlinked"].model = catalogue["gpt4o"].model
    catalogue["unlinked"].save()

    assert "unlinked" in found("gpt 4o", catalogue)


def test_a_search_runs_two_queries_once_the_index_is_built(catalogue):
    search.offering_ids("warm up")

    with CaptureQueriesContext(connection) as captured:
        search.offering_ids("llama 3.3 70b")

    assert len(captured.captured_queries) == 2


def test_a_very_long_query_is_cut_not_refused(catalogue):
    assert search.parse("llama " * 1000).tokens == ("llama",) * search.MAX_QUERY_TOKENS


def test_text_already_in_memory_matches_the_same_way():
    assert search.matches_text("sonnet 4", ["claude-sonnet-4-20250514"])
    assert not search.matches_text("sonnet 4", ["claude-3-7-sonnet"])
    assert search.matches_text("", ["anything"])


def test_the_leaderboard_calculator_and_api_search_the_same_way(client, catalogue):
    from decimal import Decimal

    from tests.factories import PriceFactory

    for item in catalogue.values():
        PriceFactory(offering=item, component="input", amount_per_mtok=Decimal("1"))
        PriceFactory(offering=item, component="output", amount_per_mtok=Decimal("2"))

    board = client.get("/?q=llama+3.3+70b&per_page=all").content.decode()
    calculator = client.get("/calculator/?q=llama3.3-70b&limit=all").content.decode()
    api = client.get("/api/v1/offerings/?q=LLAMA 3.3 70B").json()

    for body in (board, calculator):
        assert "llama-3.3-70b-versatile" in body and "llama-v3p3-70b-instruct" in body
        assert "Meta-Llama-3.1-70B-Instruct" not in body
    assert {r["model_id"] for r in api["results"]} == {
        "meta-llama/Llama-3.3-70B-Instruct-Turbo",
        "llama-3.3-70b-versatile",
        "accounts/fireworks/models/llama-v3p3-70b-instruct",
    }


def test_the_compare_page_offers_the_best_matches_first(client, catalogue):
    from decimal import Decimal

    from bs4 import BeautifulSoup

    from tests.factories import PriceFactory

    for item in catalogue.values():
        PriceFactory(offering=item, component="input", amount_per_mtok=Decimal("1"))

    page = BeautifulSoup(client.get("/compare/?find=claude-sonnet-4").content, "html.parser")
    offered = page.get_text(" ")

    assert offered.index("claude-sonnet-4-20250514") < offered.index("claude-sonnet-4-5")
    assert "claude-3-7-sonnet" not in offered


def test_the_api_search_ranks_offerings_by_match_quality_unless_told_otherwise(client, catalogue):
    api = client
    from decimal import Decimal

    from tests.factories import PriceFactory

    for item in catalogue.values():
        PriceFactory(offering=item, component="input", amount_per_mtok=Decimal("1"))

    ranked = api.get("/api/v1/offerings/?search=claude-sonnet-4").json()["results"]
    by_provider = api.get("/api/v1/offerings/?search=claude-sonnet-4&ordering=provider").json()["results"]
    refused = api.get("/api/v1/offerings/?ordering=relevance")

    assert {r["model_id"] for r in ranked[:2]} == {
        "claude-sonnet-4-20250514",
        "us.anthropic.claude-sonnet-4-20250514-v1:0",
    }
    assert [r["provider"] for r in by_provider] == sorted(r["provider"] for r in by_provider)
    assert "claude-3-7-sonnet-20250219" not in {r["model_id"] for r in ranked}
    assert refused.status_code == 400 and "ordering" in refused.json()

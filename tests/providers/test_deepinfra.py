import json
from decimal import Decimal
from pathlib import Path

import pytest

from providers import REGISTRY
from providers.base import OFFICIAL_TRUST, Document, ParseError
from providers.deepinfra import DeepInfra

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "providers" / "deepinfra"


def document(content: str | bytes) -> Document:
    # `scrape --file` hands every saved document over with the first URL: parse must not rely on it.
    return Document(url=DeepInfra.urls[0], content=content.encode() if isinstance(content, str) else content)


def parse(content: str | bytes) -> list:
    return DeepInfra().parse(document(content))


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def rows(records: list) -> list[tuple]:
    return [(r.model, r.component, r.mode, r.amount_per_mtok, r.currency) for r in records]


def api(*entries: dict) -> str:
    return json.dumps({"object": "list", "data": list(entries)})


def test_it_is_registered_as_the_official_deepinfra_source_with_both_urls():
    assert REGISTRY["deepinfra"] is DeepInfra
    assert DeepInfra.kind == "official"
    assert DeepInfra.trust_rank == OFFICIAL_TRUST
    assert DeepInfra.urls == ("https://api.deepinfra.com/v1/openai/models", "https://deepinfra.com/pricing")


def test_it_reads_the_models_api_exactly_as_written_per_million_tokens():
    records = parse(fixture("models.json"))

    assert rows(records) == [
        ("deepseek-ai/DeepSeek-V3.2", "input", "standard", Decimal("0.26"), "USD"),
        ("deepseek-ai/DeepSeek-V3.2", "cached_input", "standard", Decimal("0.13"), "USD"),
        ("deepseek-ai/DeepSeek-V3.2", "output", "standard", Decimal("0.38"), "USD"),
        ("openai/gpt-oss-20b", "input", "standard", Decimal("0.030000000000000002"), "USD"),
        ("openai/gpt-oss-20b", "output", "standard", Decimal("0.14"), "USD"),
        ("meta-llama/Llama-4-Maverick-17B-128E-Instruct-FP8", "input", "standard", Decimal("0.15"), "USD"),
        ("meta-llama/Llama-4-Maverick-17B-128E-Instruct-FP8", "output", "standard", Decimal("0.6"), "USD"),
    ]
    assert records[0].context_window == 163_840
    assert records[0].creator == "deepseek-ai"


def test_it_skips_api_entries_without_metadata():
    models = {r.model for r in parse(fixture("models.json"))}

    assert not models & {"BAAI/bge-m3", "black-forest-labs/FLUX-1-dev"}


def test_it_reads_the_pricing_page_with_model_ids_from_the_row_links():
    records = parse(fixture("pricing.html"))

    assert rows(records)[:9] == [
        ("deepseek-ai/DeepSeek-V3.2", "input", "standard", Decimal("0.26"), "USD"),
        ("deepseek-ai/DeepSeek-V3.2", "cached_input", "standard", Decimal("0.13"), "USD"),
        ("deepseek-ai/DeepSeek-V3.2", "output", "standard", Decimal("0.38"), "USD"),
        ("deepseek-ai/DeepSeek-OCR", "input", "standard", Decimal("0.03"), "USD"),
        ("deepseek-ai/DeepSeek-OCR", "output", "standard", Decimal("0.10"), "USD"),
        ("meta-llama/Llama-4-Scout-17B-16E-Instruct", "input", "standard", Decimal("0.08"), "USD"),
        ("meta-llama/Llama-4-Scout-17B-16E-Instruct", "output", "standard", Decimal("0.30"), "USD"),
        ("meta-llama/Llama-4-Maverick-17B-128E-Instruct-FP8", "input", "standard", Decimal("0.15"), "USD"),
        ("meta-llama/Llama-4-Maverick-17B-128E-Instruct-FP8", "output", "standard", Decimal("0.60"), "USD"),
    ]
    assert records[5].model_name == "Llama-4-Scout-17B-16E"


def test_it_keeps_a_model_once_though_the_page_repeats_tables_and_sections():
    records = parse(fixture("pricing.html"))
    gemma = [r for r in records if r.model == "google/gemma-3-4b-it"]

    assert len(records) == len({(r.model, r.component) for r in records}) == 13
    assert rows(gemma) == [
        ("google/gemma-3-4b-it", "input", "standard", Decimal("0.04"), "USD"),
        ("google/gemma-3-4b-it", "output", "standard", Decimal("0.08"), "USD"),
    ]
    assert gemma[0].notes["table"] == "gemma"


def test_it_skips_audio_image_gpu_embedding_and_tier_tables():
    models = {r.model for r in parse(fixture("pricing.html"))}

    assert not models & {
        "mistralai/Voxtral-Small-24B-2507",
        "black-forest-labs/FLUX-2-dev",
        "BAAI/bge-base-en-v1.5",
        "A100",
        "Tier 1",
    }


def test_it_prefers_the_api_and_adds_only_what_the_page_alone_has_when_both_are_fetched():
    records = DeepInfra().parse_all([document(fixture("pricing.html")), document(fixture("models.json"))])
    by_line = {(r.model, r.component): r for r in records}

    assert len(records) == len(by_line)  # the page's rounded copies of the API's figures add nothing
    assert by_line[("deepseek-ai/DeepSeek-V3.2", "input")].notes["source"] == "api"
    assert by_line[("meta-llama/Llama-4-Maverick-17B-128E-Instruct-FP8", "output")].amount_per_mtok == Decimal("0.6")
    assert by_line[("google/gemma-3-4b-it", "input")].notes["source"] == "page"
    assert by_line[("openai/gpt-oss-20b", "input")].amount_per_mtok == Decimal("0.030000000000000002")


def test_it_rejects_a_price_that_is_not_a_number():
    entry = {"id": "x/y", "metadata": {"context_length": 8192, "pricing": {"input_tokens": "cheap"}}}

    with pytest.raises(ParseError, match=r"x/y: metadata\.pricing\.input_tokens is not a number"):
        parse(api(entry))


def test_it_skips_a_negative_api_price():
    entry = {"id": "x/y", "metadata": {"pricing": {"input_tokens": -1, "output_tokens": 0.5}}}

    assert rows(parse(api(entry))) == [("x/y", "output", "standard", Decimal("0.5"), "USD")]


def test_it_fails_loudly_on_broken_or_empty_api_answers():
    with pytest.raises(ParseError, match="not JSON"):
        parse('{"data": [')
    with pytest.raises(ParseError, match='no "data" list'):
        parse('{"object": "list"}')
    with pytest.raises(ParseError, match="no model in data"):
        parse(api({"id": "BAAI/bge-m3", "metadata": None}))


def test_it_fails_loudly_on_a_page_without_the_token_tables():
    with pytest.raises(ParseError, match="no <table>"):
        parse("<html><body><h1>Simple Pricing</h1></body></html>")
    embeddings_only = (
        "<html><body><table><thead><tr><th>Model</th><th>Context</th><th>$ per 1M input tokens</th></tr></thead>"
        "<tbody><tr><td>bge-m3</td><td>8k</td><td>$0.01</td></tr></tbody></table></body></html>"
    )
    with pytest.raises(ParseError, match="no 'Model"):
        parse(embeddings_only)


def test_it_refuses_a_document_that_is_neither_json_nor_html():
    with pytest.raises(ParseError, match="neither"):
        parse("Service Unavailable")


def test_a_page_figure_that_disagrees_with_the_api_is_named_in_the_runs_problems_and_the_api_wins():
    from pricing.services import records_validate

    listed = {"id": "x/y", "metadata": {"context_length": 8192, "pricing": {"input_tokens": 0.2, "output_tokens": 0.6}}}
    page = (
        "<html><body><table><tr><th>Model</th><th>Context</th><th>$ per 1M input tokens</th>"
        "<th>$ per 1M output tokens</th></tr>"
        '<tr><td><a href="/x/y">x/y</a></td><td>8k</td><td>$0.25</td><td>$0.60</td></tr></table></body></html>'
    )
    records = DeepInfra().parse_all([document(page), document(api(listed))])
    validated = records_validate(records)

    kept = {(r.component, r.notes["source"]): r.amount_per_mtok for r in validated.records}
    assert kept == {("input", "api"): Decimal("0.2"), ("output", "api"): Decimal("0.6")}
    assert validated.problems == [
        "x/y input/standard: a second amount for one price (0.25 in the page beside 0.2 in the api); kept the first"
    ]

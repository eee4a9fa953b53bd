from decimal import Decimal
from pathlib import Path

import pytest

from providers import REGISTRY
from providers.base import OFFICIAL_TRUST, Document, ParseError
from providers.fireworks import Fireworks

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "providers" / "fireworks"


def parse(html: str | bytes) -> list:
    content = html.encode() if isinstance(html, str) else html
    return Fireworks().parse(Document(url=Fireworks.urls[0], content=content))


def parse_fixture() -> list:
    return parse((FIXTURES / "pricing.html").read_bytes())


def rows(records: list) -> list[tuple]:
    return [(r.model, r.component, r.mode, r.amount_per_mtok, r.currency) for r in records]


def text_table(*rows_html: str) -> str:
    return (
        "<html><body><h2>Text and Vision</h2><table><thead><tr><th>Base model</th><th>$ / 1M tokens</th></tr></thead>"
        f"<tbody>{''.join(rows_html)}</tbody></table></body></html>"
    )


def test_it_is_registered_as_the_official_fireworks_source():
    assert REGISTRY["fireworks"] is Fireworks
    assert Fireworks.kind == "official"
    assert Fireworks.trust_rank == OFFICIAL_TRUST
    assert Fireworks.urls == ("https://fireworks.ai/pricing",)


def test_it_prices_a_parameter_size_bucket_as_input_and_output_under_its_label():
    buckets = [r for r in parse_fixture() if r.notes["model_category"] == "parameter_size_bucket"]

    assert rows(buckets) == [
        ("Less than 4B parameters", "input", "standard", Decimal("0.10"), "USD"),
        ("Less than 4B parameters", "output", "standard", Decimal("0.10"), "USD"),
        ("MoE 56.1B - 176B parameters (e.g. DBRX, Mixtral 8x22B)", "input", "standard", Decimal("1.20"), "USD"),
        ("MoE 56.1B - 176B parameters (e.g. DBRX, Mixtral 8x22B)", "output", "standard", Decimal("1.20"), "USD"),
    ]
    assert all(r.notes["single_price"] for r in buckets)


def test_it_reads_labelled_input_cached_input_and_output_figures_of_named_models():
    named = [r for r in parse_fixture() if r.notes["model_category"] == "named_model"]

    assert rows(named)[:5] == [
        ("DeepSeek V3 family", "input", "standard", Decimal("0.56"), "USD"),
        ("DeepSeek V3 family", "output", "standard", Decimal("1.68"), "USD"),
        ("GLM-5", "input", "standard", Decimal("1.00"), "USD"),
        ("GLM-5", "cached_input", "standard", Decimal("0.20"), "USD"),
        ("GLM-5", "output", "standard", Decimal("3.20"), "USD"),
    ]
    assert named[2].notes["link"] == "https://fireworks.ai/models/fireworks/glm-5"


def test_it_splits_a_row_naming_two_linked_models_into_both():
    kimi = [r for r in parse_fixture() if r.model.startswith("Kimi")]

    assert rows(kimi) == [
        ("Kimi K2 Instruct", "input", "standard", Decimal("0.60"), "USD"),
        ("Kimi K2 Instruct", "output", "standard", Decimal("2.50"), "USD"),
        ("Kimi K2 Thinking", "input", "standard", Decimal("0.60"), "USD"),
        ("Kimi K2 Thinking", "output", "standard", Decimal("2.50"), "USD"),
    ]
    assert {r.notes["page_label"] for r in kimi} == {"Kimi K2 Instruct, Kimi K2 Thinking"}


def test_it_skips_speech_embedding_fine_tuning_and_gpu_tables():
    models = {r.model for r in parse_fixture()}

    assert not models & {"Whisper-v3-large", "up to 150M", "Qwen3 8B", "Models up to 16B parameters", "H100 80 GB GPU"}


def test_it_computes_no_cached_or_batch_price_from_the_fifty_percent_rules():
    records = parse_fixture()

    assert {r.mode for r in records} == {"standard"}
    assert {r.model for r in records if r.component == "cached_input"} == {"GLM-5"}


def test_it_skips_a_row_without_a_price_figure():
    records = parse(
        text_table("<tr><td>GLM-4.7</td><td>Coming soon</td></tr>", "<tr><td>GLM-5</td><td>$1.00</td></tr>")
    )

    assert [r.model for r in records] == ["GLM-5", "GLM-5"]


def test_it_rejects_a_price_cell_whose_figures_name_no_component():
    with pytest.raises(ParseError, match="no input/output price"):
        parse(text_table("<tr><td>GLM-5</td><td>$1.00 per request, $2.00 per image</td></tr>"))


def test_it_fails_loudly_on_a_page_without_the_text_table():
    with pytest.raises(ParseError, match="no <table>"):
        parse("<html><body><h2>Serverless Pricing</h2><p>Contact us</p></body></html>")
    gpu_only = (
        "<html><body><h2>On demand deployments</h2><table><tr><th>GPU Type</th><th>$ / hour</th></tr>"
        "<tr><td>H100 80 GB GPU</td><td>$4.00</td></tr></table></body></html>"
    )
    with pytest.raises(ParseError, match="no serverless text table"):
        parse(gpu_only)

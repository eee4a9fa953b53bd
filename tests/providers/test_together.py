import json
from decimal import Decimal
from pathlib import Path

import pytest

from providers import REGISTRY
from providers.base import OFFICIAL_TRUST, Document, ParseError
from providers.together import Together

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "providers" / "together"


def parse(content: str | bytes) -> list:
    data = content.encode() if isinstance(content, str) else content
    return Together().parse(Document(url=Together.urls[0], content=data))


def parse_fixture() -> list:
    return parse((FIXTURES / "v1_models.json").read_bytes())


def model(id_: str, type_: str = "chat", **pricing: object) -> dict:
    return {"id": id_, "type": type_, "display_name": id_, "context_length": 8192, "pricing": pricing}


def test_it_is_registered_as_the_official_together_source():
    assert REGISTRY["together"] is Together
    assert Together.kind == "official"
    assert Together.trust_rank == OFFICIAL_TRUST
    assert Together.urls == ("https://api.together.xyz/v1/models",)


def test_it_reads_input_and_output_of_chat_and_language_models_per_1m_tokens():
    records = parse_fixture()

    assert [(r.model, r.component, r.amount_per_mtok) for r in records] == [
        ("meta-llama/Llama-3.3-70B-Instruct-Turbo", "input", Decimal("0.88")),
        ("meta-llama/Llama-3.3-70B-Instruct-Turbo", "output", Decimal("0.88")),
        ("meta-llama/Llama-4-Scout-17B-16E-Instruct", "input", Decimal("0.18000000000000002")),
        ("meta-llama/Llama-4-Scout-17B-16E-Instruct", "output", Decimal("0.5900000000000001")),
        ("deepseek-ai/DeepSeek-R1-0528-tput", "input", Decimal("0.55")),
        ("deepseek-ai/DeepSeek-R1-0528-tput", "output", Decimal("2.19")),
        ("meta-llama/Llama-3-70b-hf", "input", Decimal("0.9")),
        ("meta-llama/Llama-3-70b-hf", "output", Decimal("0.9")),
    ]
    assert {(r.currency, r.mode, r.tier_min_tokens, r.tier_max_tokens) for r in records} == {
        ("USD", "standard", None, None)
    }


def test_it_keeps_the_exact_number_text_never_a_float():
    scout = [r for r in parse_fixture() if "Scout" in r.model]

    assert [r.as_contract()["amount"] for r in scout] == ["0.18000000000000002", "0.5900000000000001"]
    assert scout[0].original == "$0.18000000000000002 / 1M tokens"


def test_it_carries_display_name_context_length_and_creator():
    turbo = parse_fixture()[0]

    assert turbo.model_name == "Meta Llama 3.3 70B Instruct Turbo"
    assert turbo.context_window == 131_072
    assert turbo.creator == "meta-llama"


def test_it_skips_audio_image_embedding_and_unpriced_models():
    models = {r.model for r in parse_fixture()}

    assert "cartesia/sonic-2" not in models
    assert "black-forest-labs/FLUX.1-schnell" not in models
    assert "BAAI/bge-large-en-v1.5" not in models
    assert "togethercomputer/MoA-1" not in models


def test_it_reads_an_openai_style_data_envelope_too():
    payload = {"object": "list", "data": [model("Qwen/Qwen3-235B", input=0.2, output=0.6)]}

    assert [r.amount_per_mtok for r in parse(json.dumps(payload))] == [Decimal("0.2"), Decimal("0.6")]


def test_it_sends_the_api_key_from_the_environment(monkeypatch):
    monkeypatch.setenv("TOGETHER_API_KEY", "tok-123")
    assert Together().request_headers() == {"Authorization": "Bearer tok-123"}
    monkeypatch.delenv("TOGETHER_API_KEY")
    assert Together().request_headers() == {}


def test_it_rejects_a_response_that_is_not_json():
    with pytest.raises(ParseError, match="not JSON"):
        parse("<html>Unauthorized</html>")


def test_it_rejects_an_error_object_without_models():
    with pytest.raises(ParseError, match="no list of models"):
        parse('{"error": {"message": "Invalid API key"}}')


def test_it_rejects_a_list_without_any_priced_text_model():
    with pytest.raises(ParseError, match="no chat/language model with a token price"):
        parse(json.dumps([model("a/b", "image", input=1, output=1)]))


def test_it_rejects_a_price_that_is_not_a_number():
    with pytest.raises(ParseError, match=r"a/b: pricing.input is not a number: '0.2'"):
        parse(json.dumps([model("a/b", input="0.2", output=1)]))


def test_it_rejects_a_negative_price():
    with pytest.raises(ParseError, match=r"a/b: pricing.output is not a price"):
        parse(json.dumps([model("a/b", input=1, output=-1)]))

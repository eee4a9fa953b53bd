from decimal import Decimal
from pathlib import Path

import pytest

from providers import REGISTRY
from providers.base import OFFICIAL_TRUST, Document, ParseError
from providers.byteplus import BytePlus

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "providers" / "byteplus"


def parse(html: str | bytes) -> list:
    content = html.encode() if isinstance(html, str) else html
    return BytePlus().parse(Document(url=BytePlus.urls[0], content=content))


def parse_fixture() -> list:
    return parse((FIXTURES / "pricing_en.html").read_bytes())


def rows(records: list, model: str, mode: str = "standard") -> list[tuple]:
    return [
        (r.component, (r.tier_min_tokens, r.tier_max_tokens), r.amount_per_mtok)
        for r in records
        if (r.model, r.mode) == (model, mode)
    ]


def test_it_is_registered_as_the_official_byteplus_source():
    assert REGISTRY["byteplus"] is BytePlus
    assert BytePlus.kind == "official"
    assert BytePlus.trust_rank == OFFICIAL_TRUST
    assert BytePlus.hosts == ("docs.byteplus.com",)


def test_it_reads_usd_prompt_tiers_and_skips_audio_columns():
    records = parse_fixture()

    assert rows(records, "seed-2-0-lite-260428") == [
        ("input", (None, 128_000), Decimal("0.25")),
        ("cached_input", (None, 128_000), Decimal("0.05")),
        ("output", (None, 128_000), Decimal("2.00")),
        ("input", (128_001, 256_000), Decimal("0.50")),
        ("cached_input", (128_001, 256_000), Decimal("0.10")),
        ("output", (128_001, 256_000), Decimal("4.00")),
    ]
    assert {r.currency for r in records} == {"USD"}
    assert records[0].original == "0.25 USD/M tokens"


def test_it_keeps_versioned_model_ids_as_printed():
    models = {r.model for r in parse_fixture()}

    assert "deepseek-v4-flash-ga-260731" in models
    assert "deepseek-v3-2-251201" in models


def test_it_reads_the_offline_batch_table_as_batch_mode():
    records = parse_fixture()

    assert rows(records, "glm-4-7-251222", mode="batch") == [
        ("input", (None, None), Decimal("0.3")),
        ("cached_input", (None, None), Decimal("0.11")),
        ("output", (None, None), Decimal("1.1")),
    ]
    assert rows(records, "glm-4-7-251222") == [
        ("input", (None, None), Decimal("0.6")),
        ("cached_input", (None, None), Decimal("0.11")),
        ("output", (None, None), Decimal("2.2")),
    ]


def test_it_skips_a_dash_cell_and_the_video_table():
    records = parse_fixture()

    assert rows(records, "gpt-oss-120b-250805") == [
        ("input", (None, None), Decimal("0.10")),
        ("output", (None, None), Decimal("0.5")),
    ]
    assert not [r for r in records if r.model.startswith("seedance")]


def test_it_rejects_a_page_whose_tables_have_no_input_and_output_columns():
    html = "<h2>Video generation models</h2><table><tr><th>Model ID</th><th>Online inference (USD / M tokens)</th></tr>"
    html += "<tr><td>seedance-1-0-pro-250528</td><td>2.5</td></tr></table>"

    with pytest.raises(ParseError, match="no model price table"):
        parse(html)

from decimal import Decimal
from pathlib import Path

import pytest

from providers import REGISTRY
from providers.base import OFFICIAL_TRUST, Document, ParseError
from providers.zai import ZAI

FIXTURE = Path(__file__).resolve().parent.parent / "fixtures" / "providers" / "zai" / "pricing.html"
HEADER = "<tr><th>Model</th><th>Input</th><th>Cached Input</th><th>Cached Input Storage</th><th>Output</th></tr>"


def parse(html: str | bytes) -> list:
    content = html.encode() if isinstance(html, str) else html
    return ZAI().parse(Document(url=ZAI.urls[0], content=content))


def rows(records: list) -> list[tuple]:
    return [(r.model, r.component, r.amount_per_mtok) for r in records]


def section(*rows_html: str, sentence: str = "Prices per 1M tokens.") -> str:
    body = "".join(rows_html)
    return f"<h3>Text Models</h3><p>{sentence}</p><table><thead>{HEADER}</thead><tbody>{body}</tbody></table>"


def test_it_is_registered_as_the_official_zai_source():
    assert REGISTRY["zai"] is ZAI
    assert ZAI.kind == "official"
    assert ZAI.trust_rank == OFFICIAL_TRUST
    assert ZAI.urls == ("https://docs.z.ai/guides/overview/pricing",)
    assert ZAI.hosts == ("docs.z.ai",)


def test_it_reads_the_text_and_vision_tables_in_usd_per_1m_tokens():
    records = parse(FIXTURE.read_bytes())

    assert rows(records) == [
        ("GLM-5.2", "input", Decimal("1.4")),
        ("GLM-5.2", "cached_input", Decimal("0.26")),
        ("GLM-5.2", "output", Decimal("4.4")),
        ("GLM-5-Turbo", "input", Decimal("1.2")),
        ("GLM-5-Turbo", "cached_input", Decimal("0.24")),
        ("GLM-5-Turbo", "output", Decimal("4.0")),
        ("GLM-4-32B-0414-128K", "input", Decimal("0.1")),
        ("GLM-4-32B-0414-128K", "output", Decimal("0.1")),
        ("GLM-OCR", "input", Decimal("0.03")),
        ("GLM-OCR", "output", Decimal("0.03")),
        ("GLM-4.6V-FlashX", "input", Decimal("0.04")),
        ("GLM-4.6V-FlashX", "cached_input", Decimal("0.004")),
        ("GLM-4.6V-FlashX", "output", Decimal("0.4")),
    ]
    assert {(r.currency, r.mode, r.tier_min_tokens, r.tier_max_tokens) for r in records} == {
        ("USD", "standard", None, None)
    }


def test_it_skips_free_models_missing_cells_and_the_cache_storage_fee():
    records = parse(FIXTURE.read_bytes())

    assert "GLM-4.7-Flash" not in {r.model for r in records}
    assert ("GLM-OCR", "cached_input") not in {(r.model, r.component) for r in records}
    assert all("Storage" not in r.excerpt.rsplit(";", 1)[1] for r in records)


def test_it_leaves_tools_images_and_audio_alone():
    models = {r.model for r in parse(FIXTURE.read_bytes())}

    assert not models & {"Web Search", "CogView-4", "GLM-ASR-2512"}


def test_it_keeps_the_figure_with_its_unit_and_the_row_it_came_from():
    glm52_input = parse(FIXTURE.read_bytes())[0]

    assert glm52_input.original == "$1.4 per 1M tokens"
    assert glm52_input.excerpt == "[Text Models] GLM-5.2 | $1.4 | $0.26 | Limited-time Free | $4.4; Input = $1.4"


def test_it_prices_by_the_unit_the_sentence_above_the_table_states():
    html = section(
        "<tr><td>GLM-4.5</td><td>$0.0006</td><td>-</td><td>-</td><td>$0.0022</td></tr>",
        sentence="Prices per 1K tokens.",
    )

    assert rows(parse(html)) == [("GLM-4.5", "input", Decimal("0.6")), ("GLM-4.5", "output", Decimal("2.2"))]


def test_it_rejects_a_page_without_a_table():
    with pytest.raises(ParseError, match="no <table> on the page"):
        parse("<html><body><h1>Pricing</h1><p>All prices are in USD.</p></body></html>")


def test_it_rejects_a_page_whose_tables_have_no_input_and_output_columns():
    html = "<table><tr><th>Model</th><th>Price</th></tr><tr><td>CogView-4</td><td>$0.01</td></tr></table>"

    with pytest.raises(ParseError, match=r"no price table \(Model \| Input \| Output"):
        parse(html)


def test_it_rejects_a_price_cell_it_cannot_read():
    html = section("<tr><td>GLM-5.2</td><td>contact sales</td><td>-</td><td>-</td><td>$4.4</td></tr>")

    with pytest.raises(ParseError, match=r"GLM-5\.2 Input"):
        parse(html)

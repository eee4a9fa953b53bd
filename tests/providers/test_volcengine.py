from decimal import Decimal
from pathlib import Path

import pytest

from providers import REGISTRY
from providers.base import OFFICIAL_TRUST, Document, ParseError
from providers.volcengine import Volcengine

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "providers" / "volcengine"
SHORT = {"min_tokens": None, "max_tokens": 200}
LONG = {"min_tokens": 201, "max_tokens": None}


def parse(html: str | bytes) -> list:
    content = html.encode() if isinstance(html, str) else html
    return Volcengine().parse(Document(url=Volcengine.urls[0], content=content))


def parse_fixture() -> list:
    return parse((FIXTURES / "pricing_zh.html").read_bytes())


def rows(records: list, model: str, mode: str = "standard") -> list[tuple]:
    return [
        (r.component, (r.tier_min_tokens, r.tier_max_tokens), r.amount_per_mtok, r.attributes.get("output_tier"))
        for r in records
        if (r.model, r.mode) == (model, mode)
    ]


def page(header: str, *rows_html: str, heading: str = "在线推理（常规）") -> str:
    return (
        f'<html><body><div class="ace-line heading-h2"><span>{heading}</span></div>'
        f"<table><tr>{header}</tr>{''.join(rows_html)}</table></body></html>"
    )


HEADER = "<td>模型名称</td><td>条件 千 token</td><td>输入(非音频) 元/百万token</td><td>输出 元/百万token</td>"


def test_it_is_registered_as_the_official_volcengine_source():
    assert REGISTRY["volcengine"] is Volcengine
    assert Volcengine.kind == "official"
    assert Volcengine.trust_rank == OFFICIAL_TRUST
    assert Volcengine.urls == ("https://docs.volcengine.com/docs/82379/1544106?lang=zh",)


def test_it_reads_prompt_length_tiers_in_cny_across_merged_model_cells():
    records = parse_fixture()

    assert rows(records, "doubao-seed-2.0-lite") == [
        ("input", (None, 32_000), Decimal("0.6"), None),
        ("cached_input", (None, 32_000), Decimal("0.12"), None),
        ("output", (None, 32_000), Decimal("3.6"), None),
        ("input", (32_001, 128_000), Decimal("0.9"), None),
        ("cached_input", (32_001, 128_000), Decimal("0.18"), None),
        ("output", (32_001, 128_000), Decimal("5.4"), None),
        ("input", (128_001, 256_000), Decimal("1.8"), None),
        ("cached_input", (128_001, 256_000), Decimal("0.36"), None),
        ("output", (128_001, 256_000), Decimal("10.8"), None),
    ]
    assert {r.currency for r in records} == {"CNY"}
    assert {r.provider for r in records} == {"volcengine"}


def test_it_keeps_the_output_length_condition_as_an_output_tier():
    assert rows(parse_fixture(), "glm-4.7") == [
        ("input", (None, 32_000), Decimal("2.0"), SHORT),
        ("cached_input", (None, 32_000), Decimal("0.4"), SHORT),
        ("output", (None, 32_000), Decimal("8.0"), SHORT),
        ("input", (None, 32_000), Decimal("3.0"), LONG),
        ("cached_input", (None, 32_000), Decimal("0.6"), LONG),
        ("output", (None, 32_000), Decimal("14.0"), LONG),
        ("input", (32_001, 200_000), Decimal("4.0"), None),
        ("cached_input", (32_001, 200_000), Decimal("0.8"), None),
        ("output", (32_001, 200_000), Decimal("16.0"), None),
    ]


def test_it_skips_dash_cells_and_reads_untiered_rows():
    assert rows(parse_fixture(), "doubao-seed-translation") == [
        ("input", (None, None), Decimal("1.20"), None),
        ("output", (None, None), Decimal("3.60"), None),
    ]


def test_it_reads_the_mode_from_the_section_heading():
    records = parse_fixture()

    assert {r.mode for r in records if r.model == "doubao-seed-2.0-pro"} == {"priority"}
    assert rows(records, "deepseek-r1", mode="batch") == [
        ("input", (None, None), Decimal("2.00"), None),
        ("cached_input", (None, None), Decimal("0.80"), None),
        ("output", (None, None), Decimal("8.00"), None),
    ]
    assert {r.notes["section"] for r in records if r.mode == "batch"} == {"批量推理"}


def test_it_leaves_out_audio_storage_tpm_video_embedding_and_fine_tuned_prices():
    records = parse_fixture()

    assert {r.model for r in records} == {
        "doubao-seed-2.0-lite",
        "doubao-seed-1.6",
        "doubao-seed-translation",
        "glm-4.7",
        "deepseek-v3.2",
        "doubao-seed-2.0-pro",
        "doubao-seed-1.6-flash",
        "deepseek-r1",
    }
    # Audio input (9.0) and cache storage (0.017) are not text-token prices.
    assert Decimal("9.0") not in {r.amount_per_mtok for r in records if r.model == "doubao-seed-2.0-lite"}
    assert Decimal("0.017") not in {r.amount_per_mtok for r in records}
    # The fine-tuned doubao-seed-1.6 (1.60 / 16.00) does not replace the base model's list price.
    assert Decimal("1.60") not in {r.amount_per_mtok for r in records if r.model == "doubao-seed-1.6"}


def test_it_keeps_the_figure_as_printed_and_where_it_was_read():
    first = parse_fixture()[0]

    assert first.original == "0.6 元/百万token"
    assert (
        first.excerpt == "[在线推理（常规）] doubao-seed-2.0-lite | 输入长度 [0, 32] | 输入(非音频) 元/百万token: 0.6"
    )


def test_it_reads_a_thousands_scale_and_open_or_half_open_ranges():
    html = page(HEADER, "<tr><td>m</td><td>输入长度 (128, +∞)</td><td>1</td><td>2</td></tr>")

    assert rows(parse(html), "m") == [
        ("input", (128_001, None), Decimal(1), None),
        ("output", (128_001, None), Decimal(2), None),
    ]


def test_it_rejects_a_page_without_the_price_table():
    with pytest.raises(ParseError, match="no <table>"):
        parse("<html><body><p>模型服务价格</p></body></html>")


def test_it_rejects_tables_that_are_not_token_price_tables():
    html = page(
        "<td>模型</td><td>计费方式</td><td>输入</td><td>输出</td>",
        "<tr><td>m</td><td>包天</td><td>1</td><td>2</td></tr>",
    )

    with pytest.raises(ParseError, match="no model price table"):
        parse(html)


def test_it_rejects_a_price_cell_that_is_not_a_figure():
    html = page(HEADER, "<tr><td>m</td><td>-</td><td>原价1.2 现价0.8</td><td>2</td></tr>")

    with pytest.raises(
        ParseError, match=r"m 输入\(非音频\) 元/百万token: '原价1.2 现价0.8' is neither a price nor '-'"
    ):
        parse(html)


def test_it_rejects_a_condition_without_a_length_range():
    html = page(HEADER, "<tr><td>m</td><td>长文本</td><td>1</td><td>2</td></tr>")

    with pytest.raises(ParseError, match="condition '长文本' has no length range"):
        parse(html)


def test_it_rejects_a_condition_column_without_its_unit():
    html = page(
        HEADER.replace("条件 千 token", "条件"), "<tr><td>m</td><td>输入长度 [0, 32]</td><td>1</td><td>2</td></tr>"
    )

    with pytest.raises(ParseError, match="does not say in which unit"):
        parse(html)


def test_it_drops_the_editors_placeholder_cells_under_a_merged_model_cell():
    html = page(
        HEADER,
        '<tr><td rowspan="2">m</td><td>输入长度 [0, 32]</td><td>1</td><td>2</td></tr>',
        '<tr><td rowspan="0"><span>\u200b</span></td><td>输入长度 (32, 128]</td><td>3</td><td>4</td></tr>',
    )

    assert rows(parse(html), "m") == [
        ("input", (None, 32_000), Decimal(1), None),
        ("output", (None, 32_000), Decimal(2), None),
        ("input", (32_001, 128_000), Decimal(3), None),
        ("output", (32_001, 128_000), Decimal(4), None),
    ]


def test_it_rejects_rows_wider_than_their_header():
    html = page(
        HEADER,
        '<tr><td rowspan="2">m</td><td>-</td><td>1</td><td>2</td></tr>',
        "<tr><td>m</td><td>-</td><td>3</td><td>4</td></tr>",
    )

    with pytest.raises(ParseError, match="more cells than its header"):
        parse(html)

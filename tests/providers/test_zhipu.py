from decimal import Decimal
from pathlib import Path

import pytest

from providers import REGISTRY
from providers.base import OFFICIAL_TRUST, Document, ParseError
from providers.zhipu import Zhipu

FIXTURE = Path(__file__).resolve().parent.parent / "fixtures" / "providers" / "zhipu" / "pricing.html"
UP_TO_32K = (None, 31_999)


def parse(html: str | bytes) -> list:
    content = html.encode() if isinstance(html, str) else html
    return Zhipu().parse(Document(url=Zhipu.urls[0], content=content))


def fixture_records() -> list:
    return parse(FIXTURE.read_bytes())


def rows(records: list, model: str | None = None) -> list[tuple]:
    return [
        (r.component, r.mode, (r.tier_min_tokens, r.tier_max_tokens), r.amount_per_mtok)
        for r in records
        if model is None or r.model == model
    ]


def el_table(header_cells: str, body_rows: str) -> str:
    return (
        '<div class="el-table"><div class="el-table__header-wrapper"><table class="el-table__header"><thead><tr>'
        f"{header_cells}</tr></thead></table></div>"
        '<div class="el-table__body-wrapper"><table class="el-table__body">'
        f"<tbody>{body_rows}</tbody></table></div></div>"
    )


FLAGSHIP_HEADER = (
    '<th><div class="cell"><div>模型名称</div></div></th>'
    '<th><div class="cell"><div>上下文</div><div class="unit">(千tokens)</div></div></th>'
    '<th><div class="cell"><div>输入单价</div><div class="unit">(百万tokens)</div></div></th>'
    '<th><div class="cell"><div>输出单价</div><div class="unit">(百万tokens)</div></div></th>'
)


def test_it_is_registered_as_the_official_zhipu_source():
    assert REGISTRY["zhipu"] is Zhipu
    assert Zhipu.kind == "official"
    assert Zhipu.trust_rank == OFFICIAL_TRUST
    assert Zhipu.urls == ("https://open.bigmodel.cn/pricing",)
    assert Zhipu.hosts == ("open.bigmodel.cn",)


def test_it_reads_a_flagship_row_in_cny_per_1m_tokens_without_its_new_badge():
    records = [r for r in fixture_records() if r.model == "GLM-5.2"]

    assert rows(records) == [
        ("input", "standard", (None, None), Decimal("8")),
        ("output", "standard", (None, None), Decimal("28")),
        ("cached_input", "standard", (None, None), Decimal("2")),
    ]
    assert {r.currency for r in records} == {"CNY"}
    assert records[0].context_window == 1_000_000
    assert records[0].original == "8元 / 百万tokens"
    assert records[0].excerpt == "GLM-5.2 | 1M | 输入单价(百万tokens): 8元"


def test_it_reads_half_open_prompt_length_ranges_in_thousands_of_tokens_as_inclusive_tiers():
    assert rows(fixture_records(), "GLM-5.1") == [
        ("input", "standard", UP_TO_32K, Decimal("6")),
        ("output", "standard", UP_TO_32K, Decimal("24")),
        ("cached_input", "standard", UP_TO_32K, Decimal("1.3")),
        ("input", "standard", (32_000, None), Decimal("8")),
        ("output", "standard", (32_000, None), Decimal("28")),
        ("cached_input", "standard", (32_000, None), Decimal("2")),
    ]
    assert rows(fixture_records(), "GLM-4.5V")[3] == ("input", "standard", (32_000, 63_999), Decimal("4"))


def test_it_tells_output_length_tiers_apart_by_the_output_tier_attribute():
    records = [r for r in fixture_records() if r.model == "GLM-4.7" and r.component == "output"]

    assert [(r.tier_max_tokens, r.attributes.get("output_tier"), r.amount_per_mtok) for r in records] == [
        (31_999, {"min_tokens": None, "max_tokens": 199}, Decimal("8")),
        (31_999, {"min_tokens": 200, "max_tokens": None}, Decimal("14")),
        (199_999, None, Decimal("16")),
    ]
    assert len({r.key for r in fixture_records()}) == len(fixture_records())


def test_it_records_a_single_token_price_as_input_and_output_and_the_batch_column_as_batch_mode():
    records = [r for r in fixture_records() if r.model == "GLM-4-Plus"]

    assert rows(records) == [
        ("input", "standard", (None, None), Decimal("5")),
        ("output", "standard", (None, None), Decimal("5")),
        ("input", "batch", (None, None), Decimal("2.5")),
        ("output", "batch", (None, None), Decimal("2.5")),
    ]
    assert all(r.notes == {"single_price": True} for r in records)
    assert records[0].context_window == 128_000
    assert records[2].excerpt == "GLM-4-Plus | Batch API 定价: 2.5 元 / 百万Tokens"


def test_it_reads_the_legacy_models_list_outside_the_tabs():
    assert rows(fixture_records(), "GLM-4-0520") == [
        ("input", "standard", (None, None), Decimal("100")),
        ("output", "standard", (None, None), Decimal("100")),
        ("input", "batch", (None, None), Decimal("50")),
        ("output", "batch", (None, None), Decimal("50")),
    ]


def test_it_skips_free_rows_unsupported_batch_cells_and_the_cache_storage_fee():
    models = {r.model for r in fixture_records()}

    assert not models & {"GLM-4.7-Flash", "GLM-4-Flash-250414", "GLM-4-Flash"}
    assert rows(fixture_records(), "GLM-4-AirX") == [
        ("input", "standard", (None, None), Decimal("10")),
        ("output", "standard", (None, None), Decimal("10")),
    ]
    assert not any("缓存存储" in r.excerpt for r in fixture_records())


def test_it_skips_embeddings_rerank_per_call_prices_and_fine_tuning_but_keeps_vertical_text_models():
    models = {r.model for r in fixture_records()}

    assert not models & {"Embedding-3", "Rerank", "CogView-4"}
    assert ("GLM-4.5-Air", "standard") not in {(r.model, r.mode) for r in fixture_records()}
    assert rows(fixture_records(), "CodeGeeX-4") == [
        ("input", "standard", (None, None), Decimal("0.1")),
        ("output", "standard", (None, None), Decimal("0.1")),
    ]


def test_it_reads_a_prompt_tier_open_at_the_top_and_a_price_per_thousand_tokens():
    html = el_table(
        FLAGSHIP_HEADER,
        '<tr><td rowspan="2"><div class="cell"><div class="name-box"><p>GLM-X</p></div></div></td>'
        "<td><div class=cell><p>输入长度 [0, 128)</p></div></td><td>1元</td><td>2元</td></tr>"
        "<tr><td><div class=cell><p>输入长度 [128+)</p></div></td><td>3元</td><td>6元</td></tr>",
    ) + el_table(
        '<th><div class="cell">模型</div></th><th><div class="cell">单价</div></th>',
        "<tr><td>GLM-Old</td><td>0.005 元 / 千tokens</td></tr>",
    )

    assert [(r.model, *row) for r, row in zip(parse(html), rows(parse(html)), strict=True)] == [
        ("GLM-X", "input", "standard", (None, 127_999), Decimal("1")),
        ("GLM-X", "output", "standard", (None, 127_999), Decimal("2")),
        ("GLM-X", "input", "standard", (128_000, None), Decimal("3")),
        ("GLM-X", "output", "standard", (128_000, None), Decimal("6")),
        ("GLM-Old", "input", "standard", (None, None), Decimal("5")),
        ("GLM-Old", "output", "standard", (None, None), Decimal("5")),
    ]


def test_it_rejects_the_empty_app_shell():
    with pytest.raises(ParseError, match="no <table> on the page"):
        parse('<html><body><div id="app"></div><script src="/js/app.js"></script></body></html>')


def test_it_rejects_a_page_whose_tables_are_not_price_lists():
    html = el_table(
        '<th><div class="cell">工具名称</div></th><th><div class="cell">单价</div></th>',
        "<tr><td>Search-Std</td><td>0.01元 / 次</td></tr>",
    )

    with pytest.raises(ParseError, match="no price list"):
        parse(html)


def test_it_rejects_a_price_cell_it_cannot_read():
    html = el_table(
        FLAGSHIP_HEADER,
        '<tr><td><div class="name-box"><p>GLM-5.2</p></div></td><td><p>1M</p></td><td>8元</td><td>请咨询</td></tr>',
    )

    with pytest.raises(ParseError, match=r"GLM-5\.2 输出单价"):
        parse(html)

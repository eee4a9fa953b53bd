from decimal import Decimal
from pathlib import Path

import pytest

from providers import REGISTRY
from providers.base import OFFICIAL_TRUST, Document, ParseError
from providers.tencent import Tencent

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "providers" / "tencent"
CN_HEADER = (
    "<tr><td>模型名称</td><td>条件（token）</td><td>推理输入（元/百万 tokens）</td>"
    "<td>推理输出（元/百万 tokens）</td><td>缓存命中（元/百万 tokens）</td></tr>"
)


def parse(content: str | bytes) -> list:
    raw = content.encode() if isinstance(content, str) else content
    return Tencent().parse(Document(url=Tencent.urls[0], content=raw))


def parse_fixture(name: str) -> list:
    return parse((FIXTURES / name).read_bytes())


def find(records: list, model: str, component: str, **attributes: str | None) -> list:
    return [
        r
        for r in records
        if r.model == model
        and r.component == component
        and all(r.attributes.get(name) == value for name, value in attributes.items())
    ]


def rows(records: list) -> list[tuple]:
    return [(r.component, (r.tier_min_tokens, r.tier_max_tokens), r.amount_per_mtok) for r in records]


def test_it_is_registered_as_the_official_tencent_source_for_both_sites():
    assert REGISTRY["tencent"] is Tencent
    assert Tencent.kind == "official"
    assert Tencent.trust_rank == OFFICIAL_TRUST
    assert Tencent.urls == (
        "https://cloud.tencent.com/document/product/1823/130055",
        "https://www.tencentcloud.com/zh/document/product/1300/78937",
    )
    assert Tencent.hosts == ("cloud.tencent.com", "www.tencentcloud.com")


def test_it_reads_the_china_page_in_cny_with_the_region_of_each_tab():
    records = parse_fixture("tokenhub_price_cn.html")

    assert {r.currency for r in records} == {"CNY"}
    assert rows(find(records, "GLM-5.2", "input", region="广州")) == [("input", (None, None), Decimal("8"))]
    assert rows(find(records, "GLM-5.2", "input", region="新加坡")) == [("input", (None, None), Decimal("10.254"))]
    [singapore_output] = find(records, "GLM-5.2", "output", region="新加坡")
    assert singapore_output.amount_per_mtok == Decimal("32.2282")
    assert singapore_output.original == "32.2282 元/百万 tokens"


def test_it_continues_a_tiered_row_past_the_hidden_placeholder_cells():
    records = parse_fixture("tokenhub_price_cn.html")

    assert rows(find(records, "Hy3 preview", "cached_input", region="广州")) == [
        ("cached_input", (None, 15999), Decimal("0.4")),
        ("cached_input", (16000, 31999), Decimal("0.6")),
        ("cached_input", (32000, None), Decimal("0.8")),
    ]
    assert rows(find(records, "GLM-5.1", "output", region="广州")) == [
        ("output", (None, 32000), Decimal("24")),
        ("output", (32001, None), Decimal("28")),
    ]
    assert rows(find(records, "Qwen3.5-Plus", "input", region="广州")) == [
        ("input", (None, 128000), Decimal("0.8")),
        ("input", (128001, 256000), Decimal("2")),
        ("input", (256001, 1_000_000), Decimal("4")),
    ]
    assert not any("\ufeff" in r.model for r in records)


def test_it_keeps_the_supply_variant_as_an_attribute_and_the_bare_row_without_one():
    records = parse_fixture("tokenhub_price_cn.html")

    cached = find(records, "DeepSeek-V4-Flash", "cached_input", region="广州")
    assert {r.attributes.get("variant"): r.amount_per_mtok for r in cached} == {
        "原厂直供": Decimal("0.02"),
        None: Decimal("0.2"),
    }
    [direct] = [r for r in cached if r.attributes.get("variant")]
    assert direct.notes["edition"] == "正式版"
    assert direct.notes["page_label"] == "DeepSeek-V4-Flash 正式版 原厂直供"
    assert len({r.key for r in cached}) == 2


def test_it_strips_retirement_notes_from_the_model_name():
    records = parse_fixture("tokenhub_price_cn.html")

    [retiring] = find(records, "MiniMax-M2.5", "cached_input", region="新加坡")
    assert retiring.notes["qualifier"] == "2026-08-07 下线"
    assert {r.model for r in records} >= {"Hy3 preview", "MiniMax-M2.5"}


def test_it_skips_dash_cells_and_tables_without_token_price_columns():
    records = parse_fixture("tokenhub_price_cn.html")

    assert sorted(r.component for r in records if r.model == "Hy-MT2-Pro") == ["input", "output"]
    models = {r.model for r in records}
    assert "Hy-Image-3.0" not in models  # priced per image
    assert "Kinfra-VL-Embedding-2b" not in models  # embeddings, by kind of input


def test_it_reads_tables_outside_the_tabs_without_a_region_and_batch_tables_as_batch():
    records = parse_fixture("tokenhub_price_cn.html")

    [vision] = find(records, "YT-VITA", "output")
    assert (vision.mode, vision.attributes, vision.amount_per_mtok) == ("standard", {}, Decimal("3.5"))
    batch = [r for r in records if r.model == "GLM-5"]
    assert {r.mode for r in batch} == {"batch"}
    assert rows([r for r in batch if r.component == "input"]) == [
        ("input", (None, 32000), Decimal("2")),
        ("input", (32001, None), Decimal("3")),
    ]


def test_it_reads_the_international_page_in_usd_with_its_own_tier_notation():
    records = parse_fixture("tokenhub_price_intl.html")

    assert {r.currency for r in records} == {"USD"}
    assert rows(find(records, "GLM-5.1", "input", region="广州")) == [
        ("input", (None, 31999), Decimal("0.84")),
        ("input", (32000, None), Decimal("1.12")),
    ]
    assert rows(find(records, "GLM-5.1", "input", region="新加坡")) == [("input", (None, None), Decimal("1.4"))]
    assert rows(find(records, "MiniMax-M3", "output", region="广州")) == [
        ("output", (None, 512000), Decimal("1.2")),
        ("output", (512001, None), Decimal("2.4")),
    ]
    [direct] = find(records, "DeepSeek-V4-Flash", "cached_input", region="新加坡", variant="原厂直供")
    assert direct.amount_per_mtok == Decimal("0.0028")
    assert "Kinfra-Text-Embedding-0.6b" not in {r.model for r in records}


def test_it_fails_loudly_on_a_page_without_price_tables():
    with pytest.raises(ParseError, match="no <table>"):
        parse("<html><body><h2>语言模型</h2><p>价格请咨询</p></body></html>")
    with pytest.raises(ParseError, match="推理输入"):
        parse(
            "<html><body><table><tr><td>模型名称</td><td>输出消耗</td></tr><tr><td>HY-3D</td><td>15积分</td></tr></table></body></html>"
        )


def test_it_rejects_a_price_cell_it_cannot_read_and_a_condition_it_cannot_place():
    bad_price = f"<table>{CN_HEADER}<tr><td>Hy3</td><td>-</td><td>1..2</td><td>4</td><td>-</td></tr></table>"
    bad_condition = (
        f"<table>{CN_HEADER}<tr><td>Hy3</td><td>输入长度 16k</td><td>1</td><td>4</td><td>-</td></tr></table>"
    )

    with pytest.raises(ParseError, match="cannot read the price"):
        parse(bad_price)
    with pytest.raises(ParseError, match="cannot read the condition"):
        parse(bad_condition)

import json
from decimal import Decimal
from pathlib import Path

import pytest

from providers import REGISTRY
from providers.alibaba import Alibaba
from providers.base import OFFICIAL_TRUST, Document, ParseError

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "providers" / "alibaba"
BEIJING, FRANKFURT, SINGAPORE = "华北2（北京）", "德国（法兰克福）", "新加坡"


def parse(content: str | bytes) -> list:
    raw = content.encode() if isinstance(content, str) else content
    return Alibaba().parse(Document(url=Alibaba.urls[0], content=raw))


def parse_fixture(name: str) -> list:
    return parse((FIXTURES / name).read_bytes())


def helpdoc(html: str) -> str:
    return json.dumps({"code": 200, "data": {"content": html}, "success": True}, ensure_ascii=False)


def find(records: list, model: str, component: str, **attributes: str) -> list:
    return [
        r
        for r in records
        if r.model == model
        and r.component == component
        and all(r.attributes.get(name) == value for name, value in attributes.items())
    ]


def amounts(records: list) -> list[tuple]:
    return [((r.tier_min_tokens, r.tier_max_tokens), r.amount_per_mtok) for r in records]


def test_it_is_registered_as_the_official_alibaba_source_for_both_documents():
    assert REGISTRY["alibaba"] is Alibaba
    assert Alibaba.kind == "official"
    assert Alibaba.trust_rank == OFFICIAL_TRUST
    assert Alibaba.hosts == ("help.aliyun.com",)
    assert Alibaba.urls[0].startswith("https://help.aliyun.com/help/json/document_detail.json?alias=")
    assert Alibaba.urls[1] == "https://help.aliyun.com/zh/hologres/user-guide/managed-models-billing"


def test_it_reads_model_studio_prices_in_cny_per_million_tokens_with_prompt_tiers_and_regions():
    records = parse_fixture("model_pricing_helpdoc.json")

    qwen3_max = find(records, "qwen3-max", "input", region=BEIJING)
    assert amounts(qwen3_max) == [
        ((None, 32000), Decimal("2.5")),
        ((32001, 128000), Decimal("4")),
        ((128001, 256000), Decimal("7")),
    ]
    assert {r.currency for r in records} == {"CNY"}
    assert all(r.mode == "standard" for r in records)
    assert qwen3_max[0].attributes == {"region": BEIJING}
    assert qwen3_max[0].original == "2.5元 / 每百万Token"


def test_it_keeps_the_list_price_of_a_time_limited_discount_and_notes_the_discount():
    [price] = find(parse_fixture("model_pricing_helpdoc.json"), "qwen3.7-max", "output", region=BEIJING)

    assert price.amount_per_mtok == Decimal("36")
    assert (price.tier_min_tokens, price.tier_max_tokens) == (None, 1_000_000)
    assert price.notes["discount"] == "限时5折"
    assert price.notes["badges"].startswith("当前能力等同于qwen3.7-max-2026-05-20")


def test_it_tells_deployment_scopes_apart_within_one_region():
    records = parse_fixture("model_pricing_helpdoc.json")

    global_scope = find(records, "qwen3-max", "input", region=FRANKFURT, deploy_scope="全球")
    eu_scope = find(records, "qwen3-max", "input", region=FRANKFURT, deploy_scope="欧盟")
    assert amounts(global_scope) == [((None, 32000), Decimal("2.5")), ((32001, 128000), Decimal("4"))]
    assert amounts(eu_scope) == [((None, 32000), Decimal("8.993")), ((32001, 128000), Decimal("17.986"))]
    [us_only] = find(records, "qwen3.7-max-us", "input")
    assert us_only.attributes == {"region": "美国（弗吉尼亚）", "deploy_scope": "美国"}
    assert us_only.amount_per_mtok == Decimal("18.736")


def test_it_splits_an_output_price_by_thinking_mode_when_the_header_does():
    records = parse_fixture("model_pricing_helpdoc.json")

    outputs = find(records, "qwen-plus", "output", region=BEIJING)
    by_mode = {(r.attributes["thinking"], r.tier_max_tokens): r.amount_per_mtok for r in outputs}
    assert by_mode == {
        ("non-thinking", 128000): Decimal("2"),
        ("thinking", 128000): Decimal("8"),
        ("non-thinking", 256000): Decimal("20"),
        ("thinking", 256000): Decimal("24"),
        ("non-thinking", 1000000): Decimal("48"),
        ("thinking", 1000000): Decimal("64"),
    }
    inputs = find(records, "qwen-plus", "input", region=BEIJING)
    assert all("thinking" not in r.attributes for r in inputs)


def test_it_reads_an_untiered_row_and_the_more_models_table_under_the_same_region():
    [price] = find(parse_fixture("model_pricing_helpdoc.json"), "qwen-max", "input")

    assert (price.tier_min_tokens, price.tier_max_tokens) == (None, None)
    assert price.attributes == {"region": BEIJING}
    assert price.amount_per_mtok == Decimal("2.4")


def test_it_skips_free_retired_and_modality_priced_rows_and_non_text_sections():
    models = {r.model for r in parse_fixture("model_pricing_helpdoc.json")}

    assert "deepseek-r1-distill-qwen-1.5b" not in models  # 限时免费
    assert "deepseek-r1-distill-llama-8b" not in models  # 已下线
    assert "qwen3.5-omni-plus" not in models  # prices split by input modality
    assert "qwen-image-plus" not in models  # 图像生成: per image
    assert {"deepseek-v4-flash", "qwen-plus", "qwen3.8-max"} <= models


def test_it_keeps_the_same_id_in_two_regions_as_two_offerings():
    records = find(parse_fixture("model_pricing_helpdoc.json"), "deepseek-v4-flash", "input")

    assert {r.attributes["region"]: r.amount_per_mtok for r in records} == {
        BEIJING: Decimal("1"),
        SINGAPORE: Decimal("1.499"),
    }
    assert len({r.key for r in records}) == 2


def test_it_reads_hologres_per_thousand_token_prices_as_exact_per_million_amounts():
    records = parse_fixture("hologres_managed_models_billing.html")

    mainland = "北京/上海/杭州/深圳"
    assert [
        (r.component, r.attributes.get("cache_type"), r.amount_per_mtok)
        for r in find(records, "Qwen3.7-Max", "input", region=mainland)
        + find(records, "Qwen3.7-Max", "cache_write_5m", region=mainland)
        + find(records, "Qwen3.7-Max", "cached_input", region=mainland)
        + find(records, "Qwen3.7-Max", "output", region=mainland)
    ] == [
        ("input", None, Decimal("14.4")),
        ("cache_write_5m", "explicit", Decimal("18")),
        ("cached_input", "explicit", Decimal("1.44")),
        ("cached_input", "implicit", Decimal("2.88")),
        ("output", None, Decimal("43.2")),
    ]
    assert {r.currency for r in records} == {"CNY"}
    [singapore] = find(records, "Qwen3.7-Max", "output", region="新加坡")
    assert singapore.amount_per_mtok == Decimal("67.45")
    assert singapore.original == "0.06745 元/千 Token"


def test_it_reads_hologres_tiers_and_skips_dashes_embeddings_and_per_image_prices():
    records = parse_fixture("hologres_managed_models_billing.html")

    plus = find(records, "Qwen3.7-Plus", "input")
    assert amounts(plus) == [((None, 256000), Decimal("2.4")), ((256001, 1_000_000), Decimal("7.2"))]
    assert sorted(r.component for r in records if r.model == "Qwen-MT-Plus") == ["input", "output"]
    assert not {"Text-Embedding-V4", "Qwen-Image-2.0-Pro"} & {r.model for r in records}


def test_it_tells_the_two_documents_apart_by_content_not_by_url():
    hologres = (FIXTURES / "hologres_managed_models_billing.html").read_bytes()

    records = Alibaba().parse(Document(url=Alibaba.urls[0], content=hologres))

    assert {r.model for r in records} == {"Qwen3.7-Max", "Qwen3.7-Plus", "Qwen-MT-Plus"}


def test_it_fails_loudly_on_json_that_is_not_the_help_centre_answer():
    with pytest.raises(ParseError, match="not JSON"):
        parse("{not json")
    with pytest.raises(ParseError, match=r"data\.content"):
        parse(json.dumps({"code": 200, "data": {"title": "模型调用计费"}}))


def test_it_fails_loudly_when_no_price_table_is_left():
    with pytest.raises(ParseError, match="no <table>"):
        parse(helpdoc("<div><h2>文本生成-千问</h2><p>价格调整中</p></div>"))
    with pytest.raises(ParseError, match="neither"):
        parse("<html><body><table><tr><td>foo</td><td>bar</td></tr></table></body></html>")


def test_it_fails_loudly_when_text_generation_tables_hold_no_price():
    html = (
        "<div><h2>文本生成-千问</h2><h3>千问Max</h3><h4>华北2（北京）</h4><table>"
        "<tr><td><p>模型 ID（Model ID）</p></td><td><p>输入单价（每百万Token）</p></td></tr>"
        "<tr><td><p>qwen-max</p></td><td><p>限时免费</p></td></tr></table></div>"
    )

    with pytest.raises(ParseError, match="文本生成"):
        parse(helpdoc(html))


def test_it_rejects_a_tier_it_cannot_place():
    html = (
        "<div><h2>文本生成-千问</h2><h3>千问Max</h3><h4>华北2（北京）</h4><table>"
        "<tr><td><p>模型 ID（Model ID）</p></td><td><p>单次请求的输入Token数</p></td>"
        "<td><p>输入单价（每百万Token）</p></td></tr>"
        "<tr><td><p>qwen-max</p></td><td><p>32K</p></td><td><p>2元</p></td></tr></table></div>"
    )

    with pytest.raises(ParseError, match="tier '32K'"):
        parse(helpdoc(html))

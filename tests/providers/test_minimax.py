from decimal import Decimal
from pathlib import Path

import pytest

from providers import REGISTRY
from providers.base import OFFICIAL_TRUST, Document, ParseError
from providers.minimax import MiniMax

FIXTURE = Path(__file__).resolve().parent.parent / "fixtures" / "providers" / "minimax" / "api_enterprise.html"
GRID = '<div class="grid items-center">'
HEADER = (
    '<div class="grid items-end"><div>模型</div><div><span>输入价格</span><span>百万 tokens</span></div>'
    "<div><span>输出价格</span><span>百万 tokens</span></div></div>"
)


def parse(html: str | bytes) -> list:
    content = html.encode() if isinstance(html, str) else html
    return MiniMax().parse(Document(url=MiniMax.urls[0], content=content))


def rows(records: list) -> list[tuple]:
    return [(r.model, r.component, r.mode, (r.tier_min_tokens, r.tier_max_tokens), r.amount_per_mtok) for r in records]


def page(*grids: str, tabs: str = "") -> str:
    card = f'<div class="bg-ui-card">{tabs}<div class="min-w-[640px]">{"".join(grids)}</div></div>'
    return f'<div class="w-full"><div class="mb-5"><h2>语言模型</h2></div><div class="flex">{card}</div></div>'


def test_it_is_registered_as_the_official_minimax_source():
    assert REGISTRY["minimax"] is MiniMax
    assert MiniMax.kind == "official"
    assert MiniMax.trust_rank == OFFICIAL_TRUST
    assert MiniMax.urls == ("https://platform.minimaxi.com/subscribe/token-plan?tab=api-enterprise",)
    assert MiniMax.hosts == ("platform.minimaxi.com",)


def test_it_reads_the_price_charged_not_the_struck_list_price_with_prompt_length_tiers():
    records = [r for r in parse(FIXTURE.read_bytes()) if r.model == "MiniMax-M3"]

    assert rows(records) == [
        ("MiniMax-M3", "input", "standard", (None, 512_000), Decimal("2.1")),
        ("MiniMax-M3", "output", "standard", (None, 512_000), Decimal("8.4")),
        ("MiniMax-M3", "cached_input", "standard", (None, 512_000), Decimal("0.42")),
        ("MiniMax-M3", "input", "standard", (512_001, 1_000_000), Decimal("4.2")),
        ("MiniMax-M3", "output", "standard", (512_001, 1_000_000), Decimal("16.8")),
        ("MiniMax-M3", "cached_input", "standard", (512_001, 1_000_000), Decimal("0.84")),
    ]
    assert {r.currency for r in records} == {"CNY"}


def test_it_keeps_the_list_price_and_the_discount_badge_as_notes_and_both_figures_in_the_excerpt():
    m3_input = parse(FIXTURE.read_bytes())[0]

    assert m3_input.notes == {"list_price": "¥4.2", "discount": "永久五折"}
    assert m3_input.original == "¥2.1 / 百万 tokens"
    assert m3_input.excerpt == "MiniMax-M3 上下文 ≤ 512K 永久五折 | 输入价格: ¥4.2 (struck) ¥2.1"


def test_it_reads_the_second_card_with_cache_writes():
    records = [r for r in parse(FIXTURE.read_bytes()) if r.model.startswith("MiniMax-M2.7")]

    assert rows(records) == [
        ("MiniMax-M2.7", "input", "standard", (None, None), Decimal("2.1")),
        ("MiniMax-M2.7", "output", "standard", (None, None), Decimal("8.4")),
        ("MiniMax-M2.7", "cached_input", "standard", (None, None), Decimal("0.42")),
        ("MiniMax-M2.7", "cache_write_5m", "standard", (None, None), Decimal("2.625")),
        ("MiniMax-M2.7-highspeed", "input", "standard", (None, None), Decimal("4.2")),
        ("MiniMax-M2.7-highspeed", "output", "standard", (None, None), Decimal("16.8")),
        ("MiniMax-M2.7-highspeed", "cached_input", "standard", (None, None), Decimal("0.42")),
        ("MiniMax-M2.7-highspeed", "cache_write_5m", "standard", (None, None), Decimal("2.625")),
    ]
    assert all(r.notes == {} for r in records)


def test_it_leaves_video_and_music_tables_alone():
    models = {r.model for r in parse(FIXTURE.read_bytes())}

    assert models == {"MiniMax-M3", "MiniMax-M2.7", "MiniMax-M2.7-highspeed"}


def test_it_reads_the_selected_priority_tab_as_priority_mode():
    tabs = (
        '<div role="tablist"><button role="tab" aria-selected="false">标准</button>'
        '<button role="tab" aria-selected="true">优先</button></div>'
    )
    html = page(
        HEADER,
        f"{GRID}<div><span>MiniMax-M3</span></div><div><span>¥4.2</span></div><div><span>¥16.8</span></div></div>",
        tabs=tabs,
    )

    assert rows(parse(html)) == [
        ("MiniMax-M3", "input", "priority", (None, None), Decimal("4.2")),
        ("MiniMax-M3", "output", "priority", (None, None), Decimal("16.8")),
    ]


def test_it_reads_a_tier_open_at_the_top():
    html = page(
        HEADER,
        f"{GRID}<div><span>MiniMax-M3</span><div><span>上下文 &gt; 512K</span></div></div>"
        "<div><span>¥4.2</span></div><div><span>¥16.8</span></div></div>",
    )

    assert {(r.tier_min_tokens, r.tier_max_tokens) for r in parse(html)} == {(512_001, None)}


def test_it_rejects_a_page_without_the_language_models_heading():
    with pytest.raises(ParseError, match='no "语言模型"'):
        parse("<html><body><h2>多模态生成</h2><table><tr><td>MiniMax-Hailuo-2.3</td></tr></table></body></html>")


def test_it_rejects_a_section_without_price_grids():
    with pytest.raises(ParseError, match="no price grid"):
        parse('<div><div><h2>语言模型</h2></div><div class="grid"><div>套餐</div><div>¥49 / 月</div></div></div>')


def test_it_rejects_a_price_cell_it_cannot_read():
    html = page(
        HEADER, f"{GRID}<div><span>MiniMax-M3</span></div><div><span>¥2.1</span></div><div>联系销售</div></div>"
    )

    with pytest.raises(ParseError, match="MiniMax-M3 输出价格"):
        parse(html)

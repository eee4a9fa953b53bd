from decimal import Decimal
from pathlib import Path

import pytest

from providers import REGISTRY
from providers.base import OFFICIAL_TRUST, Document, ParseError
from providers.moonshot import Moonshot

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "providers" / "moonshot"
HEADER = (
    "<tr><th>模型</th><th>计费单位</th><th>输入价格（缓存命中）</th><th>输入价格（缓存未命中）</th>"
    "<th>输出价格</th></tr>"
)


def parse(html: str | bytes, url: str = Moonshot.urls[0]) -> list:
    content = html.encode() if isinstance(html, str) else html
    return Moonshot().parse(Document(url=url, content=content))


def rows(records: list) -> list[tuple]:
    return [(r.model, r.component, r.amount_per_mtok, r.currency) for r in records]


def table(*rows_html: str, header: str = HEADER) -> str:
    return f"<html><body><table><thead>{header}</thead><tbody>{''.join(rows_html)}</tbody></table></body></html>"


def test_it_is_registered_as_the_official_moonshot_source_with_one_url_per_pricing_page():
    assert REGISTRY["moonshot"] is Moonshot
    assert Moonshot.kind == "official"
    assert Moonshot.trust_rank == OFFICIAL_TRUST
    assert Moonshot.hosts == ("platform.kimi.com",)
    assert len(Moonshot.urls) == 3


def test_it_reads_every_model_row_in_cny_per_1m_tokens():
    records = parse((FIXTURES / "chat_k27_code.html").read_bytes())

    assert rows(records) == [
        ("kimi-k2.7-code", "cached_input", Decimal("1.30"), "CNY"),
        ("kimi-k2.7-code", "input", Decimal("6.50"), "CNY"),
        ("kimi-k2.7-code", "output", Decimal("27.00"), "CNY"),
        ("kimi-k2.7-code-highspeed", "cached_input", Decimal("2.60"), "CNY"),
        ("kimi-k2.7-code-highspeed", "input", Decimal("13.00"), "CNY"),
        ("kimi-k2.7-code-highspeed", "output", Decimal("54.00"), "CNY"),
    ]
    assert {(r.mode, r.tier_min_tokens, r.tier_max_tokens) for r in records} == {("standard", None, None)}


def test_it_reads_any_of_the_pages_the_same_way_whatever_url_it_is_given():
    content = (FIXTURES / "chat_k26.html").read_bytes()

    assert rows(parse(content, url=Moonshot.urls[2])) == rows(parse(content, url=Moonshot.urls[0]))
    assert rows(parse(content)) == [
        ("kimi-k2.6", "cached_input", Decimal("1.10"), "CNY"),
        ("kimi-k2.6", "input", Decimal("6.50"), "CNY"),
        ("kimi-k2.6", "output", Decimal("27.00"), "CNY"),
    ]


def test_it_keeps_the_figure_as_printed_the_context_window_and_the_row():
    cached = parse((FIXTURES / "chat_k26.html").read_bytes())[0]

    assert cached.original == "¥1.10 / 1M tokens"
    assert cached.context_window == 262_144
    assert cached.excerpt == "输入价格（缓存命中）: kimi-k2.6 | 1M tokens | ¥1.10 | ¥6.50 | ¥27.00 | 262,144 tokens"


def test_it_prices_a_row_by_its_billing_unit():
    html = table("<tr><td>moonshot-v1-8k</td><td>1K tokens</td><td>-</td><td>¥0.012</td><td>¥0.012</td></tr>")

    assert rows(parse(html)) == [
        ("moonshot-v1-8k", "input", Decimal("12"), "CNY"),
        ("moonshot-v1-8k", "output", Decimal("12"), "CNY"),
    ]


def test_it_skips_cells_without_a_price_and_tables_that_are_not_price_lists():
    html = table("<tr><td>kimi-latest</td><td>1M tokens</td><td>-</td><td>¥2.00</td><td>¥10.00</td></tr>") + (
        "<table><tr><th>项目</th><th>说明</th></tr><tr><td>联网搜索</td><td>¥0.03 / 次</td></tr></table>"
    )

    assert rows(parse(html)) == [
        ("kimi-latest", "input", Decimal("2.00"), "CNY"),
        ("kimi-latest", "output", Decimal("10.00"), "CNY"),
    ]


def test_it_reads_usd_when_the_page_prints_dollars():
    html = table(
        "<tr><td>kimi-k2.6</td><td>1M tokens</td><td>$0.16</td><td>$0.95</td><td>$4.00</td></tr>",
        header="<tr><th>Model</th><th>Unit</th><th>Input Price (Cache Hit)</th><th>Input Price (Cache Miss)</th>"
        "<th>Output Price</th></tr>",
    )

    assert rows(parse(html)) == [
        ("kimi-k2.6", "cached_input", Decimal("0.16"), "USD"),
        ("kimi-k2.6", "input", Decimal("0.95"), "USD"),
        ("kimi-k2.6", "output", Decimal("4.00"), "USD"),
    ]


def test_it_rejects_a_page_without_a_table():
    with pytest.raises(ParseError, match="no <table> on the page"):
        parse("<html><body><h2>产品定价</h2><p>请前往控制台查看。</p></body></html>")


def test_it_rejects_a_page_whose_tables_have_no_model_price_columns():
    html = "<table><tr><th>模型</th><th>上下文窗口</th></tr><tr><td>kimi-k2.6</td><td>262,144 tokens</td></tr></table>"

    with pytest.raises(ParseError, match="no price table"):
        parse(html)


def test_it_rejects_a_price_cell_it_cannot_read():
    html = table("<tr><td>kimi-k2.6</td><td>1M tokens</td><td>¥1.10</td><td>see console</td><td>¥27.00</td></tr>")

    with pytest.raises(ParseError, match=r"kimi-k2\.6 输入价格（缓存未命中）"):
        parse(html)

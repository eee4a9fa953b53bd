import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest

from providers import REGISTRY
from providers.base import OFFICIAL_TRUST, Document, ParseError
from providers.deepseek import DeepSeek

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "providers" / "deepseek"
SEPT_5 = dt.datetime(2025, 9, 5, 16, 0, tzinfo=dt.UTC)
FEB_8 = dt.datetime(2025, 2, 8, 16, 0, tzinfo=dt.UTC)


def parse(html: str | bytes) -> list:
    content = html.encode() if isinstance(html, str) else html
    return DeepSeek().parse(Document(url=DeepSeek.urls[0], content=content))


def parse_fixture(name: str) -> list:
    return parse((FIXTURES / name).read_bytes())


def rows(records: list) -> list[tuple]:
    return [
        (r.model, r.component, r.mode, (r.tier_min_tokens, r.tier_max_tokens), r.amount_per_mtok, r.currency)
        for r in records
    ]


def prices(model: str, mode: str, currency: str, **amounts: str) -> list[tuple]:
    return [(model, component, mode, (None, None), Decimal(amount), currency) for component, amount in amounts.items()]


def table(*rows_html: str, header: str = '<tr><td colspan="2">MODEL</td><td>deepseek-chat</td></tr>') -> str:
    return f"<html><body><article><table>{header}{''.join(rows_html)}</table></article></body></html>"


def test_it_is_registered_as_the_official_deepseek_source():
    assert REGISTRY["deepseek"] is DeepSeek
    assert DeepSeek.kind == "official"
    assert DeepSeek.trust_rank == OFFICIAL_TRUST
    assert DeepSeek.hosts == ("api-docs.deepseek.com",)
    assert DeepSeek.urls == (
        "https://api-docs.deepseek.com/quick_start/pricing",
        "https://api-docs.deepseek.com/zh-cn/quick_start/pricing",
    )


def test_it_reads_the_english_page_in_usd_with_merged_price_cells_for_every_model():
    records = parse_fixture("pricing_en.html")

    assert rows(records) == [
        ("deepseek-chat", "cached_input", "standard", (None, None), Decimal("0.028"), "USD"),
        ("deepseek-reasoner", "cached_input", "standard", (None, None), Decimal("0.028"), "USD"),
        ("deepseek-chat", "input", "standard", (None, None), Decimal("0.28"), "USD"),
        ("deepseek-reasoner", "input", "standard", (None, None), Decimal("0.28"), "USD"),
        ("deepseek-chat", "output", "standard", (None, None), Decimal("0.42"), "USD"),
        ("deepseek-reasoner", "output", "standard", (None, None), Decimal("0.42"), "USD"),
    ]


def test_it_reads_the_chinese_page_in_cny_without_converting():
    records = parse_fixture("pricing_zh_cn.html")

    assert rows(records) == [
        ("deepseek-v4-flash", "cached_input", "standard", (None, None), Decimal("0.02"), "CNY"),
        ("deepseek-v4-pro", "cached_input", "standard", (None, None), Decimal("0.025"), "CNY"),
        ("deepseek-v4-flash", "input", "standard", (None, None), Decimal("1"), "CNY"),
        ("deepseek-v4-pro", "input", "standard", (None, None), Decimal("3"), "CNY"),
        ("deepseek-v4-flash", "output", "standard", (None, None), Decimal("2"), "CNY"),
        ("deepseek-v4-pro", "output", "standard", (None, None), Decimal("6"), "CNY"),
    ]


def test_it_strips_footnote_markers_from_model_ids():
    models = {r.model for r in parse_fixture("pricing_zh_cn.html")}

    assert models == {"deepseek-v4-flash", "deepseek-v4-pro"}


def test_it_keeps_the_figure_as_printed_and_where_it_was_read():
    flash_cached = parse_fixture("pricing_zh_cn.html")[0]

    assert flash_cached.original == "0.02元 / 百万tokens"
    assert flash_cached.excerpt == "价格 百万tokens输入（缓存命中）: deepseek-v4-flash 0.02元"
    assert parse_fixture("pricing_en.html")[0].original == "$0.028 / 1M tokens"


def test_it_carries_model_version_and_context_length_along():
    chat, reasoner = parse_fixture("pricing_en.html")[:2]

    assert (chat.model_name, chat.context_window) == ("DeepSeek-V3.2 (Non-thinking Mode)", 128_000)
    assert (reasoner.model_name, reasoner.context_window) == ("DeepSeek-V3.2 (Thinking Mode)", 128_000)
    assert chat.provider == "deepseek"
    assert chat.creator == "deepseek"


def test_it_reads_the_off_peak_block_as_off_peak_mode_with_its_utc_hours():
    records = parse_fixture("pricing_en_2025-03_off_peak.html")

    assert sorted(rows(records), key=repr) == sorted(
        [
            *prices("deepseek-chat", "standard", "USD", cached_input="0.07", input="0.27", output="1.10"),
            *prices("deepseek-reasoner", "standard", "USD", cached_input="0.14", input="0.55", output="2.19"),
            *prices("deepseek-chat", "off_peak", "USD", cached_input="0.035", input="0.135", output="0.550"),
            *prices("deepseek-reasoner", "off_peak", "USD", cached_input="0.035", input="0.135", output="0.550"),
        ],
        key=repr,
    )
    assert {tuple(r.notes.items()) for r in records if r.mode == "off_peak"} == {(("off_peak_utc", "16:30-00:30"),)}
    assert all(r.notes == {} for r in records if r.mode == "standard")


def test_it_reads_the_amount_before_a_percent_off_label():
    reasoner_cached = next(
        r
        for r in parse_fixture("pricing_en_2025-03_off_peak.html")
        if (r.model, r.component, r.mode) == ("deepseek-reasoner", "cached_input", "off_peak")
    )

    assert reasoner_cached.amount_per_mtok == Decimal("0.035")
    assert reasoner_cached.excerpt.endswith("deepseek-reasoner $0.035（75% OFF）")


def test_it_dates_two_price_lists_by_the_sentence_that_introduces_each():
    records = parse_fixture("pricing_en_2025-09_transition.html")
    coming = [r for r in records if r.valid_from == SEPT_5]
    ending = [r for r in records if r.valid_to == SEPT_5]

    assert len(coming) + len(ending) == len(records) == 18
    assert rows(coming) == [
        *prices("deepseek-chat", "standard", "USD", cached_input="0.07"),
        *prices("deepseek-reasoner", "standard", "USD", cached_input="0.07"),
        *prices("deepseek-chat", "standard", "USD", input="0.56"),
        *prices("deepseek-reasoner", "standard", "USD", input="0.56"),
        *prices("deepseek-chat", "standard", "USD", output="1.68"),
        *prices("deepseek-reasoner", "standard", "USD", output="1.68"),
    ]
    assert sorted(rows(ending), key=repr) == sorted(
        [
            *prices("deepseek-chat", "standard", "USD", cached_input="0.07", input="0.27", output="1.10"),
            *prices("deepseek-reasoner", "standard", "USD", cached_input="0.14", input="0.55", output="2.19"),
            *prices("deepseek-chat", "off_peak", "USD", cached_input="0.035", input="0.135", output="0.550"),
            *prices("deepseek-reasoner", "off_peak", "USD", cached_input="0.035", input="0.135", output="0.550"),
        ],
        key=repr,
    )
    assert all(r.valid_to is None for r in coming)
    assert all(r.valid_from is None for r in ending)


def test_it_reads_the_early_layout_with_one_row_per_model_and_dates_the_promotional_prices():
    records = parse_fixture("pricing_en_2025-01_promo.html")
    dated = {(r.model, r.component, r.amount_per_mtok): (r.valid_from, r.valid_to) for r in records}

    assert sorted(rows(records), key=repr) == sorted(
        [
            *prices("deepseek-chat", "standard", "USD", cached_input="0.014", input="0.14", output="0.28"),
            *prices("deepseek-chat", "standard", "USD", cached_input="0.07", input="0.27", output="1.10"),
            *prices("deepseek-reasoner", "standard", "USD", cached_input="0.14", input="0.55", output="2.19"),
        ],
        key=repr,
    )
    assert dated[("deepseek-chat", "input", Decimal("0.14"))] == (None, FEB_8)
    assert dated[("deepseek-chat", "input", Decimal("0.27"))] == (FEB_8, None)
    assert dated[("deepseek-reasoner", "input", Decimal("0.55"))] == (None, None)
    assert {r.context_window for r in records} == {64_000}


def test_it_keeps_only_the_last_of_two_prices_when_no_footnote_dates_them():
    html = table(
        '<tr><td rowspan="1">PRICING</td><td>1M INPUT TOKENS (CACHE MISS)</td><td><del>$0.27</del><br>$0.14</td></tr>'
    )

    assert rows(parse(html)) == prices("deepseek-chat", "standard", "USD", input="0.14")


def test_it_moves_beijing_off_peak_hours_to_utc():
    html = table(
        '<tr><td rowspan="2">优惠时段价格<sup>(6)</sup>（北京时间 00:30-08:30）</td>'
        "<td>百万tokens输入（缓存命中）</td><td>0.25元（5折）</td></tr>"
        "<tr><td>百万tokens输出</td><td>4元（5折）</td></tr>",
        header='<tr><td colspan="2">模型</td><td>deepseek-chat</td></tr>',
    )
    records = parse(html)

    assert rows(records) == prices("deepseek-chat", "off_peak", "CNY", cached_input="0.25", output="4")
    assert records[0].notes == {"off_peak_utc": "16:30-00:30"}


def test_it_ignores_rows_that_are_not_token_prices():
    html = table(
        '<tr><td colspan="2">MAX OUTPUT</td><td>DEFAULT: 4K<br>MAXIMUM: 8K</td></tr>',
        '<tr><td rowspan="1">FEATURES</td><td>Json Output</td><td>✓</td></tr>',
        '<tr><td rowspan="1">PRICING</td><td>1M OUTPUT TOKENS</td><td>$0.42</td></tr>',
    )

    assert rows(parse(html)) == prices("deepseek-chat", "standard", "USD", output="0.42")


def test_it_ignores_tables_without_a_model_header():
    html = table('<tr><td colspan="2">1M OUTPUT TOKENS</td><td>$0.42</td></tr>') + (
        "<table><tr><td>RPM</td><td>1000</td></tr><tr><td>1M OUTPUT TOKENS</td><td>$9</td></tr></table>"
    )

    assert rows(parse(html)) == prices("deepseek-chat", "standard", "USD", output="0.42")


def test_it_rejects_an_empty_page():
    with pytest.raises(ParseError, match="no <table>"):
        parse(b"")


def test_it_rejects_a_page_that_is_not_html():
    with pytest.raises(ParseError, match="no <table>"):
        parse(b'{"data": []}')


def test_it_rejects_a_page_without_the_price_table():
    html = "<html><body><h1>Models &amp; Pricing</h1><p>The prices listed below are per 1M tokens.</p></body></html>"

    with pytest.raises(ParseError, match="no <table> on the page"):
        parse(html)


def test_it_rejects_tables_without_a_model_header_row():
    html = "<table><tr><td>NAME</td><td>deepseek-chat</td></tr><tr><td>1M OUTPUT TOKENS</td><td>$0.42</td></tr></table>"

    with pytest.raises(ParseError, match=r"no price rows .* MODEL / 模型 header"):
        parse(html)


def test_it_rejects_a_price_row_whose_cells_no_longer_hold_amounts():
    html = table('<tr><td rowspan="1">PRICING</td><td>1M OUTPUT TOKENS</td><td>see console</td></tr>')

    with pytest.raises(ParseError, match="price row 'PRICING 1M OUTPUT TOKENS' has no amount"):
        parse(html)


def test_it_survives_a_malformed_table():
    html = (
        "<table><tr><td colspan=2>MODEL<td>deepseek-chat<tr><td rowspan='99'>PRICING<td>1M OUTPUT TOKENS<td>$0.42"
        "<tr><td colspan='x'>1M INPUT TOKENS (CACHE MISS)<td>$0.28"
    )

    assert rows(parse(html)) == prices("deepseek-chat", "standard", "USD", output="0.42", input="0.28")


# --- retirement statements -------------------------------------------------------------------------------

RETIRES_AT = dt.datetime(2026, 7, 24, 15, 59, tzinfo=dt.UTC)  # 23:59 Beijing time


def retirements(html: str | bytes) -> list:
    content = html.encode() if isinstance(html, str) else html
    return DeepSeek().retirements(Document(url=DeepSeek.urls[1], content=content))


def test_it_reads_the_chinese_notes_retiring_old_ids_onto_the_modes_of_their_successor():
    statements = retirements((FIXTURES / "pricing_zh_cn.html").read_bytes())
    assert [(s.model, s.retires_at, s.successor, s.successor_conditions) for s in statements] == [
        ("deepseek-chat", RETIRES_AT, "deepseek-v4-flash", {"thinking": "off"}),
        ("deepseek-reasoner", RETIRES_AT, "deepseek-v4-flash", {"thinking": "on"}),
    ]
    assert "弃用" in statements[0].excerpt and "\x00" not in statements[0].excerpt


def test_it_reads_the_english_notes_in_utc():
    note = (
        "<p>(1) The deepseek-chat and deepseek-reasoner model names will be deprecated on 2026/07/24 15:59 (UTC). "
        "For compatibility, they correspond to the non-thinking mode and thinking mode of deepseek-v4-flash, "
        "respectively.</p>"
    )
    statements = retirements(f"<html lang='en'><body>{note}</body></html>")
    assert [(s.model, s.retires_at, s.successor_conditions) for s in statements] == [
        ("deepseek-chat", RETIRES_AT, {"thinking": "off"}),
        ("deepseek-reasoner", RETIRES_AT, {"thinking": "on"}),
    ]


@pytest.mark.parametrize(
    "note",
    [
        # an upgrade, not a retirement: the id stays and now serves a newer version
        "<p>deepseek-chat and deepseek-reasoner are upgraded to DeepSeek-V3.2; deepseek-chat corresponds to its "
        "non-thinking mode.</p>",
        # a retirement without a date says nothing we can date
        "<p>deepseek-chat will be deprecated soon.</p>",
        # a date without any id
        "<p>The old model names will be deprecated on 2026/07/24 15:59 (UTC).</p>",
    ],
)
def test_it_states_no_retirement_without_an_id_a_date_and_a_retiring_word(note):
    assert retirements(f"<html><body>{note}</body></html>") == []


def test_a_retirement_without_a_successor_maps_to_nothing():
    (statement,) = retirements("<p>deepseek-coder was retired on 2025-01-01 00:00 (UTC).</p>")
    assert (statement.model, statement.successor, statement.successor_conditions) == ("deepseek-coder", "", {})

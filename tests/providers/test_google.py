from decimal import Decimal
from pathlib import Path

import pytest

from providers import REGISTRY
from providers.base import OFFICIAL_TRUST, Document, ParseError
from providers.google import Google

FIXTURE = Path(__file__).resolve().parent.parent / "fixtures" / "providers" / "google" / "pricing.html"
LONG = (200001, None)
SHORT = (None, 200000)
ANY = (None, None)


def parse(html: str | bytes) -> list:
    content = html.encode() if isinstance(html, str) else html
    return Google().parse(Document(url=Google.urls[0], content=content))


def rows(records: list) -> list[tuple]:
    return [
        (r.model, r.component, r.mode, (r.tier_min_tokens, r.tier_max_tokens), r.amount_per_mtok, r.currency)
        for r in records
    ]


def tiered(model: str, mode: str, prices: dict[str, tuple[str, str]]) -> list[tuple]:
    out = []
    for component, (short, long) in prices.items():
        out.append((model, component, mode, SHORT, Decimal(short), "USD"))
        out.append((model, component, mode, LONG, Decimal(long), "USD"))
    return out


def flat(model: str, mode: str, prices: dict[str, str]) -> list[tuple]:
    return [(model, component, mode, ANY, Decimal(amount), "USD") for component, amount in prices.items()]


PREVIEW_PRICES = {"input": ("2.00", "4.00"), "output": ("12.00", "18.00"), "cached_input": ("0.20", "0.40")}
EXPECTED = [
    *tiered(
        "gemini-2.5-pro",
        "standard",
        {"input": ("1.25", "2.50"), "output": ("10.00", "15.00"), "cached_input": ("0.125", "0.25")},
    ),
    *tiered(
        "gemini-2.5-pro",
        "batch",
        {"input": ("0.625", "1.25"), "output": ("5.00", "7.50"), "cached_input": ("0.125", "0.25")},
    ),
    *tiered(
        "gemini-2.5-pro",
        "flex",
        {"input": ("0.625", "1.25"), "output": ("5.00", "7.50"), "cached_input": ("0.125", "0.25")},
    ),
    *tiered(
        "gemini-2.5-pro",
        "priority",
        {"input": ("2.25", "4.50"), "output": ("18.00", "27.00"), "cached_input": ("0.225", "0.45")},
    ),
    *flat("gemini-2.5-flash", "standard", {"input": "0.30", "output": "2.50", "cached_input": "0.03"}),
    *flat("gemini-2.5-flash", "batch", {"input": "0.15", "output": "1.25", "cached_input": "0.03"}),
    *tiered("gemini-3.1-pro-preview", "standard", PREVIEW_PRICES),
    *tiered("gemini-3.1-pro-preview-customtools", "standard", PREVIEW_PRICES),
    *flat("gemini-2.5-flash-native-audio-preview-09-2025", "standard", {"input": "0.50", "output": "2.00"}),
    *flat("gemini-2.5-flash-image", "standard", {"input": "0.30"}),
]


@pytest.fixture(scope="module")
def records() -> list:
    return parse(FIXTURE.read_bytes())


def test_it_reads_every_paid_text_price_of_the_fixture_exactly(records):
    assert sorted(rows(records), key=repr) == sorted(EXPECTED, key=repr)


def test_it_yields_each_price_once(records):
    keys = [r.key for r in records]
    assert len(keys) == len(set(keys))


def test_it_keeps_amounts_as_exact_decimals(records):
    cache = next(r for r in records if r.model == "gemini-2.5-pro" and r.component == "cached_input")
    assert isinstance(cache.amount_per_mtok, Decimal)
    assert cache.as_contract()["amount"] == "0.125"


def test_it_keeps_the_figure_as_printed_and_where_it_was_read(records):
    first = records[0]
    assert first.original == "$1.25, prompts <= 200k tokens (per 1M tokens in USD)"
    assert first.excerpt == "Gemini 2.5 Pro / Standard / Input price: $1.25, prompts <= 200k tokens"
    assert first.model_name == "Gemini 2.5 Pro"
    assert first.creator == "google"
    assert all(len(r.excerpt) <= 200 for r in records)


def test_it_notes_the_modality_of_a_price_shared_by_text_image_and_video(records):
    flash_input = next(r for r in records if r.model == "gemini-2.5-flash" and r.component == "input")
    assert flash_input.notes == {"modality": "text / image / video"}


def test_it_skips_the_free_tier_audio_storage_grounding_image_and_embedding_prices(records):
    amounts = {r.amount_per_mtok for r in records if r.model == "gemini-2.5-flash"}
    assert Decimal("1.00") not in amounts  # audio input, and the storage price per hour
    assert Decimal(0) not in {r.amount_per_mtok for r in records}  # "Free of charge" of the free tier
    models = {r.model for r in records}
    assert "gemini-embedding-001" not in models
    assert "imagen-4.0-generate-001" not in models
    assert "gemma-3-27b-it" not in models
    assert not any(r.component == "output" and r.model == "gemini-2.5-flash-image" for r in records)


def test_it_reads_only_the_ids_in_the_heading_not_those_in_the_description(records):
    pro_sources = {r.model_name for r in records if r.model == "gemini-2.5-pro"}
    assert pro_sources == {"Gemini 2.5 Pro"}


def test_it_reads_a_single_table_without_mode_tabs_as_standard_under_the_display_name():
    html = """
    <h2>Gemini 1.5 Flash</h2>
    <table><tr><th>Feature</th><th>Free Tier</th><th>Paid Tier, per 1M tokens in USD</th></tr>
    <tr><td>Input price</td><td>Free of charge</td><td>$0.075, prompts <= 128k tokens<br>$0.15, prompts > 128k</td></tr>
    </table>"""
    assert rows(parse(html)) == [
        ("Gemini 1.5 Flash", "input", "standard", (None, 128000), Decimal("0.075"), "USD"),
        ("Gemini 1.5 Flash", "input", "standard", (128001, None), Decimal("0.15"), "USD"),
    ]


@pytest.mark.parametrize(
    ("condition", "tier"),
    [
        ("prompts <= 200k tokens", (None, 200000)),
        ("prompts < 200k tokens", (None, 199999)),
        ("prompts > 200k", (200001, None)),
        ("prompts >= 200,000 tokens", (200000, None)),
        ("prompts ≤ 1M tokens", (None, 1000000)),
    ],
)
def test_it_reads_prompt_length_tiers_with_both_ends_inclusive(condition, tier):
    html = f"""<h2>M</h2><em><code>m-1</code></em><table>
    <tr><th></th><th>Paid Tier, per 1M tokens in USD</th></tr>
    <tr><td>Input price</td><td>$1.00, {condition}</td></tr></table>"""
    (record,) = parse(html)
    assert (record.tier_min_tokens, record.tier_max_tokens) == tier


def test_it_reads_a_paid_tier_stated_free_of_charge_as_zero():
    html = """<h2>M</h2><em><code>m-1</code></em><table>
    <tr><th></th><th>Free Tier</th><th>Paid Tier, per 1M tokens in USD</th></tr>
    <tr><td>Input price</td><td>Free of charge</td><td>Free of charge</td></tr></table>"""
    assert rows(parse(html)) == [("m-1", "input", "standard", ANY, Decimal(0), "USD")]


def test_it_reads_a_price_that_states_its_own_token_unit():
    html = """<h2>M</h2><em><code>m-1</code></em><table>
    <tr><th></th><th>Paid Tier</th></tr>
    <tr><td>Output price</td><td>$0.0004 / 1K tokens (text)<br>$0.039 per image</td></tr></table>"""
    (record,) = parse(html)
    assert (record.component, record.amount_per_mtok) == ("output", Decimal("0.4"))
    assert record.original == "$0.0004 / 1K tokens (text)"


def test_it_skips_tables_under_a_tab_that_is_no_known_mode():
    html = """<h2>M</h2><em><code>m-1</code></em>
    <section><h3>Standard</h3><table><tr><th></th><th>Paid Tier</th></tr>
    <tr><td>Input price</td><td>$1.00</td></tr></table></section>
    <section><h3>Live API</h3><table><tr><th></th><th>Paid Tier</th></tr>
    <tr><td>Input price</td><td>$3.00</td></tr></table></section>"""
    assert rows(parse(html)) == [("m-1", "input", "standard", ANY, Decimal("1.00"), "USD")]


def test_it_rejects_an_empty_document():
    with pytest.raises(ParseError, match="empty document"):
        parse(b"  \n")


def test_it_rejects_a_page_without_pricing_tables():
    with pytest.raises(ParseError, match="no pricing table"):
        parse("<html><body><h2>Gemini 2.5 Pro</h2><p>Pricing moved to a new page.</p></body></html>")


def test_it_rejects_a_table_without_a_paid_tier_column():
    html = """<h2>Gemini 2.5 Pro</h2><em><code>gemini-2.5-pro</code></em><table>
    <tr><th></th><th>Free Tier</th></tr><tr><td>Input price</td><td>Free of charge</td></tr></table>"""
    with pytest.raises(ParseError, match='"Paid Tier" column'):
        parse(html)


def test_it_rejects_pricing_tables_that_hold_no_token_price():
    html = """<h2>Gemini 2.5 Pro</h2><em><code>gemini-2.5-pro</code></em><table>
    <tr><th></th><th>Paid Tier, per 1M tokens in USD</th></tr>
    <tr><td>Grounding with Google Search</td><td>$35 / 1,000 grounded prompts</td></tr></table>"""
    with pytest.raises(ParseError, match="1 pricing tables found, but no input, output or context caching price"):
        parse(html)


def test_it_rejects_a_page_that_is_not_html():
    with pytest.raises(ParseError):
        parse(b"\x89PNG\r\n\x1a\n\x00\x00binary")


def test_it_is_registered_as_the_official_google_source():
    assert REGISTRY["google"] is Google
    assert Google.kind == "official"
    assert Google.provider == "google"
    assert Google.trust_rank == OFFICIAL_TRUST
    assert Google.hosts == ("ai.google.dev",)
    assert Google.urls == ("https://ai.google.dev/gemini-api/docs/pricing",)

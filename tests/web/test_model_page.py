"""The model page: every seller with every tier and mode, the cheapest per component and blend, and a
visible timeline of the price history (promotions, off-peak windows, changes)."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from bs4 import BeautifulSoup
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.factories import TokenizerFactory, TokenizerMeasurementFactory
from tests.modelpage_data import build, more_sellers

pytestmark = pytest.mark.django_db


def soup_of(client, url: str) -> BeautifulSoup:
    response = client.get(url)
    assert response.status_code == 200, response.content[:500]
    return BeautifulSoup(response.content, "html.parser")


def text(node) -> str:
    return " ".join(node.get_text(" ").split())


def test_it_names_the_cheapest_seller_of_each_component_and_of_the_blend(client):
    build()

    page = soup_of(client, "/models/deepseek-v3/")

    cheapest = {row["data-component"]: text(row) for row in page.select("#cheapest tbody tr[data-component]")}
    assert "DeepSeek" in cheapest["input"] and "$0.27" in cheapest["input"]
    assert "DeepSeek" in cheapest["output"] and "$1.10" in cheapest["output"]
    assert "DeepSeek" in cheapest["cached_input"] and "$0.07" in cheapest["cached_input"]
    # 3:1 blend of 0.27 and 1.10 = 0.4775 (shown $0.478); Together's 1.25 is dearer; the free variant is not ranked.
    assert "DeepSeek" in cheapest["blended"] and "$0.478" in cheapest["blended"]
    assert "2" in cheapest["input"].split()[-1]  # two ranked sellers price input


def test_it_shows_every_seller_with_its_scope_freshness_and_evidence(client):
    build()

    page = soup_of(client, "/models/deepseek-v3/")

    ranked = page.select("#sellers tbody[data-provider]")
    assert [b["data-provider"] for b in ranked] == ["deepseek", "together"]
    together = text(page.select_one("#sellers tbody[data-provider=together]"))
    assert "region: us" in together
    official = page.select_one("#sellers tbody[data-provider=deepseek]")
    evidence = official.select_one("td.verified a[href='https://api-docs.deepseek.example/pricing']")
    assert evidence is not None and evidence["title"] == "verified by DeepSeek pricing page"
    assert official.select_one("td.verified time")["title"].startswith("verified 20")
    # The free variant is listed apart, labelled, and never ranked.
    others = page.select_one("#other-sellers")
    assert others is not None and "deepseek/deepseek-chat:free" in text(others)
    assert "free or rate-limited variant" in text(others)
    assert "deepseek/deepseek-chat:free" not in text(page.select_one("#sellers"))


def test_it_shows_every_tier_and_mode_in_the_main_table(client):
    build()

    page = soup_of(client, "/models/gemini-2-5-pro/")

    lines = [(row["data-component"], row["data-mode"], text(row)) for row in page.select("#sellers tr[data-component]")]
    assert len(lines) == 8
    long_standard = [t for c, m, t in lines if c == "input" and m == "standard" and "> 200,000 tokens" in t]
    assert long_standard and "$2.50" in long_standard[0]
    long_batch = [t for c, m, t in lines if c == "output" and m == "batch" and "> 200,000 tokens" in t]
    assert long_batch and "$7.50" in long_batch[0]


def test_it_draws_a_visible_timeline_with_the_promotion_and_the_off_peak_window(client):
    build()

    page = soup_of(client, "/models/deepseek-v3/")

    timeline = page.select_one("ol#timeline")
    assert timeline is not None and timeline.find_parent("details") is None
    events = {(li["data-kind"], text(li)) for li in timeline.select("li")}
    promo = [t for kind, t in events if kind == "promo"]
    assert promo and "2025-01-20" in promo[0] and "until 2025-02-08" in promo[0] and "cached input $0.014" in promo[0]
    window = [t for kind, t in events if kind == "mode_window"]
    assert window and "2025-03-01" in window[0] and "off peak prices" in window[0] and "until 2025-09-05" in window[0]
    assert "input $0.135" in window[0]
    change = [t for kind, t in events if kind == "change" and "DeepSeek" in t]
    assert change and "cached input $0.014 → $0.07 (+400.0%)" in change[0]
    # Newest first.
    dates = [li.select_one("time")["datetime"][:10] for li in timeline.select("li")]
    assert dates == sorted(dates, reverse=True)


def test_it_finds_the_off_peak_prices_on_a_day_they_were_charged(client):
    build()

    page = soup_of(client, "/models/deepseek-v3/?as_of=2025-06-01&mode=off_peak")

    cheapest = {row["data-component"]: text(row) for row in page.select("#cheapest tbody tr[data-component]")}
    assert "$0.135" in cheapest["input"] and "DeepSeek" in cheapest["input"]
    assert "$0.035" in cheapest["cached_input"]


def test_it_says_when_no_seller_charges_the_mode_that_day(client):
    build()

    body = client.get("/models/deepseek-v3/?mode=off_peak").content.decode()

    assert "No seller charges off-peak prices for this model on that day" in body
    assert 'id="timeline"' in body


def test_it_shows_prices_as_of_a_past_day(client):
    build()

    page = soup_of(client, "/models/deepseek-v3/?as_of=2025-01-25")

    cheapest = {row["data-component"]: text(row) for row in page.select("#cheapest tbody tr[data-component]")}
    assert "$0.014" in cheapest["cached_input"]


def test_it_prices_per_million_words_in_the_readers_language(client):
    built = build()
    tokenizer = TokenizerFactory(slug="deepseek-tok", words_per_token=Decimal("0.8"))
    TokenizerMeasurementFactory(tokenizer=tokenizer, language="zh", tokens=1000, words=500)
    built.deepseek.tokenizer = tokenizer
    built.deepseek.save()

    page = soup_of(client, "/models/deepseek-v3/?unit=mwords&language=zh")

    cheapest = {row["data-component"]: text(row) for row in page.select("#cheapest tbody tr[data-component]")}
    # $0.27 per 1M tokens at 0.5 Chinese words per token = $0.54 per 1M Chinese words.
    assert "$0.54" in cheapest["input"]
    assert "Chinese" in text(page.select_one("#cheapest thead"))


def test_it_offers_add_to_compare_for_each_seller(client):
    built = build()

    page = soup_of(client, "/models/deepseek-v3/")

    seller = page.select_one(f"#seller-{built.official.id}")
    control = seller.select_one(".basket-control")
    assert control is not None and control["data-offering-id"] == str(built.official.id)


def test_it_escapes_what_sellers_write(client):
    built = build()
    built.together.provider_model_id = "<script>alert(1)</script>"
    built.together.save()

    body = client.get("/models/deepseek-v3/").content.decode()

    assert "<script>alert(1)</script>" not in body
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body


def test_it_answers_an_unknown_model_with_404(client):
    assert client.get("/models/no-such-model/").status_code == 404


def test_it_falls_back_on_a_bad_parameter_with_a_notice(client):
    build()

    response = client.get("/models/deepseek-v3/?unit=parsecs&as_of=2999-01-01")

    assert response.status_code == 200
    body = response.content.decode()
    assert "Ignored unit=" in body and "Ignored as_of=" in body


def queries_for(client, url: str) -> int:
    from django.core.cache import cache

    cache.clear()
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured.captured_queries)


def test_it_runs_the_same_number_of_queries_whatever_the_number_of_sellers(client):
    built = build()
    few = queries_for(client, "/models/deepseek-v3/")

    more_sellers(built.deepseek, 15)
    many = queries_for(client, "/models/deepseek-v3/")

    assert few == many
    assert many <= 16


def test_its_title_and_api_link_name_the_model(client):
    build()

    body = client.get("/models/deepseek-v3/?currency=USD").content.decode()

    assert re.search(r"<title>DeepSeek-V3: prices at every seller", body)
    assert "/api/v1/models/deepseek-v3/?currency=USD" in body


def test_a_seller_pricing_only_long_prompts_is_not_the_cheapest_for_short_ones(client):
    from tests.factories import OfferingFactory, ProviderFactory, SourceFactory
    from tests.modelpage_data import price

    built = build()
    seller = ProviderFactory(slug="longctx", name="Long Context Inc")
    source = SourceFactory(slug="longctx", provider=seller)
    long_only = OfferingFactory(provider=seller, provider_model_id="gemini-2.5-pro-long", model=built.gemini)
    price(long_only, "input", "0.50", "2025-06-17", tier=(200_001, None), source=source)
    price(long_only, "output", "1", "2025-06-17", tier=(200_001, None), source=source)

    page = soup_of(client, "/models/gemini-2-5-pro/")

    cheapest = {row["data-component"]: text(row) for row in page.select("#cheapest tbody tr[data-component]")}
    assert "Google" in cheapest["input"] and "$1.25" in cheapest["input"]
    assert "Google" in cheapest["blended"]
    assert "Long Context Inc" in text(page.select_one("#sellers"))

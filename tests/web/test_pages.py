from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from pricing.models import ScrapeRun
from tests.factories import PriceFactory, ScrapeRunFactory, SourceFactory

pytestmark = pytest.mark.django_db


def test_it_reads_the_seed_example_naturally_on_the_calculator(client, priced):
    priced("deepseek", "deepseek-chat", "0.014", "0.28")

    body = client.get("/calculator/").content.decode()

    assert "1M tokens ≈ 750,000 words" in body


def test_it_ranks_offerings_by_workload_cost_with_the_breakdown(client, priced):
    priced("a", "cheap", "1", "2")
    priced("b", "dear", "10", "20")

    body = client.get("/calculator/?input=2000000&output=1000000&cached_input=0").content.decode()

    assert body.index("cheap") < body.index("dear")
    assert "$4.00" in body  # 2M × $1 + 1M × $2
    assert "2,000,000 × $1.00 = $2.00" in body


def test_it_applies_the_long_prompt_tier_to_the_whole_request(client, priced):
    offering = priced("g", "gemini-pro", "1.25", "10")
    offering.prices.filter(component="input").update(tier_max_tokens=200_000)
    PriceFactory(offering=offering, component="input", amount_per_mtok=Decimal("2.50"), tier_min_tokens=200_001)

    body = client.get("/calculator/?input=300000&output=0").content.decode()

    assert "300,000 × $2.50 = $0.75" in body
    assert "tier &gt; 200,000 tokens" in body


def test_it_converts_words_and_pasted_text_to_tokens(client, priced):
    priced("a", "model-a", "1", "1")

    words = client.get("/calculator/?amount_unit=words&input=750000&output=0").content.decode()
    text = client.get("/calculator/?amount_unit=text&text=one+two+three&output=0").content.decode()

    assert "1,000,000 × $1.00" in words
    assert "a text of 3 words" in text and "4 × $1.00" in text


def test_it_explains_bad_calculator_input_instead_of_failing(client, priced):
    priced("a", "model-a", "1", "1")

    response = client.get("/calculator/?input=-3&output=lots&mode=warp&amount_unit=text")

    assert response.status_code == 200
    assert response.content.decode().count("<li>") >= 3


def test_it_compares_offerings_side_by_side_with_every_component(client, priced):
    first = priced("a", "model-a", "1", "2", cached_usd="0.1")
    second = priced("b", "model-b", "3", "4")

    body = client.get(f"/compare/?o={first.id}&o={second.id}&input=1000000&output=1000000").content.decode()

    assert "model-a" in body and "model-b" in body
    assert "cached input" in body and "$0.10" in body
    assert "$3.00" in body and "$7.00" in body  # workload totals
    assert "assumed" in body


def test_it_compares_a_words_workload_at_each_offerings_ratio_rounding_up(client, priced):
    from tests.factories import ModelFactory, TokenizerFactory

    half = ModelFactory(slug="half", tokenizer=TokenizerFactory(words_per_token=Decimal("0.5"), provenance="measured"))
    first = priced("a", "model-a", "1", "2", model=half)
    second = priced("b", "model-b", "3", "4")

    body = client.get(
        f"/compare/?o={first.id}&o={second.id}&amount_unit=words&input=1&cached_input=0&output=3"
    ).content.decode()

    assert "2 in · 0 cached · 6 out tokens" in body  # at 0.5 words per token
    assert "2 in · 0 cached · 4 out tokens" in body  # at the assumed 0.75: 1.33 tokens billed as 2


def test_it_explains_a_compare_with_unknown_or_too_few_offerings(client, priced):
    only = priced("a", "model-a", "1", "2")

    body = client.get(f"/compare/?o={only.id}&o=999999&o=abc").content.decode()

    assert "999999" in body and "Pick two to six" in body


def test_it_shows_a_model_across_providers_cheapest_first_with_history_charts(client, priced, deepseek_model):
    dear = priced("together", "deepseek-ai/DeepSeek-V3", "1.25", "1.25", model=deepseek_model)
    priced("deepseek", "deepseek-chat", "0.27", "1.10", model=deepseek_model)
    old = dear.prices.get(component="input")
    PriceFactory(
        offering=dear,
        component="input",
        amount_per_mtok=Decimal("2"),
        valid_from=old.valid_from - dt.timedelta(days=60),
        valid_to=old.valid_from,
    )

    response = client.get("/models/deepseek-v3/")

    body = response.content.decode()
    assert response.status_code == 200
    assert body.index("deepseek-chat") < body.index("deepseek-ai/DeepSeek-V3")
    assert body.count("<svg") == 2
    assert "kozea" not in body and '<script src="http' not in body


def test_it_answers_an_unknown_model_with_404(client):
    assert client.get("/models/no-such-model/").status_code == 404


def test_it_says_plainly_when_a_provider_source_fails(client, priced):
    priced("deepseek", "deepseek-chat", "0.27", "1.10")
    source = SourceFactory(slug="deepseek-pricing")
    source.last_success_at = timezone.now() - dt.timedelta(days=5)
    source.save()
    ScrapeRunFactory(source=source, status=ScrapeRun.Status.FAILED, error="layout changed? 0 rows")

    body = client.get("/providers/deepseek/").content.decode()
    index = client.get("/providers/").content.decode()

    assert "failing" in body and "layout changed? 0 rows" in body
    assert "health-failing" in index


def _a_change(priced):
    offering = priced("deepseek", "deepseek-chat", "0.27", "1.10")
    new = offering.prices.get(component="input")
    PriceFactory(
        offering=offering,
        component="input",
        amount_per_mtok=Decimal("0.14"),
        source=new.source,
        valid_from=new.valid_from - dt.timedelta(days=30),
        valid_to=new.valid_from,
    )
    return offering


def test_it_lists_price_changes_with_old_new_and_percent(client, priced):
    _a_change(priced)

    body = client.get("/changes/").content.decode()

    assert "$0.14" in body and "$0.27" in body and "+92.9%" in body


def test_it_publishes_an_atom_feed_of_changes_filtered_by_provider(client, priced):
    _a_change(priced)
    priced("openai", "gpt-4o", "2.50", "10")

    feed = client.get("/changes/feed/?provider=deepseek")
    other = client.get("/changes/feed/?provider=openai")

    assert feed["Content-Type"].startswith("application/atom+xml")
    assert "<entry>" in feed.content.decode() and "$0.14 → $0.27" in feed.content.decode()
    assert "<entry>" not in other.content.decode()


def test_it_explains_the_methodology(client):
    body = client.get("/methodology/").content.decode()

    assert "whole request" in body and "measured" in body and "trust" in body


def test_the_methodology_lists_every_tokenizers_ratio_per_language(client, django_assert_max_num_queries):
    from tests.factories import TokenizerFactory, TokenizerMeasurementFactory

    for name, english, chinese in (("o200k_base", "0.86893", "1.11390"), ("deepseek", "0.86400", "1.51000")):
        tokenizer = TokenizerFactory(name=name, slug=name)
        for language, ratio in (("en", english), ("zh", chinese)):
            TokenizerMeasurementFactory(tokenizer=tokenizer, language=language, words_per_token=Decimal(ratio))
    TokenizerFactory(
        name="gemini", slug="gemini", provenance="curated", curated_ratios={"en": {"words_per_token": "0.70"}}
    )

    with django_assert_max_num_queries(4):
        body = client.get("/methodology/").content.decode()

    assert "o200k_base" in body and "0.869" in body and "1.114" in body
    assert "deepseek" in body and "1.510" in body
    assert "0.70 <small>curated</small>" in body


@pytest.mark.parametrize("url", ["/", "/calculator/", "/compare/", "/changes/", "/providers/", "/methodology/"])
def test_it_runs_a_constant_number_of_queries_on_every_page(client, priced, url, django_assert_max_num_queries):
    offerings = [priced(f"p{i % 4}", f"m-{i}", "1", "2") for i in range(3)]
    query = "&".join(f"o={o.id}" for o in offerings)
    with django_assert_max_num_queries(12) as few:
        client.get(f"{url}?{query}")
    offerings += [priced(f"p{i % 4}", f"more-{i}", "1", "2") for i in range(20)]
    query = "&".join(f"o={o.id}" for o in offerings[-6:])
    with django_assert_max_num_queries(len(few.captured_queries)):
        client.get(f"{url}?{query}")

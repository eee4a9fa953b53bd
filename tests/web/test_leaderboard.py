from __future__ import annotations

import pytest

from tests.factories import TokenizerFactory

pytestmark = pytest.mark.django_db


def test_it_lists_every_offering_with_its_prices(client, priced):
    priced("deepseek", "deepseek-chat", "0.014", "0.28")
    priced("meta", "llama-405b", "2.80", "2.80")

    response = client.get("/")

    assert response.status_code == 200
    body = response.content.decode()
    assert "deepseek-chat" in body and "llama-405b" in body
    assert "$0.014" in body and "$2.80" in body
    assert '<th scope="col"' in body


def test_it_sorts_on_a_price_column_both_ways(client, priced):
    priced("a", "cheap-out", "5", "1")
    priced("b", "dear-out", "1", "9")

    ascending = client.get("/?sort=output&dir=asc").content.decode()
    descending = client.get("/?sort=output&dir=desc").content.decode()

    assert ascending.index("cheap-out") < ascending.index("dear-out")
    assert descending.index("dear-out") < descending.index("cheap-out")
    assert 'aria-sort="descending"' in descending


def test_it_filters_by_provider_and_search(client, priced):
    priced("deepseek", "deepseek-chat", "0.27", "1.10")
    priced("openai", "gpt-4o", "2.50", "10")

    by_provider = client.get("/?provider=openai").content.decode()
    by_search = client.get("/?q=deepseek").content.decode()

    assert 'data-offering="gpt-4o"' in by_provider and 'data-offering="deepseek-chat"' not in by_provider
    assert 'data-offering="deepseek-chat"' in by_search and 'data-offering="gpt-4o"' not in by_search


def test_it_shows_prices_per_million_words_with_the_ratio_and_its_provenance(client, priced, deepseek_model):
    deepseek_model.tokenizer = TokenizerFactory(slug="ds", words_per_token="0.5", provenance="measured")
    deepseek_model.save()
    priced("deepseek", "deepseek-chat", "1", "2", model=deepseek_model)
    priced("other", "unknown-model", "1", "2")

    body = client.get("/?unit=mwords").content.decode()

    assert "per 1M words" in body
    assert "$2" in body  # 1 USD per 1M tokens at 0.5 words/token
    assert "0.5" in body and "measured" in body
    assert "0.75" in body and "assumed" in body


def test_it_flags_prices_not_verified_lately_as_stale(client, priced):
    priced("old", "forgotten-model", "1", "2", seen_hours_ago=24 * 10)

    body = client.get("/").content.decode()

    assert 'class="flag flag-stale"' in body


@pytest.mark.parametrize(
    "query",
    [
        "sort=price;drop",
        "dir=sideways",
        "unit=furlongs",
        "ratio=abc",
        "min_context=-5",
        "page=0",
        "currency=XXX",
        "mode=turbo",
        "page=999",
        "per_page=7",
        "open_weights=maybe",
    ],
)
def test_it_falls_back_to_defaults_with_a_notice_on_bad_parameters(client, priced, query):
    priced("a", "model-a", "1", "2")

    response = client.get(f"/?{query}")

    assert response.status_code == 200
    assert 'class="notice"' in response.content.decode()
    assert "model-a" in response.content.decode()


def test_it_answers_htmx_requests_with_the_results_alone(client, priced):
    priced("a", "model-a", "1", "2")

    response = client.get("/?sort=input", headers={"HX-Request": "true", "HX-Target": "results"})

    body = response.content.decode()
    assert body.lstrip().startswith('<section id="results"')
    assert "<html" not in body


def test_it_runs_the_same_number_of_queries_for_few_or_many_offerings(client, priced, django_assert_max_num_queries):
    for i in range(3):
        priced("few", f"few-{i}", "1", "2", cached_usd="0.5")
    with django_assert_max_num_queries(10) as few:
        client.get("/?per_page=all")
    for i in range(30):
        priced(f"many{i % 5}", f"many-{i}", "1", "2", cached_usd="0.5")
    with django_assert_max_num_queries(len(few.captured_queries)):
        client.get("/?per_page=all&unit=mwords")


def test_it_serves_a_warm_page_from_the_cache_until_prices_change(client, priced, django_assert_num_queries):
    from pricing.services import prices_changed

    priced("a", "model-a", "1", "2")
    client.get("/")
    with django_assert_num_queries(1):  # the price-change stamp, read from the database
        assert client.get("/").headers["X-Answer"] == "hit"
    prices_changed()
    assert client.get("/").headers["X-Answer"] == "miss"

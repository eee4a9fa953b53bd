from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from tests.factories import ModelFactory, TokenizerFactory

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
    with django_assert_max_num_queries(11) as few:  # 11: the region choices joined the creator choices
        client.get("/?per_page=all")
    for i in range(30):
        priced(f"many{i % 5}", f"many-{i}", "1", "2", cached_usd="0.5")
    with django_assert_max_num_queries(len(few.captured_queries)):
        client.get("/?per_page=all&unit=mwords")


def test_it_serves_a_warm_page_from_the_cache_until_prices_change(client, priced, django_assert_num_queries):
    from pricing.services import prices_changed

    priced("a", "model-a", "1", "2")
    page = "/?sort=output"  # "/" itself is recomputed by the worker after a change (tests/perf/)
    client.get(page)
    with django_assert_num_queries(1):  # the price-change stamp, read from the database
        assert client.get(page).headers["X-Answer"] == "hit"
    prices_changed()
    assert client.get(page).headers["X-Answer"] == "miss"


# --- rankings people can use (issue 13) -------------------------------------------------------------


def _ids(body: str) -> list[str]:
    import re

    return re.findall(r'data-offering="([^"]+)"', body)


def test_it_ranks_list_prices_only_and_shows_free_variants_behind_a_visible_toggle(client, priced):
    priced("a", "paid-model", "1", "2")
    priced("a", "paid-model:free", "0", "0", listing="free")
    priced("b", "self-hosted", "0.5", "0.5", listing="unlisted")

    default = client.get("/").content.decode()
    with_free = client.get("/?include_free=on").content.decode()
    with_unlisted = client.get("/?include_unlisted=on").content.decode()

    assert _ids(default) == ["paid-model"]
    assert 'name="include_free"' in default and "Show free variants" in default
    assert "list prices only" in default
    assert sorted(_ids(with_free)) == ["paid-model", "paid-model:free"]
    assert 'id="id_include_free" checked' in with_free
    assert "free variant" in with_free
    assert sorted(_ids(with_unlisted)) == ["paid-model", "self-hosted"]


def test_it_shows_no_longer_listed_offerings_only_when_asked(client, priced):
    priced("a", "current", "1", "2")
    gone = priced("a", "gone", "1", "2")
    gone.prices.update(missing_since=timezone.now() - dt.timedelta(days=3))

    assert _ids(client.get("/").content.decode()) == ["current"]
    shown = client.get("/?include_missing=on").content.decode()
    assert sorted(_ids(shown)) == ["current", "gone"]
    assert "no longer listed" in shown


def test_it_filters_open_and_closed_weights_leaving_unknown_out_of_both(client, priced):
    priced("a", "open-one", "1", "2", model=ModelFactory(slug="open-one", open_weights=True))
    priced("a", "closed-one", "1", "2", model=ModelFactory(slug="closed-one", open_weights=False))
    priced("a", "unknown-one", "1", "2", model=ModelFactory(slug="unknown-one", open_weights=None))
    priced("a", "unlinked-one", "1", "2")

    assert _ids(client.get("/?open_weights=yes").content.decode()) == ["open-one"]
    assert _ids(client.get("/?open_weights=no").content.decode()) == ["closed-one"]
    assert len(_ids(client.get("/").content.decode())) == 4


def test_it_leaves_offerings_of_unknown_context_out_of_a_minimum_context(client, priced):
    priced("a", "long", "1", "2", context_window=200_000)
    priced("a", "short", "1", "2", context_window=8_000)
    priced("a", "unknown", "1", "2", context_window=None)
    priced("a", "via-model", "1", "2", context_window=None, model=ModelFactory(slug="m", context_window=1_000_000))

    assert sorted(_ids(client.get("/?min_context=128000").content.decode())) == ["long", "via-model"]


def test_it_lists_each_creator_once_and_filters_by_every_spelling(client, priced):
    priced("a", "ds-1", "1", "2", model=ModelFactory(slug="ds-1", creator="deepseek"))
    priced("b", "hf:deepseek-ai/ds-2", "1", "2", model=ModelFactory(slug="ds-2", creator="hf:deepseek-ai"))
    priced("c", "llama", "1", "2", model=ModelFactory(slug="llama", creator="meta-llama"))

    body = client.get("/").content.decode()
    creator_select = body[body.index('name="creator"') : body.index("</select>", body.index('name="creator"'))]
    filtered = client.get("/?creator=deepseek").content.decode()

    assert creator_select.count('value="deepseek"') == 1 and "deepseek-ai" not in creator_select
    assert sorted(_ids(filtered)) == ["ds-1", "hf:deepseek-ai/ds-2"]


def test_it_filters_by_provider_and_by_region_where_one_is_stated(client, priced):
    priced("azure", "gpt-east", "1", "2", attributes={"region": "eastus"})
    priced("azure", "gpt-global", "1", "2")
    priced("openai", "gpt-4o", "2.5", "10")

    body = client.get("/").content.decode()
    assert '<option value="eastus">eastus</option>' in body
    assert _ids(client.get("/?region=eastus").content.decode()) == ["gpt-east"]
    assert sorted(_ids(client.get("/?provider=azure").content.decode())) == ["gpt-east", "gpt-global"]


def test_it_filters_by_a_blended_price_range_in_the_readers_unit_and_currency(client, priced):
    from tests.factories import ExchangeRateFactory

    ExchangeRateFactory(currency="USD", units_per_eur=Decimal("2"))
    priced("a", "cheap", "1", "1")  # blended 1 USD = 0.5 EUR
    priced("a", "middle", "4", "4")  # 4 USD = 2 EUR
    priced("a", "dear", "20", "20")  # 20 USD = 10 EUR
    priced("a", "input-only", "1", "1").prices.filter(component="output").delete()

    usd = client.get("/?min_price=0.5&max_price=4").content.decode()
    eur = client.get("/?currency=EUR&min_price=0.5&max_price=4").content.decode()
    by_name = client.get("/?min_price=0.5&max_price=4&sort=name").content.decode()

    assert _ids(usd) == ["cheap", "middle"]
    assert _ids(eur) == ["cheap", "middle"]
    assert _ids(by_name) == ["cheap", "middle"]


def test_it_drops_an_upside_down_price_range_with_a_notice(client, priced):
    priced("a", "m", "1", "1")

    response = client.get("/?min_price=5&max_price=1")

    assert response.status_code == 200
    body = response.content.decode()
    assert 'class="notice"' in body and "max_price" in body
    assert _ids(body) == []  # min_price=5 still applies


# --- the compare basket --------------------------------------------------------------------------------


def test_it_offers_add_to_compare_on_every_row_and_keeps_the_basket_in_links(client, priced):
    first = priced("a", "first", "1", "2")
    second = priced("a", "second", "3", "4")

    plain = client.get("/").content.decode()
    assert plain.count("data-basket-add=") == 2
    assert f"?compare={first.id}" in plain

    chosen = client.get(f"/?compare={first.id}&sort=output").content.decode()
    assert f'data-basket-remove="{first.id}"' in chosen
    assert f"compare={first.id},{second.id}" in chosen  # adding the second keeps the first
    assert f'name="compare" value="{first.id}"' in chosen  # searches keep the basket
    assert "sort=output" in chosen.split(f'data-basket-add="{second.id}"')[0].rsplit("href=", 1)[1]
    assert f"/compare/?compare={first.id}" in chosen  # the nav link carries it


def test_it_caps_the_basket_at_six_and_reports_what_it_dropped(client, priced):
    offerings = [priced("a", f"m-{i}", "1", "2") for i in range(8)]
    ids = ",".join(str(o.id) for o in offerings)

    body = client.get(f"/?compare={ids},x1").content.decode()

    assert "Compare takes up to 6 offerings" in body
    assert "Ignored &#x27;x1&#x27; in compare" in body
    assert body.count("data-basket-remove=") >= 6
    assert "Compare full" in body


def test_it_shows_the_equivalent_api_call_which_answers_the_same_rows(client, priced):
    import html
    import re

    priced("a", "one", "1", "2", model=ModelFactory(slug="one", open_weights=True))
    priced("b", "two", "3", "1", model=ModelFactory(slug="two", open_weights=True))
    priced("b", "three", "9", "9", model=ModelFactory(slug="three", open_weights=False))

    body = client.get("/?open_weights=yes&sort=output&dir=desc&include_free=on&per_page=100").content.decode()
    curl = html.unescape(re.search(r"curl -s '([^']+)'", body).group(1))
    assert curl.startswith("http://testserver/api/v1/offerings/?")
    answer = client.get(curl.removeprefix("http://testserver")).json()

    assert "open_weights=true" in curl and "ordering=-output" in curl and "include_free=true" in curl
    assert [row["model_id"] for row in answer["results"]] == _ids(body) == ["one", "two"]


def test_it_runs_a_fixed_number_of_queries_with_every_filter_and_a_basket(client, priced, django_assert_num_queries):
    from django.core.cache import cache

    chosen = [
        priced(f"p{i}", f"m-{i}", "1", "2", model=ModelFactory(slug=f"m{i}", open_weights=True)) for i in range(3)
    ]
    url = (
        f"/?creator=acme&open_weights=yes&min_context=8000&min_price=0&max_price=10&include_free=on"
        f"&compare={chosen[0].id},{chosen[1].id}"
    )
    client.get(url)
    cache.clear()
    with django_assert_num_queries(13) as few:
        client.get(url)
    for i in range(20):
        priced(f"q{i % 4}", f"n-{i}", "1", "2", model=ModelFactory(slug=f"n{i}", open_weights=True))
    cache.clear()
    with django_assert_num_queries(len(few.captured_queries)):
        client.get(url + f",{chosen[2].id}")

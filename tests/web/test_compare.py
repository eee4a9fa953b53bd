"""The compare page and its basket: ids in the URL, its own search to add models, removal, at most six."""

from __future__ import annotations

import pytest

from tests.factories import ModelFactory

pytestmark = pytest.mark.django_db


def test_it_compares_the_basket_in_the_order_chosen_with_remove_links(client, priced):
    first = priced("a", "first", "1", "2")
    second = priced("b", "second", "3", "4")

    body = client.get(f"/compare/?compare={second.id},{first.id}").content.decode()

    assert body.index("second @ B") < body.index("first @ A")
    assert f'href="?compare={first.id}"' in body  # removing the second keeps the first
    assert body.count('class="compare-card"') == 2  # the phone layout carries the same offerings
    assert f"/api/v1/offerings/{second.id}/" in body and f"/api/v1/offerings/{first.id}/" in body


def test_it_finds_models_to_add_and_keeps_the_basket_and_display_in_the_search(client, priced):
    llama = ModelFactory(slug="llama-3-3-70b", name="Llama 3.3 70B")
    chosen = priced("a", "chosen", "1", "2")
    groq = priced("groq", "llama-3.3-70b-versatile", "0.59", "0.79", model=llama)
    priced("openrouter", "llama-3.3-70b:free", "0", "0", model=llama, listing="free")

    body = client.get(f"/compare/?compare={chosen.id}&find=llama&currency=USD&unit=mwords").content.decode()

    assert f"compare={chosen.id},{groq.id}" in body
    assert "llama-3.3-70b:free" not in body  # the search finds list prices, like the rankings
    assert f'name="compare" value="{chosen.id}"' in body
    assert 'name="unit" value="mwords"' in body


def test_it_says_when_nothing_matches_the_search(client, priced):
    priced("a", "model-a", "1", "2")

    body = client.get("/compare/?find=zzz-nothing").content.decode()

    assert "No offering with a current list price matches" in body


def test_it_keeps_six_and_reports_ids_it_cannot_read(client, priced):
    offerings = [priced("a", f"m-{i}", "1", "2") for i in range(7)]
    ids = ",".join(str(o.id) for o in offerings)

    response = client.get(f"/compare/?compare={ids},<b>")

    body = response.content.decode()
    assert response.status_code == 200
    assert "Compare takes up to 6 offerings" in body
    assert "Ignored &#x27;&lt;b&gt;&#x27; in compare" in body
    assert body.count('class="compare-card"') == 6
    assert "m-6" not in body


def test_it_shows_an_empty_basket_with_a_way_to_fill_it(client):
    body = client.get("/compare/").content.decode()

    assert "Nothing to compare yet" in body and 'name="find"' in body


def test_it_runs_a_fixed_number_of_queries_whatever_the_basket(client, priced, django_assert_num_queries):
    from django.core.cache import cache

    offerings = [priced(f"p{i}", f"m-{i}", "1", "2", cached_usd="0.5") for i in range(6)]
    client.get("/compare/?find=m-")  # builds what is built once (the price stamp, the search index)
    cache.clear()
    with django_assert_num_queries(7) as two:
        client.get(f"/compare/?compare={offerings[0].id},{offerings[1].id}&find=m-")
    cache.clear()
    ids = ",".join(str(o.id) for o in offerings)
    with django_assert_num_queries(len(two.captured_queries)):
        client.get(f"/compare/?compare={ids}&find=m-")

"""The leaderboard grouped by model: one row per canonical model with its best price and who charges it."""

from __future__ import annotations

import pytest
from bs4 import BeautifulSoup
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.factories import ModelFactory
from tests.modelpage_data import build, more_sellers

pytestmark = pytest.mark.django_db


def rows_of(client, url: str) -> list[tuple[str, str]]:
    response = client.get(url)
    assert response.status_code == 200
    page = BeautifulSoup(response.content, "html.parser")
    return [
        (tr["data-model"], " ".join(tr.get_text(" ").split()))
        for tr in page.select("#models-leaderboard tbody tr[data-model]")
    ]


def test_it_lists_each_model_once_with_its_cheapest_seller(client):
    build()
    ModelFactory(slug="unsold", name="Unsold")

    rows = rows_of(client, "/?group=model")

    assert [slug for slug, _ in rows] == ["deepseek-v3", "gemini-2-5-pro"]
    deepseek = rows[0][1]
    assert "$0.27 DeepSeek" in deepseek and "$0.478 DeepSeek" in deepseek
    assert " 2 " in f" {deepseek} "  # two ranked sellers; the free variant is not one


def test_it_keeps_the_leaderboards_filters_search_and_order(client):
    build()

    searched = rows_of(client, "/?group=model&q=gemini+2.5")
    by_provider = rows_of(client, "/?group=model&provider=together")
    dearest_first = rows_of(client, "/?group=model&sort=blended&dir=desc")

    assert [slug for slug, _ in searched] == ["gemini-2-5-pro"]
    assert [slug for slug, _ in by_provider] == ["deepseek-v3"] and "$1.25 Together AI" in by_provider[0][1]
    assert [slug for slug, _ in dearest_first] == ["gemini-2-5-pro", "deepseek-v3"]


def test_it_toggles_between_offerings_and_models_keeping_the_other_choices(client):
    build()

    offerings = BeautifulSoup(client.get("/?currency=USD&q=deepseek").content, "html.parser")
    link = offerings.select_one("#view-toggle a")["href"]
    grouped = BeautifulSoup(client.get("/" + link).content, "html.parser")

    assert "group=model" in link and "q=deepseek" in link
    assert grouped.select_one("#models-leaderboard") is not None
    assert grouped.select_one("form.filters input[name=group][value=model]") is not None
    assert "/api/v1/models/?search=deepseek" in grouped.decode()


def test_it_runs_the_same_queries_whatever_the_number_of_sellers(client):
    built = build()
    cache.clear()
    with CaptureQueriesContext(connection) as few:
        client.get("/?group=model")

    more_sellers(built.deepseek, 15)
    cache.clear()
    with CaptureQueriesContext(connection) as many:
        client.get("/?group=model")

    assert len(few.captured_queries) == len(many.captured_queries)

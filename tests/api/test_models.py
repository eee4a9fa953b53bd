"""``/api/v1/models/`` (best price per model) and ``/api/v1/models/<slug>/`` (the model page as data)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.factories import ModelFactory
from tests.modelpage_data import build, more_sellers

pytestmark = pytest.mark.django_db


def test_it_returns_every_seller_with_every_line_and_the_cheapest(api):
    built = build()

    body = api.get("/api/v1/models/deepseek-v3/").json()

    assert body["slug"] == "deepseek-v3" and body["seller_count"] == 2
    assert [s["provider"] for s in body["sellers"]] == ["deepseek", "together", "openrouter"]
    assert [s["ranked"] for s in body["sellers"]] == [True, True, False]
    assert body["sellers"][2]["listing"] == "free"
    assert body["sellers"][1]["attributes"] == {"region": "us"}
    official = body["sellers"][0]
    assert official["evidence_url"] == "https://api-docs.deepseek.example/pricing"
    assert {(p["component"], p["mode"]) for p in official["prices"]} == {
        ("input", "standard"),
        ("cached_input", "standard"),
        ("output", "standard"),
    }
    assert all(p["verified_at"] and p["source"] == "deepseek" for p in official["prices"])
    cheapest = {c["component"]: c for c in body["cheapest"]}
    assert cheapest["input"]["amount"] == 0.27 and cheapest["input"]["offering"] == built.official.id
    assert cheapest["input"]["sellers"] == 2
    assert body["cheapest_blend"]["amount"] == 0.4775
    assert body["best"]["input"] == 0.27 and body["cheapest_offering"]["blended"] == built.official.id


def test_it_lists_the_timeline_with_the_promotion_and_the_off_peak_window(api):
    build()

    timeline = api.get("/api/v1/models/deepseek-v3/").json()["timeline"]

    kinds = {(e["kind"], e["at"][:10]) for e in timeline}
    assert ("promo", "2025-01-20") in kinds and ("mode_window", "2025-03-01") in kinds
    promo = next(e for e in timeline if e["kind"] == "promo")
    assert promo["until"].startswith("2025-02-08")
    assert {(x["component"], x["amount"]) for x in promo["events"]} >= {("cached_input", 0.014)}
    window = next(e for e in timeline if e["kind"] == "mode_window")
    assert window["mode"] == "off_peak" and window["until"].startswith("2025-09-05")
    change = next(e for e in timeline if e["kind"] == "change" and e["provider"] == "deepseek")
    cached = next(x for x in change["events"] if x["component"] == "cached_input")
    assert (cached["previous"], cached["amount"], cached["percent"]) == (0.014, 0.07, 400.0)


def test_it_shows_every_tier_and_mode(api):
    build()

    seller = api.get("/api/v1/models/gemini-2-5-pro/").json()["sellers"][0]

    lines = {(p["component"], p["mode"], p["tier_min_tokens"], p["tier_max_tokens"]): p for p in seller["prices"]}
    assert len(lines) == 8
    assert lines[("input", "standard", 200001, None)]["amount"] == 2.5
    assert lines[("output", "batch", 200001, None)]["amount"] == 7.5
    assert seller["modes"] == ["standard", "batch"]


def test_it_finds_the_cheapest_in_the_mode_and_day_asked(api):
    build()

    body = api.get("/api/v1/models/deepseek-v3/?mode=off_peak&as_of=2025-06-01").json()

    assert {c["component"]: c["amount"] for c in body["cheapest"]} == {
        "input": 0.135,
        "cached_input": 0.035,
        "output": 0.55,
    }
    assert body["as_of"].startswith("2025-06-01")


def test_it_prices_per_million_words(api):
    build()

    body = api.get("/api/v1/models/deepseek-v3/?unit=mwords").json()

    line = next(p for p in body["sellers"][0]["prices"] if p["component"] == "input")
    # 0.27 per 1M tokens at the assumed 0.75 words per token.
    assert line["amount"] == line["per_mwords"] == 0.36
    assert body["words_per_token_source"] == "assumed"


@pytest.mark.parametrize(
    ("url", "status", "field"),
    [
        ("/api/v1/models/no-such-model/", 404, "detail"),
        ("/api/v1/models/deepseek-v3/?unit=parsecs", 400, "unit"),
        ("/api/v1/models/deepseek-v3/?mode=cheap", 400, "mode"),
        ("/api/v1/models/deepseek-v3/?as_of=yesterday", 400, "as_of"),
        ("/api/v1/models/deepseek-v3/?currency=XXX", 400, "currency"),
        ("/api/v1/models/?ordering=price", 400, "ordering"),
        ("/api/v1/models/?search=", 400, "search"),
        ("/api/v1/models/?limit=0", 400, "limit"),
    ],
)
def test_it_answers_bad_input_with_a_4xx_naming_it(api, url, status, field):
    build()

    response = api.get(url)

    assert response.status_code == status
    assert field in response.json()


def test_it_ranks_models_by_their_best_price(api):
    build()
    ModelFactory(slug="unsold", name="Unsold model")

    rows = api.get("/api/v1/models/?ordering=blended").json()["results"]

    assert [r["slug"] for r in rows] == ["deepseek-v3", "gemini-2-5-pro", "unsold"]
    assert rows[0]["best"]["blended"] == 0.4775 and rows[0]["seller_count"] == 2
    # Gemini: 3:1 of the shortest-prompt standard tier, 1.25 and 10.
    assert rows[1]["best"]["blended"] == 3.4375
    assert rows[2]["best"]["blended"] is None and rows[2]["seller_count"] == 0
    descending = api.get("/api/v1/models/?ordering=-blended").json()["results"]
    assert [r["slug"] for r in descending] == ["gemini-2-5-pro", "deepseek-v3", "unsold"]


def test_it_lists_models_by_name_with_their_best_prices_by_default(api):
    build()

    rows = api.get("/api/v1/models/").json()["results"]

    assert [r["slug"] for r in rows] == ["deepseek-v3", "gemini-2-5-pro"]
    assert rows[0]["best"]["cached_input"] == 0.07


def test_it_searches_models_by_any_sellers_id(api):
    build()

    found = api.get("/api/v1/models/?search=deepseek chat").json()["results"]
    gemini = api.get("/api/v1/models/?search=GEMINI_2.5-pro").json()["results"]

    assert [r["slug"] for r in found] == ["deepseek-v3"]
    assert [r["slug"] for r in gemini] == ["gemini-2-5-pro"]


def test_it_converts_the_best_prices_to_the_currency_asked(api):
    from tests.factories import ExchangeRateFactory

    build()
    ExchangeRateFactory(currency="USD", units_per_eur=Decimal("1.25"))

    row = api.get("/api/v1/models/?currency=EUR&search=deepseek").json()["results"][0]

    assert row["currency"] == "EUR" and row["best"]["input"] == 0.216


def queries(api, url: str) -> int:
    cache.clear()
    with CaptureQueriesContext(connection) as captured:
        assert api.get(url).status_code == 200
    return len(captured.captured_queries)


@pytest.mark.parametrize(
    "url", ["/api/v1/models/deepseek-v3/", "/api/v1/models/", "/api/v1/models/?ordering=blended&search=deepseek"]
)
def test_it_runs_a_constant_number_of_queries_whatever_the_number_of_sellers(api, url):
    built = build()
    few = queries(api, url)

    more_sellers(built.deepseek, 15)
    many = queries(api, url)

    assert few == many
    assert many <= 12


def test_it_keeps_the_models_a_provider_sells_with_that_providers_prices(api):
    build()

    rows = api.get("/api/v1/models/?provider=together").json()["results"]

    assert [r["slug"] for r in rows] == ["deepseek-v3"]
    assert rows[0]["best"]["input"] == 1.25 and rows[0]["seller_count"] == 1

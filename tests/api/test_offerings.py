from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from tests.factories import (
    ExchangeRateFactory,
    ModelFactory,
    OfferingFactory,
    PriceFactory,
    ProviderFactory,
    SourceFactory,
    TokenizerFactory,
)

pytestmark = pytest.mark.django_db


def offering_with(prices: dict[str, str], **kwargs) -> object:
    offering = OfferingFactory(**kwargs)
    source = SourceFactory(slug=f"{offering.provider.slug}-page", provider=offering.provider)
    for component, amount in prices.items():
        PriceFactory(offering=offering, component=component, amount_per_mtok=Decimal(amount), source=source)
    return offering


def test_it_lists_offerings_with_flat_headline_prices(api):
    offering = offering_with(
        {"input": "0.014", "output": "0.28", "cached_input": "0.0035"},
        provider=ProviderFactory(slug="deepseek", name="DeepSeek"),
        provider_model_id="deepseek-chat",
    )

    response = api.get("/api/v1/offerings/")

    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 1
    row = body["results"][0]
    assert row["id"] == offering.id
    assert row["provider"] == "deepseek"
    assert row["model_id"] == "deepseek-chat"
    assert row["model"] is None
    assert row["input"] == 0.014
    assert row["output"] == 0.28
    assert row["cached_input"] == 0.0035
    assert row["cache_write_5m"] is None
    assert row["blended"] == pytest.approx(0.0805)
    assert row["currency"] == "USD"
    assert row["unit"] == "mtok"
    assert row["words_per_token"] == 0.75
    assert row["words_per_token_source"] == "assumed"
    assert row["source"] == "deepseek-page"
    assert row["stale"] is False
    assert {p["component"] for p in row["prices"]} == {"input", "output", "cached_input"}


def test_it_writes_amounts_as_exact_json_numbers(api):
    offering_with({"input": "0.014", "output": "0.028"})

    content = api.get("/api/v1/offerings/?ratio=1:1").content.decode()

    assert '"input":0.014,' in content
    assert '"blended":0.021,' in content
    assert "0.0140000" not in content
    assert '"0.014"' not in content


def test_it_converts_to_words_through_the_model_tokenizer(api):
    tokenizer = TokenizerFactory(words_per_token=Decimal("0.5"), provenance="measured")
    offering_with({"input": "1", "output": "3"}, model=ModelFactory(tokenizer=tokenizer))

    row = api.get("/api/v1/offerings/?unit=mwords").json()["results"][0]

    assert row["unit"] == "mwords"
    assert row["input"] == 2
    assert row["output"] == 6
    assert row["words_per_token"] == 0.5
    assert row["words_per_token_source"] == "measured"


def test_it_converts_currency_through_stored_rates(api):
    offering_with({"input": "1.08", "output": "2.16"})
    ExchangeRateFactory(currency="USD", units_per_eur=Decimal("1.08"))

    row = api.get("/api/v1/offerings/?currency=eur").json()["results"][0]

    assert row["currency"] == "EUR"
    assert row["input"] == 1
    assert row["output"] == 2


def test_it_answers_prices_as_of_a_date_across_a_price_change(api):
    offering = OfferingFactory()
    change = timezone.now() - dt.timedelta(days=10)
    PriceFactory(
        offering=offering, amount_per_mtok=Decimal("2"), valid_from=change - dt.timedelta(days=50), valid_to=change
    )
    PriceFactory(offering=offering, amount_per_mtok=Decimal("1"), valid_from=change)

    before = (change - dt.timedelta(days=1)).date().isoformat()
    after = (change + dt.timedelta(days=1)).date().isoformat()
    long_before = (change - dt.timedelta(days=100)).date().isoformat()

    assert api.get(f"/api/v1/offerings/?as_of={before}").json()["results"][0]["input"] == 2
    assert api.get(f"/api/v1/offerings/?as_of={after}").json()["results"][0]["input"] == 1
    assert api.get("/api/v1/offerings/").json()["results"][0]["input"] == 1
    assert api.get(f"/api/v1/offerings/?as_of={long_before}").json()["count"] == 0
    moment = (change - dt.timedelta(seconds=1)).isoformat().replace("+00:00", "Z")
    assert api.get("/api/v1/offerings/", {"as_of": moment}).json()["results"][0]["input"] == 2


@pytest.mark.parametrize("ordering, expected", [("input", ["b", "a", "none"]), ("-input", ["a", "b", "none"])])
def test_it_orders_on_a_price_field_with_unknown_prices_last(api, ordering, expected):
    offering_with({"input": "5", "output": "1"}, provider_model_id="a")
    offering_with({"input": "1", "output": "1"}, provider_model_id="b")
    offering_with({"output": "1"}, provider_model_id="none")

    rows = api.get(f"/api/v1/offerings/?ordering={ordering}").json()["results"]

    assert [r["model_id"] for r in rows] == expected


def test_it_filters_by_provider_and_text(api):
    offering_with({"input": "1"}, provider=ProviderFactory(slug="openai"), provider_model_id="gpt-5")
    offering_with({"input": "1"}, provider=ProviderFactory(slug="google"), provider_model_id="gemini-2.5-pro")

    assert [r["model_id"] for r in api.get("/api/v1/offerings/?provider=google").json()["results"]] == [
        "gemini-2.5-pro"
    ]
    assert [r["model_id"] for r in api.get("/api/v1/offerings/?q=GPT").json()["results"]] == ["gpt-5"]
    assert api.get("/api/v1/offerings/?provider=openai,google").json()["count"] == 2


def test_it_paginates_with_limit_and_offset(api):
    for n in range(5):
        offering_with({"input": "1"}, provider_model_id=f"m{n}")

    body = api.get("/api/v1/offerings/?limit=2&offset=2").json()

    assert body["count"] == 5
    assert [r["model_id"] for r in body["results"]] == ["m2", "m3"]
    assert "offset=4" in body["next"]
    assert body["previous"].endswith("limit=2")


def test_it_shows_one_offering_and_404s_for_an_unknown_one(api):
    offering = offering_with({"input": "1", "output": "2"})

    assert api.get(f"/api/v1/offerings/{offering.id}/").json()["output"] == 2
    assert api.get(f"/api/v1/offerings/{offering.id + 1}/").status_code == 404
    assert api.get("/api/v1/offerings/99999999999999999999999/").status_code == 404


def test_it_gives_every_price_an_offering_ever_had_on_both_time_axes(api):
    offering = OfferingFactory()
    change = timezone.now() - dt.timedelta(days=10)
    PriceFactory(
        offering=offering, amount_per_mtok=Decimal("2"), valid_from=change - dt.timedelta(days=5), valid_to=change
    )
    PriceFactory(offering=offering, amount_per_mtok=Decimal("1"), valid_from=change)

    body = api.get(f"/api/v1/offerings/{offering.id}/history/").json()

    assert body["offering"] == offering.id
    assert [r["amount"] for r in body["results"]] == [2, 1]
    assert body["results"][0]["valid_to"] is not None
    assert body["results"][1]["valid_to"] is None
    assert all("recorded_at" in r and "superseded_at" in r for r in body["results"])
    assert api.get(f"/api/v1/offerings/{offering.id + 1}/history/").status_code == 404


def test_it_gives_csv_for_spreadsheets(api):
    offering_with({"input": "0.014", "output": "0.28"}, provider_model_id="deepseek-chat")

    response = api.get("/api/v1/offerings/?format=csv")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    header, line = response.content.decode().splitlines()
    row = dict(zip(header.split(","), line.split(","), strict=True))
    assert row["model_id"] == "deepseek-chat"
    assert row["input"] == "0.014"
    assert "prices" not in row


def test_it_runs_a_constant_number_of_queries_whatever_the_number_of_offerings(api, django_assert_max_num_queries):
    for n in range(30):
        offering_with({"input": "1", "output": str(n + 1), "cached_input": "0.5"}, provider_model_id=f"m{n}")

    for url in (
        "/api/v1/offerings/?limit=1000",
        "/api/v1/offerings/?ordering=-blended&limit=1000",
        "/api/v1/offerings/?ordering=context_window",
    ):
        with django_assert_max_num_queries(8):
            assert api.get(url).json()["count"] == 30
    with django_assert_max_num_queries(6):
        assert api.get("/api/v1/offerings/?limit=1000&unit=mwords&currency=usd").status_code == 200


# --- listing classes, region and price range (issue 13) --------------------------------------------------


def _model_ids(response) -> list[str]:
    assert response.status_code == 200, response.content
    return sorted(row["model_id"] for row in response.json()["results"])


def test_it_lists_list_prices_only_unless_free_unlisted_or_missing_ones_are_asked_for(api):
    offering_with({"input": "1", "output": "2"}, provider_model_id="paid")
    offering_with({"input": "0", "output": "0"}, provider_model_id="paid:free", listing="free")
    offering_with({"input": "1", "output": "1"}, provider_model_id="self-hosted", listing="unlisted")
    gone = offering_with({"input": "1", "output": "2"}, provider_model_id="gone")
    gone.prices.update(missing_since=timezone.now() - dt.timedelta(days=2))

    assert _model_ids(api.get("/api/v1/offerings/")) == ["paid"]
    assert _model_ids(api.get("/api/v1/offerings/?include_free=true")) == ["paid", "paid:free"]
    assert _model_ids(api.get("/api/v1/offerings/?include_unlisted=true")) == ["paid", "self-hosted"]
    assert _model_ids(api.get("/api/v1/offerings/?include_missing=true")) == ["gone", "paid"]
    free_row = api.get("/api/v1/offerings/?include_free=true&q=free").json()["results"][0]
    assert free_row["listing"] == "free"


def test_it_applies_the_listing_flags_to_csv_prices_and_estimates_too(api):
    offering_with({"input": "1", "output": "2"}, provider_model_id="paid")
    offering_with({"input": "0", "output": "0"}, provider_model_id="paid:free", listing="free")

    csv_default = api.get("/api/v1/offerings/?format=csv").content.decode()
    csv_free = api.get("/api/v1/offerings/?format=csv&include_free=true").content.decode()
    prices = api.get("/api/v1/prices/?include_free=true").json()["results"]
    estimate = api.get("/api/v1/estimate/?input_tokens=1000&include_free=true").json()["results"]

    assert "paid:free" not in csv_default and "paid:free" in csv_free
    assert {row["model_id"] for row in prices} == {"paid", "paid:free"}
    assert {row["model_id"] for row in estimate} == {"paid", "paid:free"}


def test_it_filters_by_the_region_an_offering_states(api):
    offering_with({"input": "1", "output": "2"}, provider_model_id="gpt-east", attributes={"region": "eastus"})
    offering_with({"input": "1", "output": "2"}, provider_model_id="gpt-global")

    response = api.get("/api/v1/offerings/?region=eastus")

    assert _model_ids(response) == ["gpt-east"]
    assert response.json()["results"][0]["region"] == "eastus"


def test_it_filters_open_weights_with_unknown_models_in_neither(api):
    offering_with({"input": "1", "output": "2"}, provider_model_id="o", model=ModelFactory(slug="o", open_weights=True))
    offering_with(
        {"input": "1", "output": "2"}, provider_model_id="c", model=ModelFactory(slug="c", open_weights=False)
    )
    offering_with({"input": "1", "output": "2"}, provider_model_id="u", model=ModelFactory(slug="u", open_weights=None))

    assert _model_ids(api.get("/api/v1/offerings/?open_weights=true")) == ["o"]
    assert _model_ids(api.get("/api/v1/offerings/?open_weights=false")) == ["c"]


def test_it_filters_on_a_blended_price_range_in_the_requested_unit_and_currency(api):
    ExchangeRateFactory(currency="USD", units_per_eur=Decimal("2"))
    offering_with({"input": "1", "output": "1"}, provider_model_id="cheap")
    offering_with({"input": "4", "output": "4"}, provider_model_id="middle")
    offering_with({"input": "20", "output": "20"}, provider_model_id="dear")
    offering_with({"input": "1"}, provider_model_id="no-output")

    assert _model_ids(api.get("/api/v1/offerings/?min_price=1&max_price=4")) == ["cheap", "middle"]
    assert _model_ids(api.get("/api/v1/offerings/?currency=EUR&max_price=2")) == ["cheap", "middle"]
    assert _model_ids(api.get("/api/v1/offerings/?unit=mwords&max_price=2")) == ["cheap"]  # 1 USD/Mtok = 1.33/Mwords
    assert _model_ids(api.get("/api/v1/offerings/?min_price=2&ordering=model_id")) == ["dear", "middle"]


@pytest.mark.parametrize(
    ("query", "parameter"),
    [
        ("min_price=-1", "min_price"),
        ("max_price=abc", "max_price"),
        ("min_price=5&max_price=1", "max_price"),
        ("include_free=maybe", "include_free"),
        ("region=" + "x" * 101, "region"),
    ],
)
def test_it_answers_bad_filter_values_with_a_400_naming_the_parameter(api, query, parameter):
    response = api.get(f"/api/v1/offerings/?{query}")

    assert response.status_code == 400
    assert parameter in response.json()


def test_it_documents_the_new_parameters_in_the_schema(api):
    schema = api.get("/api/schema/?format=json").json()
    parameters = {p["name"] for p in schema["paths"]["/api/v1/offerings/"]["get"]["parameters"]}

    assert {"include_free", "include_unlisted", "include_missing", "region", "min_price", "max_price"} <= parameters

from __future__ import annotations

import re
from decimal import Decimal

import pytest

from pricing.templatetags.pricing_format import money
from tests.factories import ModelFactory, OfferingFactory, PriceFactory, TokenizerFactory, TokenizerMeasurementFactory

pytestmark = pytest.mark.django_db


def priced(model_id: str, prices: list[tuple[str, str, int | None]], **kwargs):
    offering = OfferingFactory(provider_model_id=model_id, **kwargs)
    for component, amount, tier_min in prices:
        PriceFactory(
            offering=offering,
            component=component,
            amount_per_mtok=Decimal(amount),
            tier_min_tokens=tier_min,
            tier_max_tokens=None if tier_min else 200000 if model_id == "tiered" else None,
        )
    return offering


def test_it_ranks_offerings_by_total_cost_with_a_breakdown(api):
    priced("cheap", [("input", "0.14", None), ("output", "0.28", None)])
    priced("dear", [("input", "3", None), ("output", "15", None)])
    priced("no-output", [("input", "0.01", None)])

    body = api.get("/api/v1/estimate/?input_tokens=1000000&output_tokens=500000").json()

    assert [r["model_id"] for r in body["results"]] == ["cheap", "dear", "no-output"]
    cheap = body["results"][0]
    assert cheap["total"] == 0.28
    assert cheap["complete"] is True
    assert [(line["component"], line["tokens"], line["cost"]) for line in cheap["breakdown"]] == [
        ("input", 1000000, 0.14),
        ("output", 500000, 0.14),
    ]
    assert body["results"][2]["complete"] is False
    assert body["results"][2]["missing"] == ["output"]
    assert body["workload"]["input_tokens"] == 1000000


def test_it_prices_the_whole_request_at_the_tier_its_prompt_falls_in(api):
    priced("tiered", [("input", "1.25", None), ("input", "2.5", 200001), ("output", "10", None)])

    short = api.get("/api/v1/estimate/?input_tokens=100000").json()["results"][0]
    long = api.get("/api/v1/estimate/?input_tokens=300000").json()["results"][0]

    assert short["breakdown"][0]["amount_per_mtok"] == 1.25
    assert short["breakdown"][0]["tier_max_tokens"] == 200000
    assert long["breakdown"][0]["amount_per_mtok"] == 2.5
    assert long["breakdown"][0]["tier_min_tokens"] == 200001
    assert long["total"] == 0.75


def test_it_turns_words_into_tokens_through_each_offerings_ratio(api):
    priced(
        "half", [("input", "1", None)], model=ModelFactory(tokenizer=TokenizerFactory(words_per_token=Decimal("0.5")))
    )
    priced("assumed", [("input", "1", None)])

    rows = {r["model_id"]: r for r in api.get("/api/v1/estimate/?input_words=750000").json()["results"]}

    assert rows["half"]["breakdown"][0]["tokens"] == 1500000
    assert rows["assumed"]["breakdown"][0]["tokens"] == 1000000
    assert rows["assumed"]["words_per_token_source"] == "assumed"


def test_it_counts_a_text_and_accepts_a_json_post(api):
    priced("m", [("input", "1", None), ("output", "2", None)])

    body = api.post(
        "/api/v1/estimate/", {"text": "one two three", "output_tokens": 10, "currency": "USD"}, format="json"
    ).json()

    assert body["workload"]["text_words"] == 3
    assert "text_tokens" not in body["workload"]  # tokens depend on the offering: see each result's tokens
    assert body["results"][0]["tokens"]["input"] == 4
    assert body["results"][0]["breakdown"][0]["tokens"] == 4
    assert body["results"][0]["total"] == 0.000024


def test_each_result_shows_the_tokens_per_component_it_was_priced_at(api):
    half = ModelFactory(tokenizer=TokenizerFactory(words_per_token=Decimal("0.5")))
    priced("half", [("input", "1", None)], model=half)

    row = api.get("/api/v1/estimate/?input_words=10&input_tokens=5&output_words=3").json()["results"][0]

    assert row["tokens"] == {"input": 25, "cached_input": 0, "cache_write_5m": 0, "cache_write_1h": 0, "output": 6}
    assert row["complete"] is False and row["missing"] == ["output"]


def calculator_row(body: str, model_id: str) -> str:
    match = re.search(rf'<tr data-offering="{re.escape(model_id)}"[^>]*>(.*?)</tr>', body, re.DOTALL)
    assert match, f"no calculator row for {model_id}"
    return match.group(1)


def calculator_total(body: str, model_id: str) -> str:
    cell = re.search(r'data-col="total"[^>]*><strong>([^<]+)</strong>', calculator_row(body, model_id))
    assert cell
    return cell.group(1)


def test_the_api_and_the_calculator_agree_on_a_words_workload(api, client):
    tokenizer = TokenizerFactory(words_per_token=Decimal("0.5"), provenance="measured")
    priced("half", [("input", "2", None), ("output", "8", None)], model=ModelFactory(tokenizer=tokenizer))

    api_row = api.get("/api/v1/estimate/?input_words=750001&output_words=12345").json()["results"][0]
    body = client.get("/calculator/?amount_unit=words&input=750001&cached_input=0&output=12345").content.decode()

    assert api_row["tokens"]["input"] == 1500002 and api_row["tokens"]["output"] == 24690
    assert api_row["words_per_token"] == 0.5 and api_row["words_per_token_source"] == "measured"
    assert "1,500,002 × $2.00" in calculator_row(body, "half")
    assert "24,690 × $8.00" in calculator_row(body, "half")
    assert calculator_total(body, "half") == money(Decimal(str(api_row["total"])), "USD") == "$3.20"


def test_words_round_up_to_whole_tokens_in_the_api_and_the_calculator(api, client):
    priced("assumed", [("input", "1", None), ("output", "1", None)])

    row = api.get("/api/v1/estimate/?input_words=1&output_words=4").json()["results"][0]
    body = client.get("/calculator/?amount_unit=words&input=1&cached_input=0&output=4").content.decode()

    # 1 / 0.75 = 1.33 and 4 / 0.75 = 5.33 tokens: a partial token is billed whole.
    assert (row["tokens"]["input"], row["tokens"]["output"]) == (2, 6)
    assert "2 × $1.00" in calculator_row(body, "assumed") and "6 × $1.00" in calculator_row(body, "assumed")


def test_a_chinese_text_counts_each_han_character_as_a_word(api, client):
    priced("assumed", [("input", "1", None), ("output", "1", None)])

    body = api.post("/api/v1/estimate/", {"text": "你好，世界。 hello — world"}, format="json").json()
    page = client.get("/calculator/?amount_unit=text&text=你好，世界。+hello+—+world&output=0").content.decode()

    assert body["workload"]["text_words"] == 6
    assert body["results"][0]["tokens"]["input"] == 8  # 6 / 0.75
    assert "a text of 6 words" in page and "8 × $1.00" in page


def test_a_text_and_input_words_are_converted_together(api):
    priced("assumed", [("input", "1", None)])

    row = api.get("/api/v1/estimate/?text=one+two&input_words=1").json()["results"][0]

    assert row["tokens"]["input"] == 4  # 3 words / 0.75


def test_a_text_without_words_is_no_workload(api):
    response = api.post("/api/v1/estimate/", {"text": "— … —"}, format="json")

    assert response.status_code == 400
    assert "text" in response.json()["input_tokens"][0]


@pytest.fixture
def zh_measured():
    tokenizer = TokenizerFactory(words_per_token=Decimal("0.8"), provenance="measured")
    TokenizerMeasurementFactory(tokenizer=tokenizer, language="zh", words=1250, characters=1250)
    return priced("zh", [("input", "1", None), ("output", "2", None)], model=ModelFactory(tokenizer=tokenizer))


def test_the_language_changes_an_estimate_through_its_measured_ratio(api, client, zh_measured):
    english = api.get("/api/v1/estimate/?input_words=1000000").json()["results"][0]
    chinese = api.get("/api/v1/estimate/?input_words=1000000&language=zh").json()["results"][0]
    page = client.get("/calculator/?amount_unit=words&input=1000000&output=0&language=zh").content.decode()

    assert (english["tokens"]["input"], english["total"], english["words_per_token"]) == (1250000, 1.25, 0.8)
    assert (chinese["tokens"]["input"], chinese["total"], chinese["words_per_token"]) == (800000, 0.8, 1.25)
    assert chinese["words_per_token_source"] == "measured"
    assert "800,000 × $1.00" in calculator_row(page, "zh") and calculator_total(page, "zh") == "$0.80"


def test_a_words_estimate_in_another_language_runs_a_constant_number_of_queries(
    api, zh_measured, django_assert_max_num_queries
):
    url = "/api/v1/estimate/?input_words=1000&output_words=10&text=你好&language=zh"
    with django_assert_max_num_queries(8) as few:
        api.get(url)
    for _ in range(10):
        OfferingFactory(model=zh_measured.model)
        priced("other", [("input", "1", None)], model=ModelFactory(tokenizer=TokenizerFactory()))
    with django_assert_max_num_queries(len(few.captured_queries)):
        # Another URL for the same estimate: the first answer is cached under its own.
        assert api.get(url + "&offset=0").json()["count"] == 11


@pytest.fixture
def gemini_pro():
    """gemini-2.5-pro's two prompt tiers: $1.25 / $10 up to 200K prompt tokens, $2.50 / $15 beyond."""
    offering = OfferingFactory(provider_model_id="gemini-2.5-pro", context_window=1_048_576)
    for component, amount, low, high in (
        ("input", "1.25", None, 200_000),
        ("input", "2.50", 200_001, None),
        ("output", "10", None, 200_000),
        ("output", "15", 200_001, None),
    ):
        PriceFactory(
            offering=offering,
            component=component,
            amount_per_mtok=Decimal(amount),
            tier_min_tokens=low,
            tier_max_tokens=high,
        )
    return offering


def test_it_prices_a_month_of_requests_each_at_its_own_tier(api, gemini_pro):
    body = api.get("/api/v1/estimate/?requests=1000&input_tokens=10000&output_tokens=2000").json()
    row = body["results"][0]

    assert (row["total"], row["per_request_total"], row["requests"]) == (32.5, 0.0325, 1000)
    assert [(b["component"], b["tokens"], b["cost"], b["total_tokens"], b["total_cost"]) for b in row["breakdown"]] == [
        ("input", 10000, 0.0125, 10_000_000, 12.5),
        ("output", 2000, 0.02, 2_000_000, 20),
    ]
    assert row["breakdown"][0]["tier_max_tokens"] == 200000
    assert (row["context_window"], row["fits_context"]) == (1048576, True)
    assert body["workload"]["requests"] == 1000 and body["workload"]["input_tokens"] == 10000


def test_a_json_post_takes_the_same_requests(api, gemini_pro):
    body = api.post(
        "/api/v1/estimate/", {"requests": 1000, "input_tokens": 10000, "output_tokens": 2000}, format="json"
    ).json()

    assert body["results"][0]["total"] == 32.5


def test_without_requests_the_workload_is_one_request_as_before(api, gemini_pro):
    row = api.get("/api/v1/estimate/?input_tokens=300000&output_tokens=2000").json()["results"][0]

    assert row["requests"] == 1
    assert row["total"] == row["per_request_total"] == 0.78  # the long-context tier: one 300K-token prompt
    assert row["breakdown"][0]["total_cost"] == row["breakdown"][0]["cost"] == 0.75


def test_a_request_too_long_for_the_context_window_ranks_after_ones_that_fit(api, gemini_pro):
    priced("short", [("input", "0.1", None), ("output", "0.2", None)])  # 128,000-token window

    rows = api.get("/api/v1/estimate/?input_tokens=300000&output_tokens=1000").json()["results"]

    assert [(r["model_id"], r["fits_context"]) for r in rows] == [("gemini-2.5-pro", True), ("short", False)]


@pytest.mark.parametrize("bad", ["0", "-1", "1.5", "many", "1000000001"])
def test_a_bad_request_count_is_a_400_naming_it(api, gemini_pro, bad):
    response = api.get(f"/api/v1/estimate/?requests={bad}&input_tokens=10")

    assert response.status_code == 400
    assert list(response.json()) == ["requests"]


def test_the_schema_documents_requests_and_the_new_totals(api):
    schema = api.get("/api/schema/?format=json").json()

    parameters = {p["name"]: p for p in schema["paths"]["/api/v1/estimate/"]["get"]["parameters"]}
    assert parameters["requests"]["schema"]["minimum"] == 1
    body = schema["components"]["schemas"]["EstimateParams"]["properties"]
    assert body["requests"]["default"] == 1
    estimate = schema["components"]["schemas"]["Estimate"]["properties"]
    assert {"per_request_total", "requests", "fits_context", "context_window"} <= set(estimate)
    assert {"total_tokens", "total_cost"} <= set(schema["components"]["schemas"]["CostLine"]["properties"])


def test_an_estimate_of_many_requests_runs_a_constant_number_of_queries(api, gemini_pro, django_assert_num_queries):
    url = "/api/v1/estimate/?requests=1000&input_tokens=10000&output_tokens=2000"
    # The change stamp, the exchange rates, every offering's lean lines with its columns, the tokenizers,
    # then the page's offerings with their lines.
    with django_assert_num_queries(6) as few:
        api.get(url)
    for index in range(10):
        priced(f"more-{index}", [("input", "1", None), ("output", "2", None)])
    with django_assert_num_queries(len(few.captured_queries)):
        assert api.get(url + "&offset=0").json()["count"] == 11

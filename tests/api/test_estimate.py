from __future__ import annotations

from decimal import Decimal

import pytest

from tests.factories import ModelFactory, OfferingFactory, PriceFactory, TokenizerFactory

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
    assert body["workload"]["text_tokens"] == 4
    assert body["results"][0]["breakdown"][0]["tokens"] == 4
    assert body["results"][0]["total"] == 0.000024

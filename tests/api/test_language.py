"""Per-words figures follow the language the reader picks, through each tokenizer's measured ratio."""

from __future__ import annotations

from decimal import Decimal

import pytest

from tests.factories import (
    ModelFactory,
    OfferingFactory,
    PriceFactory,
    SourceFactory,
    TokenizerFactory,
    TokenizerMeasurementFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def measured_offering():
    tokenizer = TokenizerFactory(words_per_token=Decimal("0.8"), provenance="measured")
    TokenizerMeasurementFactory(tokenizer=tokenizer, language="zh", words=1250, characters=1250)
    offering = OfferingFactory(model=ModelFactory(tokenizer=tokenizer))
    source = SourceFactory(provider=offering.provider)
    PriceFactory(offering=offering, component="input", amount_per_mtok=Decimal("1"), source=source)
    PriceFactory(offering=offering, component="output", amount_per_mtok=Decimal("2"), source=source)
    return offering


def test_it_uses_the_english_ratio_by_default(api, measured_offering):
    row = api.get("/api/v1/offerings/?unit=mwords").json()["results"][0]
    assert row["input"] == 1.25
    assert row["words_per_token"] == 0.8
    assert row["words_per_token_source"] == "measured"


def test_it_switches_to_the_ratio_measured_for_the_chosen_language(api, measured_offering):
    row = api.get("/api/v1/offerings/?unit=mwords&language=zh").json()["results"][0]
    assert row["input"] == 0.8
    assert row["output"] == 1.6
    assert row["words_per_token"] == 1.25


def test_it_says_assumed_for_a_language_the_tokenizer_was_not_measured_in(api, measured_offering):
    row = api.get("/api/v1/offerings/?unit=mwords&language=code").json()["results"][0]
    assert row["words_per_token"] == 0.75
    assert row["words_per_token_source"] == "assumed"


def test_it_refuses_an_unknown_language_naming_the_accepted_ones(api, measured_offering):
    response = api.get("/api/v1/offerings/?unit=mwords&language=klingon")
    assert response.status_code == 400
    message = response.json()["language"][0]
    assert all(code in message for code in ("en", "en-legal", "zh", "ja", "hu", "code"))


def test_it_keeps_the_query_count_constant_in_another_language(api, measured_offering, django_assert_max_num_queries):
    for _ in range(5):
        OfferingFactory(model=measured_offering.model)
    with django_assert_max_num_queries(7):
        api.get("/api/v1/offerings/?unit=mwords&language=zh")


def test_the_leaderboard_switches_language_too(client, measured_offering):
    english = client.get("/?unit=mwords").content.decode()
    chinese = client.get("/?unit=mwords&language=zh").content.decode()
    assert "0.8" in english
    assert "1.25" in chinese
    assert english != chinese

"""Attack drills: oversized and deeply nested request bodies are refused before anything parses them."""

from __future__ import annotations

import json
import time
from decimal import Decimal

import pytest

from pricing.middleware import json_depth
from tests.factories import OfferingFactory, PriceFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def priced():
    offering = OfferingFactory()
    PriceFactory(offering=offering, component="input", amount_per_mtok=Decimal("1"))
    PriceFactory(offering=offering, component="output", amount_per_mtok=Decimal("2"))


def post(client, body: bytes, **extra):
    return client.generic("POST", "/api/v1/estimate/", body, content_type="application/json", **extra)


def test_a_body_over_the_cap_is_refused_with_413_from_its_declared_length(client, settings):
    body = json.dumps({"text": "x" * (settings.REQUEST_MAX_BODY_BYTES + 10)}).encode()
    started = time.monotonic()
    response = post(client, body)
    assert response.status_code == 413
    assert "at most" in response.json()["detail"]
    assert time.monotonic() - started < 1


def test_a_100_megabyte_body_is_refused_without_being_read(client):
    # Only the declared length is sent: were the body read, the request would fail differently.
    response = client.generic(
        "POST", "/api/v1/estimate/", b"", content_type="application/json", CONTENT_LENGTH=str(100 * 1024 * 1024)
    )
    assert response.status_code == 413


def test_deeply_nested_json_is_a_400_not_a_500(client):
    for depth in (100, 100_000):
        response = post(client, b"[" * depth + b"]" * depth)
        assert response.status_code == 400, depth
        assert "nested" in response.json()["detail"]


def test_brackets_inside_strings_do_not_count_as_nesting(client):
    text = "[[[[{{{{" * 1000 + ' "quoted\\" [[[ " '
    response = post(client, json.dumps({"text": text}).encode())
    assert response.status_code == 200


def test_an_ordinary_estimate_and_the_largest_pasted_text_still_work(client):
    assert post(client, json.dumps({"input_tokens": 1000}).encode()).status_code == 200
    from pricing.api.params import MAX_TEXT_CHARS

    chinese = json.dumps({"text": "价" * MAX_TEXT_CHARS}).encode()  # every character escaped: \\uXXXX
    assert post(client, chinese).status_code == 200


def test_json_depth_counts_only_structure():
    assert json_depth(b'{"a": [1, {"b": "[{"}]}') == 3
    assert json_depth(b'"[[["') == 0

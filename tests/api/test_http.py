from __future__ import annotations

from decimal import Decimal

import pytest
from rest_framework.throttling import AnonRateThrottle

from pricing import services
from tests.factories import OfferingFactory, PriceFactory

pytestmark = pytest.mark.django_db


def test_it_answers_a_conditional_request_with_304(api):
    PriceFactory()
    first = api.get("/api/v1/offerings/")
    assert first.status_code == 200
    assert first["ETag"]
    assert first["Last-Modified"]

    by_etag = api.get("/api/v1/offerings/", HTTP_IF_NONE_MATCH=first["ETag"])
    by_date = api.get("/api/v1/offerings/", HTTP_IF_MODIFIED_SINCE=first["Last-Modified"])

    assert by_etag.status_code == 304
    assert by_etag.content == b""
    assert by_date.status_code == 304
    assert api.get("/api/v1/offerings/?unit=mwords", HTTP_IF_NONE_MATCH=first["ETag"]).status_code == 200


def test_it_serves_cached_pages_until_a_price_changes(api, django_assert_num_queries):
    price = PriceFactory(amount_per_mtok=Decimal("1"))
    first = api.get("/api/v1/offerings/")

    with django_assert_num_queries(1):  # the price-change stamp, read from the database
        again = api.get("/api/v1/offerings/")
    assert again.content == first.content
    assert again["ETag"] == first["ETag"]

    PriceFactory(offering=OfferingFactory(provider=price.offering.provider), amount_per_mtok=Decimal("2"))
    assert api.get("/api/v1/offerings/").json()["count"] == 1  # still the cached page
    services.prices_changed()

    fresh = api.get("/api/v1/offerings/")
    assert fresh.json()["count"] == 2
    assert fresh["ETag"] != first["ETag"]
    assert api.get("/api/v1/offerings/", HTTP_IF_NONE_MATCH=first["ETag"]).status_code == 200


def test_it_throttles_anonymous_clients_with_a_clear_429(api, monkeypatch):
    monkeypatch.setattr(AnonRateThrottle, "THROTTLE_RATES", {"anon": "2/minute"})

    statuses = [api.get("/api/v1/providers/").status_code for _ in range(3)]

    assert statuses == [200, 200, 429]
    response = api.get("/api/v1/providers/")
    assert int(response["Retry-After"]) > 0
    assert "throttled" in response.json()["detail"]


def test_it_allows_read_only_use_from_browsers(api):
    response = api.get("/api/v1/providers/", HTTP_ORIGIN="https://dashboard.example")
    preflight = api.options(
        "/api/v1/estimate/", HTTP_ORIGIN="https://dashboard.example", HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST"
    )

    assert response["Access-Control-Allow-Origin"] == "*"
    assert "GET" in preflight["Access-Control-Allow-Methods"]
    assert "DELETE" not in preflight["Access-Control-Allow-Methods"]


def test_it_serves_the_openapi_schema_and_its_docs(api):
    schema = api.get("/api/schema/?format=json")
    docs = api.get("/api/docs/")

    assert schema.status_code == 200
    paths = schema.json()["paths"]
    for path in (
        "/api/v1/offerings/",
        "/api/v1/offerings/{id}/",
        "/api/v1/offerings/{id}/history/",
        "/api/v1/prices/",
        "/api/v1/changes/",
        "/api/v1/providers/",
        "/api/v1/models/",
        "/api/v1/sources/",
        "/api/v1/estimate/",
    ):
        assert path in paths
    assert docs.status_code == 200

"""Drill: Redis (cache and throttle store) goes down and comes back, with a real redis-server.

Reads keep serving, uncached, while it is down and use it again by themselves when it returns; a scrape
that commits while it is down is a success, and the change stamp (in the database) moves with it, so no
ETag outlives the change.
"""

from __future__ import annotations

import time
from decimal import Decimal
from unittest import mock

import pytest
from rest_framework.throttling import AnonRateThrottle

from pricing import cache as resilient_cache
from pricing import selectors, services
from pricing.models import Price, ScrapeRun
from providers.http import FetchResult
from tests.factories import OfferingFactory, PriceFactory
from tests.faults.servers import RedisServer

pytestmark = pytest.mark.django_db

READS = ["/", "/calculator/", "/api/v1/offerings/", "/api/v1/providers/", "/api/v1/changes/", "/api/v1/models/"]


@pytest.fixture
def redis_server(tmp_path, settings, monkeypatch):
    server = RedisServer(tmp_path)
    server.start()
    settings.CACHES = {
        **settings.CACHES,
        "default": {
            "BACKEND": "pricing.cache.ResilientRedisCache",
            "LOCATION": server.url,
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 1.0},
        },
    }
    monkeypatch.setattr(resilient_cache, "RETRY_AFTER_S", 0.2)
    yield server
    server.stop()


@pytest.fixture
def prices():
    offering = OfferingFactory()
    PriceFactory(offering=offering, component="input", amount_per_mtok=Decimal("1"))
    PriceFactory(offering=offering, component="output", amount_per_mtok=Decimal("4"))
    services.prices_changed()


def timed_get(client, path, **headers):
    started = time.monotonic()
    response = client.get(path, **headers)
    return response, time.monotonic() - started


def test_it_keeps_serving_every_read_while_redis_is_down_and_uses_it_again_when_it_returns(
    client, redis_server, prices
):
    for path in READS:
        assert client.get(path).status_code == 200, path
    assert redis_server.keys() > 0  # pages were cached in Redis

    redis_server.stop()
    for path in READS:
        response, took = timed_get(client, path)
        assert response.status_code == 200, path
        assert took < 2, f"{path} took {took:.1f}s with Redis down"

    redis_server.start()  # empty: it kept nothing
    assert redis_server.keys() == 0
    time.sleep(0.3)  # the cache is retried after RETRY_AFTER_S
    for path in READS:
        assert client.get(path).status_code == 200, path
    assert redis_server.keys() > 0  # serving from Redis again, by itself


def test_it_throttles_again_once_redis_returns_and_never_fails_a_read_meanwhile(client, redis_server, monkeypatch):
    monkeypatch.setattr(AnonRateThrottle, "THROTTLE_RATES", {"anon": "3/minute"})
    redis_server.stop()
    assert [client.get("/api/v1/providers/").status_code for _ in range(5)] == [200] * 5

    redis_server.start()
    time.sleep(0.3)
    statuses = [client.get(f"/api/v1/providers/?n={i}").status_code for i in range(5)]
    assert statuses == [200, 200, 200, 429, 429]


def test_a_scrape_that_commits_while_redis_is_down_succeeds_and_moves_the_etag(
    client, redis_server, fixture_bytes, prices
):
    before = client.get("/api/v1/offerings/")
    stamp = selectors.prices_changed_at()
    redis_server.stop()

    content = fixture_bytes("providers/openrouter/models.json")
    fetched = FetchResult(
        url="https://openrouter.ai/api/v1/models",
        status=200,
        content=content,
        content_type="application/json",
        etag="",
        last_modified="",
        elapsed_ms=1,
    )
    with mock.patch("providers.http.fetch", return_value=fetched):
        result = services.scrape_source(slug="openrouter")

    run = ScrapeRun.objects.get(pk=result.run_id)
    assert (result.status, run.status, run.error) == ("succeeded", "succeeded", "")
    assert run.created > 0 and Price.objects.filter(run=run).count() == run.created
    assert selectors.prices_changed_at() > stamp
    after = client.get("/api/v1/offerings/", HTTP_IF_NONE_MATCH=before["ETag"])
    assert after.status_code == 200  # the old ETag does not outlive the change
    assert after["ETag"] != before["ETag"]


def test_the_change_stamp_is_written_with_the_data_and_rolled_back_with_it():
    from django.db import transaction

    stamp = selectors.prices_changed_at()
    with pytest.raises(RuntimeError), transaction.atomic():
        services.prices_changed()
        assert selectors.prices_changed_at() > stamp
        raise RuntimeError("the run's transaction fails")
    assert selectors.prices_changed_at() == stamp

"""Attack drill: rotating X-Forwarded-For does not get a client past the anonymous rate."""

from __future__ import annotations

import pytest
from rest_framework.settings import api_settings
from rest_framework.throttling import AnonRateThrottle

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def low_rate(monkeypatch):
    monkeypatch.setattr(AnonRateThrottle, "THROTTLE_RATES", {"anon": "2/minute"})


def test_rotating_x_forwarded_for_does_not_reset_the_rate(client):
    statuses = [client.get("/api/v1/providers/", HTTP_X_FORWARDED_FOR=f"203.0.113.{i}").status_code for i in range(4)]
    assert statuses == [200, 200, 429, 429]


def test_behind_one_trusted_proxy_the_address_it_appends_is_the_client(client, monkeypatch):
    monkeypatch.setattr(api_settings, "NUM_PROXIES", 1)

    def get(forwarded: str) -> int:
        return client.get("/api/v1/providers/", HTTP_X_FORWARDED_FOR=forwarded).status_code

    # The client forges earlier entries; the proxy appends the real address last.
    assert [get(f"10.9.9.{i}, 198.51.100.7") for i in range(3)] == [200, 200, 429]
    assert get("198.51.100.8") == 200  # another client has its own budget


def test_the_default_trusts_no_proxy():
    from django.conf import settings

    assert settings.REST_FRAMEWORK["NUM_PROXIES"] == 0

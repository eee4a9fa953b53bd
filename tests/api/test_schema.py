"""The OpenAPI schema matches the API: schemathesis generates requests from it and checks every
response (no 5xx, status codes, content types and bodies as documented). Bounded to a few examples
per operation so the suite stays fast."""

from __future__ import annotations

from decimal import Decimal

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from rest_framework.throttling import AnonRateThrottle

from pricing.wsgi import application
from tests.factories import OfferingFactory, PriceFactory

schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", application)


@pytest.fixture
def connection_kept_open():
    """schemathesis calls the WSGI app directly, and Django closes "old" connections at the start and end
    of every request; in a test that would close the test transaction's connection (PostgreSQL). Django's
    own test client disconnects the same handler for the same reason."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def priced_offerings(db, monkeypatch, connection_kept_open):
    monkeypatch.setattr(AnonRateThrottle, "THROTTLE_RATES", {"anon": "100000/minute"})
    offering = OfferingFactory(provider_model_id="deepseek-chat")
    PriceFactory(offering=offering, component="input", amount_per_mtok=Decimal("0.014"))
    PriceFactory(offering=offering, component="output", amount_per_mtok=Decimal("0.28"))
    PriceFactory(offering=offering, component="input", amount_per_mtok=Decimal("0.5"), tier_min_tokens=200001)


@pytest.mark.slow
@pytest.mark.django_db
@schema.parametrize()
# Derandomized: CI must not pass or fail by luck; run with a random seed locally to explore more.
@settings(max_examples=10, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
def test_the_api_answers_as_its_schema_says(case, priced_offerings):
    # positive_data_acceptance is left out: a schema cannot say "a currency with a stored rate" or "a
    # workload of at least one token", and those requests are documented 400s (tests/api/test_bad_input.py).
    # The WSGI client does not decode brotli or gzip: ask for the plain body (compression: tests/perf/).
    case.call_and_validate(
        headers={"Accept-Encoding": "identity"}, excluded_checks=[schemathesis.checks.positive_data_acceptance]
    )

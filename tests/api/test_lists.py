from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from pricing.models import ScrapeRun
from tests.factories import (
    ModelFactory,
    OfferingFactory,
    PriceFactory,
    ProviderFactory,
    ScrapeRunFactory,
    SourceFactory,
    TokenizerFactory,
)

pytestmark = pytest.mark.django_db


def changed_offering(*, old: str, new: str, days_ago: int = 10, **kwargs):
    offering = OfferingFactory(**kwargs)
    change = timezone.now() - dt.timedelta(days=days_ago)
    PriceFactory(
        offering=offering, amount_per_mtok=Decimal(old), valid_from=change - dt.timedelta(days=30), valid_to=change
    )
    PriceFactory(offering=offering, amount_per_mtok=Decimal(new), valid_from=change)
    return offering


def test_it_lists_prices_as_flat_rows(api):
    offering = OfferingFactory(provider=ProviderFactory(slug="anthropic"), provider_model_id="claude-x")
    PriceFactory(offering=offering, component="input", amount_per_mtok=Decimal("3"))
    PriceFactory(offering=offering, component="input", amount_per_mtok=Decimal("6"), tier_min_tokens=200001)
    PriceFactory(offering=offering, component="output", amount_per_mtok=Decimal("15"))
    PriceFactory(offering=offering, component="output", amount_per_mtok=Decimal("99"), status="held")

    body = api.get("/api/v1/prices/?ordering=amount").json()

    assert body["count"] == 3
    assert [r["amount"] for r in body["results"]] == [3, 6, 15]
    row = body["results"][1]
    assert row["provider"] == "anthropic"
    assert row["model_id"] == "claude-x"
    assert row["tier_min_tokens"] == 200001
    assert row["status"] == "published"
    assert {"valid_from", "valid_to", "recorded_at", "source", "currency", "unit"} <= set(row)
    assert api.get("/api/v1/prices/?component=output").json()["count"] == 1


def test_it_lists_changes_newest_first_with_percent(api):
    changed_offering(old="2", new="1", days_ago=20, provider_model_id="older")
    changed_offering(old="1", new="1.5", days_ago=5, provider_model_id="newer")

    rows = api.get("/api/v1/changes/").json()["results"]

    assert [r["model_id"] for r in rows] == ["newer", "older"]
    assert rows[0]["old_amount"] == 1
    assert rows[0]["new_amount"] == 1.5
    assert rows[0]["percent"] == 50
    assert rows[1]["percent"] == -50
    as_of = (timezone.now() - dt.timedelta(days=10)).date().isoformat()
    assert [r["model_id"] for r in api.get(f"/api/v1/changes/?as_of={as_of}").json()["results"]] == ["older"]


def test_it_lists_providers_and_models(api):
    ProviderFactory(slug="openai", name="OpenAI")
    ModelFactory(
        slug="llama-3-1-405b",
        creator="meta",
        open_weights=True,
        tokenizer=TokenizerFactory(words_per_token=Decimal("0.8")),
    )
    ModelFactory(slug="gpt-5", creator="openai", open_weights=False)

    providers = api.get("/api/v1/providers/?q=open").json()
    models = api.get("/api/v1/models/?creator=meta").json()

    assert [p["slug"] for p in providers["results"]] == ["openai"]
    assert models["count"] == 1
    assert models["results"][0]["words_per_token"] == 0.8
    assert models["results"][0]["open_weights"] is True


def test_it_lists_sources_with_their_last_run_and_health(api):
    healthy = SourceFactory(slug="openai", last_success_at=timezone.now())
    ScrapeRunFactory(source=healthy)
    failing = SourceFactory(slug="google", last_success_at=timezone.now())
    ScrapeRunFactory(source=failing, status=ScrapeRun.Status.FAILED, error="layout changed?")

    rows = {r["slug"]: r for r in api.get("/api/v1/sources/").json()["results"]}

    assert rows["openai"]["health"] == "ok"
    assert rows["google"]["health"] == "failing"
    assert rows["google"]["last_run"]["error"] == "layout changed?"


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/prices/",
        "/api/v1/changes/",
        "/api/v1/providers/",
        "/api/v1/models/",
        "/api/v1/sources/",
        "/api/v1/estimate/?input_tokens=1000&output_tokens=10",
    ],
)
def test_every_list_runs_a_constant_number_of_queries(api, django_assert_max_num_queries, url):
    for n in range(25):
        source = SourceFactory(slug=f"s{n}")
        ScrapeRunFactory(source=source)
        changed_offering(
            old="2",
            new=str(n + 3),
            provider_model_id=f"m{n}",
            model=ModelFactory(slug=f"model-{n}", tokenizer=TokenizerFactory(slug=f"t{n}")),
        )

    with django_assert_max_num_queries(6):
        response = api.get(url)

    assert response.status_code == 200
    assert response.json()["count"] >= 25

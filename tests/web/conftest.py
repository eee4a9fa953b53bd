from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
from django.utils import timezone

from tests.factories import ModelFactory, OfferingFactory, PriceFactory, ProviderFactory, SourceFactory


@pytest.fixture
def priced():
    """Build an offering with input/output (and optional cached) prices: ``priced("acme", "m-1", "1", "4")``."""

    def make(
        provider: str,
        model_id: str,
        input_usd: str,
        output_usd: str,
        *,
        cached_usd: str | None = None,
        model=None,
        seen_hours_ago: int = 1,
        **offering_fields,
    ):
        seller = ProviderFactory(slug=provider, name=provider.title())
        source = SourceFactory(slug=f"{provider}-pricing", provider=seller)
        offering = OfferingFactory(provider=seller, provider_model_id=model_id, model=model, **offering_fields)
        seen = timezone.now() - dt.timedelta(hours=seen_hours_ago)
        amounts = {"input": input_usd, "output": output_usd}
        if cached_usd is not None:
            amounts["cached_input"] = cached_usd
        for component, amount in amounts.items():
            PriceFactory(
                offering=offering,
                component=component,
                amount_per_mtok=Decimal(amount),
                source=source,
                last_seen_at=seen,
                recorded_at=seen,
            )
        return offering

    return make


@pytest.fixture
def deepseek_model():
    return ModelFactory(
        slug="deepseek-v3", name="DeepSeek-V3", creator="deepseek", context_window=128000, open_weights=True
    )


CHROMIUM = Path("/usr/bin/chromium")


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    """Debian's headless chromium driven by Playwright, one per test module (browser tests only)."""
    sync_api = pytest.importorskip("playwright.sync_api")
    if not CHROMIUM.exists():
        pytest.skip("needs Debian's chromium at /usr/bin/chromium")
    with sync_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"],
        )
        yield launched
        launched.close()

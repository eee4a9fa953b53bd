"""The catalogue both compatible files are checked against."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.utils import timezone

from pricing.models import Offering
from tests.factories import (
    ExchangeRateFactory,
    ModelFactory,
    OfferingFactory,
    PriceFactory,
    ProviderFactory,
    SourceFactory,
)


def prices(offering, source, **amounts):
    """``input="2.5", output_batch="5", input_above_200000="5"`` -> published price lines."""
    for name, amount in amounts.items():
        component, _, rest = name.partition("__")
        mode, tier_min = "standard", None
        for part in rest.split("__") if rest else []:
            if part.isdigit():
                tier_min = int(part)
            else:
                mode = part
        PriceFactory(
            offering=offering,
            source=source,
            component=component,
            mode=mode,
            tier_min_tokens=tier_min,
            amount_per_mtok=Decimal(amount),
        )


@pytest.fixture
def catalogue(db):
    openai = ProviderFactory(slug="openai", name="OpenAI")
    anthropic = ProviderFactory(slug="anthropic", name="Anthropic")
    google = ProviderFactory(slug="google", name="Google")
    deepseek = ProviderFactory(slug="deepseek", name="DeepSeek")
    sources = {p.slug: SourceFactory(slug=p.slug, provider=p) for p in (openai, anthropic, google, deepseek)}
    gpt = OfferingFactory(provider=openai, provider_model_id="gpt-4o", context_window=128000)
    prices(
        gpt,
        sources["openai"],
        input="2.5",
        cached_input="1.25",
        output="10",
        input__batch="1.25",
        output__batch="5",
        input__priority="4.25",
        output__priority="17",
        input__off_peak="1",
        output__off_peak="4",
    )
    claude = OfferingFactory(
        provider=anthropic,
        provider_model_id="claude-sonnet-4-5",
        context_window=1000000,
        model=ModelFactory(slug="claude-sonnet-4-5", open_weights=False),
    )
    PriceFactory(
        offering=claude,
        source=sources["anthropic"],
        component="input",
        amount_per_mtok=Decimal(3),
        tier_max_tokens=200000,
    )
    PriceFactory(
        offering=claude,
        source=sources["anthropic"],
        component="output",
        amount_per_mtok=Decimal(15),
        tier_max_tokens=200000,
    )
    prices(
        claude,
        sources["anthropic"],
        input__200001="6",
        output__200001="22.5",
        cached_input="0.3",
        cache_write_5m="3.75",
        cache_write_1h="6",
    )
    gemini = OfferingFactory(provider=google, provider_model_id="gemini-2.5-pro", context_window=1048576)
    prices(gemini, sources["google"], input="1.25", output="10")
    # A price under a condition (thinking on) has no spelling in either format: left out.
    PriceFactory(
        offering=gemini,
        source=sources["google"],
        component="output",
        amount_per_mtok=Decimal(35),
        conditions="thinking=on",
    )
    chat = OfferingFactory(provider=deepseek, provider_model_id="deepseek-chat", context_window=131072)
    prices(chat, sources["deepseek"], input="2", output="3", cached_input="0.2")
    chat.prices.update(currency="CNY")
    hosted = OfferingFactory(provider=deepseek, provider_model_id="deepseek-local", listing=Offering.Listing.UNLISTED)
    prices(hosted, sources["deepseek"], input="0", output="0")
    today = timezone.now().date()
    ExchangeRateFactory(currency="USD", date=today, units_per_eur=Decimal("1.10"))
    ExchangeRateFactory(currency="CNY", date=today, units_per_eur=Decimal("7.70"))
    return {"gpt": gpt, "claude": claude, "gemini": gemini, "chat": chat}

"""Rows for the model page, its API and search tests: a DeepSeek model with its January 2025 promotional
prices and a dated off-peak window, a second seller, a free variant, and a Gemini-like model priced in
prompt-length tiers and several modes. The figures are the providers' published prices (facts)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.utils import timezone

from pricing.models import Model, Offering
from tests.factories import ModelFactory, OfferingFactory, PriceFactory, ProviderFactory, SourceFactory


def day(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=dt.UTC)


@dataclass
class Built:
    deepseek: Model
    gemini: Model
    official: Offering
    together: Offering
    free: Offering
    google: Offering


def price(offering, component, amount, start, end=None, *, mode="standard", source, tier=(None, None), **extra):
    seen = timezone.now() - dt.timedelta(hours=2)
    return PriceFactory(
        offering=offering,
        component=component,
        mode=mode,
        amount_per_mtok=Decimal(amount),
        valid_from=day(start),
        valid_to=day(end) if end else None,
        tier_min_tokens=tier[0],
        tier_max_tokens=tier[1],
        source=source,
        recorded_at=seen,
        last_seen_at=seen,
        original=extra.pop("original", f"${amount} / 1M tokens"),
        **extra,
    )


def build() -> Built:
    deepseek_model = ModelFactory(
        slug="deepseek-v3", name="DeepSeek-V3", creator="deepseek", identity_key="deepseek-v3", context_window=128000
    )
    seller = ProviderFactory(slug="deepseek", name="DeepSeek")
    official = SourceFactory(
        slug="deepseek",
        name="DeepSeek pricing page",
        provider=seller,
        urls=["https://api-docs.deepseek.example/pricing"],
    )
    chat = OfferingFactory(
        provider=seller, provider_model_id="deepseek-chat", name="DeepSeek Chat", model=deepseek_model
    )
    # January 2025: promotional prices until 2025-02-08, then the list price; an off-peak window in 2025.
    price(chat, "cached_input", "0.014", "2025-01-20", "2025-02-08", source=official)
    price(chat, "cached_input", "0.07", "2025-02-08", source=official)
    price(chat, "input", "0.14", "2025-01-20", "2025-02-08", source=official)
    price(chat, "input", "0.27", "2025-02-08", source=official)
    price(chat, "output", "0.28", "2025-01-20", "2025-02-08", source=official)
    price(chat, "output", "1.10", "2025-02-08", source=official)
    for component, amount in (("input", "0.135"), ("cached_input", "0.035"), ("output", "0.55")):
        price(chat, component, amount, "2025-03-01", "2025-09-05", mode="off_peak", source=official)

    host = ProviderFactory(slug="together", name="Together AI")
    host_source = SourceFactory(slug="together", name="Together pricing", provider=host)
    together = OfferingFactory(
        provider=host, provider_model_id="deepseek-ai/DeepSeek-V3", model=deepseek_model, attributes={"region": "us"}
    )
    price(together, "input", "1.25", "2025-01-01", source=host_source)
    price(together, "output", "1.25", "2025-01-01", source=host_source)

    router = ProviderFactory(slug="openrouter", name="OpenRouter")
    router_source = SourceFactory(slug="openrouter", name="OpenRouter models API", provider=router, kind="aggregator")
    free = OfferingFactory(
        provider=router,
        provider_model_id="deepseek/deepseek-chat:free",
        model=deepseek_model,
        listing=Offering.Listing.FREE_VARIANT,
    )
    price(free, "input", "0", "2025-01-01", source=router_source)
    price(free, "output", "0", "2025-01-01", source=router_source)

    gemini_model = ModelFactory(
        slug="gemini-2-5-pro", name="Gemini 2.5 Pro", creator="google", identity_key="gemini-2.5-pro"
    )
    google = ProviderFactory(slug="google", name="Google")
    google_source = SourceFactory(slug="google", name="Gemini API pricing", provider=google)
    pro = OfferingFactory(provider=google, provider_model_id="gemini-2.5-pro", model=gemini_model)
    short, long = (None, 200_000), (200_001, None)
    for mode, factor in (("standard", Decimal(1)), ("batch", Decimal("0.5"))):
        price(pro, "input", str(Decimal("1.25") * factor), "2025-06-17", mode=mode, tier=short, source=google_source)
        price(pro, "input", str(Decimal("2.50") * factor), "2025-06-17", mode=mode, tier=long, source=google_source)
        price(pro, "output", str(Decimal("10") * factor), "2025-06-17", mode=mode, tier=short, source=google_source)
        price(pro, "output", str(Decimal("15") * factor), "2025-06-17", mode=mode, tier=long, source=google_source)
    return Built(deepseek_model, gemini_model, chat, together, free, pro)


def more_sellers(model: Model, count: int) -> None:
    """``count`` more sellers of ``model``, each with its own provider and source."""
    for n in range(count):
        seller = ProviderFactory(slug=f"host-{n}", name=f"Host {n}")
        source = SourceFactory(slug=f"host-{n}", provider=seller)
        offering = OfferingFactory(provider=seller, provider_model_id=f"deepseek-v3-host-{n}", model=model)
        price(offering, "input", f"{n + 2}", "2025-01-01", "2025-05-01", source=source)
        price(offering, "input", f"{n + 3}", "2025-05-01", source=source)
        price(offering, "output", f"{n + 4}", "2025-01-01", source=source)

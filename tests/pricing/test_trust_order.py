"""Official pages first, then the LiteLLM map: every official price stays published, LiteLLM fills the
gaps, and each LiteLLM disagreement becomes a review item. Run on the fixtures we wrote for each source."""

from __future__ import annotations

from decimal import Decimal

import pytest

from pricing import services
from pricing.models import Price
from providers import get_scraper
from providers.base import Document

pytestmark = pytest.mark.django_db

OFFICIAL_FIXTURES = {
    "openai": "providers/openai/pricing.html",
    "anthropic": "providers/anthropic/pricing.html",
    "google": "providers/google/pricing.html",
    "deepseek": "providers/deepseek/pricing_en.html",
}


def scrape(slug: str, content: bytes) -> services.RunResult:
    result = services.scrape_source(slug=slug, document=Document(url=get_scraper(slug).urls[0], content=content))
    assert result.ok, result.error
    return result


def published_by(slugs) -> dict[tuple, Decimal]:
    rows = Price.objects.filter(
        status=Price.Status.PUBLISHED, superseded_at__isnull=True, source__slug__in=slugs
    ).values_list("id", "offering_id", "component", "mode", "tier_min_tokens", "valid_from", "amount_per_mtok")
    return {row[:6]: row[6] for row in rows}


@pytest.fixture
def officials_then_litellm(fixture_bytes):
    for slug, path in OFFICIAL_FIXTURES.items():
        scrape(slug, fixture_bytes(path))
    before = published_by(OFFICIAL_FIXTURES)
    result = scrape("litellm", fixture_bytes("providers/litellm/model_prices_and_context_window.json"))
    return before, result


def test_every_official_price_stays_published(officials_then_litellm):
    before, _ = officials_then_litellm
    assert published_by(OFFICIAL_FIXTURES) == before


def test_each_litellm_disagreement_becomes_a_review_item(officials_then_litellm):
    _, result = officials_then_litellm
    held = list(Price.objects.filter(status=Price.Status.HELD).select_related("replaces__source", "offering"))
    assert result.counts.held == len(held) > 0
    for proposal in held:
        assert proposal.source.slug == "litellm"
        assert proposal.replaces.source.slug in OFFICIAL_FIXTURES
        assert proposal.amount_per_mtok != proposal.replaces.amount_per_mtok
        assert proposal.hold_reason.startswith(f"disagrees with {proposal.replaces.source.slug}, more trusted")
    # Google's Gemini 2.5 Pro priority prices in our fixture differ from LiteLLM's figures.
    assert {(p.offering.provider_model_id, p.mode) for p in held} >= {("gemini-2.5-pro", "priority")}


def test_litellm_fills_gaps_and_agrees_without_writing(officials_then_litellm):
    _, result = officials_then_litellm
    filled = Price.objects.filter(status=Price.Status.PUBLISHED, source__slug="litellm")
    assert result.counts.created == filled.count() > 0
    assert result.counts.unchanged > 0

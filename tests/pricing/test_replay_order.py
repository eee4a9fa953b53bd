"""Copies of one source replayed in any order end where replaying them in date order would: what a later
copy no longer lists is missing from that copy's date, and a line it stopped emitting closes there, even
when the older copy arrives last (a backfill)."""

from __future__ import annotations

import datetime as dt
import itertools
from decimal import Decimal

import pytest

from pricing import services
from pricing.models import Price, ScrapeRun
from providers.base import ScrapedPrice

pytestmark = pytest.mark.django_db

JAN, FEB, MAR = (dt.datetime(2026, m, 1, tzinfo=dt.UTC) for m in (1, 2, 3))


def rec(model: str, component: str = "input", amount: str = "1") -> ScrapedPrice:
    return ScrapedPrice(provider="acme", model=model, component=component, amount_per_mtok=Decimal(amount))


COPIES = {
    JAN: [rec("a"), rec("a", "cached_input", "0.5"), rec("b"), rec("c")],
    FEB: [rec("a"), rec("a", "cached_input", "0.5"), rec("c")],  # b gone
    MAR: [rec("a"), rec("c")],  # a's cached input gone
}


def replay(order) -> None:
    for day in order:
        result = services.records_ingest(slug="litellm", records=COPIES[day], kind=ScrapeRun.Kind.ARCHIVE, as_of=day)
        assert result.ok, result.error


def timeline() -> set[tuple]:
    return set(
        Price.objects.filter(status=Price.Status.PUBLISHED, superseded_at__isnull=True).values_list(
            "offering__provider_model_id", "component", "valid_from", "valid_to", "missing_since"
        )
    )


IN_DATE_ORDER = {
    ("a", "input", JAN, None, None),
    ("a", "cached_input", JAN, MAR, None),
    ("b", "input", JAN, None, FEB),
    ("c", "input", JAN, None, None),
}


@pytest.mark.parametrize("order", list(itertools.permutations([JAN, FEB, MAR])))
def test_every_order_of_replay_ends_in_the_date_order_timeline(order):
    replay(order)
    assert timeline() == IN_DATE_ORDER


def test_an_older_copy_replayed_last_does_not_bring_back_what_a_newer_one_dropped():
    replay([JAN, FEB, MAR])
    before = timeline()
    replay([JAN])  # the oldest copy again, after everything
    assert timeline() == before

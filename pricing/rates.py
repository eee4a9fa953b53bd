"""Writes: exchange rates from the ECB, upserted on (currency, date) so a rerun changes nothing."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from decimal import Decimal

from django.conf import settings
from django.db import transaction

from pricing.models import ExchangeRate
from providers.ecb import ECBRates, RateRecord
from providers.http import fetch

log = logging.getLogger(__name__)

RATE_QUANTUM = Decimal("1e-8")  # ExchangeRate.units_per_eur keeps 8 decimal places


@dataclass
class RatesCounts:
    records: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


def exchange_rates_refresh(*, history: bool = False) -> RatesCounts:
    """Fetch the ECB's daily file (or its 90-day history, for backfill) and store its rates.

    Raises ``providers.http.FetchError`` (``retryable`` says if trying later may help) or
    ``providers.base.ParseError``; nothing is written then.
    """
    ecb = ECBRates()
    result = fetch(
        ecb.history_url if history else ecb.daily_url,
        hosts=ecb.hosts,
        user_agent=settings.SCRAPE_USER_AGENT,
        max_bytes=settings.SCRAPE_MAX_BYTES,
    )
    return exchange_rates_ingest(records=ecb.parse(result.content))


def exchange_rates_ingest(*, records: Sequence[RateRecord]) -> RatesCounts:
    """Upsert rates on (currency, date): new ones created, corrected ones updated, the rest untouched."""
    wanted = {(r.currency, r.date): r.units_per_eur.quantize(RATE_QUANTUM) for r in records}
    counts = RatesCounts(records=len(wanted))
    if not wanted:
        return counts
    with transaction.atomic():
        existing = {
            (rate.currency, rate.date): rate
            for rate in ExchangeRate.objects.filter(date__in={day for _, day in wanted}).select_for_update()
        }
        new, changed = [], []
        for (currency, day), units_per_eur in wanted.items():
            stored = existing.get((currency, day))
            if stored is None:
                new.append(ExchangeRate(currency=currency, date=day, units_per_eur=units_per_eur))
            elif stored.units_per_eur != units_per_eur:
                stored.units_per_eur = units_per_eur
                changed.append(stored)
            else:
                counts.unchanged += 1
        if new:
            # ignore_conflicts: a concurrent refresh may have stored the same day meanwhile.
            ExchangeRate.objects.bulk_create(new, batch_size=1000, ignore_conflicts=True)
        if changed:
            ExchangeRate.objects.bulk_update(changed, ["units_per_eur"], batch_size=1000)
    counts.created, counts.updated = len(new), len(changed)
    log.info("exchange rates: %s", counts)
    return counts

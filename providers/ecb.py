"""The European Central Bank's euro reference rates: one more scheduled source, but of exchange rates.

It is not a price ``Scraper`` and is not in ``providers.REGISTRY``: it yields dated rates, not prices.
The ECB publishes units of each currency per 1 EUR, once a working day around 16:00 CET.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from xml.etree.ElementTree import ParseError as XMLSyntaxError

import defusedxml.ElementTree as SafeET
from defusedxml import DefusedXmlException

from providers.base import ParseError

EUROFXREF_NS = "http://www.ecb.int/vocabulary/2002-08-01/eurofxref"
CUBE = f"{{{EUROFXREF_NS}}}Cube"


@dataclass(frozen=True)
class RateRecord:
    date: dt.date
    currency: str
    units_per_eur: Decimal


class ECBRates:
    slug = "ecb"
    name = "European Central Bank euro foreign exchange reference rates"
    daily_url = "https://www.ecb.europa.eu/stats/eurofxref/eurofxref-daily.xml"
    history_url = "https://www.ecb.europa.eu/stats/eurofxref/eurofxref-hist-90d.xml"
    hosts = ("www.ecb.europa.eu",)

    def parse(self, content: bytes) -> list[RateRecord]:
        """Every ``<Cube time=…>`` day with its ``<Cube currency=… rate=…>`` rows, oldest day first."""
        try:
            # defusedxml refuses entity expansion and external references (billion laughs, XXE).
            root = SafeET.fromstring(content)
        except (XMLSyntaxError, DefusedXmlException) as exc:
            raise ParseError(f"ECB rates: not a safe, well-formed XML document: {exc}") from exc
        records: list[RateRecord] = []
        for day_cube in root.iter(CUBE):
            time = day_cube.get("time")
            if time is None:
                continue
            try:
                day = dt.date.fromisoformat(time)
            except ValueError as exc:
                raise ParseError(f"ECB rates: Cube time={time!r} is not a date") from exc
            for rate_cube in day_cube.findall(CUBE):
                records.append(_rate(day, rate_cube.get("currency"), rate_cube.get("rate")))
        if not records:
            raise ParseError("ECB rates: no <Cube time=…> with <Cube currency=… rate=…> found (layout changed?)")
        return sorted(records, key=lambda r: (r.date, r.currency))


def _rate(day: dt.date, currency: str | None, rate: str | None) -> RateRecord:
    if not currency or not re.fullmatch(r"[A-Z]{3}", currency):
        raise ParseError(f"ECB rates: {day}: currency {currency!r} is not an ISO code")
    try:
        units_per_eur = Decimal((rate or "").strip())
    except InvalidOperation as exc:
        raise ParseError(f"ECB rates: {day} {currency}: rate {rate!r} is not a number") from exc
    if not units_per_eur.is_finite() or units_per_eur <= 0:
        raise ParseError(f"ECB rates: {day} {currency}: rate {rate!r} is not a positive number")
    return RateRecord(day, currency, units_per_eur)

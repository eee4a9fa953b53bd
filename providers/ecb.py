"""The European Central Bank's euro reference rates: one more scheduled source, but of exchange rates.

It is not a price ``Scraper`` and is not in ``providers.REGISTRY``: it yields dated rates, not prices.
The ECB publishes units of each currency per 1 EUR, once a working day around 16:00 CET.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import zipfile
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from xml.etree.ElementTree import ParseError as XMLSyntaxError

import defusedxml.ElementTree as SafeET
from defusedxml import DefusedXmlException

from providers.base import ParseError

EUROFXREF_NS = "http://www.ecb.int/vocabulary/2002-08-01/eurofxref"
CUBE = f"{{{EUROFXREF_NS}}}Cube"
# The full history since 1999 is about 2 MB; refuse a zip that would inflate far beyond (a zip bomb).
MAX_CSV_BYTES = 50 * 1024 * 1024


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
        """Rates from any of the ECB's own formats, oldest day first: the daily or 90-day XML, or the
        full-history CSV (``eurofxref-hist.csv``, also as the ECB's ``eurofxref-hist.zip``)."""
        if content[:2] == b"PK":
            return self.parse_history_csv(_single_csv_in_zip(content))
        if content.lstrip()[:5].lower().startswith(b"date"):
            return self.parse_history_csv(content)
        return self.parse_xml(content)

    def parse_history_csv(self, content: bytes) -> list[RateRecord]:
        """``Date,USD,JPY,…`` then one line a day; ``N/A`` (or blank) where a currency was not quoted."""
        rows = list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))
        if not rows or not rows[0] or rows[0][0].strip().lower() != "date":
            raise ParseError("ECB rates: the CSV does not start with a Date,<currency>,… header")
        currencies = [c.strip() for c in rows[0][1:]]
        records: list[RateRecord] = []
        for row in rows[1:]:
            if not row or not row[0].strip():
                continue
            try:
                day = dt.date.fromisoformat(row[0].strip())
            except ValueError as exc:
                raise ParseError(f"ECB rates: {row[0]!r} is not a date") from exc
            for currency, rate in zip(currencies, row[1:], strict=False):
                if currency and rate.strip() not in ("", "N/A"):
                    records.append(_rate(day, currency, rate))
        if not records:
            raise ParseError("ECB rates: the CSV holds no rates (layout changed?)")
        return sorted(records, key=lambda r: (r.date, r.currency))

    def parse_xml(self, content: bytes) -> list[RateRecord]:
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


def _single_csv_in_zip(content: bytes) -> bytes:
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            names = [n for n in archive.namelist() if n.lower().endswith(".csv")]
            if len(names) != 1:
                raise ParseError(f"ECB rates: expected one CSV in the zip, found {names or 'none'}")
            if archive.getinfo(names[0]).file_size > MAX_CSV_BYTES:
                raise ParseError("ECB rates: the CSV in the zip is implausibly large")
            return archive.read(names[0])
    except zipfile.BadZipFile as exc:
        raise ParseError(f"ECB rates: not a readable zip file: {exc}") from exc


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

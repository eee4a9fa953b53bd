"""ECB reference rates: parsed safely, stored idempotently, and used to show CNY prices in USD."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from io import StringIO
from unittest import mock

import pytest
from django.core.management import CommandError, call_command

from pricing import rates, selectors
from pricing.models import ExchangeRate
from providers import REGISTRY
from providers.base import ParseError
from providers.ecb import ECBRates, RateRecord
from providers.http import FetchError, FetchResult

JULY_17 = dt.date(2026, 7, 17)


def parse(content: bytes) -> list[RateRecord]:
    return ECBRates().parse(content)


def fetched(content: bytes, url: str = ECBRates.daily_url) -> FetchResult:
    return FetchResult(
        url=url, status=200, content=content, content_type="text/xml", etag="", last_modified="", elapsed_ms=3
    )


def envelope(cubes: str) -> bytes:
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<gesmes:Envelope xmlns:gesmes="http://www.gesmes.org/xml/2002-08-01" '
        'xmlns="http://www.ecb.int/vocabulary/2002-08-01/eurofxref">'
        f"<gesmes:subject>Reference rates</gesmes:subject><Cube>{cubes}</Cube></gesmes:Envelope>"
    ).encode()


# --- parsing ------------------------------------------------------------------------------------------


def test_it_is_a_source_of_its_own_outside_the_price_registry():
    assert "ecb" not in REGISTRY
    assert ECBRates.hosts == ("www.ecb.europa.eu",)
    assert ECBRates.daily_url.endswith("/eurofxref-daily.xml")
    assert ECBRates.history_url.endswith("/eurofxref-hist-90d.xml")


def test_it_reads_the_daily_file_into_dated_rates_per_euro(fixture_bytes):
    records = parse(fixture_bytes("rates/eurofxref-daily.xml"))
    by_currency = {r.currency: r for r in records}
    assert len(records) == 7
    assert by_currency["USD"] == RateRecord(JULY_17, "USD", Decimal("1.1702"))
    assert by_currency["CNY"].units_per_eur == Decimal("8.2034")
    assert by_currency["GBP"].units_per_eur == Decimal("0.86735")
    assert all(type(r.units_per_eur) is Decimal for r in records)


def test_it_reads_every_day_of_the_90_day_history(fixture_bytes):
    records = parse(fixture_bytes("rates/eurofxref-hist-90d.xml"))
    assert {r.date for r in records} == {dt.date(2026, 7, 15), dt.date(2026, 7, 16), JULY_17}
    assert len(records) == 9
    assert records[0].date == dt.date(2026, 7, 15)  # oldest first


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "well-formed"),
        (b"<html><body>Service unavailable</body></html>", "no <Cube"),
        (envelope(""), "no <Cube"),
        (envelope("<Cube time='17 July'><Cube currency='USD' rate='1.17'/></Cube>"), "not a date"),
        (envelope("<Cube time='2026-07-17'><Cube currency='usd' rate='1.17'/></Cube>"), "ISO code"),
        (envelope("<Cube time='2026-07-17'><Cube currency='USD' rate='n/a'/></Cube>"), "not a number"),
        (envelope("<Cube time='2026-07-17'><Cube currency='USD' rate='-1'/></Cube>"), "positive"),
        (envelope("<Cube time='2026-07-17'><Cube currency='USD' rate='NaN'/></Cube>"), "positive"),
    ],
)
def test_it_refuses_a_document_it_cannot_trust_with_a_clear_error(content, message):
    with pytest.raises(ParseError, match=message):
        parse(content)


def test_it_refuses_entity_expansion_bombs():
    bomb = (
        b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">]>'
        b"<Envelope><Cube><Cube time='2026-07-17'><Cube currency='USD' rate='&lol2;'/></Cube></Cube></Envelope>"
    )
    with pytest.raises(ParseError, match="safe"):
        parse(bomb)


def test_it_refuses_external_entities():
    xxe = b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]><r>&x;</r>'
    with pytest.raises(ParseError):
        parse(xxe)


# --- storing --------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_it_stores_each_rate_once_and_a_rerun_changes_nothing(fixture_bytes):
    records = parse(fixture_bytes("rates/eurofxref-hist-90d.xml"))
    first = rates.exchange_rates_ingest(records=records)
    stored = list(ExchangeRate.objects.order_by("id").values())
    second = rates.exchange_rates_ingest(records=records)
    assert (first.created, first.updated, first.unchanged) == (9, 0, 0)
    assert (second.created, second.updated, second.unchanged) == (0, 0, 9)
    assert list(ExchangeRate.objects.order_by("id").values()) == stored


@pytest.mark.django_db
def test_it_updates_a_rate_the_ecb_corrected():
    rates.exchange_rates_ingest(records=[RateRecord(JULY_17, "USD", Decimal("1.1702"))])
    counts = rates.exchange_rates_ingest(
        records=[RateRecord(JULY_17, "USD", Decimal("1.1703")), RateRecord(JULY_17, "CNY", Decimal("8.2034"))]
    )
    assert (counts.created, counts.updated) == (1, 1)
    assert ExchangeRate.objects.get(currency="USD").units_per_eur == Decimal("1.1703")


@pytest.mark.django_db
def test_it_stores_nothing_for_no_records():
    assert rates.exchange_rates_ingest(records=[]).records == 0
    assert not ExchangeRate.objects.exists()


@pytest.mark.django_db
def test_it_runs_a_fixed_number_of_queries_whatever_the_number_of_rates(django_assert_max_num_queries):
    many = [RateRecord(JULY_17 - dt.timedelta(days=d), c, Decimal("1.5")) for d in range(60) for c in ("USD", "CNY")]
    with django_assert_max_num_queries(6):
        rates.exchange_rates_ingest(records=many)
    with django_assert_max_num_queries(4):
        rates.exchange_rates_ingest(records=many)


@pytest.mark.django_db
def test_it_fetches_the_daily_file_from_the_ecb_only(fixture_bytes):
    with mock.patch("pricing.rates.fetch", return_value=fetched(fixture_bytes("rates/eurofxref-daily.xml"))) as fetch:
        counts = rates.exchange_rates_refresh()
    assert fetch.call_args.args[0] == ECBRates.daily_url
    assert fetch.call_args.kwargs["hosts"] == ("www.ecb.europa.eu",)
    assert counts.created == 7


@pytest.mark.django_db
def test_it_fetches_the_90_day_file_for_a_backfill(fixture_bytes):
    content = fixture_bytes("rates/eurofxref-hist-90d.xml")
    with mock.patch("pricing.rates.fetch", return_value=fetched(content, ECBRates.history_url)) as fetch:
        rates.exchange_rates_refresh(history=True)
    assert fetch.call_args.args[0] == ECBRates.history_url
    assert ExchangeRate.objects.count() == 9


@pytest.mark.django_db
def test_it_writes_nothing_when_the_fetch_or_the_parse_fails():
    with (
        mock.patch("pricing.rates.fetch", side_effect=FetchError("HTTP 503", status=503, retryable=True)),
        pytest.raises(FetchError),
    ):
        rates.exchange_rates_refresh()
    with mock.patch("pricing.rates.fetch", return_value=fetched(b"<html/>")), pytest.raises(ParseError):
        rates.exchange_rates_refresh()
    assert not ExchangeRate.objects.exists()


# --- converting ------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_it_converts_a_cny_price_to_usd_through_the_stored_rates(fixture_bytes):
    rates.exchange_rates_ingest(records=parse(fixture_bytes("rates/eurofxref-hist-90d.xml")))
    on_the_day = selectors.rates_on(day=JULY_17)
    # DeepSeek's Chinese page: 2 CNY per 1M input tokens.
    usd = on_the_day.convert(Decimal(2), from_currency="CNY", to_currency="USD")
    assert usd == Decimal(2) / Decimal("8.2034") * Decimal("1.1702")
    assert usd.quantize(Decimal("0.0001")) == Decimal("0.2853")
    assert on_the_day.dates["CNY"] == JULY_17


@pytest.mark.django_db
def test_it_uses_the_latest_rate_on_or_before_the_day_asked(fixture_bytes):
    rates.exchange_rates_ingest(records=parse(fixture_bytes("rates/eurofxref-hist-90d.xml")))
    weekend = selectors.rates_on(day=dt.date(2026, 7, 19))
    earlier = selectors.rates_on(day=dt.date(2026, 7, 16))
    assert weekend.units_per_eur["USD"] == Decimal("1.1702")
    assert earlier.units_per_eur["USD"] == Decimal("1.1659")
    assert (
        selectors.rates_on(day=dt.date(2026, 1, 1)).convert(Decimal(2), from_currency="CNY", to_currency="USD") is None
    )


@pytest.mark.django_db
def test_it_converts_euro_prices_with_the_euro_as_one():
    rates.exchange_rates_ingest(records=[RateRecord(JULY_17, "USD", Decimal("1.17"))])
    assert selectors.rates_on(day=JULY_17).convert(Decimal(1), from_currency="EUR", to_currency="USD") == Decimal(
        "1.17"
    )


# --- the command --------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_it_loads_a_saved_file_from_the_command_line(fixture_bytes, tmp_path):
    saved = tmp_path / "eurofxref-daily.xml"
    saved.write_bytes(fixture_bytes("rates/eurofxref-daily.xml"))
    out = StringIO()
    call_command("exchange_rates", "--file", str(saved), stdout=out)
    assert "7 records, 7 created, 0 updated, 0 unchanged" in out.getvalue()
    call_command("exchange_rates", "--file", str(saved), "--json", stdout=(out := StringIO()))
    assert '"unchanged": 7' in out.getvalue()


@pytest.mark.django_db
def test_it_fetches_from_the_command_line_without_a_file(fixture_bytes):
    with mock.patch("pricing.rates.fetch", return_value=fetched(fixture_bytes("rates/eurofxref-daily.xml"))):
        call_command("exchange_rates", stdout=StringIO())
    assert ExchangeRate.objects.filter(date=JULY_17).count() == 7


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("args", "content", "message"),
    [
        (("--file", "/nonexistent/rates.xml"), None, "cannot read"),
        (("--file", "{path}"), b"<html/>", "no <Cube"),
        (("--file", "{path}", "--history"), b"", "does not combine"),
    ],
)
def test_it_refuses_bad_input_on_the_command_line_with_a_clear_error(args, content, message, tmp_path):
    path = tmp_path / "rates.xml"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(CommandError, match=message):
        call_command("exchange_rates", *[a.format(path=path) for a in args], stdout=StringIO())
    assert not ExchangeRate.objects.exists()


@pytest.mark.django_db
def test_it_reports_a_failed_fetch_on_the_command_line():
    with (
        mock.patch("pricing.rates.fetch", side_effect=FetchError("HTTP 503", status=503, retryable=True)),
        pytest.raises(CommandError, match="fetch failed: HTTP 503"),
    ):
        call_command("exchange_rates", stdout=StringIO())


def test_it_is_scheduled_daily_by_beat(settings):
    entry = settings.CELERY_BEAT_SCHEDULE["every-day-refresh-exchange-rates"]
    assert entry["task"] == "pricing.tasks.refresh_exchange_rates"
    from pricing.tasks import refresh_exchange_rates

    assert refresh_exchange_rates.name == entry["task"]


# --- the ECB's full-history CSV (eurofxref-hist.csv, or the zip it is published in) ----------------


def test_it_reads_the_full_history_csv_skipping_unquoted_currencies(fixture_bytes):
    records = ECBRates().parse(fixture_bytes("rates/eurofxref-hist.csv"))
    by_day = {(r.date, r.currency): r.units_per_eur for r in records}
    assert by_day[(dt.date(2026, 10, 30), "CNY")] == Decimal("7.4326")
    assert by_day[(dt.date(2026, 10, 30), "ISK")] == Decimal("136")
    assert (dt.date(2008, 12, 31), "ISK") not in by_day  # "N/A": not quoted that day
    assert records == sorted(records, key=lambda r: (r.date, r.currency))


def test_it_reads_the_csv_inside_the_ecbs_zip(fixture_bytes):
    import io
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("eurofxref-hist.csv", fixture_bytes("rates/eurofxref-hist.csv"))
    assert ECBRates().parse(buffer.getvalue()) == ECBRates().parse(fixture_bytes("rates/eurofxref-hist.csv"))


@pytest.mark.parametrize(
    "content, message",
    [
        (b"Date,USD\n30 Oct 2026,1.16\n", "is not a date"),
        (b"Date,USD\n2026-10-30,-1\n", "not a positive number"),
        (b"Date,USD\n", "holds no rates"),
        (b"PK\x03\x04 broken", "not a readable zip"),
    ],
)
def test_it_refuses_a_history_file_it_cannot_read(content, message):
    with pytest.raises(ParseError, match=message):
        ECBRates().parse(content)

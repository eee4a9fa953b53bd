"""The bundled snapshot: built by our parsers from dated copies, loaded on an empty database through the
ordinary ingest, labelled as a snapshot, and superseded by the first live scrape."""

from __future__ import annotations

import datetime as dt
import gzip
import io
import json
from decimal import Decimal
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command

from pricing import services
from pricing.models import ExchangeRate, Price, ScrapeRun
from pricing.snapshot import CaptureSpec, snapshot_build, snapshot_entries, snapshot_load, snapshot_read
from providers.base import Document

pytestmark = pytest.mark.django_db

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "providers"
CURATED = Path(settings.BASE_DIR) / "pricing" / "snapshot" / "curated"
JULY = dt.datetime(2026, 7, 18, tzinfo=dt.UTC)


@pytest.fixture
def snapshot(tmp_path) -> Path:
    path = tmp_path / "snapshot.json.gz"
    snapshot_build(
        captures=[CaptureSpec(source="openrouter", path=FIXTURES / "openrouter" / "models.json", as_of=JULY)],
        output=path,
        curated=CURATED,
    )
    return path


def test_it_builds_dated_entries_from_captures_and_curated_history(snapshot):
    entries = list(snapshot_entries(snapshot))
    assert {(e["source"], e.get("kind", "snapshot")) for e in entries} == {
        ("openrouter", "snapshot"),
        ("deepseek", "curated"),
    }
    assert [e["as_of"] for e in entries] == sorted(e["as_of"] for e in entries)
    openrouter = next(e for e in entries if e["source"] == "openrouter")
    assert openrouter["as_of"] == JULY.isoformat()
    assert all(Decimal(r["amount"]) >= 0 for r in openrouter["records"])


def test_it_loads_an_empty_database_as_dated_snapshot_runs(snapshot):
    results = snapshot_load(path=snapshot)
    assert results and all(r.ok for r in results)
    runs = ScrapeRun.objects.filter(source__slug="openrouter")
    assert [r.kind for r in runs] == [ScrapeRun.Kind.SNAPSHOT]
    assert Price.objects.filter(run__kind=ScrapeRun.Kind.SNAPSHOT, valid_from=JULY).exists()


def test_it_keeps_the_seed_articles_deepseek_figure_as_curated_history(snapshot):
    snapshot_load(path=snapshot)
    promo = Price.objects.get(
        offering__provider__slug="deepseek",
        offering__provider_model_id="deepseek-chat",
        component="cached_input",
        amount_per_mtok=Decimal("0.014"),
    )
    assert promo.run.kind == ScrapeRun.Kind.CURATED
    assert promo.valid_to == dt.datetime(2025, 2, 8, 16, tzinfo=dt.UTC)
    assert "api-docs.deepseek.com" in promo.run.note


def test_it_leaves_a_database_with_prices_alone(snapshot):
    snapshot_load(path=snapshot)
    rows = Price.objects.count()
    assert snapshot_load(path=snapshot) == []
    assert Price.objects.count() == rows


def test_the_first_live_scrape_supersedes_the_snapshot_without_new_rows(snapshot):
    snapshot_load(path=snapshot)
    rows = Price.objects.count()
    result = services.scrape_source(
        slug="openrouter",
        document=Document(
            url="https://openrouter.ai/api/v1/models", content=(FIXTURES / "openrouter" / "models.json").read_bytes()
        ),
    )
    assert result.ok and result.counts.created == 0 and result.counts.changed == 0
    assert Price.objects.count() == rows
    assert not Price.objects.filter(source__slug="openrouter", run__kind=ScrapeRun.Kind.SNAPSHOT).exists()


def test_the_command_refuses_a_missing_snapshot(tmp_path):
    with pytest.raises(Exception, match="no snapshot"):
        call_command("snapshot", "load", "--path", str(tmp_path / "absent.json.gz"))


def test_it_refuses_a_snapshot_of_an_unknown_format(tmp_path):
    path = tmp_path / "future.json.gz"
    with gzip.open(path, "wt") as handle:
        json.dump({"format": 99, "entries": []}, handle)
    with pytest.raises(ValueError, match="unknown snapshot format"):
        list(snapshot_entries(path))


def test_the_bundled_snapshot_loads_every_source():
    results = snapshot_load(path=settings.SNAPSHOT_PATH)
    assert all(r.ok for r in results)
    assert {r.source for r in results} >= {"openai", "anthropic", "google", "deepseek", "openrouter", "litellm"}


def test_it_carries_the_ecb_rates_of_the_days_it_needs(tmp_path):
    path = tmp_path / "snapshot.json.gz"
    snapshot_build(
        captures=[CaptureSpec(source="openrouter", path=FIXTURES / "openrouter" / "models.json", as_of=JULY)],
        output=path,
        rates_file=FIXTURES.parent / "rates" / "eurofxref-hist.csv",
    )
    snapshot_load(path=path)
    # The latest quoted day on or before the capture, and the latest day of the file.
    assert set(ExchangeRate.objects.values_list("date", flat=True)) == {dt.date(2026, 7, 17), dt.date(2026, 10, 30)}
    assert ExchangeRate.objects.get(currency="CNY", date=dt.date(2026, 7, 17)).units_per_eur == Decimal("7.7501")


def test_the_bundled_snapshot_carries_rates_to_convert_its_cny_prices():
    payload = snapshot_read(settings.SNAPSHOT_PATH)
    priced_in = {r["currency"] for entry in payload["entries"] for r in entry["records"]}
    rated = {r["currency"] for r in payload["rates"]}
    assert "CNY" in priced_in
    assert priced_in - {"EUR"} <= rated


def dated_copy(folder: Path, fixture: str, name: str) -> Path:
    path = folder / name
    path.write_bytes((FIXTURES / fixture).read_bytes())
    return path


def test_it_reads_a_several_page_source_as_one_run_per_date_carrying_the_latest_copy_of_each_page(tmp_path):
    intl = dated_copy(tmp_path, "tencent/tokenhub_price_intl.html", "tencent__intl__2026-07-17_x.html")
    cn = dated_copy(tmp_path, "tencent/tokenhub_price_cn.html", "tencent__cn__2026-08-10_x.html")
    path = tmp_path / "snapshot.json.gz"
    july, august = JULY - dt.timedelta(days=1), dt.datetime(2026, 8, 10, tzinfo=dt.UTC)
    snapshot_build(captures=[CaptureSpec("tencent", cn, august), CaptureSpec("tencent", intl, july)], output=path)
    first, second = snapshot_entries(path)
    assert (first["as_of"], first["document"]) == (july.isoformat(), intl.name)
    assert second["as_of"] == august.isoformat()
    assert second["document"] == f"{cn.name}; {intl.name} (latest copy of that page then)"
    assert {r["currency"] for r in second["records"]} == {"CNY", "USD"}
    results = snapshot_load(path=path)
    assert all(r.ok for r in results) and results[-1].counts.missing == 0
    assert not Price.objects.filter(missing_since__isnull=False).exists()


def test_it_keeps_what_tells_sibling_offerings_apart(tmp_path):
    page = dated_copy(tmp_path, "azure/retail-prices-page1.json", "azure__prices__2026-04-01_x.json")
    path = tmp_path / "snapshot.json.gz"
    snapshot_build(captures=[CaptureSpec("azure", page, dt.datetime(2026, 4, 1, tzinfo=dt.UTC))], output=path)
    (entry,) = snapshot_entries(path)
    assert all(r["attributes"].get("deploy_scope") for r in entry["records"])
    assert snapshot_load(path=path)[0].ok
    loaded = Price.objects.filter(source__slug="azure")
    assert loaded.count() == len(entry["records"])
    assert loaded.values("offering").distinct().count() > 1


def test_the_build_command_finds_dated_copies_by_name_and_names_the_ones_it_cannot_read(tmp_path):
    pages = tmp_path / "pages"
    pages.mkdir()
    dated_copy(pages, "zhipu/pricing.html", "zhipu-bigmodel__pricing__2026-07-17_x.html")
    dated_copy(pages, "zhipu/pricing.html", "zhipu-bigmodel__pricing__2026-07-17_x.expected.json")
    dated_copy(pages, "zhipu/pricing.html", "zhipu-bigmodel__pricing__undated.html")
    (pages / "groq__table_copy__2025-08-06.md").write_text("| not | a price table |\n")
    path = tmp_path / "snapshot.json.gz"
    out, err = io.StringIO(), io.StringIO()
    call_command("snapshot", "build", "--pages", str(pages), "--path", str(path), stdout=out, stderr=err)
    assert [(e["source"], e["as_of"]) for e in snapshot_entries(path) if e.get("kind") != "curated"] == [
        ("zhipu", "2026-07-17T00:00:00+00:00")
    ]
    assert "zhipu: " in out.getvalue()
    assert "groq__table_copy__2025-08-06.md" in err.getvalue()

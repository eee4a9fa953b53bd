"""``snapshot load --force`` on a database that holds prices: it adds only the entries the database has
not loaded, so curator decisions stand and nothing already loaded is replayed as new evidence."""

from __future__ import annotations

import datetime as dt
import gzip
import hashlib
import io
import json
from decimal import Decimal
from pathlib import Path

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command

from pricing import curation
from pricing.models import Price, ScrapeRun
from pricing.snapshot import SNAPSHOT_FORMAT, record_to_json
from providers.base import ScrapedPrice

pytestmark = pytest.mark.django_db

JULY_1 = dt.datetime(2026, 7, 1, tzinfo=dt.UTC)
JULY_10 = dt.datetime(2026, 7, 10, tzinfo=dt.UTC)
JULY_20 = dt.datetime(2026, 7, 20, tzinfo=dt.UTC)


def entry(as_of: dt.datetime, prices: dict[str, str]) -> dict[str, object]:
    records = [
        ScrapedPrice(provider="acme", model=model, component="input", amount_per_mtok=Decimal(amount))
        for model, amount in prices.items()
    ]
    body = json.dumps(sorted(prices.items())).encode()
    return {
        "source": "openrouter",
        "as_of": as_of.isoformat(),
        "document": f"models__{as_of:%Y-%m-%d}.json",
        "document_sha256": hashlib.sha256(body).hexdigest(),
        "records": [record_to_json(r) for r in records],
    }


def write(path: Path, entries: list[dict[str, object]]) -> Path:
    with gzip.open(path, "wt", encoding="utf-8") as handle:
        json.dump({"format": SNAPSHOT_FORMAT, "entries": entries, "rates": []}, handle)
    return path


def load(path: Path, *flags: str) -> str:
    out = io.StringIO()
    call_command("snapshot", "load", "--path", str(path), *flags, stdout=out)
    return out.getvalue()


@pytest.fixture
def decided(tmp_path):
    """A snapshot whose second copy raised two prices tenfold (both held), one approved, one rejected."""
    path = write(
        tmp_path / "snapshot.json.gz",
        [entry(JULY_1, {"m-1": "1", "m-2": "2", "m-3": "3"}), entry(JULY_10, {"m-1": "10", "m-2": "20", "m-3": "3"})],
    )
    load(path)
    held = {p.offering.provider_model_id: p for p in Price.objects.filter(status=Price.Status.HELD)}
    assert set(held) == {"m-1", "m-2"}
    carol = User.objects.create_user("carol", is_staff=True)
    curation.price_approve(price_id=held["m-1"].pk, actor=carol, note="the page says so")
    curation.price_reject(price_id=held["m-2"].pk, actor=carol, reason="a typo on the page")
    return path


def state() -> list[tuple[object, ...]]:
    return sorted(
        Price.objects.values_list(
            "pk", "offering__provider_model_id", "amount_per_mtok", "status", "valid_from", "valid_to", "superseded_at"
        )
    )


def test_without_force_a_database_with_prices_is_left_alone(decided):
    before, runs = state(), ScrapeRun.objects.count()
    assert "prices already present; snapshot not loaded" in load(decided)
    assert state() == before and ScrapeRun.objects.count() == runs


def test_force_replays_nothing_already_loaded_so_decided_proposals_stay_decided(decided):
    before, runs = state(), ScrapeRun.objects.count()
    assert "every entry of the snapshot is already loaded" in load(decided, "--force")
    assert ScrapeRun.objects.count() == runs
    assert state() == before
    assert not Price.objects.current_knowledge().filter(status=Price.Status.HELD).exists()
    rejected = Price.objects.get(status=Price.Status.REJECTED)
    assert rejected.offering.provider_model_id == "m-2" and rejected.amount_per_mtok == Decimal("20")
    current = Price.objects.current_knowledge().filter(status=Price.Status.PUBLISHED, valid_to__isnull=True)
    assert {p.offering.provider_model_id: p.amount_per_mtok for p in current} == {
        "m-1": Decimal("10"),
        "m-2": Decimal("2"),
        "m-3": Decimal("3"),
    }


def test_force_loads_a_newer_snapshots_new_entries_through_the_ordinary_ingest(decided, tmp_path):
    entries = json.loads(gzip.decompress(decided.read_bytes()))["entries"]
    newer = write(tmp_path / "newer.json.gz", [*entries, entry(JULY_20, {"m-1": "10", "m-2": "2", "m-3": "4"})])
    before = ScrapeRun.objects.count()
    out = load(newer, "--force")
    assert ScrapeRun.objects.count() == before + 1
    [run] = ScrapeRun.objects.filter(as_of=JULY_20)
    assert f"run {run.pk} succeeded" in out
    assert Price.objects.get(offering__provider_model_id="m-3", valid_from=JULY_20).amount_per_mtok == Decimal("4")
    # The rejected figure is not raised again, and no held proposal came back.
    assert Price.objects.filter(status=Price.Status.REJECTED).count() == 1
    assert not Price.objects.current_knowledge().filter(status=Price.Status.HELD).exists()

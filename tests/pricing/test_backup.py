"""``manage.py prices export|import``: every price with its history and evidence round-trips exactly
(export, import into an empty database, export again: the same bytes), and an import never mixes a
file into data that is already there unless told to replace it."""

from __future__ import annotations

import datetime as dt
import gzip
import io
import json
from decimal import Decimal
from pathlib import Path

import pytest
from django.contrib.auth.models import User
from django.core.management import CommandError, call_command
from django.forms.models import model_to_dict

from pricing import curation, services
from pricing.backup import exported_models
from pricing.models import AuditEntry, ExchangeRate, Offering, Price, ScrapeRun, Source
from providers.base import Document, ScrapedPrice
from tests.factories import TokenizerMeasurementFactory

pytestmark = pytest.mark.django_db

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "providers"
JUNE = dt.datetime(2026, 6, 1, tzinfo=dt.UTC)
JULY = dt.datetime(2026, 7, 1, 12, 30, 15, 123456, tzinfo=dt.UTC)


def records(prices: dict[str, str], *, currency: str = "USD") -> list[ScrapedPrice]:
    return [
        ScrapedPrice(
            provider="acme",
            model=model,
            component="input",
            amount_per_mtok=Decimal(amount),
            currency=currency,
            original=f"${amount} / 1M tokens",
            excerpt=f"<td>{model}</td><td>${amount}</td>",
        )
        for model, amount in prices.items()
    ]


@pytest.fixture
def history() -> None:
    """Dated runs, a change, two held rises (one approved, one rejected by a curator), a live run from a
    saved page, a rate and a tokenizer measurement: every kind of row the service keeps."""
    services.records_ingest(
        slug="openrouter", records=records({"m-1": "1", "m-2": "2.5", "m-3": "0.000001"}), kind="snapshot", as_of=JUNE
    )
    services.records_ingest(
        slug="openrouter", records=records({"m-1": "10", "m-2": "25", "m-3": "0.000002"}), kind="snapshot", as_of=JULY
    )
    carol = User.objects.create_user("carol", password="correct horse battery staple 41", is_staff=True)
    held = {p.offering.provider_model_id: p for p in Price.objects.filter(status=Price.Status.HELD)}
    curation.price_approve(price_id=held["m-1"].pk, actor=carol, note="confirmed on the page")
    curation.price_reject(price_id=held["m-2"].pk, actor=carol, reason="a typo on the page")
    page = (FIXTURES / "openrouter" / "models.json").read_bytes()
    services.scrape_source(
        slug="openrouter",
        document=Document(url="https://openrouter.ai/api/v1/models", content=page, fetched_at=JULY),
    )
    ExchangeRate.objects.create(currency="CNY", date=JULY.date(), units_per_eur=Decimal("7.81230000"))
    TokenizerMeasurementFactory()
    assert Price.objects.filter(status=Price.Status.REJECTED).exists() and AuditEntry.objects.exists()


def export(path: Path) -> bytes:
    call_command("prices", "export", str(path), stderr=io.StringIO())
    return path.read_bytes()


def import_(path: Path, *flags: str) -> str:
    out = io.StringIO()
    call_command("prices", "import", str(path), *flags, stdout=out)
    return out.getvalue()


def wipe() -> None:
    for model in reversed(exported_models()):
        model.objects.all().delete()


def everything() -> dict[str, list[dict[str, object]]]:
    """Every row of every exported table, users named by username (their ids differ once recreated)."""
    names = dict(User.objects.values_list("pk", "username"))
    tables = {}
    for m in exported_models():
        fields = m._meta.concrete_fields
        users = [f.name for f in fields if f.is_relation and f.related_model is User]
        rows = [model_to_dict(o, fields=[f.name for f in fields]) for o in m.objects.order_by("pk")]
        tables[m._meta.label_lower] = [row | {name: names.get(row[name]) for name in users} for row in rows]
    return tables


def test_an_export_imported_into_an_empty_database_exports_to_the_same_bytes(history, tmp_path):
    first = export(tmp_path / "first.json.gz")
    before = everything()
    wipe()
    User.objects.all().delete()
    assert not Price.objects.exists()

    out = import_(tmp_path / "first.json.gz")

    assert "created inactive user 'carol'" in out
    assert export(tmp_path / "second.json.gz") == first
    carol = User.objects.get(username="carol")
    assert not carol.is_active and not carol.has_usable_password()
    after = everything()
    for table in ("pricing.price", "pricing.scraperun", "pricing.offering", "pricing.auditentry"):
        assert after[table] == before[table], table


def test_it_keeps_every_timeline_field_and_the_evidence(history, tmp_path):
    path = tmp_path / "prices.json"
    export(path)
    wipe()
    import_(path)
    rejected = Price.objects.get(status=Price.Status.REJECTED)
    assert rejected.amount_per_mtok == Decimal("25") and rejected.decided_by.username == "carol"
    assert rejected.replaces.amount_per_mtok == Decimal("2.5")
    closed = Price.objects.get(offering__provider_model_id="m-3", valid_to=JULY)
    assert closed.valid_from == JUNE and closed.amount_per_mtok == Decimal("0.000001")
    assert closed.run.kind == ScrapeRun.Kind.SNAPSHOT and closed.run.as_of == JUNE
    assert closed.excerpt == "<td>m-3</td><td>$0.000001</td>" and closed.original == "$0.000001 / 1M tokens"
    live = ScrapeRun.objects.get(kind=ScrapeRun.Kind.FILE)
    assert live.content_hash and Price.objects.filter(run=live).exclude(document_hash="").exists()


def test_the_file_is_readable_json_lines_and_gzipped_only_when_named_so(history, tmp_path):
    plain = export(tmp_path / "prices.json")
    header, *rest = plain.decode().splitlines()
    assert json.loads(header) == {"format": "token-prices-export", "version": 1}
    assert json.loads(rest[0])["table"] in {m._meta.label_lower for m in exported_models()}
    assert gzip.decompress(export(tmp_path / "prices.json.gz")) == plain


def test_it_refuses_a_database_that_holds_price_data_and_changes_nothing(history, tmp_path):
    path = tmp_path / "prices.json"
    export(path)
    Offering.objects.filter(provider_model_id="m-3").update(name="renamed since")
    with pytest.raises(CommandError, match=r"already holds price data \(.*pricing.price.*--force to replace"):
        import_(path)
    assert Offering.objects.get(provider_model_id="m-3").name == "renamed since"


def test_force_replaces_all_price_data_with_the_files(history, tmp_path):
    path = tmp_path / "prices.json"
    first = export(path)
    now = {"m-1": "10", "m-2": "2.5", "m-3": "0.000002", "m-9": "9"}
    services.records_ingest(slug="openrouter", records=records(now), kind="snapshot", as_of=JULY)
    Source.objects.filter(slug="openrouter").update(enabled=False)

    out = import_(path, "--force")

    assert "replaced:" in out and "imported:" in out
    assert not Offering.objects.filter(provider_model_id="m-9").exists()
    assert Source.objects.get(slug="openrouter").enabled
    assert export(tmp_path / "again.json") == first
    # The database goes on: the next run's rows get fresh ids.
    result = services.records_ingest(slug="openrouter", records=records(now), kind="snapshot", as_of=JULY)
    assert result.ok and Price.objects.filter(offering__provider_model_id="m-9").exists()


def test_it_refuses_a_file_that_is_not_an_export(tmp_path):
    path = tmp_path / "other.json"
    path.write_text('{"format": 1, "entries": []}\n')
    with pytest.raises(CommandError, match="not a price export"):
        import_(path)
    with pytest.raises(CommandError, match="no such file"):
        import_(tmp_path / "missing.json")


def test_it_refuses_a_file_from_a_release_with_other_columns(history, tmp_path):
    path = tmp_path / "prices.json"
    lines = export(path).decode().splitlines()
    for i, line in enumerate(lines):
        if line.startswith('{"table": "pricing.offering"'):
            table = json.loads(line)
            table["columns"] = [*table["columns"][:-1], "renamed"]
            lines[i] = json.dumps(table)
    path.write_text("\n".join(lines) + "\n")
    wipe()
    with pytest.raises(CommandError, match=r"pricing\.offering: the file.s columns"):
        import_(path)
    assert not Price.objects.exists()

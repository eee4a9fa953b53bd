"""A seller's own word that an id is retired (DeepSeek: "deepseek-chat ... deprecated 2026/07/24, maps to
deepseek-v4-flash"): stored with its evidence, and every reader shows the id as no longer offered from that
moment, ranked out by default, with the model it now maps to."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from pricing import selectors, services
from pricing.models import Retirement, ScrapeRun, Source
from providers.base import Document, ScrapedPrice, ScrapedRetirement
from providers.deepseek import DeepSeek

pytestmark = pytest.mark.django_db

CAPTURED = dt.datetime(2026, 7, 17, 8, 0, tzinfo=dt.UTC)
RETIRES_AT = dt.datetime(2026, 7, 24, 15, 59, tzinfo=dt.UTC)
BEFORE = dt.datetime(2026, 7, 20, tzinfo=dt.UTC)
AFTER = dt.datetime(2026, 8, 1, tzinfo=dt.UTC)


def aggregator_prices() -> None:
    """An aggregator still lists DeepSeek's old ids (at their Sept-2025 prices)."""
    records = [
        ScrapedPrice(provider="deepseek", model=m, component=c, amount_per_mtok=Decimal(a))
        for m in ("deepseek-chat", "deepseek-reasoner")
        for c, a in (("input", "0.28"), ("output", "0.42"))
    ]
    result = services.records_ingest(
        slug="litellm", records=records, kind=ScrapeRun.Kind.ARCHIVE, as_of=dt.datetime(2025, 9, 6, tzinfo=dt.UTC)
    )
    assert result.ok, result.error


def deepseek_page(fixture_bytes) -> services.RunResult:
    page = Document(
        url=DeepSeek.urls[1], content=fixture_bytes("providers/deepseek/pricing_zh_cn.html"), fetched_at=CAPTURED
    )
    return services.scrape_source(slug="deepseek", documents=[page])


def shown_ids(**filters) -> set[str]:
    return {o.provider_model_id for o in selectors.offerings_with_prices(providers=["deepseek"], **filters)}


def test_the_official_page_retires_the_old_ids_from_its_stated_moment(fixture_bytes):
    aggregator_prices()
    result = deepseek_page(fixture_bytes)
    assert result.ok, result.error

    chat = Retirement.objects.get(provider_model_id="deepseek-chat")
    assert (chat.retires_at, chat.successor, chat.successor_conditions) == (
        RETIRES_AT,
        "deepseek-v4-flash",
        "thinking=off",
    )
    assert chat.source.slug == "deepseek" and chat.first_seen_at == CAPTURED and chat.evidence_url == DeepSeek.urls[1]
    assert "弃用" in chat.excerpt

    # Before the date the old ids are still sold and rank; from it they are ranked out ...
    assert {"deepseek-chat", "deepseek-reasoner"} <= shown_ids(as_of=BEFORE)
    assert not {"deepseek-chat", "deepseek-reasoner"} & shown_ids(as_of=AFTER)
    assert "deepseek-v4-flash" in shown_ids(as_of=AFTER)
    # ... and shown when asked for, as no longer offered since that moment, with what they map to.
    offerings = selectors.offerings_with_price_lines(providers=["deepseek"], include_missing=True, as_of=AFTER)
    rows = {
        o.provider_model_id: selectors.offering_row(o, display=selectors.display_for(), rates=selectors.rates_on())
        for o in offerings
    }
    reasoner = rows["deepseek-reasoner"]
    assert reasoner.missing and reasoner.missing_since == RETIRES_AT
    assert (reasoner.retired_by, reasoner.maps_to, reasoner.maps_to_conditions) == (
        "DeepSeek pricing page",
        "deepseek-v4-flash",
        "thinking=on",
    )
    assert not rows["deepseek-v4-flash"].missing and rows["deepseek-v4-flash"].maps_to == ""


def test_the_api_carries_the_retirement(client, fixture_bytes):
    aggregator_prices()
    deepseek_page(fixture_bytes)
    chat = selectors.offerings_with_prices(providers=["deepseek"], include_missing=True).get(
        provider_model_id="deepseek-chat"
    )
    body = client.get(f"/api/v1/offerings/{chat.id}/").json()
    assert body["missing"] is True
    assert body["missing_since"].startswith("2026-07-24T15:59")
    assert body["maps_to"] == {
        "model_id": "deepseek-v4-flash",
        "conditions": "thinking=off",
        "stated_by": "DeepSeek pricing page",
    }


def test_only_the_sellers_own_source_can_retire_its_ids():
    aggregator_prices()
    litellm = Source.objects.get(slug="litellm")
    run = ScrapeRun.objects.create(source=litellm, evidence_at=CAPTURED)
    statement = ScrapedRetirement(provider="deepseek", model="deepseek-chat", retires_at=CAPTURED)
    assert services.retirements_record(run=run, source=litellm, statements=[statement]) == 0
    assert not Retirement.objects.exists()
    assert "deepseek-chat" in shown_ids()


def test_a_restated_retirement_only_moves_its_last_sighting(fixture_bytes):
    aggregator_prices()
    deepseek_page(fixture_bytes)
    deepseek = Source.objects.get(slug="deepseek")
    later = ScrapeRun.objects.create(source=deepseek, evidence_at=AFTER)
    same = ScrapedRetirement(
        provider="deepseek",
        model="DeepSeek-Chat",  # spelled differently: the same id
        retires_at=RETIRES_AT,
        successor="deepseek-v4-flash",
        successor_conditions={"thinking": "off"},
    )
    assert services.retirements_record(run=later, source=deepseek, statements=[same]) == 0
    chat = Retirement.objects.get(match_key="deepseekchat")
    assert (chat.first_seen_at, chat.last_seen_at, chat.provider_model_id) == (CAPTURED, AFTER, "deepseek-chat")
    assert Retirement.objects.count() == 2


def test_a_saved_copy_of_one_of_two_pages_is_a_partial_run_that_marks_nothing_missing(fixture_bytes):
    english = Document(
        url=DeepSeek.urls[0], content=fixture_bytes("providers/deepseek/pricing_en.html"), fetched_at=CAPTURED
    )
    both = services.scrape_source(slug="deepseek", documents=[english, english])
    assert both.ok, both.error
    result = deepseek_page(fixture_bytes)  # only the Chinese page, which lists other ids
    assert result.ok, result.error
    run = ScrapeRun.objects.get(pk=result.run_id)
    assert run.note.startswith("partial:") and run.missing == 0
    assert "deepseek-chat" in shown_ids(as_of=BEFORE)


def test_the_bundled_snapshot_carries_retirements_through_its_file_format():
    from pricing.snapshot import retirement_from_json

    statement = ScrapedRetirement(
        provider="deepseek",
        model="deepseek-chat",
        retires_at=RETIRES_AT,
        successor="deepseek-v4-flash",
        successor_conditions={"thinking": "off"},
        excerpt="deepseek-chat ... 弃用",
    )
    assert retirement_from_json(statement.as_contract()) == statement
    aggregator_prices()
    result = services.records_ingest(
        slug="deepseek",
        records=[
            ScrapedPrice(
                provider="deepseek",
                model="deepseek-v4-flash",
                component="input",
                amount_per_mtok=Decimal("1"),
                currency="CNY",
            )
        ],
        kind=ScrapeRun.Kind.SNAPSHOT,
        as_of=CAPTURED,
        retirements=[statement],
    )
    assert result.ok, result.error
    assert Retirement.objects.get().excerpt == "deepseek-chat ... 弃用"
    assert "deepseek-chat" not in shown_ids(as_of=AFTER)


def test_loading_the_bundled_snapshot_stores_its_retirements(tmp_path):
    import gzip
    import json

    from pricing.snapshot import SNAPSHOT_FORMAT, record_to_json, snapshot_load

    statement = ScrapedRetirement(
        provider="deepseek", model="deepseek-chat", retires_at=RETIRES_AT, successor="deepseek-v4-flash"
    )
    entry = {
        "source": "deepseek",
        "as_of": CAPTURED.isoformat(),
        "document": "pricing_zh_cn.html",
        "document_sha256": "0" * 64,
        "records": [
            record_to_json(
                ScrapedPrice(
                    provider="deepseek",
                    model="deepseek-v4-flash",
                    component="input",
                    amount_per_mtok=Decimal("1"),
                    currency="CNY",
                )
            )
        ],
        "retirements": [statement.as_contract()],
    }
    path = tmp_path / "snapshot.json.gz"
    with gzip.open(path, "wt", encoding="utf-8") as handle:
        json.dump({"format": SNAPSHOT_FORMAT, "entries": [entry], "rates": []}, handle)

    [result] = snapshot_load(path=path)

    assert result.ok, result.error
    assert Retirement.objects.get().successor == "deepseek-v4-flash"

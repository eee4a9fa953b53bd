"""The ingest rules of DESIGN.md, one by one: nothing is lost, nothing wrong is published silently."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from unittest import mock

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from pricing import services
from pricing.models import Offering, Price, Provider, ScrapeRun, Source
from providers.base import Document, ScrapedPrice
from providers.http import FetchError, FetchResult

pytestmark = pytest.mark.django_db

OPENROUTER_URL = "https://openrouter.ai/api/v1/models"
PRICE_FIELDS = [f.attname for f in Price._meta.concrete_fields]


def rec(model: str, amount: str, component: str = "input", *, provider: str = "openrouter", **kw) -> ScrapedPrice:
    return ScrapedPrice(provider=provider, model=model, component=component, amount_per_mtok=Decimal(amount), **kw)


def page(*models: str, amount: str = "1", extra: tuple[ScrapedPrice, ...] = ()) -> list[ScrapedPrice]:
    records = [r for m in models for r in (rec(m, amount), rec(m, "4", "output"))]
    return [*records, *extra]


def ingest(records, slug: str = "openrouter", **kw) -> services.RunResult:
    return services.records_ingest(slug=slug, records=records, kind=ScrapeRun.Kind.FILE, **kw)


def price_table() -> list[dict]:
    return list(Price.objects.order_by("id").values(*PRICE_FIELDS))


def open_price(model: str, component: str = "input", **filters) -> Price:
    return Price.objects.get(
        offering__provider_model_id=model,
        component=component,
        status=Price.Status.PUBLISHED,
        valid_to__isnull=True,
        superseded_at__isnull=True,
        **filters,
    )


@pytest.fixture
def openrouter_page(fixture_bytes):
    """The fixture's JSON, to edit, and a function making a Document of it."""
    payload = json.loads(fixture_bytes("providers/openrouter/models.json"))

    def document(data=None) -> Document:
        return Document(url=OPENROUTER_URL, content=json.dumps(data if data is not None else payload).encode())

    return payload, document


def model_entry(payload, model_id):
    return next(m for m in payload["data"] if m["id"] == model_id)


# --- first run, unchanged run, change ---------------------------------------------------------------


def test_it_creates_every_price_on_a_first_run():
    result = ingest(page("acme/a", "acme/b", "acme/c"))
    assert result.ok and result.status == ScrapeRun.Status.SUCCEEDED
    assert (result.counts.records, result.counts.created, result.counts.unchanged) == (6, 6, 0)
    assert Price.objects.filter(status=Price.Status.PUBLISHED, valid_to__isnull=True).count() == 6
    assert Offering.objects.count() == 3
    run = ScrapeRun.objects.get(pk=result.run_id)
    assert (run.status, run.created, run.records) == (ScrapeRun.Status.SUCCEEDED, 6, 6)
    assert Price.objects.filter(run=run).count() == 6


def test_it_writes_no_price_row_when_a_second_run_is_identical():
    ingest(page("acme/a", "acme/b", "acme/c"))
    before = price_table()
    result = ingest(page("acme/a", "acme/b", "acme/c"))
    after = price_table()
    assert (result.counts.created, result.counts.changed, result.counts.unchanged) == (0, 0, 6)
    assert Price.objects.count() == 6

    def without_last_seen(rows):
        return [{k: v for k, v in row.items() if k != "last_seen_at"} for row in rows]

    assert without_last_seen(after) == without_last_seen(before)
    assert all(a["last_seen_at"] > b["last_seen_at"] for a, b in zip(after, before, strict=True))


def test_it_writes_no_price_row_when_the_full_fixture_is_ingested_twice(openrouter_page):
    _, document = openrouter_page
    first = services.scrape_source(slug="openrouter", document=document())
    rows = Price.objects.count()
    second = services.scrape_source(slug="openrouter", document=document())
    assert first.counts.created == rows == 37
    assert (second.counts.created, second.counts.changed, second.counts.unchanged) == (0, 0, 37)
    assert Price.objects.count() == rows


def test_it_closes_the_old_price_and_opens_a_new_one_on_a_change():
    ingest(page("acme/a"))
    old = open_price("acme/a")
    result = ingest(page("acme/a", amount="1.5"))
    old.refresh_from_db()
    new = open_price("acme/a")
    assert result.counts.changed == 1 and result.counts.unchanged == 1
    assert new.amount_per_mtok == Decimal("1.5")
    assert old.valid_to == new.valid_from
    assert old.superseded_at is None  # history is closed, not rewritten
    assert Price.objects.filter(offering=new.offering, component="input").count() == 2


# --- held changes -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("old", "new", "reason"),
    [
        ("1", "3.01", "rise beyond ×3 (1 → 3.01 USD)"),
        ("3", "0.99", "drop beyond ÷3 (3 → 0.99 USD)"),
        ("1", "0", "paid price turning free (1 → 0 USD)"),
        ("1", "-1", "negative amount -1 USD"),
    ],
)
def test_it_holds_a_suspicious_change_for_a_curator(old, new, reason):
    ingest(page("acme/a", amount=old))
    published = open_price("acme/a")
    result = ingest(page("acme/a", amount=new))
    held = Price.objects.get(status=Price.Status.HELD)
    assert result.counts.held == 1 and result.counts.changed == 0
    assert reason in held.hold_reason
    assert held.amount_per_mtok == Decimal(new)
    assert held.replaces == published
    assert open_price("acme/a") == published  # the published price stands


def test_it_publishes_a_change_right_at_the_bounds():
    ingest(page("acme/a", "acme/b", amount="1"))
    ingest([rec("acme/a", "3"), rec("acme/a", "4", "output"), rec("acme/b", "0.34"), rec("acme/b", "4", "output")])
    assert not Price.objects.filter(status=Price.Status.HELD).exists()
    assert open_price("acme/a").amount_per_mtok == 3


def test_it_does_not_queue_the_same_held_change_twice():
    ingest(page("acme/a", amount="1"))
    ingest(page("acme/a", amount="10"))
    result = ingest(page("acme/a", amount="10"))
    assert result.counts.held == 1
    assert Price.objects.filter(status=Price.Status.HELD).count() == 1


def test_it_does_not_queue_again_a_change_a_curator_rejected():
    ingest(page("acme/a", amount="1"))
    ingest(page("acme/a", amount="10"))
    Price.objects.filter(status=Price.Status.HELD).update(status=Price.Status.REJECTED)
    result = ingest(page("acme/a", amount="10"))
    assert result.counts.held == 0
    assert not Price.objects.filter(status=Price.Status.HELD).exists()
    assert open_price("acme/a").amount_per_mtok == Decimal(1)


def test_it_queues_a_different_figure_after_a_rejection():
    ingest(page("acme/a", amount="1"))
    ingest(page("acme/a", amount="10"))
    Price.objects.filter(status=Price.Status.HELD).update(status=Price.Status.REJECTED)
    result = ingest(page("acme/a", amount="12"))
    assert result.counts.held == 1
    assert Price.objects.get(status=Price.Status.HELD).amount_per_mtok == Decimal(12)


def test_it_publishes_a_model_that_is_free_from_the_start():
    result = ingest(page("acme/free", amount="0"))
    assert result.counts.held == 0
    assert open_price("acme/free").amount_per_mtok == 0


def test_it_holds_a_negative_amount_even_on_a_first_run():
    result = ingest(page("acme/a", amount="-0.5"))
    assert result.counts.held == 1
    assert not Price.objects.filter(
        offering__provider_model_id="acme/a", component="input", status=Price.Status.PUBLISHED
    ).exists()


def test_it_holds_every_change_to_a_locked_offering():
    ingest(page("acme/a", amount="1"))
    Offering.objects.filter(provider_model_id="acme/a").update(locked=True)
    result = ingest(page("acme/a", amount="1.1"))
    assert result.counts.held == 1
    assert "locked" in Price.objects.get(status=Price.Status.HELD).hold_reason
    assert open_price("acme/a").amount_per_mtok == 1


def test_it_turns_an_aggregator_disagreement_with_an_official_price_into_a_review_item():
    ingest([rec("gpt-4o", "2.5", provider="openai"), rec("gpt-4o", "10", "output", provider="openai")], slug="openai")
    official = open_price("gpt-4o")
    result = ingest(
        [
            rec("gpt-4o", "3", provider="openai"),  # LiteLLM-style stale figure
            rec("gpt-4o", "10", "output", provider="openai"),  # agrees
            rec("gpt-4o", "1.25", "cached_input", provider="openai"),  # a gap the official page left
        ],
        slug="litellm",
    )
    held = Price.objects.get(status=Price.Status.HELD)
    assert (result.counts.held, result.counts.unchanged, result.counts.created) == (1, 1, 1)
    assert held.hold_reason.startswith("disagrees with openai, more trusted:")
    assert held.source.slug == "litellm"
    assert open_price("gpt-4o") == official
    assert open_price("gpt-4o", "output").source.slug == "openai"
    assert open_price("gpt-4o", "cached_input").source.slug == "litellm"


def test_it_lets_an_official_source_correct_what_an_aggregator_published():
    ingest([rec("gpt-4o", "3", provider="openai"), rec("gpt-4o", "10", "output", provider="openai")], slug="litellm")
    result = ingest(
        [rec("gpt-4o", "2.5", provider="openai"), rec("gpt-4o", "10", "output", provider="openai")], slug="openai"
    )
    assert result.counts.changed == 1 and result.counts.held == 0
    assert open_price("gpt-4o").amount_per_mtok == Decimal("2.5")
    assert open_price("gpt-4o", "output").source.slug == "openai"  # stronger evidence taken over


# --- failed runs change nothing -----------------------------------------------------------------------


def test_it_rolls_back_everything_when_an_exception_strikes_midway(openrouter_page):
    payload, document = openrouter_page
    services.scrape_source(slug="openrouter", document=document())
    before, offerings = price_table(), Offering.objects.count()
    model_entry(payload, "openai/gpt-4o")["pricing"]["prompt"] = "0.000003"
    payload["data"].append({"id": "acme/new-model", "pricing": {"prompt": "0.000001", "completion": "0.000002"}})
    # The old row's valid_to is already updated when the insert of the new rows fails.
    with (
        mock.patch.object(Price.objects, "bulk_create", side_effect=RuntimeError("disk full")),
        pytest.raises(RuntimeError, match="disk full"),
    ):
        services.scrape_source(slug="openrouter", document=document())
    assert price_table() == before
    assert Offering.objects.count() == offerings
    run = ScrapeRun.objects.latest("id")
    assert (run.status, run.error) == (ScrapeRun.Status.FAILED, "disk full")
    assert open_price("openai/gpt-4o").amount_per_mtok == Decimal("2.5")


def test_it_fails_a_page_that_parses_to_nothing_and_changes_nothing(openrouter_page):
    _, document = openrouter_page
    services.scrape_source(slug="openrouter", document=document())
    before = price_table()
    result = services.scrape_source(slug="openrouter", document=document({"data": []}))
    assert not result.ok and result.status == ScrapeRun.Status.FAILED
    assert "no prices" in result.error
    assert price_table() == before


def test_it_fails_a_page_that_no_longer_has_the_expected_shape():
    result = services.scrape_source(slug="openrouter", document=Document(url=OPENROUTER_URL, content=b"<html/>"))
    assert result.status == ScrapeRun.Status.FAILED
    assert result.error.startswith("layout changed?")
    assert not Price.objects.exists()


def test_it_fails_a_page_with_far_fewer_rows_than_last_time(openrouter_page):
    payload, document = openrouter_page
    services.scrape_source(slug="openrouter", document=document())
    assert Source.objects.get(slug="openrouter").last_record_count == 37
    before = price_table()
    half = {"data": [model_entry(payload, "openai/gpt-4o"), model_entry(payload, "deepseek/deepseek-chat")]}
    result = services.scrape_source(slug="openrouter", document=document(half))
    assert result.status == ScrapeRun.Status.FAILED
    assert "where the nearest good run had 37" in result.error
    assert price_table() == before
    assert not Price.objects.filter(missing_since__isnull=False).exists()


def test_it_leaves_out_a_malformed_record_with_a_line_saying_why_and_keeps_the_rest():
    result = ingest([rec("acme/a", "1"), rec("acme/b", "1", "image"), rec("acme/c", "NaN")])
    assert result.ok and result.counts.skipped == 2 and result.counts.created == 1
    run = ScrapeRun.objects.get(pk=result.run_id)
    assert run.skipped == 2
    assert "acme/b: unknown component 'image'" in run.problems
    assert "acme/c: amount is not a finite number" in run.problems
    assert list(Price.objects.values_list("offering__provider_model_id", flat=True)) == ["acme/a"]


def test_it_fails_a_run_whose_every_record_is_malformed_and_changes_nothing():
    result = ingest([rec("acme/b", "1", "image")])
    assert result.status == ScrapeRun.Status.FAILED
    assert "parsed to no prices" in result.error and "unknown component" in result.error
    assert not Price.objects.exists()


def test_it_keeps_the_first_of_two_amounts_for_one_price_line():
    result = ingest([rec("acme/a", "1"), rec("acme/a", "2")])
    assert result.ok and result.counts.skipped == 1
    assert "a second amount for one price (2 beside 1); kept the first" in ScrapeRun.objects.get().problems
    assert [p.amount_per_mtok for p in Price.objects.all()] == [Decimal(1)]


def test_it_skips_a_ten_thousand_character_id_and_a_markup_provider_name():
    long_id = "acme/" + "x" * 10_000
    result = ingest([rec("acme/a", "1"), rec(long_id, "1"), rec("acme/svg", "1", provider="<svg onload=alert(1)>")])
    assert result.ok and result.counts.skipped == 2
    problems = ScrapeRun.objects.get().problems
    assert "model id longer than 200 characters" in problems and "(10005 characters)" in problems
    assert "is not a plain name a slug can be made from" in problems
    assert not Provider.objects.filter(slug__contains="svg").exists()


# --- missing models -----------------------------------------------------------------------------------


def test_it_keeps_a_missing_model_and_marks_it(openrouter_page):
    payload, document = openrouter_page
    services.scrape_source(slug="openrouter", document=document())
    without = {"data": [m for m in payload["data"] if m["id"] != "openai/gpt-4o"]}
    result = services.scrape_source(slug="openrouter", document=document(without))
    assert result.ok and result.counts.missing == 1
    gpt4o = Price.objects.filter(offering__provider_model_id="openai/gpt-4o")
    assert gpt4o.count() == 3
    assert all(p.missing_since is not None and p.valid_to is None for p in gpt4o)
    assert (
        not Price.objects.exclude(offering__provider_model_id="openai/gpt-4o")
        .filter(missing_since__isnull=False)
        .exists()
    )
    back = services.scrape_source(slug="openrouter", document=document())
    assert back.counts.missing == 0
    assert not Price.objects.filter(missing_since__isnull=False).exists()


# --- one run of a source at a time ----------------------------------------------------------------------


def test_it_refuses_a_second_run_while_one_holds_the_source(openrouter_page):
    _, document = openrouter_page
    source = services.source_sync(slug="openrouter")
    with services.source_lock(source):
        result = services.scrape_source(slug="openrouter", document=document())
        assert result.status == "busy" and "in progress" in result.error
        with pytest.raises(services.SourceBusy), services.source_lock(Source.objects.get(pk=source.pk)):
            pass  # pragma: no cover
    assert not ScrapeRun.objects.exists()
    assert not Price.objects.exists()
    assert services.scrape_source(slug="openrouter", document=document()).ok  # the lease was released


def test_it_takes_over_a_lease_that_a_killed_worker_left_to_expire(openrouter_page):
    _, document = openrouter_page
    source = services.source_sync(slug="openrouter")
    Source.objects.filter(pk=source.pk).update(lock_token="dead", locked_until=timezone.now() - dt.timedelta(seconds=1))
    assert services.scrape_source(slug="openrouter", document=document()).ok
    assert Source.objects.get(pk=source.pk).lock_token == ""


def test_it_releases_the_lease_when_a_run_crashes(openrouter_page):
    _, document = openrouter_page
    with mock.patch("pricing.services.runs.ingest", side_effect=RuntimeError("bug")), pytest.raises(RuntimeError):
        services.scrape_source(slug="openrouter", document=document())
    assert Source.objects.get(slug="openrouter").locked_until is None


# --- live runs: conditional GET and network failures ------------------------------------------------------


def fetched(status: int, content: bytes = b"", etag: str = "") -> FetchResult:
    return FetchResult(
        url=OPENROUTER_URL,
        status=status,
        content=content,
        content_type="application/json",
        etag=etag,
        last_modified="",
        elapsed_ms=12,
    )


def test_it_records_a_304_as_a_cheap_unchanged_run(fixture_bytes):
    with mock.patch(
        "providers.http.fetch",
        return_value=fetched(200, fixture_bytes("providers/openrouter/models.json"), etag='"v1"'),
    ) as first_fetch:
        services.scrape_source(slug="openrouter")
    assert first_fetch.call_args.kwargs["etag"] == ""
    assert Source.objects.get(slug="openrouter").http_validators[OPENROUTER_URL]["etag"] == '"v1"'
    before = Price.objects.values_list("id", "last_seen_at")
    before = dict(before)
    with mock.patch("providers.http.fetch", return_value=fetched(304)) as second_fetch:
        result = services.scrape_source(slug="openrouter")
    assert second_fetch.call_args.kwargs["etag"] == '"v1"'
    assert result.ok and result.status == ScrapeRun.Status.UNCHANGED
    assert result.counts.unchanged == 37
    after = dict(Price.objects.values_list("id", "last_seen_at"))
    assert after.keys() == before.keys()
    assert all(after[pk] > before[pk] for pk in before)
    run = ScrapeRun.objects.latest("id")
    assert (run.status, run.kind, run.http_status) == (ScrapeRun.Status.UNCHANGED, ScrapeRun.Kind.LIVE, 304)


def test_it_records_a_network_failure_as_a_retryable_failed_run():
    with mock.patch("providers.http.fetch", side_effect=FetchError("timed out", retryable=True)):
        result = services.scrape_source(slug="openrouter")
    assert result.status == ScrapeRun.Status.FAILED and result.retryable
    assert "timed out" in result.error
    assert not Price.objects.exists()


# --- archives and dated prices ---------------------------------------------------------------------------


def test_it_backfills_an_archived_copy_as_history_before_the_current_price(openrouter_page):
    payload, document = openrouter_page
    services.scrape_source(slug="openrouter", document=document())
    current = open_price("openai/gpt-4o")
    model_entry(payload, "openai/gpt-4o")["pricing"]["prompt"] = "0.000005"
    as_of = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    result = services.scrape_source(slug="openrouter", document=document(), as_of=as_of)
    assert result.ok
    archived = Price.objects.get(offering__provider_model_id="openai/gpt-4o", component="input", valid_from=as_of)
    assert archived.amount_per_mtok == 5
    assert archived.valid_to == current.valid_from
    assert archived.recorded_at > as_of
    assert open_price("openai/gpt-4o") == current
    run = ScrapeRun.objects.get(pk=result.run_id)
    assert (run.kind, run.as_of) == (ScrapeRun.Kind.ARCHIVE, as_of)


def test_it_neither_marks_missing_nor_counts_rows_from_an_archive(openrouter_page):
    payload, document = openrouter_page
    services.scrape_source(slug="openrouter", document=document())
    old = {"data": [model_entry(payload, "openai/gpt-4o")]}
    services.scrape_source(slug="openrouter", document=document(old), as_of=dt.datetime(2025, 6, 1, tzinfo=dt.UTC))
    assert not Price.objects.filter(missing_since__isnull=False).exists()
    assert Source.objects.get(slug="openrouter").last_record_count == 37


def test_it_stores_prices_the_page_dates_with_their_validity():
    start, end = dt.datetime(2026, 2, 1, tzinfo=dt.UTC), dt.datetime(2026, 3, 1, tzinfo=dt.UTC)
    records = [rec("acme/promo", "0.5", valid_from=start, valid_to=end), rec("acme/promo", "1", valid_from=end)]
    result = ingest(records)
    assert result.counts.created == 2
    promo = Price.objects.get(amount_per_mtok=Decimal("0.5"))
    assert (promo.valid_from, promo.valid_to) == (start, end)
    assert open_price("acme/promo").valid_from == end
    again = ingest(records)
    assert (again.counts.created, again.counts.unchanged) == (0, 2)
    assert Price.objects.count() == 2


def test_it_closes_an_open_price_when_the_page_starts_giving_its_end_date():
    ingest([rec("acme/a", "1")])
    ends = timezone.now() + dt.timedelta(days=30)
    result = ingest([rec("acme/a", "1", valid_to=ends)])
    assert result.counts.unchanged == 1
    assert Price.objects.get().valid_to == ends


# --- cost of an ingest -----------------------------------------------------------------------------------


def queries_of_ingest(models: int, *, offset: int = 0) -> tuple[int, int, int]:
    """(queries other than INSERT in a creating run, INSERTs in it, queries of the unchanged rerun)."""
    records = page(*[f"acme/m{offset + i}" for i in range(models)])
    with CaptureQueriesContext(connection) as first:
        assert ingest(records).counts.created == 2 * models
    with CaptureQueriesContext(connection) as second:
        assert ingest(records).counts.unchanged == 2 * models
    inserts = sum(1 for q in first.captured_queries if q["sql"].lstrip().upper().startswith("INSERT"))
    return len(first) - inserts, inserts, len(second)


def test_it_runs_the_same_number_of_queries_for_10_or_150_offerings():
    services.source_sync(slug="openrouter")
    small_other, small_inserts, small_rerun = queries_of_ingest(10)
    Price.objects.all().delete()
    Offering.objects.all().delete()
    Source.objects.update(last_record_count=0)
    large_other, large_inserts, large_rerun = queries_of_ingest(150, offset=1000)
    assert (large_other, large_rerun) == (small_other, small_rerun)
    # Bulk inserts are split only by the database's parameter limit: a few batches, never one per row.
    assert large_inserts <= small_inserts + 12 < 150


def test_it_pins_the_queries_of_an_unchanged_run_of_the_fixture(openrouter_page, django_assert_max_num_queries):
    _, document = openrouter_page
    services.scrape_source(slug="openrouter", document=document())
    with django_assert_max_num_queries(30):
        services.scrape_source(slug="openrouter", document=document())

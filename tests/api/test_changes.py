"""``/api/v1/changes/``: complete and exactly counted, dated, filtered like the offerings list, and free of
phantom changes (held, rejected, corrected and backfilled rows)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from pricing import services
from pricing.models import Offering, Price, ScrapeRun
from providers.base import ScrapedPrice
from tests.factories import (
    ModelFactory,
    OfferingFactory,
    PriceFactory,
    ProviderFactory,
    ScrapeRunFactory,
    SourceFactory,
    TokenizerFactory,
)

pytestmark = pytest.mark.django_db

URL = "/api/v1/changes/"


def day(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=dt.UTC)


def line(offering, amounts: list[tuple[str, str]], **fields) -> list[Price]:
    """Consecutive published rows of one line: ``[("2025-01-01", "2"), ("2025-03-01", "1")]``."""
    rows = []
    for n, (start, amount) in enumerate(amounts):
        end = day(amounts[n + 1][0]) if n + 1 < len(amounts) else None
        rows.append(
            PriceFactory(
                offering=offering, amount_per_mtok=Decimal(amount), valid_from=day(start), valid_to=end, **fields
            )
        )
    return rows


def ids(api, query: str = "") -> list[int]:
    body = api.get(f"{URL}?limit=1000{query}").json()
    assert body["count"] == len(body["results"])
    return [row["id"] for row in body["results"]]


# --- what a change is ----------------------------------------------------------------------------------


def test_it_lists_old_new_percent_and_the_evidence_of_a_change(api):
    provider = ProviderFactory(slug="acme", name="Acme")
    source = SourceFactory(slug="acme-pricing", name="Acme pricing", urls=["https://acme.example/pricing"])
    run = ScrapeRunFactory(source=source, evidence_at=day("2025-03-02"))
    offering = OfferingFactory(provider=provider, provider_model_id="acme-1", model=ModelFactory(slug="acme-1"))
    _, new = line(offering, [("2025-01-01", "2"), ("2025-03-01", "1.5")], source=source)
    new.run, new.document_hash, new.last_seen_at = run, "ab" * 32, day("2025-04-01")
    new.save()

    [row] = api.get(URL).json()["results"]

    assert row["id"] == new.id
    assert (row["provider"], row["provider_name"], row["model_id"], row["model"]) == (
        "acme",
        "Acme",
        "acme-1",
        "acme-1",
    )
    assert (row["old_amount"], row["new_amount"], row["percent"]) == (2, 1.5, -25)
    assert (row["native_old_amount"], row["native_new_amount"], row["native_currency"]) == (2, 1.5, "USD")
    assert row["old_valid_from"] == "2025-01-01T00:00:00Z"
    assert row["changed_at"] == "2025-03-01T00:00:00Z"
    assert row["evidence"] == {
        "source": "acme-pricing",
        "source_name": "Acme pricing",
        "document_url": "https://acme.example/pricing",
        "document_hash": "ab" * 32,
        "seen_at": "2025-03-02T00:00:00Z",
        "last_seen_at": "2025-04-01T00:00:00Z",
    }


def test_a_first_price_is_not_a_change_and_an_unchanged_amount_neither(api):
    line(OfferingFactory(), [("2025-01-01", "1")])
    line(OfferingFactory(), [("2025-01-01", "1"), ("2025-02-01", "1")])

    assert api.get(URL).json()["count"] == 0


def test_paid_to_free_is_minus_100_and_free_to_paid_has_no_percent(api):
    line(OfferingFactory(provider_model_id="went-free"), [("2025-01-01", "1"), ("2025-02-01", "0")])
    line(OfferingFactory(provider_model_id="went-paid"), [("2025-01-01", "0"), ("2025-03-01", "2")])

    rows = {r["model_id"]: r for r in api.get(URL).json()["results"]}

    assert rows["went-free"]["percent"] == -100
    assert rows["went-paid"]["percent"] is None and rows["went-paid"]["new_amount"] == 2


def test_each_line_changes_on_its_own_tiers_modes_currencies_and_conditions(api):
    offering = OfferingFactory()
    line(offering, [("2025-01-01", "1"), ("2025-02-01", "2")])
    line(offering, [("2025-01-15", "5")], tier_min_tokens=200_001)
    line(offering, [("2025-01-15", "7")], mode="batch")
    line(offering, [("2025-01-15", "9")], currency="CNY")
    line(offering, [("2025-01-15", "11")], conditions="thinking=on")

    [row] = api.get(URL).json()["results"]

    assert (row["old_amount"], row["new_amount"], row["tier_min_tokens"]) == (1, 2, None)


def test_a_line_that_comes_back_at_another_amount_changed(api):
    offering = OfferingFactory()
    PriceFactory(
        offering=offering, amount_per_mtok=Decimal(1), valid_from=day("2025-01-01"), valid_to=day("2025-02-01")
    )
    PriceFactory(offering=offering, amount_per_mtok=Decimal(3), valid_from=day("2025-05-01"))

    [row] = api.get(URL).json()["results"]

    assert (row["old_amount"], row["new_amount"], row["changed_at"]) == (1, 3, "2025-05-01T00:00:00Z")


def test_held_rejected_and_superseded_rows_make_no_change(api):
    offering = OfferingFactory()
    first = PriceFactory(
        offering=offering, amount_per_mtok=Decimal(1), valid_from=day("2025-01-01"), valid_to=day("2025-03-01")
    )
    PriceFactory(offering=offering, amount_per_mtok=Decimal(9), valid_from=day("2025-02-01"), status="held")
    PriceFactory(offering=offering, amount_per_mtok=Decimal(8), valid_from=day("2025-02-02"), status="rejected")
    # A correction: the first figure of a change was wrong and a row of current knowledge replaced it.
    PriceFactory(
        offering=offering,
        amount_per_mtok=Decimal(5),
        valid_from=day("2025-03-01"),
        superseded_at=day("2025-03-05"),
        valid_to=None,
    )
    corrected = PriceFactory(offering=offering, amount_per_mtok=Decimal("1.5"), valid_from=day("2025-03-01"))

    rows = api.get(URL).json()["results"]

    assert [(r["id"], r["old_amount"], r["new_amount"]) for r in rows] == [(corrected.id, 1, 1.5)]
    assert first.id not in [r["id"] for r in rows]


# --- phantom changes from backfills, through the real timeline ----------------------------------------------


def rec(model: str, amount: str) -> ScrapedPrice:
    return ScrapedPrice(provider="openrouter", model=model, component="input", amount_per_mtok=Decimal(amount))


def replay(records, on: str):
    result = services.records_ingest(slug="openrouter", records=records, kind=ScrapeRun.Kind.ARCHIVE, as_of=day(on))
    assert result.status != "busy"
    return result


@pytest.mark.parametrize("backfilled", ["0.1", "10", "0"])
def test_a_held_backfill_makes_no_phantom_change(api, backfilled):
    replay([rec("acme/a", "1"), rec("acme/b", "2")], on="2026-07-18")
    replay([rec("acme/a", backfilled), rec("acme/b", "2")], on="2026-07-01")

    assert Price.objects.filter(status=Price.Status.HELD).count() == 1
    assert api.get(URL).json()["count"] == 0


def test_a_published_backfill_dates_the_change_where_the_evidence_puts_it(api):
    replay([rec("acme/a", "1")], on="2026-07-18")
    replay([rec("acme/a", "1.2")], on="2026-07-01")
    replay([rec("acme/a", "1")], on="2026-08-01")

    rows = api.get(URL).json()["results"]

    assert [(r["old_amount"], r["new_amount"], r["changed_at"]) for r in rows] == [(1.2, 1, "2026-07-18T00:00:00Z")]


# --- complete, counted, paginated in the database -------------------------------------------------------------


def many_changes(count: int, *, start: str = "2025-01-01") -> list[Price]:
    """``count`` changes, one a day from ``start``, on 10 offerings of 10 models with their own tokenizers."""
    first = day(start)
    news: list[Price] = []
    for n in range(10):
        model = ModelFactory(slug=f"model-{n}", tokenizer=TokenizerFactory(slug=f"t{n}"))
        offering = OfferingFactory(provider_model_id=f"m-{n}", model=model)
        moments = [first + dt.timedelta(days=k) for k in range(n, count, 10)]
        # The line's first price half a day before its first change, then one price per change.
        starts = [moments[0] - dt.timedelta(hours=12), *moments]
        rows = [
            Price(
                offering=offering,
                component="input",
                amount_per_mtok=Decimal(k + 1),
                valid_from=moment,
                valid_to=starts[k + 1] if k + 1 < len(starts) else None,
                recorded_at=moment,
            )
            for k, moment in enumerate(starts)
        ]
        news.extend(Price.objects.bulk_create(rows)[1:])
    return news


def test_it_lists_every_change_across_pages_with_an_exact_count(api):
    news = many_changes(250)

    seen, url = [], f"{URL}?limit=100"
    while url:
        body = api.get(url).json()
        assert body["count"] == 250
        seen += [(row["id"], row["changed_at"]) for row in body["results"]]
        url = body["next"]

    assert len(seen) == 250
    assert {i for i, _ in seen} == {p.id for p in news}
    assert [at for _, at in seen] == sorted((at for _, at in seen), reverse=True)


def test_it_filters_by_date_since_inclusive_until_exclusive(api):
    many_changes(40, start="2025-01-01")  # one change a day, 2025-01-01 .. 2025-02-09

    def dates(query: str) -> list[str]:
        return sorted(r["changed_at"][:10] for r in api.get(f"{URL}?limit=1000&{query}").json()["results"])

    january = dates("since=2025-01-01&until=2025-02-01")
    assert len(january) == 31 and january[0] == "2025-01-01" and january[-1] == "2025-01-31"
    assert dates("since=2025-02-05") == ["2025-02-05", "2025-02-06", "2025-02-07", "2025-02-08", "2025-02-09"]
    assert dates("until=2025-01-03") == ["2025-01-01", "2025-01-02"]
    assert dates("since=2025-01-10T00:00:01Z&until=2025-01-12") == ["2025-01-11"]
    assert dates("as_of=2025-01-02") == ["2025-01-01", "2025-01-02"]


@pytest.mark.parametrize(
    ("query", "parameter", "says"),
    [
        ("since=yesterday", "since", "YYYY-MM-DD"),
        ("until=2025-13-01", "until", "YYYY-MM-DD"),
        ("since=2025-02-01&until=2025-02-01", "until", "later than since"),
        ("since=2025-02-01&until=2025-01-01", "until", "later than since"),
        ("min_change_pct=-5", "min_change_pct", "greater than or equal to 0"),
        ("min_change_pct=lots", "min_change_pct", "number"),
        ("offering=abc", "offering", "integer"),
        ("component=vibes", "component", "accepted values"),
        ("ordering=size", "ordering", "changed_at"),
        ("limit=0", "limit", "greater than or equal to 1"),
        ("since=", "since", "YYYY-MM-DD"),
    ],
)
def test_bad_parameters_are_a_400_naming_the_parameter(api, query, parameter, says):
    response = api.get(f"{URL}?{query}")

    assert response.status_code == 400
    messages = " ".join(response.json()[parameter])
    assert says.lower() in messages.lower()


def test_it_filters_by_component_offering_and_size_of_change(api):
    small = OfferingFactory(provider_model_id="small")
    line(small, [("2025-01-01", "1"), ("2025-02-01", "1.05")])
    line(small, [("2025-01-01", "4"), ("2025-02-01", "2")], component="output")
    big = OfferingFactory(provider_model_id="big")
    line(big, [("2025-01-01", "1"), ("2025-02-01", "3")])
    from_free = OfferingFactory(provider_model_id="from-free")
    line(from_free, [("2025-01-01", "0"), ("2025-02-01", "1")])

    def pairs(query: str) -> list[tuple[str, str]]:
        rows = api.get(f"{URL}?{query}&ordering=model_id").json()["results"]
        return [(r["model_id"], r["component"]) for r in rows]

    assert pairs("component=output") == [("small", "output")]
    assert pairs(f"offering={small.id}") == [("small", "output"), ("small", "input")]
    assert pairs("min_change_pct=50") == [("big", "input"), ("from-free", "input"), ("small", "output")]
    assert pairs("min_change_pct=4.9") == [
        ("big", "input"),
        ("from-free", "input"),
        ("small", "output"),
        ("small", "input"),
    ]
    assert pairs("min_change_pct=5.1") == [("big", "input"), ("from-free", "input"), ("small", "output")]


@pytest.mark.parametrize("query", ["q=no-such-model-anywhere", "provider=nobody", "offering=999999"])
def test_a_filter_nothing_passes_is_an_empty_page_not_an_error(api, query):
    line(OfferingFactory(provider_model_id="acme-1"), [("2025-01-01", "1"), ("2025-02-01", "2")])

    body = api.get(f"{URL}?{query}").json()

    assert (body["count"], body["results"], body["next"]) == (0, [], None)


def test_it_orders_on_percent_with_unknown_percents_last(api):
    line(OfferingFactory(provider_model_id="up"), [("2025-01-01", "1"), ("2025-02-01", "3")])
    line(OfferingFactory(provider_model_id="down"), [("2025-01-01", "4"), ("2025-02-01", "1")])
    line(OfferingFactory(provider_model_id="free"), [("2025-01-01", "0"), ("2025-02-01", "1")])

    def order(ordering: str) -> list[str]:
        return [r["model_id"] for r in api.get(f"{URL}?ordering={ordering}").json()["results"]]

    assert order("-percent") == ["up", "down", "free"]
    assert order("percent") == ["down", "up", "free"]


# --- the offering filters agree with the offerings list ---------------------------------------------------


@pytest.fixture
def catalogue():
    """Offerings that each filter keeps or drops, every one of them with a change."""
    acme, other = ProviderFactory(slug="acme"), ProviderFactory(slug="other")
    open_model = ModelFactory(slug="open-one", name="Open One", creator="meta", open_weights=True, context_window=None)
    closed_model = ModelFactory(slug="closed-one", name="Closed One", creator="openai", open_weights=False)
    made = [
        OfferingFactory(provider=acme, provider_model_id="long", context_window=200_000, model=closed_model),
        OfferingFactory(provider=acme, provider_model_id="short", context_window=8_000, model=open_model),
        OfferingFactory(provider=other, provider_model_id="unknown-context", context_window=None, model=open_model),
        OfferingFactory(provider=other, provider_model_id="x:free", listing=Offering.Listing.FREE_VARIANT),
        OfferingFactory(provider=other, provider_model_id="self-hosted", listing=Offering.Listing.UNLISTED),
        OfferingFactory(provider=acme, provider_model_id="gone", context_window=200_000),
    ]
    for offering in made:
        line(offering, [("2025-01-01", "2"), ("2025-03-01", "1")])
        line(offering, [("2025-01-01", "2"), ("2025-03-01", "3")], mode="batch", component="output")
    gone = Price.objects.filter(offering=made[-1], valid_to__isnull=True)
    gone.update(missing_since=day("2025-04-01"))
    return made


FILTER_SETS = [
    "",
    "min_context=100000",
    "min_context=100000&include_missing=true",
    "provider=acme",
    "provider=acme,other",
    "creator=meta",
    "q=one",
    "model=open-one",
    "open_weights=true",
    "open_weights=false",
    "mode=batch",
    "include_free=true",
    "include_unlisted=true",
    "include_free=true&include_unlisted=true&include_missing=true",
]


@pytest.mark.parametrize("query", FILTER_SETS)
def test_every_change_is_of_an_offering_the_offerings_list_keeps_for_the_same_filters(api, catalogue, query):
    listed = {row["id"] for row in api.get(f"/api/v1/offerings/?limit=1000&{query}").json()["results"]}
    changed = {row["offering"] for row in api.get(f"{URL}?limit=1000&{query}").json()["results"]}

    assert changed == listed


def test_a_minimum_context_drops_offerings_whose_context_is_unknown_from_both_lists(api, catalogue):
    changed = {r["model_id"] for r in api.get(f"{URL}?min_context=100000").json()["results"]}

    assert changed == {"long"}


# --- queries and schema -----------------------------------------------------------------------------------


@pytest.mark.parametrize("count", [20, 150])
def test_a_page_runs_a_fixed_number_of_queries_whatever_its_size(api, django_assert_num_queries, count):
    many_changes(count)

    # The change stamp, the exchange rates, the count, the page and the old rows.
    with django_assert_num_queries(5):
        body = api.get(f"{URL}?limit=100&unit=mwords&since=2024-01-01").json()

    assert len(body["results"]) == min(count, 100)
    assert body["results"][0]["unit"] == "mwords"


def test_the_schema_documents_the_filters_and_the_evidence(api):
    schema = api.get("/api/schema/?format=json").json()

    operation = schema["paths"]["/api/v1/changes/"]["get"]
    names = {p["name"] for p in operation["parameters"]}
    assert {"since", "until", "provider", "model", "offering", "component", "min_change_pct", "min_context"} <= names
    assert "exclusive" in operation["description"]
    assert "evidence" in schema["components"]["schemas"]["Change"]["properties"]

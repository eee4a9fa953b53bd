"""The timeline rules on every kind of run: evidence-dated freshness, backfills against both neighbours,
the shrink guard, archives marking what left, re-tiering, cross-currency checks, held changes that resolve
themselves, listing classes and one headline rule for every reader."""

import datetime as dt
from decimal import Decimal

import pytest

from pricing import selectors, services
from pricing.models import AuditEntry, ExchangeRate, Offering, Price, ScrapeRun, Source
from providers.base import ScrapedPrice

pytestmark = pytest.mark.django_db

D = dt.datetime


def day(text: str) -> dt.datetime:
    return D.fromisoformat(text).replace(tzinfo=dt.UTC)


def rec(model: str, amount: str, component: str = "input", *, provider: str = "openrouter", **kw) -> ScrapedPrice:
    return ScrapedPrice(provider=provider, model=model, component=component, amount_per_mtok=Decimal(amount), **kw)


def run(records, *, slug: str = "openrouter", on: str | None = None, kind: str = ScrapeRun.Kind.ARCHIVE):
    result = services.records_ingest(slug=slug, records=records, kind=kind, as_of=day(on) if on else None)
    assert result.status != "busy"
    return result


def published(model: str, component: str = "input"):
    return list(
        Price.objects.published()
        .filter(offering__provider_model_id=model, component=component)
        .order_by("valid_from")
        .values_list("amount_per_mtok", "valid_from", "valid_to")
    )


# --- freshness ---------------------------------------------------------------------------------------


def test_it_dates_freshness_from_the_evidence_not_from_the_import():
    run([rec("acme/a", "1")], on="2025-01-10")
    price = Price.objects.get()
    assert price.last_seen_at == day("2025-01-10")
    assert Source.objects.get(slug="openrouter").last_success_at == day("2025-01-10")
    row = selectors.offering_rows_for([price.offering_id], display=selectors.Display(), rates=selectors.Rates())[0]
    assert row.last_verified_at == day("2025-01-10") and row.stale


def test_it_never_moves_last_seen_backwards_when_an_older_copy_is_replayed():
    run([rec("acme/a", "1")], on="2025-03-01")
    run([rec("acme/a", "1")], on="2025-02-01")
    price = Price.objects.published().get()
    assert (price.valid_from, price.last_seen_at) == (day("2025-02-01"), day("2025-03-01"))


# --- backfills ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(("backfilled", "why"), [("0.1", "rise beyond"), ("10", "drop beyond"), ("0", "turning paid")])
def test_it_checks_a_backfill_against_the_later_price(backfilled, why):
    run([rec("acme/a", "1"), rec("acme/b", "2")], on="2026-07-18")
    result = run([rec("acme/a", backfilled), rec("acme/b", "2")], on="2026-07-01")
    assert result.counts.held == 1
    held = Price.objects.get(status=Price.Status.HELD)
    assert why in held.hold_reason and held.hold_reason.startswith("backfill")
    assert published("acme/a") == [(Decimal("1.000000000000"), day("2026-07-18"), None)]
    assert selectors.price_changes() == []


def test_it_publishes_a_plausible_backfill_up_to_the_next_known_price():
    run([rec("acme/a", "1")], on="2026-07-18")
    run([rec("acme/a", "1.5")], on="2026-07-01")
    assert published("acme/a") == [
        (Decimal("1.500000000000"), day("2026-07-01"), day("2026-07-18")),
        (Decimal("1.000000000000"), day("2026-07-18"), None),
    ]


# --- the shrink guard, archives and missing models ----------------------------------------------------


def test_it_fails_a_shrunken_page_even_after_archive_and_snapshot_runs():
    models = [f"acme/m{i}" for i in range(10)]
    run([rec(m, "1") for m in models], on="2026-07-01")
    run([rec(m, "1") for m in models], on="2026-07-02", kind=ScrapeRun.Kind.SNAPSHOT)
    result = run([rec(m, "1") for m in models[:3]], on="2026-07-03")
    assert result.status == ScrapeRun.Status.FAILED and "nearest good run had 10" in result.error
    assert not Price.objects.filter(missing_since__isnull=False).exists()


def test_an_archive_marks_the_models_it_no_longer_lists_missing_as_of_its_date():
    run([rec("acme/a", "1"), rec("acme/b", "1"), rec("acme/c", "1")], on="2026-07-01")
    result = run([rec("acme/a", "1"), rec("acme/c", "1")], on="2026-07-18")
    assert result.counts.missing == 1
    gone = Price.objects.get(offering__provider_model_id="acme/b")
    assert gone.missing_since == day("2026-07-18")
    assert not selectors.offerings_with_prices().filter(provider_model_id="acme/b").exists()
    assert selectors.offerings_with_prices(include_missing=True).filter(provider_model_id="acme/b").exists()


def test_an_older_copy_replayed_late_does_not_mark_missing_what_later_evidence_lists():
    run([rec("acme/a", "1"), rec("acme/b", "1")], on="2026-07-18")
    run([rec("acme/a", "1")], on="2026-07-01")
    assert not Price.objects.filter(missing_since__isnull=False).exists()


# --- re-tiering ---------------------------------------------------------------------------------------


def test_a_retiered_table_closes_the_lines_it_no_longer_emits():
    run([rec("acme/a", "1"), rec("acme/a", "4", "output")], on="2026-07-01")
    result = run(
        [
            rec("acme/a", "1", tier_max_tokens=200_000),
            rec("acme/a", "2", tier_min_tokens=200_001),
            rec("acme/a", "4", "output"),
        ],
        on="2026-08-01",
    )
    assert result.counts.closed == 1
    in_force = Price.objects.in_force(day("2026-08-02")).filter(component="input")
    assert sorted((p.tier_min_tokens or 0, p.tier_max_tokens or 0) for p in in_force) == [(0, 200_000), (200_001, 0)]


def test_a_more_trusted_source_closes_an_aggregators_line_of_another_layout():
    offering_rows = [rec("gemini-2.5-pro", "0.3125", "cached_input", provider="google")]
    run(offering_rows, slug="litellm", on="2026-07-01")
    run(
        [
            rec("gemini-2.5-pro", "0.125", "cached_input", provider="google", tier_max_tokens=200_000),
            rec("gemini-2.5-pro", "0.25", "cached_input", provider="google", tier_min_tokens=200_001),
        ],
        slug="google",
        on="2026-08-01",
    )
    offering = Offering.objects.get(provider_model_id="gemini-2.5-pro")
    row = selectors.offering_rows_for([offering.id], display=selectors.Display(), rates=selectors.Rates())[0]
    assert row.amounts["cached_input"] == Decimal("0.125")
    # The aggregator's next copy, still 0.3125 for all prompts, disagrees with Google's first tier: held.
    result = run(offering_rows, slug="litellm", on="2026-08-02")
    assert result.counts.held == 1
    assert "disagrees with google" in Price.objects.get(status=Price.Status.HELD).hold_reason


# --- across currencies --------------------------------------------------------------------------------


def rates_on(date: str) -> None:
    ExchangeRate.objects.create(currency="USD", date=day(date).date(), units_per_eur=Decimal("1.10"))
    ExchangeRate.objects.create(currency="CNY", date=day(date).date(), units_per_eur=Decimal("7.70"))


def test_an_aggregators_usd_figure_is_compared_with_the_official_cny_price():
    rates_on("2026-07-01")
    run([rec("deepseek-v4-flash", "1", provider="deepseek", currency="CNY")], slug="deepseek", on="2026-07-01")
    # 1 CNY = 0.142857 USD at these rates: 0.1429 agrees within 1%, 0.28 does not.
    agreeing = run([rec("deepseek-v4-flash", "0.1429", provider="deepseek")], slug="litellm", on="2026-07-02")
    assert agreeing.counts.unchanged == 1 and agreeing.counts.held == 0
    disagreeing = run([rec("deepseek-v4-flash", "0.28", provider="deepseek")], slug="litellm", on="2026-07-03")
    assert disagreeing.counts.held == 1
    assert Price.objects.published().filter(currency="USD").count() == 0


# --- held changes resolve themselves ------------------------------------------------------------------


def test_a_held_change_repeated_over_three_runs_and_three_days_publishes_itself():
    run([rec("acme/a", "10"), rec("acme/b", "1")], on="2026-07-01")
    for date in ("2026-07-02", "2026-07-03", "2026-07-05"):
        result = run([rec("acme/a", "2"), rec("acme/b", "1")], on=date)
    assert result.counts.published_held == 1
    assert published("acme/a")[-1] == (Decimal("2.000000000000"), day("2026-07-02"), None)
    audit = AuditEntry.objects.get(action=AuditEntry.Action.AUTO_PUBLISH)
    assert "repeated by openrouter in 3 runs" in audit.reason


def test_a_held_change_confirmed_by_an_independent_source_publishes_itself():
    run([rec("o3", "10", provider="openai")], slug="openai", on="2026-06-01")
    run([rec("o3", "2", provider="openai")], slug="openai", on="2026-06-10")
    assert Price.objects.filter(status=Price.Status.HELD).count() == 1
    offering = Offering.objects.get(provider_model_id="o3")
    row = selectors.offering_rows_for([offering.id], display=selectors.Display(), rates=selectors.Rates())[0]
    assert [(p.amount_per_mtok, p.source.slug) for p in row.pending] == [(Decimal("2.000000000000"), "openai")]
    result = run([rec("o3", "2", provider="openai")], slug="litellm", on="2026-06-11")
    assert result.counts.published_held == 1
    assert published("o3")[-1] == (Decimal("2.000000000000"), day("2026-06-10"), None)
    assert "confirmed by litellm" in AuditEntry.objects.get().reason


def test_a_locked_offering_never_publishes_itself():
    run([rec("acme/a", "10")], on="2026-07-01")
    Offering.objects.update(locked=True)
    for date in ("2026-07-02", "2026-07-03", "2026-07-06"):
        run([rec("acme/a", "2")], on=date)
    assert published("acme/a") == [(Decimal("10.000000000000"), day("2026-07-01"), None)]


# --- listing classes and stable identity --------------------------------------------------------------


def test_free_variants_and_self_hosted_entries_stay_out_of_rankings_by_default():
    run(
        [
            rec("acme/a", "1"),
            rec("acme/a:free", "0"),
            rec("llama3", "0", provider="ollama"),
            rec("acme/experimental", "0"),
            rec("acme/experimental", "0", "output"),
        ]
    )
    listing = dict(Offering.objects.values_list("provider_model_id", "listing"))
    assert listing == {"acme/a": "list", "acme/a:free": "free", "llama3": "unlisted", "acme/experimental": "free"}
    assert [o.provider_model_id for o in selectors.offerings_with_prices()] == ["acme/a"]
    assert len(selectors.offerings_with_prices(include_free=True)) == 3


def test_a_routed_alias_lands_on_the_sellers_own_offering_whatever_its_siblings():
    run([rec("deepseek/deepseek-chat", "0.28", provider="deepseek", own_id="deepseek-chat")], slug="litellm")
    run(
        [
            rec("deepseek-chat", "0.28", provider="deepseek"),
            rec("deepseek/deepseek-chat", "0.27", provider="deepseek", own_id="deepseek-chat"),
        ],
        slug="litellm",
    )
    assert list(Offering.objects.values_list("provider_model_id", flat=True)) == ["deepseek-chat"]
    assert published("deepseek-chat") == [(Decimal("0.280000000000"), published("deepseek-chat")[0][1], None)]


# --- one headline rule for every reader ---------------------------------------------------------------


def test_every_reader_picks_the_same_headline_line():
    run([rec("gemini-2.5-pro", "1.5", provider="google")], slug="litellm", on="2026-07-01")
    run(
        [
            rec("gemini-2.5-pro", "1.25", provider="google", tier_max_tokens=200_000),
            rec("gemini-2.5-pro", "2.5", provider="google", tier_min_tokens=200_001),
            rec("gemini-2.5-pro", "10", "output", provider="google"),
        ],
        slug="google",
        on="2026-08-01",
    )
    run([rec("acme/a", "3"), rec("acme/a", "4", "output")], on="2026-08-01")
    display, rates = selectors.Display(), selectors.Rates()
    offerings = selectors.offerings_with_price_lines()
    rows = {
        r.offering.id: r for r in selectors.offering_rows_for([o.id for o in offerings], display=display, rates=rates)
    }
    spec = selectors.WorkloadSpec(input_tokens=1000)
    for estimate in selectors.workload_estimates(offerings, spec=spec, display=display, rates=rates):
        per_mtok = estimate.cost.total * 1000
        assert per_mtok == rows[estimate.offering.id].amounts["input"], estimate.offering

"""Issue 13's calculator, "as of", per-words heading and chart flows in headless Chromium (Debian's
package, driven by Playwright) against a live server, at 1280 px and at 390 px."""

from __future__ import annotations

import datetime as dt
import os
from decimal import Decimal

import pytest
from django.utils import timezone

from tests.factories import (
    ExchangeRateFactory,
    ModelFactory,
    OfferingFactory,
    PriceFactory,
    ProviderFactory,
    SourceFactory,
    TokenizerFactory,
)

# Playwright's sync API runs an event loop in this thread; the ORM refuses that unless told. Waits are
# written as functions: a bare expression would be eval'ed in the page, which its CSP forbids.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}


@pytest.fixture
def open_page(browser):
    """``open_page(viewport=..., **context_options)``: a fresh browser context and its page."""
    contexts = []

    def make(viewport=DESKTOP, **options):
        context = browser.new_context(viewport=viewport, **options)
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()


@pytest.fixture
def sellers(priced):
    """Google's gemini-2.5-pro with its two prompt tiers (since 400 days ago, input $2.00 before 100 days
    ago), a cheap 128K-context seller, and DeepSeek with a measured tokenizer and a price change."""
    long_ago = timezone.now() - dt.timedelta(days=400)
    changed = timezone.now() - dt.timedelta(days=100)
    google = ProviderFactory(slug="google", name="Google")
    source = SourceFactory(slug="google-pricing", provider=google)
    gemini = ModelFactory(slug="gemini-2-5-pro", name="Gemini 2.5 Pro", context_window=1_048_576)
    offering = OfferingFactory(
        provider=google, provider_model_id="gemini-2.5-pro", model=gemini, context_window=1_048_576
    )
    for component, amount, low, high, start, end in (
        ("input", "2.00", None, 200_000, long_ago, changed),
        ("input", "1.25", None, 200_000, changed, None),
        ("input", "2.50", 200_001, None, long_ago, None),
        ("output", "10", None, 200_000, long_ago, None),
        ("output", "15", 200_001, None, long_ago, None),
    ):
        PriceFactory(
            offering=offering,
            component=component,
            amount_per_mtok=Decimal(amount),
            tier_min_tokens=low,
            tier_max_tokens=high,
            source=source,
            valid_from=start,
            valid_to=end,
        )
    priced("cheapco", "short-context", "0.10", "0.20", context_window=128_000)
    tokenizer = TokenizerFactory(slug="ds-tok", words_per_token=Decimal("0.5"), provenance="measured")
    model = ModelFactory(slug="deepseek-v3", name="DeepSeek-V3", tokenizer=tokenizer, context_window=128_000)
    chat = priced("deepseek", "deepseek-chat", "0.27", "1.10", model=model, cached_usd="0.07")
    chat.prices.update(valid_from=changed)
    PriceFactory(
        offering=chat,
        component="input",
        amount_per_mtok=Decimal("0.14"),
        source=chat.prices.first().source,
        valid_from=long_ago,
        valid_to=changed,
    )
    for day in (long_ago.date(), timezone.now().date()):
        ExchangeRateFactory(currency="USD", date=day, units_per_eur=Decimal("1.25"))
        ExchangeRateFactory(currency="CNY", date=day, units_per_eur=Decimal("8"))
    return (changed - dt.timedelta(days=30)).date().isoformat()


def _wait_for_url_part(page, part: str) -> None:
    """htmx pushes the new URL with history.pushState, which is no navigation to wait for."""
    page.wait_for_function("part => location.href.includes(part)", arg=part)


def _no_sideways_scroll(page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def _fill_workload(page, *, requests: str, input_tokens: str, output_tokens: str) -> None:
    page.fill("#id_requests", requests)
    page.fill("#id_input", input_tokens)
    page.fill("#id_output", output_tokens)


def test_it_prices_a_month_of_requests_in_place(live_server, open_page, sellers):
    page = open_page()
    page.goto(live_server.url + "/calculator/")
    page.evaluate("window.__marker = 'still here'")

    _fill_workload(page, requests="1000", input_tokens="10000", output_tokens="2000")
    page.fill("#id_q", "gemini-2.5-pro")
    page.click("form.workload button[type=submit]")
    _wait_for_url_part(page, "requests=1000")
    page.wait_for_function("() => document.querySelectorAll('#estimates tbody tr').length === 1")

    row = page.locator("#estimates tbody tr").first
    assert row.get_attribute("data-offering") == "gemini-2.5-pro"
    assert row.locator("td[data-col=total]").inner_text() == "$32.50"
    assert row.locator("td[data-col=per-request]").inner_text() == "$0.0325"
    assert "tier ≤ 200,000 tokens" in row.inner_text()
    assert "1,000 requests a month" in page.inner_text("#workload-summary")
    assert page.evaluate("window.__marker") == "still here"  # swapped in place, no reload
    page.reload()
    assert page.locator("#estimates td[data-col=total]").first.inner_text() == "$32.50"


def test_a_seller_too_short_for_one_request_ranks_after_the_long_context_one(live_server, open_page, sellers):
    page = open_page()
    page.goto(live_server.url + "/calculator/?requests=10&input=300000&output=1000")

    order = page.locator("#estimates tbody tr").evaluate_all("rows => rows.map(r => r.dataset.offering)")
    assert order[0] == "gemini-2.5-pro"
    assert order.index("short-context") > 0
    assert "its context window holds 128,000" in page.inner_text("tr[data-offering=short-context]")


def test_on_a_phone_the_costs_show_without_sideways_scrolling(live_server, open_page, sellers):
    page = open_page(viewport=PHONE)
    page.goto(live_server.url + "/calculator/?requests=1000&input=10000&output=2000")

    _no_sideways_scroll(page)
    first = page.locator("#estimates tbody tr").first
    for column in ("total", "per-request"):
        cell = first.locator(f"td[data-col={column}]")
        assert cell.is_visible()
        box = cell.bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]
    # A card, not a table: no header row, each figure captioned by its label.
    assert not page.locator("#estimates thead").is_visible()
    caption = first.locator("td[data-col=total]").evaluate("td => getComputedStyle(td, '::before').content")
    assert caption == '"A month"'
    page.fill("#id_requests", "2000")
    page.click("form.workload button[type=submit]")
    _wait_for_url_part(page, "requests=2000")
    page.wait_for_function("() => document.querySelector('#workload-summary').textContent.includes('2,000 requests')")
    _no_sideways_scroll(page)


def test_the_calculator_works_without_javascript(live_server, open_page, sellers):
    page = open_page(java_script_enabled=False)
    page.goto(live_server.url + "/calculator/")

    _fill_workload(page, requests="1000", input_tokens="10000", output_tokens="2000")
    page.fill("#id_q", "gemini")
    page.click("form.workload button[type=submit]")

    assert "requests=1000" in page.url
    assert page.locator("tr[data-offering='gemini-2.5-pro'] td[data-col=total]").inner_text() == "$32.50"


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["1280px", "390px"])
def test_a_past_day_is_picked_on_the_calculator_and_kept_in_the_url(live_server, open_page, sellers, viewport):
    page = open_page(viewport=viewport)
    page.goto(live_server.url + "/calculator/?requests=1000&input=10000&output=2000&q=gemini")
    assert "(today)" in page.inner_text("#as-of-note")

    page.fill("#id_as_of", sellers)
    page.click("form.workload button[type=submit]")
    _wait_for_url_part(page, f"as_of={sellers}")
    page.wait_for_function("day => document.querySelector('#as-of-note').textContent.includes(day)", arg=sellers)

    # Before the change input cost $2.00: 1000 × (10,000 × $2 + 2,000 × $10) / 1M = $40.
    assert page.locator("tr[data-offering='gemini-2.5-pro'] td[data-col=total]").inner_text() == "$40.00"
    assert f"Prices on {sellers}" in page.inner_text("#as-of-note")
    page.click("#as-of-note a")  # back to today's prices
    page.wait_for_function("() => !location.href.includes('as_of=2')")
    assert page.locator("tr[data-offering='gemini-2.5-pro'] td[data-col=total]").inner_text() == "$32.50"
    _no_sideways_scroll(page)


def test_a_past_day_on_the_leaderboard_keeps_through_sorting(live_server, open_page, sellers):
    page = open_page()
    page.goto(live_server.url + f"/?as_of={sellers}&q=deepseek-chat")
    assert "$0.14" in page.inner_text("#leaderboard")

    page.click("th a[data-sort=output]")
    _wait_for_url_part(page, "sort=output")
    assert f"as_of={sellers}" in page.url
    assert f"Prices on {sellers}" in page.inner_text("#as-of-note")
    assert "$0.14" in page.inner_text("#leaderboard")


def test_switching_to_words_changes_the_heading_and_title_in_place(live_server, open_page, sellers):
    page = open_page()
    page.goto(live_server.url + "/")
    page.evaluate("window.__marker = 'still here'")
    assert page.inner_text("h1") == "LLM prices per 1M tokens"

    page.check("input[name=unit][value=mwords]")
    _wait_for_url_part(page, "unit=mwords")
    page.wait_for_function("() => document.querySelector('h1').textContent.includes('words')")

    assert page.inner_text("h1") == "LLM prices per 1M words"
    assert "per 1M tokens" not in page.inner_text("#page-heading")
    assert page.title().startswith("Leaderboard: LLM prices per 1M words")
    assert page.locator("h1").count() == 1
    assert page.evaluate("window.__marker") == "still here"
    page.go_back()
    page.wait_for_function("() => document.querySelector('h1').textContent.includes('tokens')")


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["1280px", "390px"])
def test_the_history_chart_speaks_the_readers_unit_and_keeps_its_labels_inside(
    live_server, open_page, sellers, viewport
):
    page = open_page(viewport=viewport)
    page.goto(live_server.url + "/models/deepseek-v3/?unit=mwords&currency=EUR")

    chart = page.locator("figure.chart svg").first
    chart.wait_for()
    assert "EUR per 1M words" in chart.text_content()
    # Every label lies inside the drawing: measured by the browser, not guessed.
    outside = chart.evaluate(
        """svg => {
            const box = svg.viewBox.baseVal;
            return [...svg.querySelectorAll('text')].map(t => {
                const b = t.getBBox();
                const m = t.getCTM();  // rotated axis titles: map the box corners to the chart
                const pts = [[b.x, b.y], [b.x + b.width, b.y + b.height]].map(([x, y]) => {
                    const p = svg.createSVGPoint(); p.x = x; p.y = y;
                    return p.matrixTransform(svg.getCTM().inverse().multiply(m));
                });
                const xs = pts.map(p => p.x), ys = pts.map(p => p.y);
                const out = Math.min(...xs) < box.x - 0.5 || Math.max(...xs) > box.x + box.width + 0.5 ||
                            Math.min(...ys) < box.y - 0.5 || Math.max(...ys) > box.y + box.height + 0.5;
                return out ? t.textContent : null;
            }).filter(Boolean);
        }"""
    )
    assert outside == []
    titles = chart.locator("g.point > title").all_text_contents()
    # 0.14 USD per 1M tokens = 0.112 EUR; at 0.5 words per token 0.224 EUR per 1M words.
    assert any(t.startswith("input: €0.224 per 1M words") for t in titles)
    assert any(t.startswith("input: €0.432 per 1M words") and t.endswith("to now") for t in titles)
    point = chart.locator("g.point").first
    point.hover()
    assert chart.bounding_box()["width"] <= viewport["width"]
    _no_sideways_scroll(page)

"""The real pages in headless Chromium (Debian's package, driven by Playwright) against a live server."""

from __future__ import annotations

import os
from decimal import Decimal
from pathlib import Path

import pytest

from tests.factories import ModelFactory, PriceFactory, TokenizerFactory

CHROMIUM = Path("/usr/bin/chromium")
# Playwright's sync API runs an event loop in this thread; the ORM refuses that unless told.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium at /usr/bin/chromium"),
]


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    yield context.new_page()
    context.close()


@pytest.fixture
def offerings(priced):
    tokenizer = TokenizerFactory(slug="ds-tok", words_per_token=Decimal("0.5"), provenance="measured")
    model = ModelFactory(slug="deepseek-v3", name="DeepSeek-V3", tokenizer=tokenizer, context_window=128000)
    chat = priced("deepseek", "deepseek-chat", "0.27", "1.10", model=model, cached_usd="0.07")
    priced("together", "deepseek-ai/DeepSeek-V3", "1.25", "1.25", model=model)
    priced("openai", "gpt-4o", "2.50", "10.00")
    first_input = chat.prices.get(component="input")
    PriceFactory(
        offering=chat,
        component="input",
        amount_per_mtok=Decimal("0.14"),
        source=first_input.source,
        valid_from=first_input.valid_from.replace(year=first_input.valid_from.year - 1),
        valid_to=first_input.valid_from,
    )
    return chat


def _wait_for_url_part(page, part: str) -> None:
    """htmx pushes the new URL with history.pushState, which is no navigation to wait for."""
    page.wait_for_function("part => location.href.includes(part)", arg=part)


def _row_ids(page) -> list[str]:
    return page.locator("#leaderboard tbody tr").evaluate_all("rows => rows.map(r => r.dataset.offering)")


def test_it_sorts_on_a_column_without_a_full_reload(live_server, page, offerings):
    page.goto(live_server.url + "/")
    page.evaluate("window.__marker = 'still here'")

    page.click("th a[data-sort=output]")
    _wait_for_url_part(page, "sort=output")
    page.wait_for_function("document.querySelector('th[aria-sort]')?.textContent.includes('Output')")

    assert _row_ids(page)[0] == "deepseek-chat"
    page.click("th a[data-sort=output]")
    _wait_for_url_part(page, "dir=desc")
    page.wait_for_function("document.querySelector('#leaderboard tbody tr').dataset.offering === 'gpt-4o'")
    assert page.evaluate("window.__marker") == "still here"


def test_it_filters_by_provider_and_keeps_the_state_in_the_url(live_server, page, offerings):
    page.goto(live_server.url + "/")

    page.select_option("#id_provider", "together")
    _wait_for_url_part(page, "provider=together")
    page.wait_for_function("document.querySelectorAll('#leaderboard tbody tr').length === 1")

    assert _row_ids(page) == ["deepseek-ai/DeepSeek-V3"]
    page.reload()
    assert _row_ids(page) == ["deepseek-ai/DeepSeek-V3"]


def test_it_toggles_between_tokens_and_words_showing_the_ratio(live_server, page, offerings):
    page.goto(live_server.url + "/?sort=input")
    assert "$0.27" in page.inner_text("#leaderboard")

    page.check("input[name=unit][value=mwords]")
    _wait_for_url_part(page, "unit=mwords")
    page.wait_for_selector("td[data-col=ratio]")

    table = page.inner_text("#leaderboard")
    assert "$0.54" in table  # 0.27 per 1M tokens at 0.5 words per token
    assert "measured" in table and "assumed" in table


def test_it_works_with_javascript_off(live_server, browser, offerings):
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(live_server.url + "/")

    page.click("th a[data-sort=output]")
    page.select_option("#id_provider", "openai")
    page.click("form.filters button[type=submit]")

    assert "provider=openai" in page.url and "sort=output" in page.url
    assert _row_ids(page) == ["gpt-4o"]
    context.close()


def test_it_calculates_a_workload_in_words(live_server, page, offerings):
    page.goto(live_server.url + "/calculator/")
    assert "1M tokens ≈ 750,000 words" in page.inner_text("main")

    page.check("input[name=amount_unit][value=words]")
    page.fill("#id_input", "500000")
    page.fill("#id_output", "0")
    page.click("form.workload button[type=submit]")
    _wait_for_url_part(page, "input=500000")
    page.wait_for_function("document.querySelector('#estimates tbody tr td[data-col=total]') !== null")

    first = page.locator("#estimates tbody tr").first
    assert first.get_attribute("data-offering") == "deepseek-chat"
    assert "1,000,000 × $0.27 = $0.27" in first.inner_text()  # 500K words at 0.5 words per token


def test_it_compares_offerings_added_to_the_basket(live_server, page, offerings):
    page.goto(live_server.url + "/")

    page.click("a[aria-label^='Add deepseek-chat']")
    page.wait_for_selector("a[aria-label^='Remove deepseek-chat']")
    page.click("a[aria-label^='Add gpt-4o']")
    page.wait_for_selector("#basket a.button")
    page.click("#basket a.button")
    _wait_for_url_part(page, "/compare/")

    table = page.inner_text("#compare")
    assert "deepseek-chat" in table and "gpt-4o" in table
    assert "cached input" in table and "Words per token" in table


def test_it_draws_the_price_history_chart(live_server, page, offerings):
    page.goto(live_server.url + "/models/deepseek-v3/")

    charts = page.locator("figure.chart svg")
    assert charts.count() == 2
    assert charts.first.is_visible()
    assert "input" in charts.first.text_content()


def test_it_serves_the_atom_feed_linked_from_the_changes_page(live_server, page, offerings):
    page.goto(live_server.url + "/changes/?provider=deepseek")
    assert "+92.9%" in page.inner_text("#changes")

    href = page.get_attribute("#feed-link", "href")
    response = page.request.get(live_server.url + href)

    assert response.headers["content-type"].startswith("application/atom+xml")
    assert "$0.14 → $0.27" in response.text()

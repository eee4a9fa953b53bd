"""Model pages, the leaderboard grouped by model and tolerant search in headless Chromium (Debian's
package, driven by Playwright) against a live server."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.modelpage_data import build

CHROMIUM = Path("/usr/bin/chromium")
# Playwright's sync API runs an event loop in this thread; the ORM refuses that unless told.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium at /usr/bin/chromium"),
]


def new_page(browser, width: int):
    context = browser.new_context(viewport={"width": width, "height": 900})
    return context, context.new_page()


@pytest.fixture
def page(browser):
    context, opened = new_page(browser, 1280)
    yield opened
    context.close()


@pytest.fixture
def phone(browser):
    context, opened = new_page(browser, 390)
    yield opened
    context.close()


@pytest.fixture
def catalogue():
    return build()


def test_the_model_page_shows_the_history_timeline_and_finds_off_peak_prices_by_date(live_server, page, catalogue):
    page.goto(live_server.url + "/models/deepseek-v3/")

    promo = page.locator("#timeline li[data-kind=promo]").first
    assert promo.is_visible()
    assert "$0.014" in promo.inner_text() and "2025-02-08" in promo.inner_text()
    window = page.locator("#timeline li[data-kind=mode_window]").first
    assert window.is_visible() and "off peak" in window.inner_text()

    page.fill("input[name=as_of]", "2025-06-01")
    page.select_option("select[name=mode]", "off_peak")
    page.click("form.filters button[type=submit]")
    page.wait_for_url(lambda url: "as_of=2025-06-01" in url)

    cheapest = page.locator("#cheapest tr[data-component=input]").inner_text()
    assert "$0.135" in cheapest and "DeepSeek" in cheapest
    assert page.locator("#sellers tr[data-mode=off_peak]").count() == 3


def test_the_model_page_shows_every_tier_and_fits_a_phone(live_server, phone, catalogue):
    phone.goto(live_server.url + "/models/gemini-2-5-pro/")

    assert phone.locator("#sellers tr[data-tiered]").count() == 8
    assert phone.locator("#timeline").is_visible()
    overflow = phone.evaluate("document.scrollingElement.scrollWidth - document.scrollingElement.clientWidth")
    assert overflow <= 0
    # Each line's price is on screen without scrolling the table sideways.
    price = phone.locator("#sellers tr[data-tiered] td.num strong").first.bounding_box()
    assert price is not None and price["x"] + price["width"] <= 390


def test_the_leaderboard_groups_by_model_and_links_to_the_model_page(live_server, page, catalogue):
    page.goto(live_server.url + "/")

    page.click("#view-toggle a")
    page.wait_for_url(lambda url: "group=model" in url)
    rows = page.locator("#models-leaderboard tbody tr[data-model]")
    assert rows.count() == 2
    assert "DeepSeek" in rows.first.inner_text()

    rows.first.locator("th a").click()
    page.wait_for_url(lambda url: "/models/deepseek-v3/" in url)
    assert page.locator("h1").inner_text() == "DeepSeek-V3"


def test_search_finds_a_model_however_it_is_written(live_server, page, catalogue):
    page.goto(live_server.url + "/?q=GEMINI_2.5-pro&include_free=on")

    shown = page.locator("#leaderboard tbody").inner_text()
    assert "gemini-2.5-pro" in shown and "deepseek-chat" not in shown

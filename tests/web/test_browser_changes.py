"""The changes page in headless Chromium (Debian's package, driven by Playwright) against a live server:
"what changed last month" asked with windows, dates, a provider and pages, with JavaScript on and off, at
1280 and 390 px."""

from __future__ import annotations

import datetime as dt
import os
from decimal import Decimal
from pathlib import Path

import pytest
from django.utils import timezone

from pricing.models import Price
from tests.factories import ModelFactory, OfferingFactory, PriceFactory, ProviderFactory, SourceFactory

CHROMIUM = Path("/usr/bin/chromium")
# Playwright's sync API runs an event loop in this thread; the ORM refuses that unless told.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium at /usr/bin/chromium"),
]


def _page(browser, *, width: int = 1280, javascript: bool = True):
    context = browser.new_context(viewport={"width": width, "height": 900}, java_script_enabled=javascript)
    return context, context.new_page()


def _change(model_id: str, old: str, new: str, *, days_ago: int, provider: str, model=None) -> Price:
    seller = ProviderFactory(slug=provider, name=provider.title())
    source = SourceFactory(slug=f"{provider}-pricing", name=f"{provider.title()} pricing", provider=seller)
    offering = OfferingFactory(provider=seller, provider_model_id=model_id, model=model)
    at = timezone.now() - dt.timedelta(days=days_ago)
    PriceFactory(offering=offering, amount_per_mtok=Decimal(old), valid_from=at - dt.timedelta(days=300), valid_to=at)
    return PriceFactory(offering=offering, amount_per_mtok=Decimal(new), valid_from=at, source=source)


@pytest.fixture
def changes():
    model = ModelFactory(slug="deepseek-v3", name="DeepSeek-V3")
    return {
        "deepseek": _change("deepseek-chat", "0.14", "0.27", days_ago=3, provider="deepseek", model=model),
        "openai": _change("gpt-4o", "5", "2.5", days_ago=20, provider="openai"),
        "old": _change("gpt-4", "30", "20", days_ago=200, provider="openai"),
    }


def _wait_for_url_part(page, part: str) -> None:
    page.wait_for_function("part => location.href.includes(part)", arg=part)


def _shown(page) -> set[int]:
    ids = page.locator("#changes tbody tr[id^=change-]").evaluate_all("rows => rows.map(r => r.id)")
    return {int(i.removeprefix("change-")) for i in ids}


@pytest.mark.parametrize("javascript", [True, False])
def test_it_answers_what_changed_last_month_with_windows_and_a_provider(live_server, browser, changes, javascript):
    context, page = _page(browser, javascript=javascript)
    page.goto(live_server.url + "/changes/")
    assert _shown(page) == {c.id for c in changes.values()}

    page.click("nav.windows >> text=Last 30 days")
    _wait_for_url_part(page, "days=30")
    assert _shown(page) == {changes["deepseek"].id, changes["openai"].id}
    assert "2 changes from" in page.inner_text("#changes-count")

    page.select_option("#id_provider", "openai")
    page.click("form.filters button[type=submit]")
    _wait_for_url_part(page, "provider=openai")
    assert "days=30" in page.url
    assert _shown(page) == {changes["openai"].id}
    assert "$5.00" in page.inner_text("#changes") and "-50.0%" in page.inner_text("#changes")
    feed = page.get_attribute("#feed-link", "href")
    assert feed is not None and "provider=openai" in feed and "days=30" in feed
    context.close()


def test_custom_dates_keep_the_state_in_the_url(live_server, browser, changes):
    context, page = _page(browser)
    page.goto(live_server.url + "/changes/")
    start = (timezone.now() - dt.timedelta(days=250)).date().isoformat()
    end = (timezone.now() - dt.timedelta(days=10)).date().isoformat()

    page.fill("#id_since", start)
    page.fill("#id_until", end)
    page.click("form.filters button[type=submit]")
    _wait_for_url_part(page, f"since={start}")

    assert _shown(page) == {changes["openai"].id, changes["old"].id}
    page.reload()
    assert _shown(page) == {changes["openai"].id, changes["old"].id}
    assert page.input_value("#id_until") == end
    context.close()


def test_every_change_is_reachable_through_the_pages(live_server, browser):
    offering = OfferingFactory(provider_model_id="busy")
    start = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)
    rows = Price.objects.bulk_create(
        Price(
            offering=offering,
            component="input",
            amount_per_mtok=Decimal(n + 1),
            valid_from=start + dt.timedelta(days=n),
            valid_to=start + dt.timedelta(days=n + 1) if n < 130 else None,
        )
        for n in range(131)
    )
    context, page = _page(browser)
    page.goto(live_server.url + "/changes/")

    seen = _shown(page)
    page.click("nav.pager >> text=Next")
    _wait_for_url_part(page, "page=2")
    seen |= _shown(page)

    assert seen == {p.id for p in rows[1:]}
    context.close()


def test_a_phone_sees_the_changes_without_sideways_scrolling(live_server, browser, changes):
    context, page = _page(browser, width=390)
    page.goto(live_server.url + "/changes/")

    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    # One card per change: the table itself needs no sideways scrolling and the amounts are in view.
    assert page.evaluate("(w => w.scrollWidth <= w.clientWidth)(document.querySelector('.table-wrap'))")
    new_amount = page.locator("#changes .c-new").first
    box = new_amount.bounding_box()
    assert box is not None and box["x"] + box["width"] <= 390
    assert page.is_visible("nav.windows >> text=Last 7 days")
    assert page.is_visible("#changes-count")
    context.close()

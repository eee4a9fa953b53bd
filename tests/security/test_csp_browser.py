"""Attack drill, in a real browser: under the Content-Security-Policy (no inline script or style) the
site's htmx enhancement, the price charts, the API docs and the admin still work, and Chromium reports
no violation on any of them."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
from django.contrib.auth.models import User

from tests.factories import ModelFactory, TokenizerFactory
from tests.web.conftest import priced  # noqa: F401  (the fixture)

CHROMIUM = Path("/usr/bin/chromium")
# Playwright's sync API runs an event loop in this thread; the ORM refuses that unless told.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium at /usr/bin/chromium"),
]

# Runs before any page script (and is not itself subject to the page's policy): records every violation.
WATCH_VIOLATIONS = """
window.__violations = [];
document.addEventListener("securitypolicyviolation", (e) => {
  const where = `${e.sourceFile}:${e.lineNumber}`;
  window.__violations.push(`${e.violatedDirective} blocked ${e.blockedURI || "inline"} at ${where}`);
});
"""


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"],
        )
        yield launched
        launched.close()


class Watched:
    """A page whose CSP violations (events and console reports) are collected."""

    def __init__(self, page) -> None:
        self.page = page
        self.console: list[str] = []
        page.on("console", lambda message: self.console.append(f"{message.type}: {message.text}"))

    def violations(self) -> list[str]:
        reported = [line for line in self.console if "Content Security Policy" in line or "Refused to" in line]
        return list(self.page.evaluate("window.__violations")) + reported


@pytest.fixture
def watched(browser) -> Iterator[Watched]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.add_init_script(WATCH_VIOLATIONS)
    yield Watched(context.new_page())
    context.close()


@pytest.fixture
def offerings(priced):  # noqa: F811 (the fixture imported above)
    tokenizer = TokenizerFactory(slug="ds-tok", words_per_token=Decimal("0.5"), provenance="measured")
    model = ModelFactory(slug="deepseek-v3", name="DeepSeek-V3", tokenizer=tokenizer, context_window=128000)
    priced("deepseek", "deepseek-chat", "0.27", "1.10", model=model, cached_usd="0.07")
    priced("openai", "gpt-4o", "2.50", "10.00")


def test_every_answer_carries_the_policy(live_server, watched, offerings):
    response = watched.page.goto(live_server.url + "/")
    policy = response.headers["content-security-policy"]
    assert "script-src 'self'" in policy and "'unsafe-inline'" not in policy and "'unsafe-eval'" not in policy
    assert "object-src 'none'" in policy and "frame-ancestors 'none'" in policy


def test_the_leaderboard_and_the_calculator_swap_results_with_htmx_under_the_policy(live_server, watched, offerings):
    page = watched.page
    # (Waiting is done with locators and URLs: Playwright's wait_for_function evaluates a string, which
    # the policy rightly refuses.)
    page.goto(live_server.url + "/", wait_until="load")
    assert page.evaluate("typeof window.htmx") == "object"
    page.goto(live_server.url + "/calculator/", wait_until="load")
    assert page.evaluate("typeof window.htmx") == "object"
    page.evaluate("window.__not_reloaded = true")

    page.fill("#id_input", "2000000")
    page.click("form.workload button[type=submit]")
    page.wait_for_url(re.compile(r"[?&]input=2000000&"), wait_until="commit")
    page.wait_for_selector("#estimates tbody tr td[data-col=total]")

    assert page.evaluate("window.__not_reloaded") is True  # swapped in place, not a new page
    assert "deepseek-chat" in page.inner_text("#estimates")
    assert watched.violations() == []


def test_the_price_history_charts_draw_under_the_policy(live_server, watched, offerings):
    page = watched.page
    page.goto(live_server.url + "/models/deepseek-v3/")
    chart = page.locator("figure.chart svg").first
    assert chart.is_visible()
    stroke = chart.locator("g.series-0 path").first.evaluate("line => getComputedStyle(line).stroke")
    assert stroke == "rgb(29, 78, 216)"
    # Their stylesheet is a file of its own, loaded under 'self'.
    sheets = page.evaluate("[...document.styleSheets].map(sheet => sheet.href || 'inline')")
    assert any(sheet.endswith("/charts.css") for sheet in sheets) and "inline" not in sheets
    assert watched.violations() == []


def test_the_api_docs_load_offline_and_render_under_the_policy(live_server, watched, offerings):
    page = watched.page
    page.goto(live_server.url + "/api/docs/")
    page.wait_for_selector(".swagger-ui .info .title", timeout=20_000)
    assert "Token prices API" in page.inner_text(".swagger-ui .info .title")
    page.wait_for_selector(".opblock-tag", timeout=20_000)
    assert watched.violations() == []


def test_redoc_renders_under_the_policy(live_server, watched, offerings):
    page = watched.page
    page.goto(live_server.url + "/api/redoc/")
    page.wait_for_selector("h1:has-text('Token prices API')", timeout=30_000)
    page.wait_for_timeout(1000)  # ReDoc starts its search worker after the first render
    # ReDoc always draws its vendor's logo from a CDN (and hides it when it fails to load): blocking that
    # third-party fetch is the policy doing its job. Nothing else may be refused.
    assert [v for v in watched.violations() if "cdn.redoc.ly" not in v] == []


def test_the_admin_works_under_the_policy(live_server, watched, offerings):
    # (A transactional test starts with the migrations' groups flushed: a superuser sees every page.)
    User.objects.create_superuser("carol", password="correct horse battery staple 41")
    page = watched.page
    page.goto(live_server.url + "/admin/login/")
    page.fill("#id_username", "carol")
    page.fill("#id_password", "correct horse battery staple 41")
    page.click("input[type=submit]")
    page.wait_for_selector("#site-name")
    for path in ("/admin/", "/admin/pricing/price/", "/admin/pricing/offering/", "/admin/pricing/source/"):
        page.goto(live_server.url + path)
        assert page.locator("#content").is_visible()
        assert watched.violations() == [], path
    # A change form: the admin's own scripts (prepopulate, calendar, related widgets) still run.
    page.goto(live_server.url + "/admin/pricing/model/add/")
    page.wait_for_selector("#model_form")
    assert watched.violations() == []

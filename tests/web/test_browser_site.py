"""Issue 13's flows in headless Chromium (Debian's package, driven by Playwright) against a live server:
rankings with their toggles and filters, the compare basket, phones at 390 px, offline API docs, the
copyable API call, the favicon and dark mode."""

from __future__ import annotations

import os
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.factories import ModelFactory, TokenizerFactory

CHROMIUM = Path("/usr/bin/chromium")
# Playwright's sync API runs an event loop in this thread; the ORM refuses that unless told.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium at /usr/bin/chromium"),
]

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}


@pytest.fixture
def open_page(browser):
    """``open_page(viewport=..., **context_options)``: a fresh browser context (own storage) and its page."""
    contexts = []

    def make(viewport=DESKTOP, **options):
        context = browser.new_context(viewport=viewport, **options)
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()


@pytest.fixture
def catalogue(priced):
    """Seven sellers of four models, one free variant, one region, one model with a long name."""
    tokenizer = TokenizerFactory(slug="ds-tok", words_per_token=Decimal("0.5"), provenance="measured")
    deepseek = ModelFactory(
        slug="deepseek-v3", name="DeepSeek-V3", creator="deepseek", tokenizer=tokenizer, open_weights=True
    )
    llama = ModelFactory(slug="llama-3-3-70b", name="Llama 3.3 70B Instruct", creator="meta-llama", open_weights=True)
    claude = ModelFactory(slug="claude-sonnet-4", name="Claude Sonnet 4", creator="anthropic", open_weights=False)
    made = {
        "deepseek-chat": priced("deepseek", "deepseek-chat", "0.27", "1.10", model=deepseek, cached_usd="0.07"),
        "together-ds": priced("together", "deepseek-ai/DeepSeek-V3", "1.25", "1.25", model=deepseek),
        "llama-groq": priced("groq", "llama-3.3-70b-versatile", "0.59", "0.79", model=llama),
        "llama-free": priced(
            "openrouter", "meta-llama/llama-3.3-70b-instruct:free", "0", "0", model=llama, listing="free"
        ),
        "claude": priced("anthropic", "claude-sonnet-4-20250514", "3", "15", model=claude, cached_usd="0.30"),
        "azure": priced(
            "azure", "gpt-4o-eastus-data-zone-standard-deployment", "2.75", "11", attributes={"region": "eastus"}
        ),
        "gpt": priced("openai", "gpt-4o", "2.50", "10.00"),
    }  # fmt: skip
    return made


def _row_ids(page) -> list[str]:
    return page.locator("#leaderboard tbody tr[data-offering]").evaluate_all(
        "rows => rows.map(r => r.dataset.offering)"
    )


def _wait_for_url_part(page, part: str) -> None:
    page.wait_for_function("part => decodeURIComponent(location.href).includes(part)", arg=part)


def test_it_shows_free_variants_only_after_the_visible_toggle(live_server, open_page, catalogue):
    page = open_page()
    page.goto(live_server.url + "/")
    assert "meta-llama/llama-3.3-70b-instruct:free" not in _row_ids(page)

    toggle = page.get_by_label("Show free variants")
    assert toggle.is_visible()
    toggle.check()
    _wait_for_url_part(page, "include_free=on")
    page.wait_for_function("document.querySelector('tr[data-offering$=\":free\"]') !== null")

    assert "meta-llama/llama-3.3-70b-instruct:free" in _row_ids(page)
    assert "free variant" in page.inner_text("#leaderboard")


def test_it_filters_on_weights_creator_region_and_price_with_javascript_off(live_server, open_page, catalogue):
    page = open_page(java_script_enabled=False)
    page.goto(live_server.url + "/")

    page.select_option("#id_open_weights", "yes")
    page.fill("#id_max_price", "1")
    page.click("form.filters button[type=submit]")
    assert sorted(_row_ids(page)) == ["deepseek-chat", "llama-3.3-70b-versatile"]

    page.goto(live_server.url + "/")
    page.select_option("#id_creator", "deepseek")
    page.click("form.filters button[type=submit]")
    assert sorted(_row_ids(page)) == ["deepseek-ai/DeepSeek-V3", "deepseek-chat"]

    page.goto(live_server.url + "/")
    page.select_option("#id_region", "eastus")
    page.click("form.filters button[type=submit]")
    assert _row_ids(page) == ["gpt-4o-eastus-data-zone-standard-deployment"]


def test_it_keeps_a_compare_basket_across_searches_and_pages_and_compares_it(live_server, open_page, catalogue):
    page = open_page()
    page.goto(live_server.url + "/")

    page.click("a[aria-label^='Add deepseek-chat at']")
    _wait_for_url_part(page, f"compare={catalogue['deepseek-chat'].id}")
    page.fill("#id_q", "llama")
    page.press("#id_q", "Enter")
    _wait_for_url_part(page, "q=llama")
    page.wait_for_function("document.querySelectorAll('#leaderboard tbody tr[data-offering]').length === 1")
    page.click("a[aria-label^='Add llama-3.3-70b-versatile at']")
    wanted = f"compare={catalogue['deepseek-chat'].id},{catalogue['llama-groq'].id}"
    _wait_for_url_part(page, wanted)
    basket = page.inner_text("#basket")
    assert "DeepSeek-V3 at Deepseek" in basket and "Llama 3.3 70B Instruct at Groq" in basket

    page.click("#basket a.button")
    page.wait_for_url("**/compare/**")
    headers = page.locator("#compare thead th").all_inner_texts()
    assert any("DeepSeek-V3" in h for h in headers) and any("Llama 3.3 70B" in h for h in headers)

    page.click("#compare a[aria-label^='Remove deepseek-chat']")
    page.wait_for_function("document.querySelectorAll('#compare thead th').length === 2")
    assert "deepseek-chat" not in page.inner_text("#compare")


def test_it_brings_the_basket_back_from_local_storage(live_server, open_page, catalogue):
    page = open_page()
    page.goto(live_server.url + f"/?compare={catalogue['claude'].id},{catalogue['gpt'].id}")
    assert (
        page.evaluate("localStorage.getItem('token-prices:compare')")
        == f"{catalogue['claude'].id},{catalogue['gpt'].id}"
    )

    page.goto(live_server.url + "/compare/")
    page.wait_for_url("**/compare/?compare=*")
    assert page.locator("#compare thead th").count() == 3

    page.click("a[data-basket-remove]")  # remove one, then the other: an emptied basket stays empty
    page.wait_for_function("document.querySelectorAll('#compare thead th').length === 2")
    page.click("a[data-basket-remove]")
    page.wait_for_function("document.querySelector('#compare') === null")
    page.goto(live_server.url + "/")
    assert "compare=" not in page.url
    assert page.locator("#basket").get_attribute("data-basket") == ""


def test_it_adds_models_from_the_compare_page_itself_up_to_six(live_server, open_page, catalogue):
    page = open_page()
    page.goto(live_server.url + "/compare/")

    for term, label in (("deepseek", "deepseek-chat"), ("claude", "claude-sonnet-4-20250514"), ("gpt", "gpt-4o")):
        page.fill("#id_find", term)
        page.click("form.find button")
        page.click(f"a[aria-label^='Add {label} at']")
        page.wait_for_function(
            "label => [...document.querySelectorAll('#compare thead small')].some(s => s.textContent.includes(label))",
            arg=label,
        )
    assert page.locator("#compare thead th").count() == 4


def test_six_offerings_fit_side_by_side_at_1280_and_stack_on_a_phone(live_server, open_page, catalogue):
    catalogue["gpt"].prices.filter(component="output").delete()  # a long "incomplete (no output)" cell
    source = catalogue["claude"].prices.first().source
    source.name = "Anthropic's pricing page, the models and prices table"  # a long "last verified by" cell
    source.save()
    six = ",".join(
        str(catalogue[k].id) for k in ("deepseek-chat", "together-ds", "llama-groq", "claude", "azure", "gpt")
    )
    wide = open_page()
    wide.goto(live_server.url + f"/compare/?compare={six}")
    assert wide.locator("#compare thead th").count() == 7
    assert wide.evaluate(
        "document.querySelector('.compare-wide').scrollWidth <= document.querySelector('.compare-wide').clientWidth"
    )
    assert wide.evaluate("document.documentElement.scrollWidth") <= 1280

    phone = open_page(viewport=PHONE)
    phone.goto(live_server.url + f"/compare/?compare={six}")
    assert not phone.locator("#compare").is_visible()
    cards = phone.locator(".compare-card")
    assert cards.count() == 6 and cards.first.is_visible()
    assert "$0.27" in cards.first.inner_text()
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390


EVERY_PAGE = (
    "/", "/calculator/", "/compare/", "/changes/", "/providers/", "/models/deepseek-v3/", "/methodology/",
    "/providers/azure/", "/no-such-page/",
)  # fmt: skip


@pytest.mark.parametrize("path", EVERY_PAGE)
def test_no_page_scrolls_sideways_on_a_phone(live_server, open_page, catalogue, path):
    page = open_page(viewport=PHONE)
    page.goto(live_server.url + path + ("" if "?" in path else f"?compare={catalogue['claude'].id}"))

    assert page.evaluate("document.documentElement.scrollWidth") <= 390


def test_the_leaderboard_shows_prices_without_sideways_scrolling_on_a_phone(live_server, open_page, catalogue):
    page = open_page(viewport=PHONE)
    page.goto(live_server.url + "/?sort=blended")

    row = page.locator("#leaderboard tr[data-offering='deepseek-chat']")
    for column, figure in (("input", "$0.27"), ("output", "$1.10"), ("blended", "$0.478")):
        cell = row.locator(f"td[data-col={column}]")
        assert cell.is_visible() and figure in cell.inner_text()
        box = cell.bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= 390
    label = row.locator("td[data-col=input]").evaluate("cell => getComputedStyle(cell, '::before').content")
    assert label == '"Input"'  # each figure is labelled on the card


def test_the_leaderboard_header_sticks_while_scrolling(live_server, open_page, priced):
    for i in range(60):
        priced(f"seller{i % 6}", f"model-{i:02d}", str(i + 1), str(i + 2))
    page = open_page()
    page.goto(live_server.url + "/?per_page=100")

    page.mouse.wheel(0, 2500)
    page.wait_for_function("window.scrollY > 1500")
    header = page.locator("#leaderboard thead th").first.bounding_box()

    assert -1 <= header["y"] <= 2


def test_the_api_docs_work_with_nothing_from_another_host(live_server, open_page, catalogue):
    page = open_page()
    hosts: set[str] = set()

    # What was fetched (a request the CSP refuses never finishes); blob: and data: URLs are no host.
    def fetched(request) -> None:
        if urlsplit(request.url).scheme in ("http", "https"):
            hosts.add(urlsplit(request.url).netloc)

    page.on("requestfinished", fetched)

    page.goto(live_server.url + "/")
    page.click("nav a:text-is('API docs')")
    page.wait_for_selector(".swagger-ui .info .title")
    assert "Token prices API" in page.inner_text(".swagger-ui .info")
    page.wait_for_selector("text=/api/v1/offerings/")

    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(live_server.url + "/api/redoc/")
    page.wait_for_selector("redoc h1:has-text('Token prices API')", timeout=20_000)
    page.wait_for_selector("redoc h2:has-text('Offerings with their prices')")

    assert errors == []
    assert hosts == {urlsplit(live_server.url).netloc}  # ReDoc's own logo from its CDN is refused by the CSP


def test_it_copies_the_equivalent_api_call(live_server, open_page, catalogue):
    page = open_page(permissions=["clipboard-read", "clipboard-write"])
    page.goto(live_server.url + "/?open_weights=yes&sort=output")

    page.click(".api-call button.copy")
    page.wait_for_function("document.querySelector('.api-call button.copy').textContent === 'Copied'")
    copied = page.evaluate("navigator.clipboard.readText()")

    assert copied.startswith(f"curl -s '{live_server.url}/api/v1/offerings/?")
    url = copied.split("'")[1]
    rows = page.request.get(url).json()["results"]
    assert [r["model_id"] for r in rows] == _row_ids(page)


def test_it_has_a_favicon_a_description_and_a_dark_mode(live_server, open_page, catalogue):
    light = open_page(color_scheme="light")
    light.goto(live_server.url + "/methodology/")
    icon = light.get_attribute("link[rel=icon]", "href")
    assert light.request.get(live_server.url + icon).headers["content-type"].startswith("image/svg+xml")
    assert len(light.get_attribute("meta[name=description]", "content")) > 40

    dark = open_page(color_scheme="dark")
    dark.goto(live_server.url + "/methodology/")
    background = dark.evaluate("getComputedStyle(document.documentElement).backgroundColor")
    light_background = light.evaluate("getComputedStyle(document.documentElement).backgroundColor")

    assert light_background == "rgb(255, 255, 255)"
    assert background != light_background and sum(int(v) for v in background[4:-1].split(",")) < 150


def test_a_model_page_shows_the_basket_brought_back_from_local_storage(live_server, open_page, catalogue):
    page = open_page()
    page.goto(live_server.url + f"/?compare={catalogue['deepseek-chat'].id}")

    page.goto(live_server.url + "/models/deepseek-v3/")
    page.wait_for_url(f"**/models/deepseek-v3/?compare={catalogue['deepseek-chat'].id}")

    assert page.locator("a[aria-label^='Remove deepseek-chat']").first.is_visible()
    page.click("a[aria-label^='Add deepseek-ai/DeepSeek-V3']")
    _wait_for_url_part(page, f"compare={catalogue['deepseek-chat'].id},{catalogue['together-ds'].id}")

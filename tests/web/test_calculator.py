"""The calculator prices a month of requests: each request at the tier its own prompt falls in."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest
from django.utils import timezone

from tests.factories import ExchangeRateFactory, OfferingFactory, PriceFactory, ProviderFactory, SourceFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def gemini_pro():
    """Google's gemini-2.5-pro as Google lists it: $1.25 / $10 up to 200K prompt tokens, $2.50 / $15 beyond."""
    google = ProviderFactory(slug="google", name="Google")
    source = SourceFactory(slug="google-pricing", provider=google)
    offering = OfferingFactory(provider=google, provider_model_id="gemini-2.5-pro", context_window=1_048_576)
    for component, amount, low, high in (
        ("input", "1.25", None, 200_000),
        ("input", "2.50", 200_001, None),
        ("output", "10", None, 200_000),
        ("output", "15", 200_001, None),
    ):
        PriceFactory(
            offering=offering,
            component=component,
            amount_per_mtok=Decimal(amount),
            tier_min_tokens=low,
            tier_max_tokens=high,
            source=source,
        )
    return offering


def row_of(body: str, model_id: str) -> str:
    match = re.search(rf'<tr data-offering="{re.escape(model_id)}"[^>]*>(.*?)</tr>', body, re.DOTALL)
    assert match, f"no calculator row for {model_id}"
    return match.group(1)


def cell(body: str, model_id: str, column: str) -> str:
    match = re.search(rf'data-col="{column}"[^>]*>(.*?)</td>', row_of(body, model_id), re.DOTALL)
    assert match
    return re.sub(r"<[^>]+>", "", match.group(1)).strip()


def offering_order(body: str) -> list[str]:
    return re.findall(r'<tr data-offering="([^"]+)"', body)


def test_it_prices_a_month_of_requests_at_the_tier_of_one_request(client, gemini_pro):
    body = client.get("/calculator/?requests=1000&input=10000&output=2000&q=gemini-2.5-pro").content.decode()

    assert cell(body, "gemini-2.5-pro", "total") == "$32.50"  # 1000 × (10,000 × $1.25 + 2,000 × $10) / 1M
    assert cell(body, "gemini-2.5-pro", "per-request") == "$0.0325"
    assert "10,000 × $1.25 = $0.0125" in row_of(body, "gemini-2.5-pro")
    assert "tier ≤ 200,000 tokens" in row_of(body, "gemini-2.5-pro")
    assert "1,000 requests a month" in body


def test_a_single_long_request_still_pays_the_long_context_tier(client, gemini_pro):
    body = client.get("/calculator/?requests=1&input=300000&output=2000").content.decode()

    assert cell(body, "gemini-2.5-pro", "total") == "$0.78"  # 300,000 × $2.50 + 2,000 × $15
    assert "tier &gt; 200,000 tokens" in row_of(body, "gemini-2.5-pro")


def test_sellers_whose_context_cannot_hold_one_request_rank_after_those_that_can(client, gemini_pro, priced):
    priced("cheapco", "short-context", "0.10", "0.20", context_window=128_000)

    body = client.get("/calculator/?requests=10&input=300000&output=1000").content.decode()

    assert offering_order(body) == ["gemini-2.5-pro", "short-context"]
    assert "one request needs 301,000 tokens; its context window holds 128,000" in row_of(body, "short-context")
    assert 'class="too-long"' in re.search(r'<tr data-offering="short-context"[^>]*>', body).group(0)


def test_it_ranks_on_the_monthly_total_cheapest_first(client, priced):
    priced("a", "dear", "3", "15")
    priced("b", "cheap", "0.5", "1")

    body = client.get("/calculator/?requests=250&input=1000&output=100").content.decode()

    assert offering_order(body) == ["cheap", "dear"]
    assert cell(body, "cheap", "total") == "$0.15"  # 250 × (1,000 × 0.5 + 100 × 1) / 1M
    assert cell(body, "dear", "total") == "$1.13"  # 250 × 0.0045 = 1.125, rounded half up


def test_words_become_tokens_per_request_before_multiplying(client, priced):
    priced("a", "model-a", "1", "1")

    body = client.get("/calculator/?amount_unit=words&requests=3&input=1&output=0").content.decode()

    # 1 word / 0.75 = 1.33 tokens, billed as 2 in each request: 3 requests cost 6 tokens, not ceil(4).
    assert "input: 2 × $1.00" in row_of(body, "model-a")
    assert cell(body, "model-a", "total") == "$0.000006"


@pytest.mark.parametrize("bad", ["0", "-5", "lots", "1.5", "1000000001"])
def test_a_bad_request_count_falls_back_to_one_with_a_notice(client, priced, bad):
    priced("a", "model-a", "1", "2")

    response = client.get(f"/calculator/?requests={bad}&input=1000000&output=0")
    body = response.content.decode()

    assert response.status_code == 200
    assert f"Ignored requests={bad!r}" in body.replace("&#x27;", "'")
    assert "1 request a month" in body
    assert cell(body, "model-a", "total") == "$1.00"


def test_the_calculator_shows_prices_as_of_a_past_date(client, priced):
    offering = priced("deepseek", "deepseek-chat", "0.27", "1.10")
    current = offering.prices.get(component="input")
    then = current.valid_from - dt.timedelta(days=400)
    PriceFactory(
        offering=offering,
        component="input",
        amount_per_mtok=Decimal("0.14"),
        source=current.source,
        valid_from=then,
        valid_to=current.valid_from,
    )
    offering.prices.filter(component="output").update(valid_from=then)
    day = (then + dt.timedelta(days=10)).date().isoformat()

    past = client.get(f"/calculator/?as_of={day}&input=1000000&output=0").content.decode()
    today = client.get("/calculator/?input=1000000&output=0").content.decode()

    assert cell(past, "deepseek-chat", "total") == "$0.14"
    assert f'Prices on <strong><time datetime="{day}">{day}</time></strong>' in past
    assert f'value="{day}"' in past  # the date picker keeps it
    assert cell(today, "deepseek-chat", "total") == "$0.27"
    assert "(today)" in today


@pytest.mark.parametrize("bad", ["2025-13-40", "yesterday", "2999-01-01", "1999-12-31"])
def test_a_bad_as_of_date_falls_back_to_today_with_a_notice(client, priced, bad):
    priced("a", "model-a", "1", "2")

    response = client.get(f"/calculator/?as_of={bad}")

    assert response.status_code == 200
    body = response.content.decode()
    assert "Ignored as_of=" in body
    assert "(today)" in body


def test_a_past_date_converts_at_that_days_exchange_rate(client, priced):
    offering = priced("a", "model-a", "1", "1")
    offering.prices.update(valid_from=timezone.now() - dt.timedelta(days=100))
    old_day = (timezone.now() - dt.timedelta(days=50)).date()
    ExchangeRateFactory(currency="USD", date=old_day - dt.timedelta(days=1), units_per_eur=Decimal("2"))
    ExchangeRateFactory(currency="USD", date=timezone.now().date(), units_per_eur=Decimal("1"))

    past = client.get(f"/calculator/?as_of={old_day}&currency=EUR&input=1000000&output=0").content.decode()
    now = client.get("/calculator/?currency=EUR&input=1000000&output=0").content.decode()

    assert cell(past, "model-a", "total") == "€0.50"
    assert cell(now, "model-a", "total") == "€1.00"


def test_the_calculator_runs_the_same_queries_for_few_or_many_offerings(
    client, priced, gemini_pro, django_assert_num_queries
):
    for i in range(3):
        priced(f"p{i}", f"m-{i}", "1", "2")
    url = "/calculator/?requests=1000&input=10000&output=2000&as_of=" + timezone.now().date().isoformat()
    # Stamp, providers, currencies, rates, then every offering's lean lines with its context windows, the
    # tokenizers, and the page's offerings with their lines.
    with django_assert_num_queries(8) as few:
        client.get(url)
    for i in range(30):
        priced(f"q{i % 5}", f"more-{i}", "1", "2")
    with django_assert_num_queries(len(few.captured_queries)):
        client.get(url + "&provider=")


def test_the_htmx_answer_carries_the_new_results_and_the_as_of_line(client, gemini_pro):
    response = client.get(
        "/calculator/?requests=1000&input=10000&output=2000", headers={"HX-Request": "true", "HX-Target": "results"}
    )
    body = response.content.decode()

    assert body.lstrip().startswith('<section id="results"')
    assert "<html" not in body
    assert "Prices on" in body and "$32.50" in body


def test_compare_prices_the_same_month_of_requests(client, gemini_pro, priced):
    other = priced("cheapco", "short-context", "0.10", "0.20", context_window=128_000)

    body = client.get(
        f"/compare/?compare={gemini_pro.id},{other.id}&requests=1000&input=10000&output=2000"
    ).content.decode()

    assert "<strong>$32.50</strong>" in body
    assert "$0.0325 per request × 1,000" in body

"""The changes page and its Atom feed: windows and dates, provider/model/search filters, every change across
pages, evidence, escaping, bad input, fixed queries, and a feed a real parser reads without complaint."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import feedparser
import pytest
from django.utils import timezone

from pricing.models import Price
from tests.factories import (
    ModelFactory,
    OfferingFactory,
    PriceFactory,
    ProviderFactory,
    ScrapeRunFactory,
    SourceFactory,
)

pytestmark = pytest.mark.django_db


def change(model_id: str, old: str, new: str, *, at: dt.datetime, provider: str = "acme", model=None, **fields):
    """An offering whose input price went from ``old`` to ``new`` at ``at``."""
    seller = ProviderFactory(slug=provider, name=provider.title())
    source = SourceFactory(
        slug=f"{provider}-pricing",
        name=f"{provider.title()} pricing",
        provider=seller,
        urls=[f"https://{provider}.example/pricing"],
    )
    offering = OfferingFactory(provider=seller, provider_model_id=model_id, model=model, **fields)
    PriceFactory(
        offering=offering,
        amount_per_mtok=Decimal(old),
        valid_from=at - dt.timedelta(days=400),
        valid_to=at,
        source=source,
    )
    new_row = PriceFactory(
        offering=offering,
        amount_per_mtok=Decimal(new),
        valid_from=at,
        source=source,
        run=ScrapeRunFactory(source=source, evidence_at=at + dt.timedelta(hours=6)),
    )
    return new_row


def days_ago(n: float) -> dt.datetime:
    return timezone.now() - dt.timedelta(days=n)


def shown_ids(body: str) -> list[int]:
    return [int(i) for i in re.findall(r'<tr id="change-(\d+)"', body)]


def test_it_shows_old_new_percent_and_the_evidence(client):
    row = change("acme-1", "2", "1.5", at=days_ago(3))

    body = client.get("/changes/").content.decode()

    assert shown_ids(body) == [row.id]
    assert "$2.00" in body and "$1.50" in body and "-25.0%" in body
    assert 'href="https://acme.example/pricing"' in body and "Acme pricing" in body
    assert f"seen {(row.valid_from + dt.timedelta(hours=6)):%Y-%m-%d}" in body
    assert "1 change," in body


def test_it_shows_digits_a_rounded_figure_would_hide(client):
    change("small-step", "0.1375", "0.138", at=days_ago(3))

    body = client.get("/changes/").content.decode()

    assert "$0.1375" in body and "$0.138" in body and "+0.4%" in body


def test_the_windows_keep_the_last_7_30_or_90_days(client):
    recent = change("recent", "1", "2", at=days_ago(3)).id
    month = change("month", "1", "2", at=days_ago(20)).id
    quarter = change("quarter", "1", "2", at=days_ago(60)).id
    old = change("old", "1", "2", at=days_ago(200)).id

    def ids(query: str) -> set[int]:
        return set(shown_ids(client.get(f"/changes/{query}").content.decode()))

    assert ids("?days=7") == {recent}
    assert ids("?days=30") == {recent, month}
    assert ids("?days=90") == {recent, month, quarter}
    assert ids("") == {recent, month, quarter, old}
    body = client.get("/changes/?days=30&provider=acme").content.decode()
    assert 'href="?days=7&amp;provider=acme"' in body  # a window link keeps the other filters
    assert 'aria-current="page">Last 30 days' in body


def test_custom_dates_include_since_and_exclude_until(client):
    first = change("first", "1", "2", at=dt.datetime(2025, 3, 1, tzinfo=dt.UTC)).id
    last = change("last", "1", "2", at=dt.datetime(2025, 3, 31, 23, tzinfo=dt.UTC)).id
    change("next", "1", "2", at=dt.datetime(2025, 4, 1, tzinfo=dt.UTC))

    body = client.get("/changes/?since=2025-03-01&until=2025-04-01").content.decode()

    assert set(shown_ids(body)) == {first, last}
    assert "2 changes from 2025-03-01 before 2025-04-01" in body


def test_it_filters_by_provider_model_and_search(client):
    model = ModelFactory(slug="deepseek-v3", name="DeepSeek-V3")
    ours = change("deepseek-chat", "0.14", "0.27", at=days_ago(5), provider="deepseek", model=model).id
    resold = change("deepseek-ai/DeepSeek-V3", "1", "1.25", at=days_ago(5), provider="together", model=model).id
    other = change("gpt-4o", "5", "2.5", at=days_ago(5), provider="openai").id

    def ids(query: str) -> set[int]:
        return set(shown_ids(client.get(f"/changes/?{query}").content.decode()))

    assert ids("provider=deepseek") == {ours}
    assert ids("model=deepseek-v3") == {ours, resold}
    assert ids("q=gpt") == {other}
    assert ids("component=output") == set()
    assert ids("q=no-such-model-anywhere") == set()


def test_every_change_is_listed_across_pages(client):
    offering = OfferingFactory(provider_model_id="busy")
    start = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)
    rows = [
        Price(
            offering=offering,
            component="input",
            amount_per_mtok=Decimal(n + 1),
            valid_from=start + dt.timedelta(days=n),
            valid_to=start + dt.timedelta(days=n + 1) if n < 250 else None,
        )
        for n in range(251)
    ]
    created = Price.objects.bulk_create(rows)

    seen: list[int] = []
    for page in (1, 2, 3):
        body = client.get(f"/changes/?page={page}").content.decode()
        assert "250 changes" in body and f"page {page} of 3" in body
        seen += shown_ids(body)

    assert sorted(seen) == sorted(p.id for p in created[1:])
    assert len(seen) == len(set(seen)) == 250


def test_bad_parameters_fall_back_with_a_notice(client):
    change("acme-1", "2", "1", at=dt.datetime(2025, 3, 1, tzinfo=dt.UTC))

    response = client.get("/changes/?since=yesterday&until=2025-01-01&days=12&page=99")

    assert response.status_code == 200
    body = response.content.decode()
    assert "Ignored since=" in body and "Ignored days=" in body
    assert "There is no page 99" in body
    reversed_dates = client.get("/changes/?since=2025-03-02&until=2025-03-01").content.decode()
    assert "Ignored until=" in reversed_dates


def test_it_escapes_what_sources_wrote(client):
    change('<script>alert("x")</script>', "1", "2", at=days_ago(2), provider="evil")

    body = client.get("/changes/").content.decode()

    assert '<script>alert("x")' not in body and "&lt;script&gt;" in body


def test_the_page_has_no_inline_script_or_style(client):
    change("acme-1", "2", "1", at=days_ago(2))

    body = client.get("/changes/").content.decode()

    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", body)
    assert " style=" not in body and " onclick=" not in body


def test_it_runs_a_fixed_number_of_queries_for_few_or_many_changes(client, django_assert_num_queries):
    for n in range(3):
        change(f"few-{n}", "1", "2", at=days_ago(n + 1), provider=f"few{n}")
    # The price stamp, the provider choices, the count, the page's ids, and its rows with the rows they replaced.
    with django_assert_num_queries(5) as few:
        client.get("/changes/?days=90")
    for n in range(60):
        change(f"many-{n}", "1", "2", at=days_ago(n % 80 + 1), provider=f"many{n % 7}")
    with django_assert_num_queries(len(few.captured_queries)):
        client.get("/changes/?days=90&provider=many1")


def test_it_links_the_same_changes_in_the_api(client):
    change("acme-1", "2", "1", at=dt.datetime(2025, 3, 1, tzinfo=dt.UTC))

    body = client.get("/changes/?since=2025-01-01&provider=acme").content.decode()

    assert "/api/v1/changes/?since=2025-01-01&amp;provider=acme&amp;limit=100" in body


# --- the Atom feed ---------------------------------------------------------------------------------------


def test_the_feed_is_valid_atom_with_tag_ids_authors_and_dates(client):
    new = change("acme-1", "2", "1.5", at=days_ago(3))

    response = client.get("/changes/feed/")
    feed = feedparser.parse(response.content)

    assert response["Content-Type"].startswith("application/atom+xml")
    assert feed.bozo == 0, feed.get("bozo_exception")
    assert feed.version == "atom10"
    assert feed.feed.author and feed.feed.id.startswith("tag:") and feed.feed.updated
    assert any(link.rel == "self" for link in feed.feed.links)
    [entry] = feed.entries
    assert entry.id == f"tag:127.0.0.1,2025:price-change/{new.id}"
    assert entry.title == "Acme acme-1: input $2.00 → $1.50 per 1M tokens (-25.0%)"
    assert entry.link.startswith("http://testserver/")
    assert entry.updated_parsed and entry.published_parsed
    assert entry.author == "Acme pricing"
    assert "https://acme.example/pricing" in entry.summary


def test_the_feed_follows_the_page_filters(client):
    model = ModelFactory(slug="deepseek-v3", name="DeepSeek-V3")
    change("deepseek-chat", "0.14", "0.27", at=days_ago(5), provider="deepseek", model=model)
    change("gpt-4o", "5", "2.5", at=days_ago(40), provider="openai")
    change("gpt-4", "30", "20", at=days_ago(400), provider="openai")

    for query in ("", "days=7", "days=90", "provider=openai", "model=deepseek-v3", "since=2025-01-01&until=2026-01-01"):
        page_ids = set(shown_ids(client.get(f"/changes/?{query}").content.decode()))
        feed = feedparser.parse(client.get(f"/changes/feed/?{query}").content)
        assert feed.bozo == 0
        assert {int(e.id.rsplit("/", 1)[1]) for e in feed.entries} == page_ids, query


def test_the_feed_escapes_markup_in_its_html_summary(client):
    change("m", "1", "2", at=days_ago(2), provider="evil")
    Price.objects.update(conditions='<img src=x onerror="alert(1)">')

    feed = feedparser.parse(client.get("/changes/feed/").content)

    assert feed.bozo == 0
    [entry] = feed.entries
    assert "<img" not in entry.summary and "&lt;img" in entry.summary


def test_an_empty_feed_is_still_valid(client):
    feed = feedparser.parse(client.get("/changes/feed/?provider=nobody").content)

    assert feed.bozo == 0 and feed.entries == [] and feed.feed.updated


def test_the_feed_runs_a_fixed_number_of_queries_for_few_or_many_changes(client, django_assert_num_queries):
    change("few", "1", "2", at=days_ago(1), provider="few")
    # The provider choices, the entries' ids, and their rows with the rows they replaced.
    with django_assert_num_queries(3):
        assert len(feedparser.parse(client.get("/changes/feed/").content).entries) == 1
    for n in range(70):
        change(f"many-{n}", "1", "2", at=days_ago(n % 80 + 1), provider=f"many{n % 7}")
    with django_assert_num_queries(3):
        assert len(feedparser.parse(client.get("/changes/feed/").content).entries) == 50

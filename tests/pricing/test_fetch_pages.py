"""Live runs of sources with several pages: the pages a page leads to (``Scraper.next_urls``) are fetched
in the same run, up to a cap; a source's own request headers (an API key) reach every fetch."""

from __future__ import annotations

import json
from unittest import mock

import pytest

from pricing import services
from pricing.models import Price, ScrapeRun, Source
from pricing.services.runs import MAX_PAGES_PER_RUN, documents_fetch
from providers import get_scraper
from providers.azure import Azure
from providers.base import Document
from providers.http import FetchResult

pytestmark = pytest.mark.django_db

START = Azure.urls[0]


def result(url: str, content: bytes, status: int = 200) -> FetchResult:
    return FetchResult(
        url=url,
        status=status,
        content=content,
        content_type="application/json",
        etag="",
        last_modified="",
        elapsed_ms=3,
    )


class Site:
    """Stands in for ``providers.http.fetch``: answers each URL from ``pages``, records every call."""

    def __init__(self, pages: dict[str, bytes]):
        self.pages = pages
        self.calls: list[tuple[str, dict]] = []

    def __call__(self, url: str, **kwargs) -> FetchResult:
        self.calls.append((url, kwargs))
        return result(url, self.pages[url])

    @property
    def urls(self) -> list[str]:
        return [url for url, _ in self.calls]


def azure_pages(fixture_bytes) -> tuple[dict[str, bytes], str]:
    first = fixture_bytes("providers/azure/retail-prices-page1.json")
    second_url = json.loads(first)["NextPageLink"]
    return {START: first, second_url: fixture_bytes("providers/azure/retail-prices-page2.json")}, second_url


def test_it_follows_a_source_to_its_next_pages_and_reads_them_as_one_run(fixture_bytes):
    pages, second_url = azure_pages(fixture_bytes)
    site = Site(pages)
    with mock.patch("providers.http.fetch", side_effect=site):
        run = services.scrape_source(slug="azure")
    assert run.status == ScrapeRun.Status.SUCCEEDED, run.error
    assert site.urls == [START, second_url]
    both = Azure().parse_all([Document(url=url, content=content) for url, content in pages.items()])
    first_only = Azure().parse_all([Document(url=START, content=pages[START])])
    assert run.counts.records == len(both) > len(first_only)
    assert Price.objects.filter(source__slug="azure").count() == len(both)
    assert set(Source.objects.get(slug="azure").http_validators) == {START, second_url}


def test_it_fetches_a_page_that_leads_back_only_once():
    loop = {"NextPageLink": START, "Items": []}
    site = Site({START: json.dumps(loop).encode()})
    with mock.patch("providers.http.fetch", side_effect=site):
        fetched = documents_fetch(scraper=Azure(), validators={})
    assert site.urls == [START]
    assert len(fetched.documents) == 1


class Endless(Site):
    """Every page links to one more."""

    def __call__(self, url: str, **kwargs) -> FetchResult:
        self.calls.append((url, kwargs))
        return result(url, json.dumps({"NextPageLink": f"{START}&$skip={len(self.calls)}", "Items": []}).encode())


def test_it_stops_a_source_whose_pages_lead_on_without_end_and_writes_nothing():
    site = Endless({})
    with mock.patch("providers.http.fetch", side_effect=site):
        run = services.scrape_source(slug="azure")
    assert run.status == ScrapeRun.Status.FAILED
    assert f"more than {MAX_PAGES_PER_RUN}" in run.error and not run.retryable
    assert len(site.calls) == MAX_PAGES_PER_RUN
    assert not Price.objects.exists()


def test_it_fetches_a_source_that_leads_on_unconditionally_once_it_is_known_to(fixture_bytes):
    pages, second_url = azure_pages(fixture_bytes)
    validators = {START: {"etag": '"a"', "last_modified": ""}, second_url: {"etag": '"b"', "last_modified": ""}}
    site = Site(pages)
    with mock.patch("providers.http.fetch", side_effect=site):
        fetched = documents_fetch(scraper=Azure(), validators=validators)
    # A 304 on the first page would hide a changed second page: nothing conditional is asked.
    assert [kwargs["etag"] for _, kwargs in site.calls] == ["", ""]
    assert len(fetched.documents) == 2 and not fetched.not_modified


def test_it_sends_the_sources_own_request_headers_on_every_fetch(monkeypatch, fixture_bytes):
    monkeypatch.setenv("TOGETHER_API_KEY", "tok-secret")
    together = get_scraper("together")
    site = Site({together.urls[0]: fixture_bytes("providers/together/v1_models.json")})
    with mock.patch("providers.http.fetch", side_effect=site):
        run = services.scrape_source(slug="together")
    assert run.ok, run.error
    assert [kwargs["headers"] for _, kwargs in site.calls] == [{"Authorization": "Bearer tok-secret"}]
    assert "tok-secret" not in json.dumps(Source.objects.get(slug="together").http_validators)


def test_a_source_without_headers_of_its_own_sends_none(fixture_bytes):
    openrouter = get_scraper("openrouter")
    site = Site({openrouter.urls[0]: fixture_bytes("providers/openrouter/models.json")})
    with mock.patch("providers.http.fetch", side_effect=site):
        services.scrape_source(slug="openrouter")
    assert [kwargs["headers"] for _, kwargs in site.calls] == [{}]
    assert openrouter.next_urls(Document(url=openrouter.urls[0], content=b"{}")) == []

"""The site's finish: every page describes itself, links the API and its docs, and the docs come from us."""

from __future__ import annotations

import re

import pytest

from tests.factories import ModelFactory

pytestmark = pytest.mark.django_db

PAGES = [
    "/",
    "/calculator/",
    "/compare/",
    "/changes/",
    "/providers/",
    "/providers/acme/",
    "/methodology/",
    "/models/m-1/",
]


@pytest.fixture
def site(priced):
    priced("acme", "m-1", "1", "2", model=ModelFactory(slug="m-1", name="Model One"))


def _description(body: str) -> str:
    return re.search(r'<meta name="description" content="([^"]*)">', body).group(1)


def test_every_page_has_its_own_description_and_links_the_api_and_its_docs(client, site):
    descriptions = set()
    for path in PAGES:
        body = client.get(path).content.decode()
        descriptions.add(_description(body))
        nav = body[body.index('<nav aria-label="Main">') : body.index("</nav>")]
        assert 'href="/api/v1/"' in nav and 'href="/api/docs/"' in nav, path
        assert '<link rel="icon" href="/static/pricing/favicon.svg" type="image/svg+xml">' in body, path

    assert len(descriptions) == len(PAGES)


@pytest.mark.parametrize("path", ["/api/docs/", "/api/redoc/"])
def test_the_api_docs_load_their_assets_from_this_site_only(client, path):
    response = client.get(path)

    body = response.content.decode()
    assert response.status_code == 200
    sources = re.findall(r'(?:src|href)="([^"]+)"', body)
    assert sources and all(s.startswith("/") for s in sources), sources
    assert any("drf_spectacular_sidecar" in s for s in sources)
    assert "<script>" not in body and "<style" not in body and " style=" not in body  # nothing inline for the CSP


def test_the_swagger_ui_set_up_script_is_its_own_response(client):
    response = client.get("/api/docs/?script=")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/javascript")
    assert "/api/schema/" in response.content.decode()


def test_the_sources_and_provider_pages_show_their_api_call(client, site):
    sources = client.get("/providers/").content.decode()
    provider = client.get("/providers/acme/").content.decode()

    assert "curl -s 'http://testserver/api/v1/sources/'" in sources
    assert "curl -s 'http://testserver/api/v1/offerings/?provider=acme&amp;ordering=blended'" in provider


def test_only_the_redoc_page_allows_inline_styles_and_no_page_inline_scripts(client):
    redoc = client.get("/api/redoc/")["Content-Security-Policy"]
    swagger = client.get("/api/docs/")["Content-Security-Policy"]
    leaderboard = client.get("/")["Content-Security-Policy"]

    assert "style-src 'self' 'unsafe-inline'" in redoc and "script-src 'self';" in redoc + ";"
    assert "unsafe-inline" not in swagger and "unsafe-inline" not in leaderboard

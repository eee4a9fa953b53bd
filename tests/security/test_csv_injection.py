"""Attack drill: text that a spreadsheet would run as a formula goes out of every CSV export as text."""

from __future__ import annotations

import csv
import io
from decimal import Decimal, InvalidOperation

import pytest

from pricing import services
from tests.factories import ModelFactory, OfferingFactory, PriceFactory, ProviderFactory

pytestmark = pytest.mark.django_db

HOSTILE = ['=HYPERLINK("http://evil.example","x")', "+1+cmd|' /C calc'!A0", "-2+3", "@SUM(1+1)", "\tx", "\rx"]
EXPORTS = ["/api/v1/offerings/", "/api/v1/changes/", "/api/v1/models/", "/api/v1/providers/", "/api/v1/sources/"]


@pytest.fixture
def hostile_rows():
    for i, text in enumerate(HOSTILE):
        provider = ProviderFactory(slug=f"evil-{i}", name=text)
        model = ModelFactory(slug=f"evil-model-{i}", name=text, creator=text)
        offering = OfferingFactory(provider=provider, model=model, provider_model_id=f"m{i}", name=text)
        old = PriceFactory(offering=offering, component="input", amount_per_mtok=Decimal("2"), original=text)
        PriceFactory(offering=offering, component="output", amount_per_mtok=Decimal("1"), original=text)
        del old
    services.prices_changed()


def cells(body: bytes) -> list[str]:
    return [cell for row in csv.reader(io.StringIO(body.decode())) for cell in row]


def is_number(text: str) -> bool:
    try:
        Decimal(text)
    except InvalidOperation:
        return False
    return True


@pytest.mark.parametrize("path", EXPORTS)
def test_no_csv_cell_starts_a_formula(client, hostile_rows, path):
    response = client.get(path, {"format": "csv"})
    assert response.status_code == 200, response.content[:300]
    found = cells(response.content)
    for cell in found:
        assert not cell.startswith(("=", "+", "@", "\t", "\r")), cell
        assert not cell.startswith("-") or is_number(cell), cell


def test_hostile_text_is_kept_readable_behind_a_quote(client, hostile_rows):
    found = cells(client.get("/api/v1/providers/", {"format": "csv"}).content)
    assert "'@SUM(1+1)" in found and "'-2+3" in found

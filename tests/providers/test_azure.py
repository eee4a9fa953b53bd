import datetime as dt
import json
import logging
from decimal import Decimal

import pytest

from providers import REGISTRY
from providers.azure import LONG_CONTEXT, Azure, read_sku
from providers.base import OFFICIAL_TRUST, Document, ParseError

URL = Azure.urls[0]
PAGE1 = "providers/azure/retail-prices-page1.json"
PAGE2 = "providers/azure/retail-prices-page2.json"


def document(content: bytes) -> Document:
    return Document(url=URL, content=content)


@pytest.fixture
def pages(fixture_bytes):
    return [document(fixture_bytes(PAGE1)), document(fixture_bytes(PAGE2))]


@pytest.fixture
def records(pages):
    return Azure().parse_all(pages)


def line(records, model, component, mode="standard", scope="Global", region="eastus", long_context=False):
    found = [
        r
        for r in records
        if (r.model, r.component, r.mode) == (model, component, mode)
        and r.attributes.get("deploy_scope") == scope
        and r.attributes.get("region") == region
        and (r.tier_min_tokens is not None) == long_context
    ]
    assert len(found) == 1, found
    return found[0]


def item(sku_name, price, *, unit="1M", product="Azure OpenAI GPT5", **extra):
    return {
        "currencyCode": "USD",
        "tierMinimumUnits": 0,
        "retailPrice": price,
        "armRegionName": "eastus",
        "effectiveStartDate": "2026-03-01T00:00:00Z",
        "meterName": f"{sku_name} {unit} Tokens",
        "productName": product,
        "skuName": sku_name,
        "unitOfMeasure": unit,
        "type": "Consumption",
        **extra,
    }


def parse_items(*items):
    body = {"BillingCurrency": "USD", "Items": list(items), "NextPageLink": None, "Count": len(items)}
    return Azure().parse(document(json.dumps(body).encode()))


def test_it_is_registered_as_the_official_source_for_azure():
    assert REGISTRY["azure"] is Azure
    assert Azure.kind == "official"
    assert Azure.provider == "azure"
    assert Azure.trust_rank == OFFICIAL_TRUST
    assert Azure.hosts == ("prices.azure.com",)
    assert "Foundry%20Models" in URL and "Azure%20OpenAI" in URL


def test_it_decodes_model_component_mode_and_scope_from_the_sku_name(records):
    assert line(records, "gpt-5.4", "input").amount_per_mtok == Decimal("2.5")
    assert line(records, "gpt-5.4", "cached_input").amount_per_mtok == Decimal("0.25")
    assert line(records, "gpt-5.4", "output").amount_per_mtok == Decimal("15")
    assert line(records, "gpt-5.4", "cached_input", "batch").amount_per_mtok == Decimal("0.13")
    assert line(records, "gpt-5.4", "input", "priority").amount_per_mtok == Decimal("5")
    assert line(records, "gpt-5.4-mini", "output", "batch").amount_per_mtok == Decimal("2.25")
    assert line(records, "gpt-5.4-mini", "cached_input", "priority", "Data Zone").amount_per_mtok == Decimal("0.165")
    assert all(r.provider == "azure" and r.currency == "USD" for r in records)


def test_it_tells_deployment_scopes_and_regions_apart(records):
    assert line(records, "gpt-5.4", "input", scope="Global").amount_per_mtok == Decimal("2.5")
    assert line(records, "gpt-5.4", "input", scope="Data Zone").amount_per_mtok == Decimal("2.75")
    nano = line(records, "gpt-5.4-nano", "input", region="eastus2")
    assert nano.attributes == {"region": "eastus2", "deploy_scope": "Global"}
    assert nano.amount_per_mtok == Decimal("0.2")


def test_it_starts_long_context_meters_above_the_threshold_the_model_page_states(records):
    long_input = line(records, "gpt-5.4", "input", long_context=True)
    assert (long_input.tier_min_tokens, long_input.tier_max_tokens) == (272_001, None)
    assert long_input.amount_per_mtok == Decimal("5")
    assert line(records, "gpt-5.4", "input", scope="Data Zone", long_context=True).amount_per_mtok == Decimal("5.5")
    pro = line(records, "gpt-5.4-pro", "input", "batch", long_context=True)
    assert (pro.tier_min_tokens, pro.amount_per_mtok) == (272_001, Decimal("30"))


def test_it_closes_a_base_meter_where_its_long_context_sibling_starts_even_across_pages(records):
    # "5.4 inp Gl" is on page 1, "5.4 longco inp Gl" on page 2.
    assert line(records, "gpt-5.4", "input").tier_max_tokens == 272_000
    assert line(records, "gpt-5.4", "output").tier_max_tokens == 272_000
    # No long-context meter for cached input or priority: those stay open.
    assert line(records, "gpt-5.4", "cached_input").tier_max_tokens is None
    assert line(records, "gpt-5.4", "input", "priority").tier_max_tokens is None


def test_it_converts_per_1k_meters_and_skips_other_products(records):
    gpt41 = line(records, "gpt-4.1", "input")
    assert gpt41.amount_per_mtok == Decimal("2")
    assert gpt41.original == "0.002 USD / 1K tokens"
    assert not [r for r in records if "aud" in r.model or "rt" in r.model.split("-")]


def test_it_skips_a_long_context_meter_whose_threshold_no_source_states(caplog):
    assert "gpt-5.4-mini" not in LONG_CONTEXT
    with caplog.at_level(logging.WARNING, logger="providers.azure"):
        records = parse_items(item("5.4 mini inp Gl", 0.75), item("5.4 mini longco inp Gl", 1.5))
    assert [(r.model, r.tier_min_tokens, r.tier_max_tokens) for r in records] == [("gpt-5.4-mini", None, None)]
    assert "no stated threshold for gpt-5.4-mini" in caplog.text


def test_it_keeps_the_latest_price_of_a_meter_listed_twice():
    records = parse_items(
        item("5.4 inp Gl", 2, effectiveStartDate="2026-01-01T00:00:00Z"),
        item("5.4 inp Gl", 2.5, effectiveStartDate="2026-03-01T00:00:00Z"),
    )
    assert [r.amount_per_mtok for r in records] == [Decimal("2.5")]


def test_it_ignores_a_price_that_starts_after_the_fetch():
    body = {
        "Items": [
            item("5.4 inp Gl", 2.5, effectiveStartDate="2026-03-01T00:00:00Z"),
            item("5.4 inp Gl", 3, effectiveStartDate="2026-12-01T00:00:00Z"),
        ]
    }
    fetched_at = dt.datetime(2026, 10, 4, tzinfo=dt.UTC)
    records = Azure().parse(Document(url=URL, content=json.dumps(body).encode(), fetched_at=fetched_at))
    assert [r.amount_per_mtok for r in records] == [Decimal("2.5")]


def test_it_skips_reservations_volume_tiers_and_non_token_meters():
    records = parse_items(
        item("5.4 inp Gl", 2.5),
        item("5.4 opt Gl", 100, type="Reservation"),
        item("5.4 cd inp Gl", 0.2, tierMinimumUnits=1000),
        {**item("5.4 Hosting", 1.7, unit="1 Hour"), "meterName": "5.4 Hosting 1 Hour"},
    )
    assert [(r.model, r.component) for r in records] == [("gpt-5.4", "input")]


def test_it_reads_sku_names_in_either_case_and_rejects_unknown_grammar():
    assert read_sku("5.4 nano Batch cd Inp Gl", "Azure OpenAI GPT5") is not None
    meter = read_sku("5.4 nano Batch cd Inp Gl", "Azure OpenAI GPT5")
    assert meter is not None
    assert (meter.model, meter.component, meter.mode, meter.deploy_scope) == (
        "gpt-5.4-nano",
        "cached_input",
        "batch",
        "Global",
    )
    assert read_sku("5.4 inp Gl extra", "Azure OpenAI GPT5") is None  # a word after the flags
    assert read_sku("5.4 cd opt Gl", "Azure OpenAI GPT5") is None  # cached output is not a thing
    assert read_sku("Gl", "Azure OpenAI GPT5") is None


def test_it_offers_the_next_page_link_for_pagination(pages):
    assert Azure().next_urls(pages[0]) == [
        "https://prices.azure.com:443/api/retail/prices?$filter=serviceName eq 'Foundry Models' and "
        "contains(productName, 'Azure OpenAI') and priceType eq 'Consumption'&$skip=100"
    ]
    assert Azure().next_urls(pages[1]) == []


def test_it_fails_loudly_on_bad_json_a_missing_item_list_or_no_token_meter():
    with pytest.raises(ParseError, match="not JSON"):
        Azure().parse(document(b"<html>Service unavailable</html>"))
    with pytest.raises(ParseError, match='no "Items" list'):
        Azure().parse(document(b'{"BillingCurrency": "USD", "NextPageLink": null}'))
    with pytest.raises(ParseError, match="no Azure OpenAI token meters"):
        parse_items(item("5.4 Hosting", 1.7, unit="1 Hour"))


def test_it_rejects_a_price_that_is_not_a_number_or_negative():
    with pytest.raises(ParseError, match="retailPrice is not a number"):
        parse_items(item("5.4 inp Gl", "n/a"))
    with pytest.raises(ParseError, match="negative retailPrice"):
        parse_items(item("5.4 inp Gl", -1))

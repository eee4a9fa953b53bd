"""One contract over every registered source: what any adapter must hold to, checked on its own fixtures."""

import json
import re
from decimal import Decimal
from pathlib import Path

import pytest

from providers import REGISTRY
from providers.base import COMPONENTS, MODES, Document, ScrapedPrice

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "providers"
NOT_ISO = {"RMB", "NTD", "US$", "UKP"}
CONTRACT_KEYS = {
    "provider",
    "model",
    "component",
    "mode",
    "tier_min_tokens",
    "tier_max_tokens",
    "amount",
    "currency",
    "unit",
}


def fixture_files(slug):
    folder = FIXTURES / slug
    return sorted(p for p in folder.glob("*") if p.is_file()) if folder.is_dir() else []


CASES = [
    pytest.param(slug, path, id=f"{slug}/{path.name}") for slug in sorted(REGISTRY) for path in fixture_files(slug)
]


def parse(slug, path) -> list[ScrapedPrice]:
    scraper = REGISTRY[slug]()
    return scraper.parse(Document(url=scraper.urls[0], content=path.read_bytes()))


@pytest.mark.parametrize("slug", sorted(REGISTRY))
def test_it_has_a_fixture_we_wrote_for_every_registered_source(slug):
    assert fixture_files(slug), f"tests/fixtures/providers/{slug}/ is missing or empty"


@pytest.mark.parametrize("slug", sorted(REGISTRY))
def test_it_gives_every_source_its_identity(slug):
    scraper = REGISTRY[slug]
    assert scraper.slug == slug
    assert scraper.name
    assert scraper.kind in ("official", "aggregator")
    assert scraper.urls and all(u.startswith("https://") for u in scraper.urls)
    assert scraper.hosts
    assert scraper.trust_rank > 0
    if scraper.kind == "official":
        assert scraper.provider


@pytest.mark.parametrize("slug", sorted(REGISTRY))
def test_it_only_fetches_from_hosts_the_source_declares(slug):
    scraper = REGISTRY[slug]
    hosts = {h.lower() for h in scraper.hosts}
    assert all(re.match(r"https://([^/:]+)", url).group(1).lower() in hosts for url in scraper.urls)


@pytest.mark.parametrize(("slug", "path"), CASES)
def test_it_parses_each_fixture_into_records_of_the_vocabulary(slug, path):
    records = parse(slug, path)
    assert records, f"{path.name} parsed to nothing"
    for record in records:
        assert isinstance(record, ScrapedPrice)
        assert record.provider and record.model
        assert record.component in COMPONENTS
        assert record.mode in MODES
        assert re.fullmatch(r"[A-Z]{3}", record.currency) and record.currency not in NOT_ISO
        if record.tier_min_tokens is not None and record.tier_max_tokens is not None:
            assert record.tier_min_tokens <= record.tier_max_tokens
        if record.valid_from and record.valid_to:
            assert record.valid_from < record.valid_to
        for moment in (record.valid_from, record.valid_to):
            assert moment is None or moment.utcoffset() is not None


@pytest.mark.parametrize(("slug", "path"), CASES)
def test_it_gives_amounts_as_finite_non_negative_decimals_never_floats(slug, path):
    for record in parse(slug, path):
        assert type(record.amount_per_mtok) is Decimal
        assert record.amount_per_mtok.is_finite()
        assert record.amount_per_mtok >= 0


@pytest.mark.parametrize(("slug", "path"), CASES)
def test_it_prints_each_record_in_the_scrape_contract_shape(slug, path):
    for record in parse(slug, path):
        printed = json.loads(json.dumps(record.as_contract(), ensure_ascii=False))
        assert printed.keys() >= CONTRACT_KEYS
        assert printed["unit"] == "1M tokens"
        assert Decimal(printed["amount"]) == record.amount_per_mtok
        assert "E" not in printed["amount"].upper()


@pytest.mark.django_db
@pytest.mark.parametrize(("slug", "path"), CASES)
def test_it_passes_the_ingest_validation_that_every_run_goes_through(slug, path):
    from pricing.services import records_validate

    assert records_validate(parse(slug, path))


@pytest.mark.parametrize("slug", sorted(REGISTRY))
def test_it_fails_loudly_on_an_empty_document(slug):
    from providers.base import ParseError

    scraper = REGISTRY[slug]()
    with pytest.raises(ParseError):
        scraper.parse(Document(url=scraper.urls[0], content=b""))

"""Curators and non-curators, and a client logged in as each, for driving the admin as people do."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.contrib.auth.models import Group, User

from pricing import services
from pricing.models import ScrapeRun
from providers.base import ScrapedPrice


@pytest.fixture
def curator(db) -> User:
    user = User.objects.create_user("carol", password="unused-in-tests", is_staff=True)
    user.groups.add(Group.objects.get(name="curators"))
    return user


@pytest.fixture
def staff(db) -> User:
    """Staff, but not a curator: the admin lets them in and shows them nothing to decide."""
    return User.objects.create_user("sam", password="unused-in-tests", is_staff=True)


@pytest.fixture
def curator_client(client, curator):
    client.force_login(curator)
    return client


@pytest.fixture
def staff_client(client, staff):
    client.force_login(staff)
    return client


def scraped(amount: str, *, component: str = "input", model: str = "deepseek-chat") -> ScrapedPrice:
    return ScrapedPrice(provider="deepseek", model=model, component=component, amount_per_mtok=Decimal(amount))


def ingest(*records: ScrapedPrice) -> services.RunResult:
    result = services.records_ingest(slug="deepseek", records=list(records), kind=ScrapeRun.Kind.FILE)
    assert result.ok, result.error
    return result

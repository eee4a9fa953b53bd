"""Prices set by hand, with a reason and a link, and locks that keep scrapes from changing them."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse

from pricing.models import AuditEntry, Offering, Price
from tests.admin.conftest import ingest, scraped

pytestmark = pytest.mark.django_db

EVIDENCE = "https://api-docs.deepseek.com/quick_start/pricing"


@pytest.fixture
def offering() -> Offering:
    ingest(scraped("0.27"))
    return Offering.objects.get(provider_model_id="deepseek-chat")


def override(client, offering, **changes):
    data = {
        "component": "input",
        "mode": "standard",
        "amount_per_mtok": "0.07",
        "currency": "USD",
        "reason": "promotion shown in the page banner",
        "evidence_url": EVIDENCE,
        "lock": "on",
    } | changes
    return client.post(reverse("admin:pricing_offering_override", args=[offering.pk]), data)


def open_input(offering) -> list[Price]:
    return list(
        Price.objects.filter(
            offering=offering, component="input", status="published", valid_to__isnull=True, superseded_at__isnull=True
        )
    )


def test_it_publishes_a_price_set_by_hand_with_its_reason_and_link(curator_client, curator, offering):
    old = open_input(offering)[0]

    response = override(curator_client, offering)

    assert response.status_code == 302
    [price] = open_input(offering)
    assert price.amount_per_mtok == Decimal("0.07")
    assert (price.curator, price.curator_note, price.evidence_url) == (
        curator,
        "promotion shown in the page banner",
        EVIDENCE,
    )
    assert price.source is None
    old.refresh_from_db()
    assert old.valid_to == price.valid_from  # closed, never deleted
    entry = AuditEntry.objects.get(action=AuditEntry.Action.OVERRIDE)
    assert (entry.actor, entry.price, entry.offering, entry.reason) == (
        curator,
        price,
        offering,
        "promotion shown in the page banner",
    )


def test_it_locks_the_offering_with_the_override_and_audits_both(curator_client, curator, offering):
    override(curator_client, offering)

    offering.refresh_from_db()
    assert offering.locked
    assert list(AuditEntry.objects.order_by("id").values_list("action", flat=True)) == ["override", "lock"]


def test_it_keeps_an_override_and_lock_through_a_later_scrape(curator_client, offering):
    override(curator_client, offering)

    result = ingest(scraped("0.28"))

    assert result.counts.held == 1
    assert [p.amount_per_mtok for p in open_input(offering)] == [Decimal("0.07")]
    held = Price.objects.get(status="held")
    assert held.hold_reason == "offering locked by a curator"
    queue = curator_client.get(reverse("admin:pricing_price_changelist")).content.decode()
    assert "offering locked by a curator" in queue and "+300.0%" in queue


def test_it_lets_a_scrape_change_the_offering_again_once_unlocked(curator_client, curator, offering):
    override(curator_client, offering, lock="")
    curator_client.post(reverse("admin:pricing_offering_lock", args=[offering.pk]), {"reason": "test"})
    curator_client.post(reverse("admin:pricing_offering_lock", args=[offering.pk]), {"reason": "promo over"})

    offering.refresh_from_db()
    assert not offering.locked
    assert list(
        AuditEntry.objects.filter(action__in=["lock", "unlock"]).order_by("id").values_list("action", "reason")
    ) == [("lock", "test"), ("unlock", "promo over")]


def test_it_locks_offerings_in_bulk_from_the_list(curator_client, offering):
    changelist = reverse("admin:pricing_offering_changelist")
    data = {"action": "lock_selected", "_selected_action": [offering.pk]}

    curator_client.post(changelist, {**data, "index": 0})
    response = curator_client.post(changelist, {**data, "post": "yes", "reason": "disputed"})

    assert response.status_code == 302
    offering.refresh_from_db()
    assert offering.locked
    assert AuditEntry.objects.get().reason == "disputed"


@pytest.mark.parametrize(
    ("changes", "error"),
    [
        ({"reason": ""}, "This field is required."),
        ({"evidence_url": "not a link"}, "Enter a valid URL."),
        ({"amount_per_mtok": "-1"}, "greater than or equal to 0"),
        ({"amount_per_mtok": "abc"}, "Enter a number."),
        ({"currency": "usd"}, "three-letter ISO code"),
        ({"component": "images"}, "Select a valid choice."),
        ({"tier_min_tokens": "200001", "tier_max_tokens": "1000"}, "below its lower bound"),
        ({"valid_from": "2999-01-01 00:00"}, "cannot start in the future"),
    ],
)
def test_it_refuses_a_bad_override_with_a_clear_error(curator_client, offering, changes, error):
    response = override(curator_client, offering, **changes)

    assert response.status_code == 200
    assert error in response.content.decode()
    assert [p.amount_per_mtok for p in open_input(offering)] == [Decimal("0.27")]
    assert not AuditEntry.objects.exists()


def test_it_shows_an_offering_with_its_prices_and_audit_trail(curator_client, offering):
    override(curator_client, offering)

    page = curator_client.get(reverse("admin:pricing_offering_change", args=[offering.pk])).content.decode()

    assert "Set a price by hand" in page and "Unlock" in page
    assert "promotion shown in the page banner" in page

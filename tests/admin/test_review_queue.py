"""The review queue: held changes approved or rejected through the admin, as a curator."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from pricing import selectors, services
from pricing.models import AuditEntry, Price
from tests.admin.conftest import ingest, scraped
from tests.factories import OfferingFactory, PriceFactory, ScrapeRunFactory, SourceFactory

pytestmark = pytest.mark.django_db

QUEUE = reverse("admin:pricing_price_changelist")


@pytest.fixture
def held_rise():
    """deepseek-chat input published at 0.27, then a scrape reading 2.70: a rise beyond ×3, held."""
    ingest(scraped("0.27"))
    result = ingest(scraped("2.70"))
    assert result.counts.held == 1
    return Price.objects.get(status=Price.Status.HELD)


def open_published() -> list[Price]:
    return list(Price.objects.filter(status="published", valid_to__isnull=True, superseded_at__isnull=True))


def test_it_shows_each_held_price_with_current_proposed_change_reason_and_evidence(curator_client, held_rise):
    response = curator_client.get(QUEUE)

    assert response.status_code == 200
    page = response.content.decode()
    assert "deepseek-chat @ deepseek" in page
    assert "0.27 USD" in page  # current
    assert "2.7 USD" in page  # proposed
    assert "+900.0%" in page
    assert "rise beyond ×3" in page
    assert f"run {held_rise.run_id}" in page
    assert held_rise.document_hash[:12] in page


def test_it_lists_only_undecided_held_prices_by_default(curator_client, held_rise):
    response = curator_client.get(QUEUE)

    assert list(response.context["cl"].result_list) == [held_rise]


def test_it_approves_a_held_change_through_the_ingest_timeline(curator_client, curator, held_rise):
    before = timezone.now()
    old = open_published()[0]

    response = curator_client.post(reverse("admin:pricing_price_approve", args=[held_rise.pk]), {"reason": "checked"})

    assert response.status_code == 302
    old.refresh_from_db()
    new = open_published()[0]
    assert new.amount_per_mtok == Decimal("2.7")
    assert old.valid_to == held_rise.valid_from  # the old row is closed where the new one starts
    assert new.valid_from == held_rise.valid_from
    assert new.recorded_at >= before  # the approval is new knowledge
    assert new.decided_by == curator
    assert new.source_id == held_rise.source_id and new.run_id == held_rise.run_id  # evidence kept
    held_rise.refresh_from_db()
    assert held_rise.superseded_at is not None and held_rise.decided_by == curator
    entry = AuditEntry.objects.get(action=AuditEntry.Action.APPROVE)
    assert (entry.actor, entry.price, entry.reason) == (curator, new, "checked")
    assert curator_client.get(QUEUE).context["cl"].result_count == 0


def test_it_keeps_what_was_published_before_an_approval_answerable(curator_client, held_rise):
    before_approval = timezone.now()
    just_before_the_change = open_published()[0].valid_from

    curator_client.post(reverse("admin:pricing_price_approve", args=[held_rise.pk]), {})

    now = timezone.now()
    assert [p.amount_per_mtok for p in selectors.prices_in_force(as_of=just_before_the_change)] == [Decimal("0.27")]
    assert [p.amount_per_mtok for p in selectors.prices_in_force(as_of=now)] == [Decimal("2.7")]
    # Before the approval we never published 2.70: asked as we knew it then, it is not there.
    assert Decimal("2.7") not in [p.amount_per_mtok for p in selectors.prices_in_force(known_at=before_approval)]


def test_it_invalidates_cached_prices_when_an_approval_commits(
    curator_client, held_rise, django_capture_on_commit_callbacks
):
    services.prices_changed()
    stamp = selectors.prices_changed_at()

    with django_capture_on_commit_callbacks(execute=True):
        curator_client.post(reverse("admin:pricing_price_approve", args=[held_rise.pk]), {})

    assert selectors.prices_changed_at() > stamp


def test_it_rejects_a_held_change_with_a_reason(curator_client, curator, held_rise):
    response = curator_client.post(
        reverse("admin:pricing_price_reject", args=[held_rise.pk]), {"reason": "the page shows the batch price"}
    )

    assert response.status_code == 302
    held_rise.refresh_from_db()
    assert held_rise.status == Price.Status.REJECTED
    assert held_rise.decided_by == curator
    assert [p.amount_per_mtok for p in open_published()] == [Decimal("0.27")]
    entry = AuditEntry.objects.get(action=AuditEntry.Action.REJECT)
    assert (entry.actor, entry.price, entry.reason) == (curator, held_rise, "the page shows the batch price")


def test_it_refuses_a_rejection_without_a_reason(curator_client, held_rise):
    response = curator_client.post(reverse("admin:pricing_price_reject", args=[held_rise.pk]), {"reason": "  "})

    assert response.status_code == 200
    assert "Reason is required." in response.content.decode()
    held_rise.refresh_from_db()
    assert held_rise.status == Price.Status.HELD
    assert not AuditEntry.objects.exists()


def test_it_approves_several_held_prices_in_bulk(curator_client):
    ingest(scraped("0.27"), scraped("1.10", component="output"))
    ingest(scraped("2.70"), scraped("11.00", component="output"))
    held = list(Price.objects.filter(status="held").values_list("id", flat=True))

    response = curator_client.post(QUEUE, {"action": "approve_selected", "_selected_action": held, "index": 0})

    assert response.status_code == 302
    assert sorted(p.amount_per_mtok for p in open_published()) == [Decimal("2.7"), Decimal("11")]
    assert AuditEntry.objects.filter(action="approve").count() == 2


def test_it_rejects_several_held_prices_in_bulk_after_asking_for_a_reason(curator_client):
    ingest(scraped("0.27"), scraped("1.10", component="output"))
    ingest(scraped("2.70"), scraped("11.00", component="output"))
    held = list(Price.objects.filter(status="held").values_list("id", flat=True))
    data = {"action": "reject_selected", "_selected_action": held}

    asked = curator_client.post(QUEUE, {**data, "index": 0})
    refused = curator_client.post(QUEUE, {**data, "post": "yes", "reason": ""})
    done = curator_client.post(QUEUE, {**data, "post": "yes", "reason": "misread table"})

    assert asked.status_code == 200 and "Reject held prices" in asked.content.decode()
    assert refused.status_code == 200 and "Reason is required." in refused.content.decode()
    assert done.status_code == 302
    assert Price.objects.filter(status="rejected").count() == 2
    assert set(AuditEntry.objects.values_list("action", "reason")) == {("reject", "misread table")}


def test_it_says_clearly_when_a_price_was_already_decided(curator_client, held_rise):
    curator_client.post(reverse("admin:pricing_price_reject", args=[held_rise.pk]), {"reason": "no"})

    response = curator_client.post(reverse("admin:pricing_price_approve", args=[held_rise.pk]), {}, follow=True)

    assert response.status_code == 200
    assert "already decided" in response.content.decode().lower()
    assert [p.amount_per_mtok for p in open_published()] == [Decimal("0.27")]


def test_it_answers_an_unknown_price_with_not_found(curator_client):
    assert curator_client.get(reverse("admin:pricing_price_approve", args=[999999])).status_code == 404


def test_it_splits_a_closed_range_when_a_backdated_proposal_is_approved(curator_client):
    """A held price that starts inside a range already closed by a later change splits that range."""
    source = SourceFactory(trust_rank=100)
    offering = OfferingFactory(provider=source.provider)
    t0 = timezone.now() - dt.timedelta(days=30)
    t1 = t0 + dt.timedelta(days=10)
    t2 = t0 + dt.timedelta(days=20)
    first = PriceFactory(offering=offering, source=source, amount_per_mtok=Decimal("1"), valid_from=t0, valid_to=t2)
    PriceFactory(offering=offering, source=source, amount_per_mtok=Decimal("2"), valid_from=t2)
    held = PriceFactory(
        offering=offering,
        source=source,
        amount_per_mtok=Decimal("5"),
        valid_from=t1,
        status="held",
        hold_reason="rise",
        run=ScrapeRunFactory(source=source),
    )

    curator_client.post(reverse("admin:pricing_price_approve", args=[held.pk]), {})

    timeline = [
        (p.valid_from, p.valid_to, p.amount_per_mtok)
        for p in Price.objects.filter(offering=offering, status="published", superseded_at__isnull=True).order_by(
            "valid_from"
        )
    ]
    assert timeline == [(t0, t1, Decimal("1")), (t1, t2, Decimal("5")), (t2, None, Decimal("2"))]
    first.refresh_from_db()
    assert first.superseded_at is not None  # never edited, superseded


def test_it_runs_a_constant_number_of_queries_on_the_review_queue(curator_client, django_assert_max_num_queries):
    source = SourceFactory()
    run = ScrapeRunFactory(source=source)
    for _ in range(30):
        offering = OfferingFactory(provider=source.provider)
        PriceFactory(offering=offering, source=source, amount_per_mtok=Decimal("1"))
        PriceFactory(
            offering=offering, source=source, run=run, amount_per_mtok=Decimal("9"), status="held", hold_reason="rise"
        )

    with django_assert_max_num_queries(12):
        response = curator_client.get(QUEUE)

    assert response.context["cl"].result_count == 30

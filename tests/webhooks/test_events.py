"""Which changes reach which subscription (filters), curator decisions as events, and the overdue sweep."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from unittest import mock

import pytest
from django.utils import timezone

from pricing import curation
from pricing.models import Model, Offering, Price
from pricing.webhooks import services as webhooks
from pricing.webhooks import tasks
from pricing.webhooks.models import WebhookDelivery
from tests.webhooks.conftest import rec

pytestmark = pytest.mark.django_db


def heard(receiver, path: str) -> list[tuple[str, str, str]]:
    """(model id, component, new amount) of every event ``path`` received."""
    return sorted(
        (e["offering"]["model_id"], e["component"], e["new"]["amount_per_mtok"])
        for r in receiver.at(path)
        for e in r.events
    )


def test_each_subscription_hears_only_what_its_filters_match(receiver, publish, subscribe):
    publish(rec("deepseek-chat", "0.27"), rec("deepseek-chat", "1.10", "output"), rec("deepseek-reasoner", "0.55"))
    publish(rec("gpt-4o", "2.50", provider="openai"), slug="openai")
    Offering.objects.filter(provider_model_id="gpt-4o").update(
        model=Model.objects.create(slug="gpt-4o-canonical", name="GPT-4o")
    )
    subscribe("/all")
    subscribe("/openai", providers=["openai"])
    subscribe("/reasoner", model_ids=["deepseek-reasoner"])
    subscribe("/canonical", model_ids=["gpt-4o-canonical"])
    subscribe("/output", components=["output"])
    subscribe("/big", min_change_percent=Decimal("10"))

    # +3.7%, +9.1%, +18.2%; and +20% at OpenAI
    publish(rec("deepseek-chat", "0.28"), rec("deepseek-chat", "1.20", "output"), rec("deepseek-reasoner", "0.65"))
    publish(rec("gpt-4o", "3.00", provider="openai"), slug="openai")

    assert heard(receiver, "/all") == [
        ("deepseek-chat", "input", "0.28"),
        ("deepseek-chat", "output", "1.2"),
        ("deepseek-reasoner", "input", "0.65"),
        ("gpt-4o", "input", "3"),
    ]
    assert heard(receiver, "/openai") == [("gpt-4o", "input", "3")]
    assert heard(receiver, "/reasoner") == [("deepseek-reasoner", "input", "0.65")]
    assert heard(receiver, "/canonical") == [("gpt-4o", "input", "3")]
    assert heard(receiver, "/output") == [("deepseek-chat", "output", "1.2")]
    assert heard(receiver, "/big") == [("deepseek-reasoner", "input", "0.65"), ("gpt-4o", "input", "3")]


def test_a_drop_counts_towards_the_minimum_change_like_a_rise(receiver, publish, subscribe):
    publish(rec("deepseek-chat", "1.00"))
    subscribe("/big", min_change_percent=Decimal("40"))
    publish(rec("deepseek-chat", "0.50"))
    assert heard(receiver, "/big") == [("deepseek-chat", "input", "0.5")]


def test_a_disabled_subscription_hears_nothing(receiver, publish, subscribe):
    publish(rec("deepseek-chat", "0.27"))
    subscription = subscribe()
    webhooks.subscription_disable(subscription=subscription, reason="paused by a curator")
    publish(rec("deepseek-chat", "0.28"))
    assert receiver.requests == [] and not WebhookDelivery.objects.exists()


def test_a_curators_approval_and_override_are_events(receiver, publish, subscribe, django_capture_on_commit_callbacks):
    publish(rec("deepseek-chat", "1.00"))
    publish(rec("deepseek-chat", "9.00"))  # a rise beyond ×3: held
    subscribe()
    held = Price.objects.get(status=Price.Status.HELD)

    with django_capture_on_commit_callbacks(execute=True):
        curation.price_approve(price_id=held.pk, actor=None, note="checked on the pricing page")
    with django_capture_on_commit_callbacks(execute=True):
        curation.price_override(
            offering=held.offering,
            override=curation.Override(component="input", amount_per_mtok=Decimal("8.50")),
            reason="announced discount",
            evidence_url="https://api-docs.deepseek.com/quick_start/pricing",
            actor=None,
        )

    approved, overridden = (r.events[0] for r in receiver.requests)
    assert (approved["old"]["amount_per_mtok"], approved["new"]["amount_per_mtok"]) == ("1", "9")
    assert approved["evidence"]["curator_note"] == "checked on the pricing page"
    assert (overridden["old"]["amount_per_mtok"], overridden["new"]["amount_per_mtok"]) == ("9", "8.5")
    assert overridden["source"] is None
    assert overridden["evidence"]["url"] == "https://api-docs.deepseek.com/quick_start/pricing"
    assert receiver.requests[1].payload["origin"] == "a curator's decision"


def test_lost_deliveries_are_sent_by_the_overdue_sweep(receiver, publish, subscribe):
    publish(rec("deepseek-chat", "0.27"))
    subscription = subscribe()
    # The broker took the task and lost it: the delivery waits in the outbox, due now.
    with mock.patch.object(tasks.deliver, "delay") as lost:
        publish(rec("deepseek-chat", "0.30"))
    assert lost.call_count == 1 and receiver.requests == []
    assert tasks.send_overdue_deliveries.apply().result == []  # within its grace: its task may still come

    WebhookDelivery.objects.update(next_attempt_at=timezone.now() - dt.timedelta(minutes=6))
    assert tasks.send_overdue_deliveries.apply().result == [subscription.pk]

    [received] = receiver.requests
    assert received.events[0]["new"]["amount_per_mtok"] == "0.3"
    assert WebhookDelivery.objects.get().status == "delivered"
    assert tasks.send_overdue_deliveries.apply().result == []


def test_finished_deliveries_are_forgotten_after_thirty_days_and_pending_ones_never(subscribe):
    subscription = subscribe()
    old = timezone.now() - dt.timedelta(days=31)
    for status in ("delivered", "failed", "cancelled", "pending"):
        WebhookDelivery.objects.create(subscription=subscription, status=status, created_at=old)
    WebhookDelivery.objects.create(subscription=subscription, status="delivered")

    assert webhooks.deliveries_prune() == 3
    assert sorted(WebhookDelivery.objects.values_list("status", flat=True)) == ["delivered", "pending"]

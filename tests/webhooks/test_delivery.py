"""Deliveries to a real receiver on loopback: signed, retried, logged, disabled after repeated failures,
batched, and never redirected."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
from pathlib import Path
from unittest import mock

import pytest

from pricing.models import Price
from pricing.webhooks import services as webhooks
from pricing.webhooks import tasks
from pricing.webhooks.models import WebhookDelivery, WebhookSubscription
from tests.webhooks.conftest import rec

pytestmark = pytest.mark.django_db


def verify_like_a_receiver(secret: str, header: str, body: bytes) -> bool:
    """The README's snippet, written out independently of the service's own code."""
    parts = dict(item.split("=", 1) for item in header.split(","))
    expected = hmac.new(secret.encode(), parts["t"].encode() + b"." + body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, parts["v1"])


def test_it_posts_a_signed_event_for_a_published_change(receiver, publish, subscribe):
    publish(rec("deepseek-chat", "0.27"), rec("deepseek-chat", "1.10", "output"))
    subscription = subscribe()

    publish(rec("deepseek-chat", "0.28"), rec("deepseek-chat", "1.10", "output"))

    [received] = receiver.requests
    assert received.headers["content-type"] == "application/json"
    assert verify_like_a_receiver(subscription.secret, received.headers["x-tokenprices-signature"], received.body)
    assert webhooks.signature_verify(
        secret=subscription.secret, header=received.headers["x-tokenprices-signature"], body=received.body
    )
    assert not verify_like_a_receiver("another secret", received.headers["x-tokenprices-signature"], received.body)
    assert not webhooks.signature_verify(
        secret=subscription.secret, header=received.headers["x-tokenprices-signature"], body=received.body + b" "
    )
    payload = received.payload
    assert payload["id"] == received.headers["x-tokenprices-event-id"]
    [event] = payload["events"]
    new = Price.objects.published().get(offering__provider_model_id="deepseek-chat", component="input", valid_to=None)
    assert event["type"] == "price.changed"
    assert event["offering"]["provider"] == "deepseek" and event["offering"]["model_id"] == "deepseek-chat"
    assert (event["component"], event["mode"], event["tier"]["min_tokens"], event["tier"]["max_tokens"]) == (
        "input",
        "standard",
        None,
        None,
    )
    assert event["old"]["amount_per_mtok"] == "0.27" and event["new"]["amount_per_mtok"] == "0.28"
    assert event["old"]["currency"] == event["new"]["currency"] == "USD"
    assert event["change_percent"] == "3.70"
    assert event["valid_from"] == new.valid_from.isoformat().replace("+00:00", "Z")
    assert event["source"]["slug"] == "deepseek"
    assert event["evidence"]["url"].startswith("https://") and event["evidence"]["run_id"] == new.run_id
    assert event["api_url"].endswith(f"/api/v1/offerings/{new.offering_id}/history/")
    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.attempts, delivery.status_code) == ("delivered", 1, 200)
    assert delivery.latency_ms is not None and delivery.delivered_at is not None


def test_a_signature_too_old_is_refused_by_the_verifier():
    body = b'{"events": []}'
    header = webhooks.signature_header(secret="k" * 20, timestamp=1_000_000, body=body)
    assert webhooks.signature_verify(secret="k" * 20, header=header, body=body, now=1_000_100)
    assert not webhooks.signature_verify(secret="k" * 20, header=header, body=body, now=1_000_000 + 301)
    assert not webhooks.signature_verify(secret="k" * 20, header="v1=abc", body=body)


def test_nothing_is_sent_when_the_ingest_rolls_back(receiver, subscribe, django_capture_on_commit_callbacks):
    from pricing import services
    from pricing.models import ScrapeRun

    subscribe()
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        services.records_ingest(slug="deepseek", records=[rec("deepseek-chat", "0.27")], kind=ScrapeRun.Kind.FILE)
    # The fan-out waits for the commit: until then not a query is made for it and nothing is sent.
    assert callbacks and not receiver.requests and not WebhookDelivery.objects.exists()


def test_it_retries_after_a_server_error_and_logs_each_attempt(receiver, publish, subscribe):
    publish(rec("deepseek-chat", "0.27"))
    subscribe()
    receiver.answer(500)

    publish(rec("deepseek-chat", "0.30"))

    first, second = receiver.requests
    assert first.body == second.body
    assert first.headers["x-tokenprices-event-id"] == second.headers["x-tokenprices-event-id"]
    assert (first.headers["x-tokenprices-attempt"], second.headers["x-tokenprices-attempt"]) == ("1", "2")
    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.attempts, delivery.status_code, delivery.last_error) == ("delivered", 2, 200, "")
    assert WebhookSubscription.objects.get().consecutive_failures == 0


def test_retries_wait_exponentially_longer(settings):
    settings.WEBHOOK_BACKOFF_BASE_SECONDS = 30
    settings.WEBHOOK_BACKOFF_MAX_SECONDS = 3600
    waits = [webhooks.backoff_s(n) for n in range(1, 9)]
    assert [int(w // 1) >= base for w, base in zip(waits, [30, 60, 120, 240, 480, 960, 1920, 3600], strict=True)]
    assert all(base <= w <= base * 1.1 for w, base in zip(waits, [30, 60, 120, 240, 480, 960, 1920, 3600], strict=True))


def test_it_disables_a_subscription_after_repeated_failures_with_a_note(receiver, publish, subscribe, settings):
    settings.WEBHOOK_MAX_ATTEMPTS = 2
    settings.WEBHOOK_DISABLE_AFTER_FAILED_DELIVERIES = 2
    settings.WEBHOOK_BATCH_SIZE = 1
    publish(rec("a-1", "1"), rec("a-2", "1"), rec("a-3", "1"))
    subscription = subscribe()
    receiver.default = (503, {})

    publish(rec("a-1", "1.5"), rec("a-2", "1.5"), rec("a-3", "1.5"))

    # Two deliveries failed both attempts; the third was never sent.
    assert len(receiver.requests) == 4
    subscription.refresh_from_db()
    assert not subscription.active and subscription.disabled_at is not None
    assert "2 deliveries in a row failed all 2 attempts" in subscription.disabled_reason
    assert "HTTP 503" in subscription.disabled_reason
    statuses = list(WebhookDelivery.objects.order_by("id").values_list("status", "attempts", "status_code"))
    assert statuses == [("failed", 2, 503), ("failed", 2, 503), ("cancelled", 0, None)]

    publish(rec("a-1", "2"), rec("a-2", "2"), rec("a-3", "2"))
    assert len(receiver.requests) == 4 and WebhookDelivery.objects.count() == 3


def test_a_success_between_failures_starts_the_count_over(receiver, publish, subscribe, settings):
    settings.WEBHOOK_MAX_ATTEMPTS = 1
    settings.WEBHOOK_DISABLE_AFTER_FAILED_DELIVERIES = 2
    settings.WEBHOOK_BATCH_SIZE = 1
    publish(rec("a-1", "1"), rec("a-2", "1"), rec("a-3", "1"))
    subscription = subscribe()
    receiver.answer(500, 200, 500)

    publish(rec("a-1", "1.5"), rec("a-2", "1.5"), rec("a-3", "1.5"))

    subscription.refresh_from_db()
    assert subscription.active and subscription.consecutive_failures == 1
    assert list(WebhookDelivery.objects.order_by("id").values_list("status", flat=True)) == [
        "failed",
        "delivered",
        "failed",
    ]


def test_it_does_not_follow_a_redirect(receiver, publish, subscribe, settings):
    settings.WEBHOOK_MAX_ATTEMPTS = 1
    publish(rec("deepseek-chat", "0.27"))
    subscribe()
    receiver.answer((307, {"Location": receiver.url("/elsewhere")}))

    publish(rec("deepseek-chat", "0.30"))

    assert [r.path for r in receiver.requests] == ["/hook"]
    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.status_code) == ("failed", 307)
    assert "redirects are not followed" in delivery.last_error


def test_a_target_that_answers_too_slowly_fails_by_the_deadline(receiver, publish, subscribe, settings):
    settings.WEBHOOK_MAX_ATTEMPTS = 1
    settings.WEBHOOK_DEADLINE_SECONDS = 1
    publish(rec("deepseek-chat", "0.27"))
    subscribe()
    receiver.delay_s = 4

    publish(rec("deepseek-chat", "0.30"))

    delivery = WebhookDelivery.objects.get()
    assert delivery.status == "failed" and "deadline" in delivery.last_error
    assert delivery.latency_ms is not None and delivery.latency_ms < 3000


def test_a_target_at_a_private_address_is_refused_at_delivery_and_disables_it(receiver, publish, subscribe, settings):
    publish(rec("deepseek-chat", "0.27"))
    subscription = subscribe()
    # The allow-list no longer names the receiver's host: loopback is refused, and so is its port.
    settings.WEBHOOK_ALLOW_PRIVATE_HOSTS = []

    publish(rec("deepseek-chat", "0.30"))

    assert receiver.requests == []
    subscription.refresh_from_db()
    assert not subscription.active and "refused" in subscription.disabled_reason
    assert WebhookDelivery.objects.get().last_error.startswith("refusing")


def test_a_burst_of_a_thousand_changes_goes_out_as_one_task_and_ten_posts(
    receiver, publish, subscribe, django_assert_max_num_queries
):
    first = [rec(f"m-{n}", "1.00", component) for n in range(500) for component in ("input", "output")]
    publish(*first)
    subscribe()

    with mock.patch.object(tasks.deliver, "delay", wraps=tasks.deliver.delay) as queued:
        publish(*[rec(r.model, "1.20", r.component) for r in first])

    assert queued.call_count == 1
    assert len(receiver.requests) == 10
    sizes = [len(r.events) for r in receiver.requests]
    assert sizes == [100] * 10
    ids = [e["id"] for r in receiver.requests for e in r.events]
    assert len(set(ids)) == 1000
    assert {e["type"] for r in receiver.requests for e in r.events} == {"price.changed"}
    assert len({r.headers["x-tokenprices-event-id"] for r in receiver.requests}) == 10
    assert WebhookDelivery.objects.filter(status="delivered").count() == 10


def test_the_fan_out_of_a_thousand_changes_takes_a_fixed_number_of_queries(
    receiver, publish, subscribe, django_assert_max_num_queries, settings
):
    first = [rec(f"m-{n}", "1.00", component) for n in range(500) for component in ("input", "output")]
    publish(*first)
    for path in ("/a", "/b", "/c"):
        subscribe(path)
    publish(*[rec(r.model, "1.20", r.component) for r in first])
    ids = list(Price.objects.published().filter(valid_to=None).values_list("id", flat=True))
    settings.CELERY_TASK_ALWAYS_EAGER = False

    with mock.patch.object(tasks.deliver, "delay") as queued, django_assert_max_num_queries(6):
        created = webhooks.deliveries_enqueue(price_ids=ids)

    assert len(created) == 30 and queued.call_count == 3


def test_a_held_change_that_publishes_itself_emits_an_event(receiver, publish, subscribe):
    def on(date: str) -> dict[str, object]:
        return {"as_of": dt.datetime.fromisoformat(date).replace(tzinfo=dt.UTC), "kind": "archive"}

    publish(rec("o3", "10", provider="openai"), slug="openai", **on("2026-06-01"))
    subscribe()
    publish(rec("o3", "2", provider="openai"), slug="openai", **on("2026-06-10"))
    assert receiver.requests == []  # held: a drop beyond ÷3 waits for evidence

    publish(rec("o3", "2", provider="openai"), slug="litellm", **on("2026-06-11"))

    [received] = receiver.requests
    [event] = received.events
    assert (event["old"]["amount_per_mtok"], event["new"]["amount_per_mtok"]) == ("10", "2")
    assert event["change_percent"] == "-80.00"
    assert event["valid_from"] == "2026-06-10T00:00:00Z"
    assert "confirmed by litellm" in event["evidence"]["curator_note"]


def test_a_first_price_is_an_added_event_and_a_restated_price_is_none(receiver, publish, subscribe):
    subscribe()
    publish(rec("deepseek-chat", "0.27"))
    publish(rec("deepseek-chat", "0.27"))

    [received] = receiver.requests
    [event] = received.events
    assert event["type"] == "price.added" and event["old"] is None and event["change_percent"] is None
    assert json.loads(received.body)["type"] == "price.changes"


def test_the_readmes_verification_snippet_verifies_a_real_delivery(receiver, publish, subscribe):
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    webhooks_section = readme[readme.index("## Webhooks") :]
    snippet = webhooks_section[webhooks_section.index("```python") + len("```python") :]
    namespace: dict[str, object] = {}
    exec(snippet[: snippet.index("```")], namespace)
    verify = namespace["verify"]
    publish(rec("deepseek-chat", "0.27"))
    subscription = subscribe()
    publish(rec("deepseek-chat", "0.28"))

    [received] = receiver.requests
    header = received.headers["x-tokenprices-signature"]
    assert verify(subscription.secret, header, received.body)
    assert not verify(subscription.secret, header, received.body.replace(b"0.28", b"0.01"))
    assert not verify("not the secret", header, received.body)

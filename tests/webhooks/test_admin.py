"""Curators issue API keys (shown once, stored as a hash), register and pause subscriptions, and read the
delivery log, which nobody edits."""

from __future__ import annotations

import hashlib
import re

import pytest
from django.contrib.auth.models import Group, User
from django.urls import reverse

from pricing.webhooks.models import ApiKey, WebhookDelivery, WebhookSubscription

pytestmark = pytest.mark.django_db


@pytest.fixture
def curator_client(client):
    user = User.objects.create_user("carol", password="unused-in-tests", is_staff=True)
    user.groups.add(Group.objects.get(name="curators"))
    client.force_login(user)
    return client


def issue(client, name: str = "Acme dashboards") -> tuple[ApiKey, str]:
    response = client.post(reverse("admin:webhooks_apikey_add"), {"name": name, "note": "asked by email"})
    assert response.status_code == 200, response.content[:500]
    assert "no-store" in response["Cache-Control"]
    [key] = re.findall(r'<code id="issued-key">([^<]+)</code>', response.content.decode())
    return ApiKey.objects.get(name=name), key


def test_a_curator_issues_a_key_shown_once_and_stored_as_a_hash(curator_client, client):
    api_key, key = issue(curator_client)

    assert key.startswith("tpk_") and len(key) > 40
    assert api_key.key_sha256 == hashlib.sha256(key.encode()).hexdigest()
    assert key not in str(ApiKey.objects.values_list().get())
    assert api_key.created_by.username == "carol"
    change_page = curator_client.get(reverse("admin:webhooks_apikey_change", args=[api_key.pk])).content.decode()
    assert key not in change_page and api_key.prefix in change_page
    assert client.get("/api/v1/webhooks/", HTTP_AUTHORIZATION=f"Bearer {key}").status_code == 200


def test_a_curator_revokes_a_key(curator_client, client):
    api_key, key = issue(curator_client)
    response = curator_client.post(
        reverse("admin:webhooks_apikey_changelist"), {"action": "revoke", "_selected_action": [api_key.pk]}
    )
    assert response.status_code == 302
    api_key.refresh_from_db()
    assert api_key.revoked_at is not None
    assert client.get("/api/v1/webhooks/", HTTP_AUTHORIZATION=f"Bearer {key}").status_code == 401


def test_a_curator_registers_a_subscription_with_a_generated_secret(curator_client):
    response = curator_client.post(
        reverse("admin:webhooks_webhooksubscription_add"),
        {
            "target_url": "https://hooks.example.com/prices",
            "secret": "",
            "description": "the team's channel",
            "providers": "OpenAI, deepseek",
            "model_ids": "",
            "components": "input",
            "min_change_percent": "2.5",
            "active": "on",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    subscription = WebhookSubscription.objects.get()
    assert subscription.providers == ["deepseek", "openai"] and subscription.components == ["input"]
    assert len(subscription.secret) >= 32 and subscription.api_key is None
    assert subscription.created_by.username == "carol"


def test_the_admin_refuses_a_private_target_and_unknown_components(curator_client):
    response = curator_client.post(
        reverse("admin:webhooks_webhooksubscription_add"),
        {"target_url": "http://192.168.1.10/hook", "components": "input, everything", "min_change_percent": "0"},
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert "private" in page and not WebhookSubscription.objects.exists()


def test_re_enabling_a_disabled_subscription_starts_its_failures_over(curator_client):
    subscription = WebhookSubscription.objects.create(
        target_url="https://hooks.example.com/prices",
        secret="s" * 32,
        active=False,
        consecutive_failures=3,
        disabled_reason="3 deliveries in a row failed",
    )
    response = curator_client.post(
        reverse("admin:webhooks_webhooksubscription_changelist"),
        {"action": "enable", "_selected_action": [subscription.pk]},
    )
    assert response.status_code == 302
    subscription.refresh_from_db()
    assert subscription.active and subscription.consecutive_failures == 0 and subscription.disabled_reason == ""


def test_the_delivery_log_is_read_only(curator_client):
    subscription = WebhookSubscription.objects.create(target_url="https://hooks.example.com/p", secret="s" * 32)
    delivery = WebhookDelivery.objects.create(
        subscription=subscription, events=[{"id": "price-1", "note": "<b>x</b>"}], event_count=1
    )

    listing = curator_client.get(reverse("admin:webhooks_webhookdelivery_changelist"))
    detail = curator_client.get(reverse("admin:webhooks_webhookdelivery_change", args=[delivery.pk]))

    assert listing.status_code == 200 and detail.status_code == 200
    assert "&lt;b&gt;x&lt;/b&gt;" in detail.content.decode()
    assert curator_client.get(reverse("admin:webhooks_webhookdelivery_add")).status_code == 403
    assert curator_client.post(reverse("admin:webhooks_webhookdelivery_delete", args=[delivery.pk])).status_code == 403

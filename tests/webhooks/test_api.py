"""``/api/v1/webhooks/``: a subscriber registers, lists, reads and deletes its own subscriptions with its key."""

from __future__ import annotations

import pytest
from django.utils import timezone

from pricing.webhooks import services as webhooks
from pricing.webhooks.models import ApiKey, WebhookDelivery, WebhookSubscription

pytestmark = pytest.mark.django_db

URL = "/api/v1/webhooks/"


def bearer(key: str) -> dict[str, str]:
    return {"HTTP_AUTHORIZATION": f"Bearer {key}"}


@pytest.fixture
def other_key(db) -> ApiKey:
    key = ApiKey(name="someone else")
    key._issued = webhooks.api_key_issue(api_key=key, actor=None)  # type: ignore[attr-defined]
    return key


def register(client, key: str, **body):
    return client.post(
        URL, {"target_url": "https://hooks.example.com/prices", **body}, "application/json", **bearer(key)
    )


def test_it_refuses_requests_without_a_valid_key(client, api_key):
    assert client.get(URL).status_code == 401
    assert client.get(URL).headers["WWW-Authenticate"].startswith("Bearer")
    assert client.get(URL, **bearer("tpk_not-a-key")).status_code == 401
    assert client.get(URL, HTTP_AUTHORIZATION="Bearer").status_code == 401
    assert client.get(URL, HTTP_AUTHORIZATION="Bearer a b").status_code == 401
    assert client.get(URL, HTTP_AUTHORIZATION="Basic dXNlcjpwYXNz").status_code == 401
    assert register(client, "tpk_nope").status_code == 401
    assert not WebhookSubscription.objects.exists()


def test_a_revoked_key_is_refused_and_its_subscriptions_stop(client, api_key):
    assert register(client, api_key._issued).status_code == 201
    webhooks.api_keys_revoke(key_ids=[api_key.pk])
    assert client.get(URL, **bearer(api_key._issued)).status_code == 401
    subscription = WebhookSubscription.objects.get()
    assert not subscription.active and "revoked" in subscription.disabled_reason


def test_it_registers_a_subscription_and_shows_the_generated_secret_once(client, api_key):
    response = register(
        client,
        api_key._issued,
        providers=["OpenAI", "deepseek"],
        models=["gpt-4o", "deepseek-v3"],
        components=["input", "output"],
        min_change_percent="5",
        description="our cost dashboard",
    )

    assert response.status_code == 201, response.json()
    body = response.json()
    subscription = WebhookSubscription.objects.get()
    assert body["signing_secret"] == subscription.secret and len(subscription.secret) >= 32
    assert "secret" not in body
    assert body["providers"] == ["deepseek", "openai"] and body["models"] == ["deepseek-v3", "gpt-4o"]
    assert body["components"] == ["input", "output"] and body["min_change_percent"] == 5
    assert subscription.api_key == api_key and subscription.active
    listed = client.get(URL, **bearer(api_key._issued)).json()
    assert [row["id"] for row in listed] == [subscription.pk]
    assert "signing_secret" not in listed[0] and "secret" not in listed[0]


def test_a_subscriber_can_choose_its_own_secret(client, api_key):
    response = register(client, api_key._issued, secret="my-own-secret-of-enough-length")
    assert response.status_code == 201
    assert WebhookSubscription.objects.get().secret == "my-own-secret-of-enough-length"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"target_url": "ftp://hooks.example.com/x"}, "target_url"),
        ({"target_url": "not a url"}, "target_url"),
        ({"target_url": "http://10.0.0.5/hook"}, "target_url"),
        ({"target_url": "http://127.0.0.1/hook"}, "target_url"),
        ({"target_url": "http://169.254.169.254/latest/meta-data/"}, "target_url"),
        ({"target_url": "https://hooks.example.com:8443/hook"}, "target_url"),
        ({"target_url": "https://user:pass@hooks.example.com/hook"}, "target_url"),
        ({"components": ["everything"]}, "components"),
        ({"providers": "openai"}, "providers"),
        ({"providers": ["<script>"]}, "providers"),
        ({"min_change_percent": "-1"}, "min_change_percent"),
        ({"min_change_percent": "NaN"}, "min_change_percent"),
        ({"secret": "short"}, "secret"),
        ({"models": ["x" * 500]}, "models"),
    ],
)
def test_it_answers_bad_input_with_a_400_naming_the_field(client, api_key, body, field):
    response = client.post(
        URL, {"target_url": "https://hooks.example.com/prices", **body}, "application/json", **bearer(api_key._issued)
    )
    assert response.status_code == 400, response.content
    assert field in response.json()
    assert not WebhookSubscription.objects.exists()


def test_a_key_has_a_limit_of_subscriptions(client, api_key, settings):
    settings.WEBHOOK_MAX_SUBSCRIPTIONS_PER_KEY = 2
    assert [register(client, api_key._issued).status_code for _ in range(3)] == [201, 201, 400]


def test_a_subscriber_sees_and_deletes_only_its_own(client, api_key, other_key):
    mine = register(client, api_key._issued).json()["id"]
    theirs = register(client, other_key._issued).json()["id"]

    assert [r["id"] for r in client.get(URL, **bearer(api_key._issued)).json()] == [mine]
    assert client.get(f"{URL}{theirs}/", **bearer(api_key._issued)).status_code == 404
    assert client.delete(f"{URL}{theirs}/", **bearer(api_key._issued)).status_code == 404
    assert client.get(f"{URL}abc/", **bearer(api_key._issued)).status_code == 404
    assert client.get(f"{URL}{2**70}/", **bearer(api_key._issued)).status_code == 404
    assert client.get(f"{URL}{mine}/", **bearer(api_key._issued)).json()["id"] == mine

    assert client.delete(f"{URL}{mine}/", **bearer(api_key._issued)).status_code == 204
    assert list(WebhookSubscription.objects.values_list("id", flat=True)) == [theirs]


def test_a_subscriber_reads_its_delivery_log(client, api_key):
    subscription_id = register(client, api_key._issued).json()["id"]
    WebhookDelivery.objects.create(
        subscription_id=subscription_id,
        events=[{"id": "price-1"}],
        event_count=1,
        status="delivered",
        attempts=2,
        status_code=200,
        latency_ms=41,
        delivered_at=timezone.now(),
    )

    [row] = client.get(f"{URL}{subscription_id}/deliveries/", **bearer(api_key._issued)).json()

    assert (row["status"], row["attempts"], row["status_code"], row["latency_ms"]) == ("delivered", 2, 200, 41)


def test_listing_takes_a_fixed_number_of_queries(client, api_key, django_assert_num_queries):
    for _ in range(3):
        register(client, api_key._issued)
    # the key's lookup, then the subscriptions
    with django_assert_num_queries(2):
        assert len(client.get(URL, **bearer(api_key._issued)).json()) == 3


def test_the_schema_documents_the_webhook_endpoints_and_their_key(client):
    schema = client.get("/api/schema/?format=json").json()
    assert {"/api/v1/webhooks/", "/api/v1/webhooks/{id}/", "/api/v1/webhooks/{id}/deliveries/"} <= set(schema["paths"])
    assert schema["components"]["securitySchemes"]["apiKey"]["scheme"] == "bearer"
    create = schema["paths"]["/api/v1/webhooks/"]["post"]
    assert {"201", "400", "401"} <= set(create["responses"])
    assert "X-Tokenprices-Signature" in create["description"]


def test_a_subscriber_enables_its_disabled_subscription_again(client, api_key, other_key):
    subscription_id = register(client, api_key._issued).json()["id"]
    subscription = WebhookSubscription.objects.get()
    webhooks.subscription_disable(subscription=subscription, reason="3 deliveries in a row failed")
    assert client.get(f"{URL}{subscription_id}/", **bearer(api_key._issued)).json()["disabled_reason"]

    assert client.post(f"{URL}{subscription_id}/enable/", **bearer(other_key._issued)).status_code == 404
    body = client.post(f"{URL}{subscription_id}/enable/", **bearer(api_key._issued)).json()

    assert body["active"] and body["disabled_reason"] == "" and body["consecutive_failures"] == 0

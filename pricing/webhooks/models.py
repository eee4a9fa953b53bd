"""API keys, webhook subscriptions and their deliveries."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone


class ApiKey(models.Model):
    """A key a curator issued to one subscriber. Only its SHA-256 is stored: the key is shown once."""

    name = models.CharField(max_length=120, help_text="Who the key is for.")
    prefix = models.CharField(
        max_length=16, editable=False, help_text="The key's first characters, to tell keys apart."
    )
    key_sha256 = models.CharField(max_length=64, unique=True, editable=False)
    note = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", editable=False
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(null=True, blank=True, help_text="A revoked key is refused.")

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "API key"

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"


class WebhookSubscription(models.Model):
    """Where to POST which published changes, and the secret that signs them."""

    api_key = models.ForeignKey(
        ApiKey,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="subscriptions",
        help_text="The subscriber that owns it; empty when a curator registered it.",
    )
    target_url = models.URLField(max_length=500)
    secret = models.CharField(max_length=200, help_text="Signs every delivery (HMAC-SHA256); the receiver checks it.")
    description = models.CharField(max_length=200, blank=True)
    providers = models.JSONField(default=list, blank=True, help_text="Provider slugs; empty: every provider.")
    model_ids = models.JSONField(
        default=list,
        blank=True,
        help_text="Canonical model slugs or the providers' own model ids; empty: every model.",
    )
    components = models.JSONField(default=list, blank=True, help_text="input, output…; empty: every component.")
    min_change_percent = models.DecimalField(
        max_digits=8,
        decimal_places=2,
        default=0,
        help_text="Only changes at least this large, up or down (a new price always passes).",
    )
    active = models.BooleanField(default=True)
    consecutive_failures = models.PositiveIntegerField(
        default=0, help_text="Deliveries in a row that failed every attempt."
    )
    disabled_at = models.DateTimeField(null=True, blank=True)
    disabled_reason = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", editable=False
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.target_url} ({'active' if self.active else 'disabled'})"


class WebhookDelivery(models.Model):
    """One POST of up to ``WEBHOOK_BATCH_SIZE`` events to one subscription, with every attempt's outcome."""

    class Status(models.TextChoices):
        PENDING = "pending", "pending"
        DELIVERED = "delivered", "delivered"
        FAILED = "failed", "failed every attempt"
        CANCELLED = "cancelled", "cancelled (subscription disabled or deleted)"

    subscription = models.ForeignKey(WebhookSubscription, on_delete=models.CASCADE, related_name="deliveries")
    # Sent as the X-Tokenprices-Event-Id header, the same on every attempt: receivers drop repeats by it.
    event_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    events = models.JSONField(default=list)
    event_count = models.PositiveIntegerField(default=0)
    origin = models.CharField(max_length=200, blank=True, help_text="What published the changes (a run, a curator).")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING, db_index=True)
    attempts = models.PositiveIntegerField(default=0)
    status_code = models.PositiveSmallIntegerField(null=True, blank=True, help_text="The last attempt's HTTP status.")
    latency_ms = models.PositiveIntegerField(null=True, blank=True, help_text="The last attempt's time to answer.")
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    delivered_at = models.DateTimeField(null=True, blank=True)
    # A sender holds a delivery while it POSTs it, so two tasks never send one delivery at once.
    claimed_until = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "webhook deliveries"
        indexes = [models.Index(fields=["subscription", "status", "id"], name="delivery_queue")]

    def __str__(self) -> str:
        return f"delivery {self.event_id} ({self.event_count} events, {self.status})"

"""Curators issue API keys (each shown once), register or pause webhook subscriptions, and read the delivery
log. Every decision is a call to ``pricing.webhooks.services``."""

from __future__ import annotations

import json
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html

from pricing.webhooks import services
from pricing.webhooks.models import ApiKey, WebhookDelivery, WebhookSubscription


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    list_display = ["name", "prefix", "created_by", "created_at", "last_used_at", "revoked_at", "subscription_count"]
    list_filter = [("revoked_at", admin.EmptyFieldListFilter)]
    search_fields = ["name", "prefix", "note"]
    list_select_related = ["created_by"]
    fields = ["name", "note", "prefix", "created_by", "created_at", "last_used_at", "revoked_at"]
    readonly_fields = ["prefix", "created_by", "created_at", "last_used_at", "revoked_at"]
    actions = ["revoke"]

    @admin.display(description="subscriptions")
    def subscription_count(self, api_key: ApiKey) -> int:
        return api_key.subscriptions.count()

    def get_queryset(self, request: HttpRequest) -> QuerySet[ApiKey]:
        return super().get_queryset(request).prefetch_related("subscriptions")

    def save_model(self, request: HttpRequest, obj: ApiKey, form: Any, change: bool) -> None:
        if change:
            super().save_model(request, obj, form, change)
            return
        obj._issued_key = services.api_key_issue(api_key=obj, actor=request.user)  # type: ignore[attr-defined]

    def response_add(self, request: HttpRequest, obj: ApiKey, post_url_continue: str | None = None) -> HttpResponse:
        """The key, this once, on a page of its own (never in a message or a redirect that could keep it)."""
        key = getattr(obj, "_issued_key", "")
        if not key:
            return super().response_add(request, obj, post_url_continue)
        response = TemplateResponse(
            request,
            "admin/webhooks/apikey/issued.html",
            {
                **self.admin_site.each_context(request),
                "title": f"API key for {obj.name}",
                "api_key": obj,
                "key": key,
                "opts": self.model._meta,
                "list_url": reverse("admin:webhooks_apikey_changelist"),
            },
        )
        response["Cache-Control"] = "no-store"
        return response

    @admin.action(description="Revoke the selected keys (their subscriptions stop)", permissions=["change"])
    def revoke(self, request: HttpRequest, queryset: QuerySet[ApiKey]) -> None:
        revoked = services.api_keys_revoke(key_ids=list(queryset.values_list("id", flat=True)))
        self.message_user(request, f"{revoked} key(s) revoked.", messages.SUCCESS)


class JsonListField(forms.Field):
    """A list of strings typed as "a, b, c" (or a JSON list)."""

    widget = forms.TextInput

    def prepare_value(self, value: Any) -> str:
        if isinstance(value, list):
            return ", ".join(str(v) for v in value)
        if isinstance(value, str) and value.startswith("["):
            try:
                return ", ".join(str(v) for v in json.loads(value))
            except ValueError:
                return value
        return "" if value is None else str(value)

    def to_python(self, value: Any) -> list[str]:
        text = "" if value is None else str(value)
        if text.strip().startswith("["):
            try:
                loaded = json.loads(text)
            except ValueError:
                raise ValidationError("Not a JSON list; or type the items separated by commas.") from None
            return [str(v) for v in loaded] if isinstance(loaded, list) else []
        return [item.strip() for item in text.split(",") if item.strip()]


class SubscriptionForm(forms.ModelForm):
    target_url = forms.URLField(
        max_length=500, assume_scheme="https", help_text="http(s), a public host, the scheme's default port."
    )
    providers = JsonListField(required=False, help_text="Provider slugs, comma-separated; empty: every provider.")
    model_ids = JsonListField(
        required=False, label="Models", help_text="Canonical model slugs or providers' own ids; empty: every model."
    )
    components = JsonListField(required=False, help_text="input, cached_input, output…; empty: every component.")
    secret = forms.CharField(
        required=False,
        max_length=200,
        help_text="Signs every delivery. Leave empty to generate one (shown on the subscription afterwards).",
    )

    class Meta:
        model = WebhookSubscription
        fields = [
            "api_key",
            "target_url",
            "secret",
            "description",
            "providers",
            "model_ids",
            "components",
            "min_change_percent",
            "active",
        ]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if self.errors:
            return data
        if not data.get("secret"):
            data["secret"] = self.instance.secret or services.new_secret()
        probe = WebhookSubscription(
            target_url=data.get("target_url") or "",
            secret=data["secret"],
            providers=data.get("providers") or [],
            model_ids=data.get("model_ids") or [],
            components=data.get("components") or [],
            min_change_percent=data.get("min_change_percent") or 0,
        )
        try:
            services.subscription_clean(probe)
        except ValidationError as exc:
            for name, problems in exc.message_dict.items():
                self.add_error("model_ids" if name == "models" else name, problems)
            return data
        data.update(providers=probe.providers, model_ids=probe.model_ids, components=probe.components)
        return data


@admin.register(WebhookSubscription)
class WebhookSubscriptionAdmin(admin.ModelAdmin):
    form = SubscriptionForm
    list_display = [
        "target_url",
        "api_key",
        "active",
        "filters",
        "consecutive_failures",
        "disabled_at",
        "created_at",
    ]
    list_filter = ["active"]
    search_fields = ["target_url", "description", "api_key__name", "disabled_reason"]
    list_select_related = ["api_key"]
    readonly_fields = ["consecutive_failures", "disabled_at", "disabled_reason", "created_by", "created_at", "log"]
    actions = ["disable", "enable"]

    @admin.display(description="filters")
    def filters(self, subscription: WebhookSubscription) -> str:
        parts = [
            f"providers: {', '.join(subscription.providers)}" if subscription.providers else "",
            f"models: {', '.join(subscription.model_ids)}" if subscription.model_ids else "",
            f"components: {', '.join(subscription.components)}" if subscription.components else "",
            f"≥ {subscription.min_change_percent}%" if subscription.min_change_percent else "",
        ]
        return "; ".join(p for p in parts if p) or "every change"

    @admin.display(description="deliveries")
    def log(self, subscription: WebhookSubscription) -> str:
        if subscription.pk is None:
            return "—"
        url = reverse("admin:webhooks_webhookdelivery_changelist") + f"?subscription__id__exact={subscription.pk}"
        return format_html('<a href="{}">{} deliveries</a>', url, subscription.deliveries.count())

    def save_model(self, request: HttpRequest, obj: WebhookSubscription, form: Any, change: bool) -> None:
        if not change:
            obj.created_by = request.user if request.user.is_authenticated else None  # type: ignore[assignment]
        reenabled = change and "active" in form.changed_data and obj.active
        super().save_model(request, obj, form, change)
        if reenabled:
            services.subscription_enable(subscription=obj)
        elif change and "active" in form.changed_data and not obj.active:
            services.subscription_disable(subscription=obj, reason=f"paused by {request.user}")

    @admin.action(description="Disable the selected subscriptions", permissions=["change"])
    def disable(self, request: HttpRequest, queryset: QuerySet[WebhookSubscription]) -> None:
        for subscription in queryset.filter(active=True):
            services.subscription_disable(subscription=subscription, reason=f"paused by {request.user}")
        self.message_user(request, "Disabled.", messages.SUCCESS)

    @admin.action(description="Enable the selected subscriptions (failures start over)", permissions=["change"])
    def enable(self, request: HttpRequest, queryset: QuerySet[WebhookSubscription]) -> None:
        for subscription in queryset:
            services.subscription_enable(subscription=subscription)
        self.message_user(request, "Enabled.", messages.SUCCESS)


DELIVERY_FIELDS = (
    "event_id",
    "subscription",
    "status",
    "origin",
    "event_count",
    "attempts",
    "status_code",
    "latency_ms",
    "last_error",
    "created_at",
    "last_attempt_at",
    "next_attempt_at",
    "delivered_at",
    "events_shown",
)


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(admin.ModelAdmin):
    """The delivery log: read-only."""

    list_display = [
        "event_id",
        "subscription",
        "status",
        "event_count",
        "attempts",
        "status_code",
        "latency_ms",
        "created_at",
        "last_attempt_at",
        "delivered_at",
    ]
    list_filter = ["status"]
    search_fields = ["event_id", "subscription__target_url", "last_error", "origin"]
    list_select_related = ["subscription"]
    fields = DELIVERY_FIELDS
    readonly_fields = DELIVERY_FIELDS

    @admin.display(description="events")
    def events_shown(self, delivery: WebhookDelivery) -> str:
        return format_html("<pre>{}</pre>", json.dumps(delivery.events, indent=2, ensure_ascii=False))

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

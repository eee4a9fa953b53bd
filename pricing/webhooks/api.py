"""``/api/v1/webhooks/``: a subscriber registers, lists and deletes its subscriptions with its API key
(``Authorization: Bearer <key>``), and reads each one's delivery log. Every other API endpoint needs no key."""

from __future__ import annotations

from typing import Any, cast

from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import QuerySet
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.decorators import action
from rest_framework.exceptions import AuthenticationFailed, NotFound, ValidationError
from rest_framework.permissions import BasePermission
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response

from pricing.webhooks import services
from pricing.webhooks.models import ApiKey, WebhookDelivery, WebhookSubscription
from providers.base import COMPONENTS

MAX_ID = 2**63 - 1
DELIVERIES_SHOWN = 50


class ApiKeyAuthentication(BaseAuthentication):
    """``Authorization: Bearer <key>`` with a key a curator issued; the request's ``auth`` is its ApiKey."""

    def authenticate(self, request: Request) -> tuple[AnonymousUser, ApiKey] | None:
        words = get_authorization_header(request).split()
        if not words or words[0].lower() != b"bearer":
            return None
        if len(words) != 2:
            raise AuthenticationFailed("Send one key: Authorization: Bearer <key>.")
        try:
            key = words[1].decode("ascii")
        except UnicodeDecodeError:
            raise AuthenticationFailed("Unknown or revoked API key.") from None
        api_key = services.api_key_authenticate(key=key)
        if api_key is None:
            raise AuthenticationFailed("Unknown or revoked API key.")
        return AnonymousUser(), api_key

    def authenticate_header(self, request: Request) -> str:
        return 'Bearer realm="webhooks"'


class ApiKeyScheme(OpenApiAuthenticationExtension):
    target_class = ApiKeyAuthentication
    name = "apiKey"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "An API key a curator issued in the admin (shown once when issued).",
        }


class HasApiKey(BasePermission):
    message = "An API key is needed: Authorization: Bearer <key> (a curator issues keys)."

    def has_permission(self, request: Request, view: Any) -> bool:
        return isinstance(request.auth, ApiKey)


class SubscriptionSerializer(serializers.ModelSerializer):
    """A subscription as its owner sees it (the secret is only shown when it is created)."""

    models = serializers.ListField(
        source="model_ids",
        child=serializers.CharField(max_length=200),
        max_length=services.MAX_FILTER_ITEMS,
        required=False,
        help_text="Canonical model slugs or the providers' own model ids; empty: every model.",
    )
    providers = serializers.ListField(
        child=serializers.CharField(max_length=80),
        max_length=services.MAX_FILTER_ITEMS,
        required=False,
        help_text="Provider slugs; empty: every provider.",
    )
    components = serializers.ListField(
        child=serializers.ChoiceField(choices=COMPONENTS),
        max_length=len(COMPONENTS),
        required=False,
        help_text="Components to hear about; empty: every component.",
    )
    min_change_percent = serializers.DecimalField(
        max_digits=8,
        decimal_places=2,
        min_value=0,
        max_value=100000,
        required=False,
        coerce_to_string=False,
        help_text="Only changes at least this large, up or down; a new price always passes.",
    )
    secret = serializers.CharField(
        write_only=True,
        required=False,
        min_length=services.MIN_SECRET_LENGTH,
        max_length=200,
        help_text="Signs every delivery; leave it out to get a generated one in the answer.",
    )

    class Meta:
        model = WebhookSubscription
        fields = [
            "id",
            "target_url",
            "secret",
            "description",
            "providers",
            "models",
            "components",
            "min_change_percent",
            "active",
            "consecutive_failures",
            "disabled_at",
            "disabled_reason",
            "created_at",
        ]
        read_only_fields = ["id", "active", "consecutive_failures", "disabled_at", "disabled_reason", "created_at"]
        extra_kwargs = {"target_url": {"help_text": "Where events are POSTed: http(s), a public host, default port."}}


class SubscriptionCreatedSerializer(SubscriptionSerializer):
    """The answer to a registration: the subscription with its secret, shown this once."""

    signing_secret = serializers.CharField(
        source="secret", read_only=True, help_text="Verify each delivery's X-Tokenprices-Signature with it."
    )

    class Meta(SubscriptionSerializer.Meta):
        fields = [*SubscriptionSerializer.Meta.fields, "signing_secret"]


class DeliverySerializer(serializers.ModelSerializer):
    class Meta:
        model = WebhookDelivery
        fields = [
            "event_id",
            "status",
            "event_count",
            "origin",
            "attempts",
            "status_code",
            "latency_ms",
            "last_error",
            "created_at",
            "last_attempt_at",
            "next_attempt_at",
            "delivered_at",
        ]
        read_only_fields = fields


ERROR = OpenApiResponse(
    response={"type": "object", "additionalProperties": True},
    description='Bad input: each bad field with what it accepts, e.g. {"target_url": ["..."]}.',
)
NO_KEY = OpenApiResponse(
    response={"type": "object", "additionalProperties": True},
    description="No API key, or an unknown or revoked one.",
)
NOT_FOUND = OpenApiResponse(
    response={"type": "object", "additionalProperties": True},
    description="No such subscription among this key's.",
)
SUBSCRIPTION_ID = OpenApiParameter("id", int, OpenApiParameter.PATH, description="Subscription id.")


@extend_schema_view(
    list=extend_schema(
        summary="Your webhook subscriptions",
        responses={200: SubscriptionSerializer(many=True), 401: NO_KEY},
    ),
    create=extend_schema(
        summary="Register a webhook subscription",
        description="Every published price change that passes the filters is POSTed to `target_url` as JSON, in "
        "batches of up to 100 events, signed with HMAC-SHA256 (`X-Tokenprices-Signature: t=<unix time>,v1=<hex>` "
        "over `<t>.<body>`). See the README's Webhooks section for the event format and how to verify it.",
        request=SubscriptionSerializer,
        responses={201: SubscriptionCreatedSerializer, 400: ERROR, 401: NO_KEY},
    ),
    retrieve=extend_schema(
        summary="One of your webhook subscriptions",
        parameters=[SUBSCRIPTION_ID],
        responses={200: SubscriptionSerializer, 401: NO_KEY, 404: NOT_FOUND},
    ),
    destroy=extend_schema(
        summary="Delete a webhook subscription",
        description="Nothing more is sent to it, including deliveries still waiting.",
        parameters=[SUBSCRIPTION_ID],
        responses={204: None, 401: NO_KEY, 404: NOT_FOUND},
    ),
    enable=extend_schema(
        summary="Deliver to a disabled subscription again",
        description="After its target is fixed: its failure count starts over and the disabling note is cleared.",
        parameters=[SUBSCRIPTION_ID],
        request=None,
        responses={200: SubscriptionSerializer, 401: NO_KEY, 404: NOT_FOUND},
    ),
    deliveries=extend_schema(
        summary="A subscription's latest deliveries",
        description=f"The {DELIVERIES_SHOWN} latest POSTs, newest first: status, attempts, HTTP status, latency.",
        parameters=[SUBSCRIPTION_ID],
        responses={200: DeliverySerializer(many=True), 401: NO_KEY, 404: NOT_FOUND},
    ),
)
class WebhookSubscriptionViewSet(
    mixins.ListModelMixin,
    mixins.CreateModelMixin,
    mixins.RetrieveModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    authentication_classes = [ApiKeyAuthentication]
    permission_classes = [HasApiKey]
    renderer_classes = [JSONRenderer]
    serializer_class = SubscriptionSerializer
    # Any path segment reaches the view, so a bad id gets a JSON 404 rather than Django's HTML one.
    lookup_value_regex = r"[^/]+"

    def get_queryset(self) -> QuerySet[WebhookSubscription]:
        return WebhookSubscription.objects.filter(api_key=cast(ApiKey, self.request.auth)).order_by("id")

    def get_object(self) -> WebhookSubscription:
        pk = str(self.kwargs.get("pk", ""))
        if not pk.isascii() or not pk.isdigit() or int(pk) > MAX_ID:
            raise NotFound("No such subscription.")
        found = self.get_queryset().filter(pk=int(pk)).first()
        if found is None:
            raise NotFound("No such subscription.")
        return found

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        incoming = SubscriptionSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        data = incoming.validated_data
        try:
            subscription = services.subscription_create(
                api_key=cast(ApiKey, request.auth),
                target_url=data["target_url"],
                secret=data.get("secret", ""),
                providers=data.get("providers", []),
                model_ids=data.get("model_ids", []),
                components=data.get("components", []),
                min_change_percent=data.get("min_change_percent", 0),
                description=data.get("description", ""),
            )
        except DjangoValidationError as exc:
            raise ValidationError(exc.message_dict) from exc
        return Response(SubscriptionCreatedSerializer(subscription).data, status=status.HTTP_201_CREATED)

    @action(detail=True, methods=["post"])
    def enable(self, request: Request, pk: str) -> Response:
        subscription = self.get_object()
        services.subscription_enable(subscription=subscription)
        return Response(SubscriptionSerializer(subscription).data)

    @action(detail=True, methods=["get"])
    def deliveries(self, request: Request, pk: str) -> Response:
        subscription = self.get_object()
        rows = subscription.deliveries.order_by("-id")[:DELIVERIES_SHOWN]
        return Response(DeliverySerializer(rows, many=True).data)

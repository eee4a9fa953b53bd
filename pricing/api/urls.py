"""``/api/v1/...`` endpoints, the OpenAPI schema at ``/api/schema/`` and its docs at ``/api/docs/`` (Swagger UI)
and ``/api/redoc/`` (ReDoc), both served from the sidecar's static files."""

from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView
from rest_framework.routers import DefaultRouter

from pricing.api import docs, models_api, views
from pricing.webhooks.api import WebhookSubscriptionViewSet

router = DefaultRouter(trailing_slash=True)
router.include_format_suffixes = False
router.register("offerings", views.OfferingViewSet, basename="offering")
router.register("prices", views.PriceViewSet, basename="price")
router.register("changes", views.ChangeViewSet, basename="change")
router.register("providers", views.ProviderViewSet, basename="provider")
router.register("models", models_api.ModelViewSet, basename="model")
router.register("sources", views.SourceViewSet, basename="source")
router.register("estimate", views.EstimateViewSet, basename="estimate")
router.register("webhooks", WebhookSubscriptionViewSet, basename="webhook")

app_name = "api"
urlpatterns = [
    path("v1/", include(router.urls)),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", docs.SwaggerDocsView.as_view(), name="docs"),
    path("redoc/", docs.redoc, name="redoc"),
]

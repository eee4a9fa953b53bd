"""``/compat/...``: price files in other tools' formats."""

from django.urls import path

from pricing.compat import views

app_name = "compat"
urlpatterns = [
    path("litellm/model_prices_and_context_window.json", views.litellm_cost_map, name="litellm"),
    path("models.dev/api.json", views.models_dev_api, name="models-dev"),
]

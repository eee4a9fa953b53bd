"""Interactive API docs served entirely from this site: Swagger UI and ReDoc come from
drf-spectacular-sidecar's static files (``SWAGGER_UI_DIST``/``REDOC_DIST = "SIDECAR"``), never a CDN,
and their pages carry no inline script or style (the Swagger UI set-up script is its own response,
``?script``), so they work offline and under a Content-Security-Policy without 'unsafe-inline'."""

from __future__ import annotations

from drf_spectacular.views import SpectacularRedocView, SpectacularSwaggerSplitView


class SwaggerDocsView(SpectacularSwaggerSplitView):
    template_name = "api/swagger_ui.html"
    url_name = "api:schema"


class RedocDocsView(SpectacularRedocView):
    template_name = "api/redoc.html"
    url_name = "api:schema"

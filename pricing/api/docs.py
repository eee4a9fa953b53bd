"""Interactive API docs served entirely from this site: Swagger UI and ReDoc come from
drf-spectacular-sidecar's static files (``SWAGGER_UI_DIST``/``REDOC_DIST = "SIDECAR"``), never a CDN,
and their pages carry no inline script or style (the Swagger UI set-up script is its own response,
``?script``), so they work offline and under the site's Content-Security-Policy. One exception: ReDoc
builds its look with styled-components, which writes ``<style>`` elements at run time, so the ReDoc page
alone allows inline *styles* (never scripts); it shows nothing but our own schema."""

from __future__ import annotations

from csp.constants import UNSAFE_INLINE
from csp.decorators import csp_update
from drf_spectacular.views import SpectacularRedocView, SpectacularSwaggerSplitView


class SwaggerDocsView(SpectacularSwaggerSplitView):
    template_name = "api/swagger_ui.html"
    url_name = "api:schema"


class RedocDocsView(SpectacularRedocView):
    template_name = "api/redoc.html"
    url_name = "api:schema"


redoc = csp_update({"style-src": [UNSAFE_INLINE], "worker-src": ["'self'", "blob:"]})(RedocDocsView.as_view())

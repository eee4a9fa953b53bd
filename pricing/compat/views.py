"""The compatible price files over HTTP: ``as_of`` and ``currency``, conditional GETs answered from the
price-change stamp, the body cached as bytes per stamp, and gzip when the client accepts it."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Callable
from typing import Any

from django.core.cache import cache
from django.http import HttpRequest, HttpResponse, HttpResponseBase, JsonResponse
from django.utils.cache import get_conditional_response
from django.utils.http import http_date
from django.views.decorators.gzip import gzip_page
from django.views.decorators.http import require_GET
from rest_framework.exceptions import ValidationError

from pricing import answers, selectors
from pricing.api.params import MomentField, rates_for
from pricing.compat import files

CACHE_SECONDS = 60 * 60
Builder = Callable[..., dict[str, Any]]


def _params(request: HttpRequest) -> tuple[dt.datetime | None, str]:
    as_of_text = request.GET.get("as_of", "").strip()
    try:
        as_of = MomentField().to_internal_value(as_of_text) if as_of_text else None
    except ValidationError as exc:
        raise ValidationError({"as_of": exc.detail}) from exc
    currency = (request.GET.get("currency") or selectors.BASE_CURRENCY).strip().upper()
    if len(currency) != 3:
        raise ValidationError({"currency": ["Expected a three-letter currency code such as USD."]})
    return as_of, currency


def _serve(request: HttpRequest, *, name: str, build: Builder) -> HttpResponseBase:
    stamp = selectors.prices_changed_at()
    digest = hashlib.sha256(f"{name}|{request.get_full_path()}|{stamp.isoformat()}".encode()).hexdigest()[:40]
    etag, last_modified = f'"{digest}"', int(stamp.timestamp())
    response = get_conditional_response(request, etag=etag, last_modified=last_modified)
    if response is None:
        key = f"compat:{digest}"
        content = cache.get(key)
        if content is None:
            try:
                as_of, currency = _params(request)
                rates = rates_for(currency=currency, as_of=as_of)
            except ValidationError as exc:
                return JsonResponse(exc.detail, status=400)
            data = build(as_of=as_of, currency=currency, rates=rates)
            content = json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode()
            cache.set(key, content, CACHE_SECONDS)
        response = HttpResponse(content, content_type="application/json")
    response["ETag"] = etag
    response["Last-Modified"] = http_date(last_modified)
    response["Cache-Control"] = "public, max-age=300"
    return response


@require_GET
@answers.stored_file
@gzip_page
def litellm_cost_map(request: HttpRequest) -> HttpResponseBase:
    """LiteLLM's model_prices_and_context_window.json (point ``LITELLM_MODEL_COST_MAP_URL`` here)."""
    return _serve(request, name="litellm", build=files.litellm_cost_map)


@require_GET
@answers.stored_file
@gzip_page
def models_dev_api(request: HttpRequest) -> HttpResponseBase:
    """models.dev's api.json (opencode reads it from ``OPENCODE_MODELS_URL``)."""
    return _serve(request, name="models.dev", build=files.models_dev_api)

"""The API request that answers what a page shows, for the copyable ``curl`` under it."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, QueryDict
from django.urls import reverse

from pricing.api.params import MAX_LIMIT

# Leaderboard sort -> the offerings list's ``ordering``.
ORDERING_OF_SORT = {"blended": "blended", "input": "input", "cached_input": "cached_input", "output": "output"}


def _query(pairs: list[tuple[str, Any]]) -> str:
    query = QueryDict(mutable=True)
    for name, value in pairs:
        if value not in (None, "", False):
            query[name] = "true" if value is True else str(value)
    return query.urlencode(safe=",:")


def leaderboard_api_url(request: HttpRequest, values: dict[str, Any], *, page_number: int = 1) -> str:
    """``/api/v1/offerings/?…`` with the leaderboard's filters, display and page (absolute)."""
    per_page = MAX_LIMIT if values.get("per_page") == "all" else int(values.get("per_page") or 50)
    ratio = values.get("ratio")
    sort = values.get("sort") or "blended"
    ordering = ORDERING_OF_SORT.get(sort, "name")
    pairs: list[tuple[str, Any]] = [
        ("q", values.get("q")),
        ("provider", values.get("provider")),
        ("creator", values.get("creator")),
        ("min_context", values.get("min_context") or None),
        ("open_weights", {"yes": "true", "no": "false"}.get(values.get("open_weights") or "")),
        ("region", values.get("region")),
        ("min_price", values.get("min_price")),
        ("max_price", values.get("max_price")),
        ("include_free", bool(values.get("include_free"))),
        ("include_unlisted", bool(values.get("include_unlisted"))),
        ("include_missing", bool(values.get("include_missing"))),
        ("mode", values.get("mode") if values.get("mode") != "standard" else None),
        ("unit", values.get("unit") if values.get("unit") != "mtok" else None),
        ("language", values.get("language") if values.get("language") != "en" else None),
        ("currency", values.get("currency") if values.get("currency") != "USD" else None),
        ("ratio", f"{ratio[0]}:{ratio[1]}" if ratio and tuple(ratio) != (3, 1) else None),
        ("as_of", values.get("as_of")),
        ("ordering", f"-{ordering}" if values.get("dir") == "desc" else ordering),
        ("limit", min(per_page, MAX_LIMIT)),
        ("offset", (page_number - 1) * per_page or None),
    ]
    return request.build_absolute_uri(reverse("api:offering-list")) + "?" + _query(pairs)

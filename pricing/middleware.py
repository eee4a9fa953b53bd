"""Request limits, applied before any view or parser reads a body.

A body larger than ``REQUEST_MAX_BODY_BYTES`` is refused with 413 from its declared length, unread; a
JSON body nested deeper than ``REQUEST_MAX_JSON_DEPTH`` is refused with 400 before it is parsed (the
parser would recurse until it fails). The largest legitimate body is a pasted text for a word count
(``pricing.api.params.MAX_TEXT_CHARS`` characters, JSON-escaped), and the cap leaves room for it.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse

BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_JSON_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")


def json_depth(body: bytes) -> int:
    """How deeply ``body``'s arrays and objects nest, strings skipped; at C speed but for the brackets."""
    depth = deepest = 0
    for bracket in _JSON_STRING.sub(b"", body).translate(None, _NOT_BRACKETS):
        if bracket in b"[{":
            depth += 1
            deepest = max(deepest, depth)
        else:
            depth -= 1
    return deepest


class RequestLimitsMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.method in BODY_METHODS:
            refused = self.refusal(request)
            if refused is not None:
                return refused
        return self.get_response(request)

    @staticmethod
    def refusal(request: HttpRequest) -> HttpResponse | None:
        cap = settings.REQUEST_MAX_BODY_BYTES
        declared = request.META.get("CONTENT_LENGTH") or "0"
        if not declared.isdigit():
            return JsonResponse({"detail": "Content-Length is not a number."}, status=400)
        if int(declared) > cap:
            return JsonResponse(
                {"detail": f"The request body is {declared} bytes; at most {cap} are accepted."}, status=413
            )
        if "json" in (request.content_type or "") and int(declared):
            depth = json_depth(request.body)
            if depth > settings.REQUEST_MAX_JSON_DEPTH:
                limit = settings.REQUEST_MAX_JSON_DEPTH
                return JsonResponse({"detail": f"JSON nested {depth} levels deep; at most {limit}."}, status=400)
        return None

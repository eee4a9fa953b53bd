"""The anonymous API rate, counted the same way whether the answer was stored or computed.

A fixed window per client that starts at its first request (``throttle:anon:<ident>``: one counter and
its expiry in Redis), so the stored-answer middleware counts a hit in the same round trip that fetches
it, and DRF counts everything else with the same counter. A fixed window allows a burst of up to twice
the rate across a window's edge; in exchange a request costs one round trip instead of DRF's read and
rewrite of the client's whole request history. While the cache is down, nothing is counted (README).
"""

from __future__ import annotations

from typing import Any

from rest_framework.request import Request
from rest_framework.throttling import AnonRateThrottle

from pricing import answers


class AnonWindowThrottle(AnonRateThrottle):
    def allow_request(self, request: Request, view: Any) -> bool:
        if request.user and request.user.is_authenticated:
            return True
        if getattr(request._request, "answer_counted", False):
            return True  # the stored-answer middleware counted (and allowed) it
        _, verdict = answers.lookup([], request._request)
        self.verdict = verdict
        return verdict.allowed

    def wait(self) -> float | None:
        return float(self.verdict.wait_seconds)

"""Who is asking: the client's address, read the same way everywhere (API throttle, login lockout).

``X-Forwarded-For`` is trusted only as far as ``NUM_PROXIES`` proxies append to it (0 by default: the
header is ignored and the connecting address is the client). Trusting more would let any client name
itself anything and walk past the throttle or the login lockout.
"""

from __future__ import annotations

from django.http import HttpRequest
from rest_framework.throttling import BaseThrottle

_THROTTLE = BaseThrottle()


def client_ip(request: HttpRequest) -> str | None:
    """The address ``NUM_PROXIES`` hops back in ``X-Forwarded-For``, else the connecting address."""
    ident: str | None = _THROTTLE.get_ident(request)  # type: ignore[arg-type]
    return ident or None

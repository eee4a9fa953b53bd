"""A Redis cache that the site survives losing.

The cache only ever holds copies (rendered pages, API bodies, throttle counters): every reader can
rebuild what it needs from the database. So when Redis is down or slow, a cache call is a miss (a
write is dropped) instead of an error, and pages are served uncached. After a failure the cache is
skipped for ``RETRY_AFTER_S`` so that requests do not each wait for a connect timeout; then it is
tried again, and serving from Redis resumes by itself. The price-change stamp does not live here
(``pricing.services.ingest.prices_changed``): it is in the database, with the prices.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.redis import RedisCache
from redis.exceptions import RedisError

log = logging.getLogger(__name__)

RETRY_AFTER_S = 2.0
# Failures of a cache server: connection refused or reset, timeouts, a server still loading.
FAILURES = (RedisError, OSError)


class _Breaker:
    """Per-process state shared by the per-thread cache instances of one location."""

    def __init__(self) -> None:
        self.down_until = 0.0
        self.down = False
        self.lock = threading.Lock()

    def open(self) -> bool:
        return time.monotonic() < self.down_until

    def failed(self, location: str, exc: BaseException) -> None:
        with self.lock:
            self.down_until = time.monotonic() + RETRY_AFTER_S
            if not self.down:
                self.down = True
                log.warning("cache %s is unavailable (%s); serving uncached", location, exc)

    def succeeded(self, location: str) -> None:
        if self.down:
            with self.lock:
                if self.down:
                    self.down = False
                    log.warning("cache %s is back", location)


_BREAKERS: dict[str, _Breaker] = {}
_BREAKERS_LOCK = threading.Lock()


def _breaker(location: str) -> _Breaker:
    with _BREAKERS_LOCK:
        return _BREAKERS.setdefault(location, _Breaker())


class ResilientRedisCache(RedisCache):
    """Django's Redis cache, where an unreachable server reads as a miss and writes as a no-op."""

    def __init__(self, server: str, params: dict[str, Any]) -> None:
        super().__init__(server, params)
        self._location = server if isinstance(server, str) else ",".join(server)
        self._state = _breaker(self._location)
        self._fast_client: Any = None

    def _guard(self, call: Any, fallback: Any) -> Any:
        if self._state.open():
            return fallback
        try:
            result = call()
        except FAILURES as exc:
            self._state.failed(self._location, exc)
            return fallback
        self._state.succeeded(self._location)
        return result

    def add(self, key: Any, value: Any, timeout: Any = DEFAULT_TIMEOUT, version: Any = None) -> bool:
        return self._guard(lambda: super(ResilientRedisCache, self).add(key, value, timeout, version), False)

    def get(self, key: Any, default: Any = None, version: Any = None) -> Any:
        return self._guard(lambda: super(ResilientRedisCache, self).get(key, default, version), default)

    def set(self, key: Any, value: Any, timeout: Any = DEFAULT_TIMEOUT, version: Any = None) -> None:
        self._guard(lambda: super(ResilientRedisCache, self).set(key, value, timeout, version), None)

    def touch(self, key: Any, timeout: Any = DEFAULT_TIMEOUT, version: Any = None) -> bool:
        return self._guard(lambda: super(ResilientRedisCache, self).touch(key, timeout, version), False)

    def delete(self, key: Any, version: Any = None) -> bool:
        return self._guard(lambda: super(ResilientRedisCache, self).delete(key, version), False)

    def get_many(self, keys: Any, version: Any = None) -> dict[str, Any]:
        return self._guard(lambda: super(ResilientRedisCache, self).get_many(keys, version), {})

    def has_key(self, key: Any, version: Any = None) -> bool:
        return self._guard(lambda: super(ResilientRedisCache, self).has_key(key, version), False)

    def set_many(self, data: Any, timeout: Any = DEFAULT_TIMEOUT, version: Any = None) -> list[str]:
        return self._guard(lambda: super(ResilientRedisCache, self).set_many(data, timeout, version), list(data))

    def delete_many(self, keys: Any, version: Any = None) -> None:
        self._guard(lambda: super(ResilientRedisCache, self).delete_many(keys, version), None)

    def clear(self) -> None:
        self._guard(lambda: super(ResilientRedisCache, self).clear(), None)

    def available(self) -> bool:
        """False while the server is taken for down (a recent failure)."""
        return not self._state.open()

    def get_counted(self, keys: list[str], counter: str | None, window_s: int = 0) -> tuple[list[Any], int | None, int]:
        """The values of ``keys`` (None where missing), and ``counter`` counted up in a window of
        ``window_s`` seconds that starts at its first count: (values, count, seconds left in the window), in
        one round trip; ([None...], None, 0) while the server is down. The stored-answer middleware's lookup
        and the client's rate in one go, through one client object (Django makes a client, with its
        callback tables, for every call)."""
        missing: list[Any] = [None] * len(keys)
        if not keys and counter is None:
            return missing, None, 0

        def call() -> tuple[list[Any], int | None, int]:
            client = self._fast_client
            if client is None:
                client = self._fast_client = self._cache.get_client(None, write=True)  # type: ignore[attr-defined]
            pipe = client.pipeline(transaction=False)
            for key in keys:
                pipe.get(self.make_and_validate_key(key))
            if counter is not None:
                counter_key = self.make_and_validate_key(counter)
                pipe.set(counter_key, 0, ex=window_s, nx=True)
                pipe.incr(counter_key)
                pipe.ttl(counter_key)
            results = pipe.execute()
            loads = self._cache._serializer.loads  # type: ignore[attr-defined]
            values = [None if raw is None else loads(raw) for raw in results[: len(keys)]]
            if counter is None:
                return values, None, 0
            count, seconds_left = results[-2], results[-1]
            return values, int(count), int(seconds_left) if seconds_left and seconds_left > 0 else window_s

        return self._guard(call, (missing, None, 0))  # type: ignore[no-any-return]

    def incr(self, key: Any, delta: int = 1, version: Any = None) -> int:
        # A missing key is still a ValueError (Django's contract); only an unreachable server is hidden.
        if self._state.open():
            raise ValueError(f"Key '{key}' not found (cache unavailable)")
        try:
            result = super().incr(key, delta, version)
        except FAILURES as exc:
            self._state.failed(self._location, exc)
            raise ValueError(f"Key '{key}' not found (cache unavailable)") from exc
        self._state.succeeded(self._location)
        return result

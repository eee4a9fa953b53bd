"""Stored answers: cached API lists and pages kept as ready-to-send bytes, answered before Django's views.

A view marked with ``stored(view)`` (pages) or a DRF viewset action named in ``stored_actions`` (API
reads) is answered by ``StoredAnswerMiddleware`` from one cache entry per representation and encoding:
the body (identity, gzip or brotli, compressed once when it was stored), its headers, and the price
change stamp it was computed at. A hit costs the stamp read (one query), one cache round trip (which also
counts the client against the anonymous API rate) and a response object: no URL-to-view dispatch, no
DRF content negotiation, no serializer, no sessions.

Keys are the path, the query with its parameters sorted, and the representation (JSON or CSV; a page or
its htmx fragment); never the host or the port, since the bodies carry no absolute links. The stamp is in
the entry, not the key, so after a change the previous answer is still there to serve while a single
worker (the one that takes the key's lock) recomputes it: nobody else waits on a cold path, and the stale
answer says which stamp it shows (``X-Prices-Stamp``) and how old it is (``Age``). A stale answer is only
served while the lock is held and for at most ``ANSWER_STALE_MAX_SECONDS`` after the change; past that,
readers wait for the recompute (or do it themselves when the lock's holder died).

ETags are per representation: the key, the stamp and the encoding, so a 304 is answered from the stamp
alone, before the cache is read, and even while the cache is down.
"""

from __future__ import annotations

import datetime as dt
import functools
import gzip
import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import brotli
from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.http.response import HttpResponseBase
from django.urls import Resolver404, resolve
from django.utils.cache import get_conditional_response
from django.utils.http import http_date

# How long a stored answer is fresh with an unchanged stamp: pages say "verified 3 hours ago".
FRESH_SECONDS = getattr(settings, "ANSWER_FRESH_SECONDS", 300)
# How long the cache keeps an entry: long after it stops being fresh, to serve while it is recomputed.
KEEP_SECONDS = getattr(settings, "ANSWER_KEEP_SECONDS", 24 * 60 * 60)
# One worker recomputes a key; the lock frees itself after this long if that worker dies.
LOCK_SECONDS = getattr(settings, "ANSWER_LOCK_SECONDS", 30)
# A previous answer is served while another worker recomputes, up to this long after the change.
STALE_MAX_SECONDS = getattr(settings, "ANSWER_STALE_MAX_SECONDS", 120)
# With nothing stale to serve, how long a reader waits for another worker's recompute before its own.
WAIT_SECONDS = getattr(settings, "ANSWER_WAIT_SECONDS", 10)
WAIT_STEP_SECONDS = 0.05
# Smaller bodies are not worth compressing (headers cost more than the saving).
MIN_COMPRESS_BYTES = 512
# Fast settings: the compression is paid once per change, but a worker pays it while readers wait.
GZIP_LEVEL = 6
BROTLI_QUALITY = 5
ENCODINGS = ("br", "gzip", "identity")
ETAG_SUFFIX = {"br": "-br", "gzip": "-gz", "identity": ""}
# Headers of the computed response that are the answer's own; the rest are set per request.
SKIPPED_HEADERS = frozenset(
    {"content-length", "content-encoding", "etag", "last-modified", "cache-control", "vary", "date", "age"}
)
CACHE_CONTROL = "public, max-age=60"


@dataclass(frozen=True)
class Policy:
    kind: str  # "api" or "page"
    throttled: bool


API = Policy("api", throttled=True)
PAGE = Policy("page", throttled=False)
FILE = Policy("file", throttled=False)
VARY = {"api": "Accept, Accept-Encoding", "page": "HX-Request, HX-Target, Accept-Encoding", "file": "Accept-Encoding"}


def stored(view: Callable[..., Any], policy: Policy = PAGE) -> Callable[..., Any]:
    """Mark a page view (or, with ``FILE``, a file download) as answered from stored bytes."""
    view.stored_answer = policy  # type: ignore[attr-defined]
    return view


def stored_file(view: Callable[..., Any]) -> Callable[..., Any]:
    return stored(view, FILE)


@functools.lru_cache(maxsize=4096)
def policy_for(path: str) -> Policy | None:
    """Which stored-answer policy the view at ``path`` has (memoised: resolving is the costly part)."""
    try:
        match = resolve(path)
    except Resolver404:
        return None
    func = match.func
    policy = getattr(func, "stored_answer", None)
    if policy is not None:
        return policy  # type: ignore[no-any-return]
    view_class = getattr(func, "cls", None)
    action = (getattr(func, "actions", None) or {}).get("get")
    if view_class is not None and action in getattr(view_class, "stored_actions", ()):
        return API
    return None


def variant_of(request: HttpRequest, policy: Policy) -> str | None:
    """The representation asked for, or None when it is not one we store (the browsable API)."""
    if policy.kind == "file":
        return "file"
    if policy.kind == "page":
        if request.META.get("HTTP_HX_REQUEST") == "true":
            return "htmx:" + request.META.get("HTTP_HX_TARGET", "")
        return "html"
    wanted = request.GET.get("format")
    if wanted == "csv":
        return "csv"
    if wanted is not None and wanted != "json":
        return None
    accept = request.META.get("HTTP_ACCEPT", "")
    if wanted is None and accept and ("text/html" in accept or ("text/csv" in accept and "json" not in accept)):
        return None  # a browser (the browsable API) or a content negotiation DRF decides
    return "json"


def encoding_of(request: HttpRequest) -> str:
    """brotli, then gzip, then none: the first the client accepts (``q=0`` refuses one)."""
    header = request.META.get("HTTP_ACCEPT_ENCODING", "")
    if not header:
        return "identity"
    accepted = set()
    for item in header.split(","):
        name, _, params = item.strip().partition(";")
        if params.replace(" ", "") in ("q=0", "q=0.0", "q=0.00", "q=0.000"):
            continue
        accepted.add(name.strip().lower())
    if "br" in accepted:
        return "br"
    if "gzip" in accepted or "*" in accepted:
        return "gzip"
    return "identity"


def query_key(request: HttpRequest, variant: str) -> str:
    """The answer's key: path, parameters in sorted order, representation. No host, no port."""
    query = "&".join(f"{name}={value}" for name, values in sorted(request.GET.lists()) for value in values)
    return hashlib.blake2b(f"{request.path}?{query}|{variant}".encode(), digest_size=16).hexdigest()


def etag_for(key: str, stamp: str, encoding: str) -> str:
    digest = hashlib.blake2b(f"{key}|{stamp}".encode(), digest_size=12).hexdigest()
    return f'"{digest}{ETAG_SUFFIX[encoding]}"'


@functools.lru_cache(maxsize=64)
def last_modified(stamp: str) -> str:
    return http_date(int(dt.datetime.fromisoformat(stamp).timestamp()))


# --- the anonymous rate, counted in the same round trip as the lookup ---------------------------------------


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    wait_seconds: int = 0


ALLOWED = Verdict(True)


def anon_rate() -> tuple[int, int] | None:
    """(requests, seconds) of DRF's anonymous rate, read per request (tests and settings may change it)."""
    from rest_framework.throttling import AnonRateThrottle  # reads settings on import: not at ours

    rate = AnonRateThrottle.THROTTLE_RATES.get("anon")
    if not rate:
        return None
    num, duration = AnonRateThrottle().parse_rate(rate)
    if num is None or duration is None:
        return None
    return int(num), int(duration)


def throttle_key(request: HttpRequest) -> str:
    # DRF's identity of a client (the connecting address, or NUM_PROXIES hops back in X-Forwarded-For).
    from rest_framework.throttling import BaseThrottle

    return f"throttle:anon:{BaseThrottle().get_ident(request)}"  # type: ignore[arg-type]


def lookup(keys: list[str], request: HttpRequest | None) -> tuple[list[Any], Verdict]:
    """The values under ``keys`` (None where missing) and, when ``request`` is given, the client counted
    against the anonymous rate (a fixed window starting at its first request): one round trip on Redis."""
    rate = anon_rate() if request is not None else None
    getter = getattr(cache, "get_counted", None)
    num, window = rate if rate is not None else (0, 0)
    counter = throttle_key(request) if rate is not None and request is not None else None
    if getter is not None:
        values, count, seconds_left = getter(keys, counter, window)
    else:  # a cache without pipelines (the file cache in development): the same, in several calls
        found = cache.get_many(keys) if keys else {}
        values, count, seconds_left = [found.get(k) for k in keys], None, window
        if counter is not None:
            cache.add(counter, 0, window)
            try:
                count = cache.incr(counter)
            except ValueError:
                count = None
    if count is None or count <= num:  # None: not counted, or the cache is down, and so is the rate (README)
        return values, ALLOWED
    return values, Verdict(False, max(int(seconds_left), 1))


# --- the change stamp, mirrored in the cache ---------------------------------------------------------------

STAMP_MIRROR_KEY = "answers:prices-changed-at"


def mirror_seconds() -> int:
    """How long the cache may answer for the database's change stamp (0: always ask the database)."""
    return int(getattr(settings, "ANSWER_STAMP_MIRROR_SECONDS", 1))


def stamp_from_database() -> str:
    """The stamp from the database (the truth), copied to the cache for ``mirror_seconds`` unless a newer
    copy got there first: a copy made before a commit never overwrites the one its commit wrote."""
    from pricing import selectors  # the middleware loads before the app registry is ready

    stamp = selectors.prices_changed_at().isoformat()
    if mirror_seconds():
        cache.add(STAMP_MIRROR_KEY, stamp, mirror_seconds())
    return stamp


def stamp_published() -> None:
    """After a change commits: the cache's copy of the stamp is the new one at once (``prices_changed``)."""
    if mirror_seconds():
        from pricing import selectors

        cache.set(STAMP_MIRROR_KEY, selectors.prices_changed_at().isoformat(), mirror_seconds())


@functools.lru_cache(maxsize=64)
def stamp_seconds(stamp: str) -> int:
    return int(dt.datetime.fromisoformat(stamp).timestamp())


def throttled_response(verdict: Verdict) -> HttpResponse:
    response = JsonResponse(
        {"detail": f"Request was throttled. Expected available in {verdict.wait_seconds} seconds."}, status=429
    )
    response["Retry-After"] = str(verdict.wait_seconds)
    return response


# --- storing ------------------------------------------------------------------------------------------------


def compressed(body: bytes) -> dict[str, tuple[str, bytes]]:
    """The body in each encoding: {accepted encoding: (encoding sent, bytes)}."""
    if len(body) < MIN_COMPRESS_BYTES:
        return {encoding: ("identity", body) for encoding in ENCODINGS}
    return {
        "br": ("br", brotli.compress(body, quality=BROTLI_QUALITY)),
        "gzip": ("gzip", gzip.compress(body, compresslevel=GZIP_LEVEL, mtime=0)),
        "identity": ("identity", body),
    }


def entries_of(stamp: str, response: HttpResponseBase) -> dict[str, tuple[Any, ...]] | None:
    """A computed 200 as one entry per accepted encoding; None when it is not one to keep (cookies, streaming)."""
    if response.status_code != 200 or getattr(response, "streaming", False) or response.cookies:
        return None
    if response.has_header("Content-Encoding"):
        return None  # compressed by the view itself: keep it out rather than compress it twice
    if hasattr(response, "render") and not getattr(response, "is_rendered", True):
        response.render()
    headers = tuple((name, value) for name, value in response.items() if name.lower() not in SKIPPED_HEADERS)
    stored_at = time.time()
    return {
        accepted: (stamp, stored_at, encoding, headers, body)
        for accepted, (encoding, body) in compressed(response.content).items()  # type: ignore[attr-defined]
    }


def stamp_headers(response: HttpResponseBase, *, policy: Policy, key: str, stamp: str, encoding: str) -> None:
    response["ETag"] = etag_for(key, stamp, encoding)
    response["Last-Modified"] = last_modified(stamp)
    response["Cache-Control"] = CACHE_CONTROL
    response["Vary"] = VARY[policy.kind]
    response["X-Prices-Stamp"] = stamp


def served(entry: tuple[Any, ...], *, policy: Policy, key: str, state: str) -> HttpResponse:
    stamp, stored_at, encoding, headers, body = entry
    response = HttpResponse(body)
    for name, value in headers:
        response[name] = value
    if encoding != "identity":
        response["Content-Encoding"] = encoding
    response["Content-Length"] = str(len(body))
    stamp_headers(response, policy=policy, key=key, stamp=stamp, encoding=encoding)
    response["X-Answer"] = state
    if state == "stale":
        response["Age"] = str(max(int(time.time() - stored_at), 0))
    return response


def _cache_available() -> bool:
    available = getattr(cache, "available", None)
    return True if available is None else bool(available())


# --- the middleware ------------------------------------------------------------------------------------------


class StoredAnswerMiddleware:
    """Answers stored-answer GETs from the cache before sessions, auth, CSRF and the views run.

    Its place in ``MIDDLEWARE``: after the security, static file and CORS middleware (whose headers every
    answer needs), before everything that only the computing request needs.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response
        self.computed = 0  # answers this process computed; the stampede test reads it

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        if request.method != "GET":
            return self.get_response(request)
        policy = policy_for(request.path_info)
        if policy is None:
            return self.get_response(request)
        request.get_host()  # ALLOWED_HOSTS still applies (DisallowedHost is a 400), though nothing uses the host
        if policy.kind == "api" and settings.SESSION_COOKIE_NAME in request.COOKIES:
            return self.get_response(request)  # a signed-in user: DRF knows who it is (and its throttles)
        variant = variant_of(request, policy)
        if variant is None:
            return self.get_response(request)
        return self.answer(request, policy, variant)

    def answer(self, request: HttpRequest, policy: Policy, variant: str) -> HttpResponseBase:
        key = query_key(request, variant)
        encoding = encoding_of(request)
        entry_key = f"answer:{key}:{encoding}"
        counted = request if policy.throttled else None
        # One round trip: the stamp's copy, the stored answer, the client's count. The database is asked
        # for the stamp only when the copy (kept ANSWER_STAMP_MIRROR_SECONDS) has lapsed.
        mirrored = mirror_seconds() > 0
        (stamp, entry) = (None, None)
        values, verdict = lookup([STAMP_MIRROR_KEY, entry_key] if mirrored else [entry_key], counted)
        if mirrored:
            stamp, entry = values
        else:
            (entry,) = values
        if not verdict.allowed:
            return throttled_response(verdict)
        if counted is not None:
            request.answer_counted = True  # type: ignore[attr-defined]  # DRF's throttle does not count it again
        if stamp is None:
            stamp = stamp_from_database()
        not_modified = get_conditional_response(
            request, etag=etag_for(key, stamp, encoding), last_modified=stamp_seconds(stamp)
        )
        if not_modified is not None:
            stamp_headers(not_modified, policy=policy, key=key, stamp=stamp, encoding=encoding)
            return not_modified
        if entry is not None and entry[0] == stamp and time.time() - entry[1] < FRESH_SECONDS:
            return served(entry, policy=policy, key=key, state="hit")
        moment = dt.datetime.fromisoformat(stamp)
        return self.refresh(request, policy=policy, key=key, stamp=stamp, moment=moment, previous=entry)

    def refresh(
        self, request: HttpRequest, *, policy: Policy, key: str, stamp: str, moment: Any, previous: Any
    ) -> HttpResponseBase:
        """A miss, or an answer of an older stamp or past its freshness: one worker recomputes."""
        encoding = encoding_of(request)
        changed_lately = time.time() - moment.timestamp() < STALE_MAX_SECONDS
        warming = bool(request.META.get(WARMING))
        if not warming and previous is not None and previous[0] != stamp and changed_lately and key in warmed_keys():
            # The worker recomputes the most-read answers after each change (warm_answers): web workers
            # keep serving the previous one meanwhile rather than spend a request's time computing it.
            return served(previous, policy=policy, key=key, state="stale")
        lock = f"answer-lock:{key}:{stamp}"
        if cache.add(lock, 1, LOCK_SECONDS) or not _cache_available():
            try:
                return self.compute(request, policy=policy, key=key, stamp=stamp, moment=moment, encoding=encoding)
            finally:
                cache.delete(lock)
        # Another worker is recomputing this answer.
        if previous is not None and changed_lately:
            return served(previous, policy=policy, key=key, state="stale")
        if previous is not None and previous[0] == stamp:
            return served(previous, policy=policy, key=key, state="stale")  # same data, only past its freshness
        deadline = time.monotonic() + WAIT_SECONDS
        entry_key = f"answer:{key}:{encoding}"
        while time.monotonic() < deadline:
            time.sleep(WAIT_STEP_SECONDS)
            entry = cache.get(entry_key)
            if entry is not None and entry[0] == stamp:
                return served(entry, policy=policy, key=key, state="hit")
            if not cache.has_key(lock):
                break  # its holder finished without storing (an error) or died: compute it here
        return self.compute(request, policy=policy, key=key, stamp=stamp, moment=moment, encoding=encoding)

    def compute(
        self, request: HttpRequest, *, policy: Policy, key: str, stamp: str, moment: Any, encoding: str
    ) -> HttpResponseBase:
        # The view computes the plain body; the encodings are made here, once, for every client.
        accept_encoding = request.META.pop("HTTP_ACCEPT_ENCODING", None)
        try:
            response = self.get_response(request)
        finally:
            if accept_encoding is not None:
                request.META["HTTP_ACCEPT_ENCODING"] = accept_encoding
        self.computed += 1
        entries = entries_of(stamp, response)
        if entries is None:
            return response
        cache.set_many({f"answer:{key}:{accepted}": entry for accepted, entry in entries.items()}, KEEP_SECONDS)
        return served(entries[encoding], policy=policy, key=key, state="miss")


# --- warming after a change ------------------------------------------------------------------------------

# The most-read answers, computed by the worker after each change so readers rarely meet a cold path: the
# leaderboard's first page, the offerings list, the calculator's default workload as a page and through
# the API, and the compatible price files.
WARM_PATHS = getattr(
    settings,
    "ANSWER_WARM_PATHS",
    (
        "/",
        "/api/v1/offerings/?limit=100",
        "/calculator/",
        "/api/v1/estimate/?input_tokens=1000000&output_tokens=1000000",
        "/compat/litellm/model_prices_and_context_window.json",
        "/compat/models.dev/api.json",
    ),
)


# Marks the worker's own warming requests, which compute what readers are left to serve stale meanwhile.
WARMING = "pricing.answers.warming"


@functools.lru_cache(maxsize=1)
def warmed_keys() -> frozenset[str]:
    """The keys of ``WARM_PATHS`` as a client asks for them (JSON, the full page, the file)."""
    from django.test import RequestFactory

    keys = set()
    for path in WARM_PATHS:
        request = RequestFactory().get(path)
        policy = policy_for(request.path_info)
        variant = variant_of(request, policy) if policy is not None else None
        if variant is not None:
            keys.add(query_key(request, variant))
    return frozenset(keys)


def warm_soon() -> None:
    """Queue ``tasks.warm_answers`` (``services.prices_changed`` calls this once the change commits)."""
    stamp_published()
    if not getattr(settings, "ANSWER_WARM_AFTER_CHANGE", True):
        return
    from pricing import tasks

    tasks.warm_answers.apply_async(countdown=2)  # a burst of ingests (a snapshot load) mostly warms once


def warm(paths: tuple[str, ...] | list[str] = WARM_PATHS) -> dict[str, int]:
    """Request each path through the whole stack, as a client would, so its answer is computed and stored
    (in every encoding); an answer still fresh is a hit and costs nothing. {path: status}."""
    from django.core.handlers.wsgi import WSGIHandler
    from django.test import RequestFactory

    host = next((h for h in settings.ALLOWED_HOSTS if h and not h.startswith((".", "*"))), "localhost")
    handler = WSGIHandler()
    statuses: dict[str, int] = {}
    for path in paths:
        # As over HTTPS behind the proxy (production redirects plain HTTP; the answer is the same).
        request = RequestFactory().get(path, secure=True, HTTP_HOST=host, HTTP_X_FORWARDED_PROTO="https")
        environ = request.environ
        environ[WARMING] = True  # not an HTTP_ key: no client can send it
        started: list[str] = []

        def start_response(status: str, headers: Any, exc_info: Any = None, _started: list[str] = started) -> Any:
            _started.append(status)
            return lambda data: None

        result = handler(environ, start_response)
        if hasattr(result, "close"):
            result.close()
        statuses[path] = int(started[0].split()[0]) if started else 0
    return statuses

"""The one function that touches the network. Tests stub ``fetch``; everything else calls it.

Timeouts, retries with backoff on 429/5xx (honouring ``Retry-After``), a size cap, a User-Agent
naming the service, conditional GET, and refusal of any host the source did not declare, redirects
included.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

import requests

log = logging.getLogger(__name__)

CONNECT_TIMEOUT_S = 10
READ_TIMEOUT_S = 30
MAX_ATTEMPTS = 4
BACKOFF_BASE_S = 2.0
MAX_RETRY_AFTER_S = 120.0
MAX_REDIRECTS = 5
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
DEFAULT_USER_AGENT = "token-prices/1.0 (LLM price comparison; scrapes public price pages)"
DEFAULT_MAX_BYTES = 20 * 1024 * 1024


class FetchError(Exception):
    """The document could not be fetched. ``retryable`` says whether trying later may help."""

    def __init__(self, message: str, *, status: int | None = None, retryable: bool = False):
        super().__init__(message)
        self.status = status
        self.retryable = retryable


class HostNotAllowed(FetchError):
    pass


@dataclass(frozen=True)
class FetchResult:
    url: str
    status: int
    content: bytes
    content_type: str
    etag: str
    last_modified: str
    elapsed_ms: int

    @property
    def not_modified(self) -> bool:
        return self.status == 304


def _check_host(url: str, hosts: Sequence[str]) -> None:
    parts = urlsplit(url)
    if parts.scheme != "https" and parts.scheme != "http":
        raise HostNotAllowed(f"refusing {url!r}: only http(s) URLs are fetched")
    host = (parts.hostname or "").lower()
    if host not in {h.lower() for h in hosts}:
        raise HostNotAllowed(f"refusing {url!r}: host {host!r} is not one the source declares ({', '.join(hosts)})")


def _retry_after_s(response: requests.Response, attempt: int) -> float:
    header = response.headers.get("Retry-After", "").strip()
    if header.isdigit():
        return min(float(header), MAX_RETRY_AFTER_S)
    if header:
        try:
            when = email.utils.parsedate_to_datetime(header)
            return max(0.0, min((when - dt.datetime.now(dt.UTC)).total_seconds(), MAX_RETRY_AFTER_S))
        except (TypeError, ValueError):
            pass
    return BACKOFF_BASE_S * 2**attempt


def _read_capped(response: requests.Response, max_bytes: int) -> bytes:
    declared = response.headers.get("Content-Length", "")
    if declared.isdigit() and int(declared) > max_bytes:
        raise FetchError(f"{response.url}: {declared} bytes is over the {max_bytes}-byte cap")
    chunks, total = [], 0
    for chunk in response.iter_content(chunk_size=65536):
        total += len(chunk)
        if total > max_bytes:
            raise FetchError(f"{response.url}: body is over the {max_bytes}-byte cap")
        chunks.append(chunk)
    return b"".join(chunks)


def fetch(
    url: str,
    *,
    hosts: Sequence[str],
    etag: str = "",
    last_modified: str = "",
    user_agent: str = DEFAULT_USER_AGENT,
    max_bytes: int = DEFAULT_MAX_BYTES,
    timeout: tuple[float, float] = (CONNECT_TIMEOUT_S, READ_TIMEOUT_S),
    max_attempts: int = MAX_ATTEMPTS,
    sleep=time.sleep,
) -> FetchResult:
    """GET ``url`` politely and safely; a 304 comes back as a result with ``not_modified``."""
    headers = {"User-Agent": user_agent, "Accept-Encoding": "gzip, deflate"}
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    with requests.Session() as session:
        for attempt in range(max_attempts):
            started = time.monotonic()
            try:
                response = _get_following_redirects(session, url, hosts=hosts, headers=headers, timeout=timeout)
            except (requests.ConnectionError, requests.Timeout) as exc:
                if attempt + 1 >= max_attempts:
                    raise FetchError(f"{url}: {_network_failure(exc, timeout)}", retryable=True) from exc
                log.warning("fetch %s failed (%s); retrying", url, _network_failure(exc, timeout))
                sleep(BACKOFF_BASE_S * 2**attempt)
                continue
            except requests.RequestException as exc:
                raise FetchError(f"{url}: {exc}") from exc
            with response:
                if response.status_code in RETRY_STATUSES:
                    if attempt + 1 >= max_attempts:
                        raise FetchError(
                            f"{url}: HTTP {response.status_code} after {max_attempts} attempts",
                            status=response.status_code,
                            retryable=True,
                        )
                    delay = _retry_after_s(response, attempt)
                    log.warning("fetch %s got HTTP %s; retrying in %.1fs", url, response.status_code, delay)
                    sleep(delay)
                    continue
                if response.status_code == 304:
                    content = b""
                elif response.status_code >= 400:
                    raise FetchError(f"{url}: HTTP {response.status_code}", status=response.status_code)
                else:
                    content = _read_capped(response, max_bytes)
                return FetchResult(
                    url=response.url,
                    status=response.status_code,
                    content=content,
                    content_type=response.headers.get("Content-Type", ""),
                    etag=response.headers.get("ETag", ""),
                    last_modified=response.headers.get("Last-Modified", ""),
                    elapsed_ms=int((time.monotonic() - started) * 1000),
                )
    raise FetchError(f"{url}: no attempt made", retryable=True)  # pragma: no cover - max_attempts >= 1


def _network_failure(exc: requests.RequestException, timeout: tuple[float, float]) -> str:
    """One readable line for a run's error; the full exception goes to the log."""
    host = urlsplit(exc.request.url if exc.request is not None and exc.request.url else "").hostname or "the host"
    text = str(exc)
    if isinstance(exc, requests.ConnectTimeout):
        return f"ConnectTimeout: no connection to {host} within {timeout[0]} s"
    if isinstance(exc, requests.Timeout):
        return f"ReadTimeout: {host} sent nothing for {timeout[1]} s"
    if "NameResolution" in text or "Name or service not known" in text or "Failed to resolve" in text:
        return f"ConnectionError: cannot resolve {host} (DNS)"
    if "Connection refused" in text:
        return f"ConnectionError: {host} refused the connection"
    return f"ConnectionError: {text[:200]}"


def _get_following_redirects(
    session: requests.Session, url: str, *, hosts: Sequence[str], headers: dict[str, str], timeout: tuple[float, float]
) -> requests.Response:
    """Follow redirects by hand so that every hop is checked against the declared hosts."""
    for _ in range(MAX_REDIRECTS + 1):
        _check_host(url, hosts)
        response = session.get(url, headers=headers, timeout=timeout, stream=True, allow_redirects=False)
        if response.is_redirect and response.headers.get("Location"):
            url = urljoin(url, response.headers["Location"])
            response.close()
            continue
        return response
    raise FetchError(f"{url}: more than {MAX_REDIRECTS} redirects")

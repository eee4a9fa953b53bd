"""The only code that touches the network: ``fetch`` reads a source's pages, ``post`` delivers a webhook.
Tests stub ``fetch``; everything else calls it. ``post`` obeys the same host rules and deadline, once.

Timeouts, retries with backoff on 429/5xx (honouring ``Retry-After``), a size cap, a User-Agent
naming the service, conditional GET, and refusal of any host the source did not declare, redirects
included.

The host rules are enforced where the connection is made, not only on the URL text (two URL parsers can
disagree: ``http://127.0.0.1:8195\\@declared-host/``): the host the HTTP client actually connects to must
be declared, on the scheme's default port unless the source declares ``host:port``, and the address it
connected to must be a public one (no loopback, private, link-local, cloud-metadata or other reserved
range). ``SCRAPE_ALLOW_PRIVATE_HOSTS`` (comma-separated host names) lifts the address and port rules for
hosts a test serves locally. A whole fetch, retries and a trickling server included, ends by its deadline.
"""

from __future__ import annotations

import contextlib
import contextvars
import datetime as dt
import email.utils
import ipaddress
import logging
import os
import socket
import threading
import time
from collections.abc import Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from urllib.parse import urljoin, urlsplit

import requests
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.util import parse_url

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
# Everything one fetch may take: every attempt, every backoff, however slowly a server trickles.
DEFAULT_DEADLINE_S = 180.0
DEFAULT_PORTS = {"http": 80, "https": 443}
ALLOW_PRIVATE_HOSTS_ENV = "SCRAPE_ALLOW_PRIVATE_HOSTS"


class FetchError(Exception):
    """The document could not be fetched. ``retryable`` says whether trying later may help."""

    def __init__(self, message: str, *, status: int | None = None, retryable: bool = False):
        super().__init__(message)
        self.status = status
        self.retryable = retryable


class HostNotAllowed(FetchError):
    pass


@dataclass(frozen=True)
class PostResult:
    """What a target answered a POST: its status (a 3xx is answered, never followed) and its first bytes."""

    url: str
    status: int
    content: bytes
    elapsed_ms: int


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


def allowed_private_hosts() -> frozenset[str]:
    """Hosts whose address and port are not checked: local servers in tests, never in production."""
    return frozenset(h.strip().lower() for h in os.environ.get(ALLOW_PRIVATE_HOSTS_ENV, "").split(",") if h.strip())


@dataclass
class _Policy:
    """What one fetch may connect to, and the sockets it opened (closed when its deadline passes)."""

    hosts: frozenset[str]
    private_ok: frozenset[str]
    sockets: list[socket.socket] = field(default_factory=list)
    expired: bool = False
    lock: threading.Lock = field(default_factory=threading.Lock)

    def port_allowed(self, scheme: str, host: str, port: int | None) -> bool:
        return port in (None, DEFAULT_PORTS[scheme]) or f"{host}:{port}" in self.hosts or host in self.private_ok

    def expire(self) -> None:
        with self.lock:
            self.expired = True
            for sock in self.sockets:
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)

    def admit(self, sock: socket.socket, *, scheme: str, host: str, port: int) -> None:
        """Called with every new connection, before a byte is sent on it."""
        host = host.lower().strip("[]")
        problem = ""
        if host not in self.hosts and f"{host}:{port}" not in self.hosts:
            problem = f"host {host!r} is not one the source declares"
        elif not self.port_allowed(scheme, host, port):
            problem = f"port {port} is not {scheme}'s default and the source does not declare {host}:{port}"
        elif host not in self.private_ok:
            address = ipaddress.ip_address(sock.getpeername()[0].split("%")[0])
            if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
                address = address.ipv4_mapped
            if not address.is_global or address.is_multicast:
                problem = f"{host} is at {address}, a loopback, private, link-local or reserved address"
        if problem:
            sock.close()
            raise HostNotAllowed(f"refusing to connect to {host}:{port}: {problem}")
        with self.lock:
            if self.expired:
                sock.close()
                raise FetchError(f"{host}: the fetch's deadline passed", retryable=True)
            self.sockets.append(sock)


_POLICY: contextvars.ContextVar[_Policy | None] = contextvars.ContextVar("fetch_policy", default=None)


def _admitted(connection: HTTPConnection, sock: socket.socket, scheme: str) -> socket.socket:
    policy = _POLICY.get()
    if policy is None:  # pragma: no cover - only fetch() makes these connections
        sock.close()
        raise HostNotAllowed("refusing a connection made outside fetch()")
    policy.admit(sock, scheme=scheme, host=connection.host, port=connection.port or DEFAULT_PORTS[scheme])
    return sock


class _CheckedHTTPConnection(HTTPConnection):
    def _new_conn(self) -> socket.socket:
        return _admitted(self, super()._new_conn(), "http")


class _CheckedHTTPSConnection(HTTPSConnection):
    def _new_conn(self) -> socket.socket:
        return _admitted(self, super()._new_conn(), "https")


class _CheckedHTTPPool(HTTPConnectionPool):
    ConnectionCls = _CheckedHTTPConnection


class _CheckedHTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _CheckedHTTPSConnection


class _CheckedAdapter(HTTPAdapter):
    """requests' adapter whose connections check where they actually connected (see ``_Policy.admit``)."""

    def init_poolmanager(self, *args, **kwargs) -> None:  # type: ignore[no-untyped-def]
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {"http": _CheckedHTTPPool, "https": _CheckedHTTPSPool}


def _check_host(url: str, hosts: Sequence[str], private_ok: Collection[str] = frozenset()) -> None:
    """Refuse a URL early, by its text; the connection checks again by what it really connects to."""
    parts = urlsplit(url)
    if parts.scheme != "https" and parts.scheme != "http":
        raise HostNotAllowed(f"refusing {url!r}: only http(s) URLs are fetched")
    if any(c in parts.netloc for c in "@\\") or any(ord(c) < 33 or ord(c) == 127 for c in url):
        raise HostNotAllowed(f"refusing {url!r}: credentials, backslashes or control characters in the URL")
    host = (parts.hostname or "").lower()
    if (parse_url(url).host or "").lower().strip("[]") != host:
        raise HostNotAllowed(f"refusing {url!r}: its host reads differently to different parsers")
    declared = {h.lower() for h in hosts}
    try:
        port = parts.port
    except ValueError:
        raise HostNotAllowed(f"refusing {url!r}: bad port") from None
    if host not in declared and f"{host}:{port}" not in declared:
        raise HostNotAllowed(f"refusing {url!r}: host {host!r} is not one the source declares ({', '.join(hosts)})")
    if not _Policy(frozenset(declared), frozenset(private_ok)).port_allowed(parts.scheme, host, port):
        raise HostNotAllowed(f"refusing {url!r}: port {port} is not declared by the source")
    try:
        literal = ipaddress.ip_address(host)
    except ValueError:
        return  # a name: its address is checked once connected
    if host not in private_ok and (not literal.is_global or literal.is_multicast):
        raise HostNotAllowed(f"refusing {url!r}: {host} is a loopback, private, link-local or reserved address")


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


def _read_capped(response: requests.Response, max_bytes: int, deadline: float = float("inf")) -> bytes:
    declared = response.headers.get("Content-Length", "")
    if declared.isdigit() and int(declared) > max_bytes:
        raise FetchError(f"{response.url}: {declared} bytes is over the {max_bytes}-byte cap")
    chunks, total = [], 0
    for chunk in response.iter_content(chunk_size=65536):
        total += len(chunk)
        if total > max_bytes:
            raise FetchError(f"{response.url}: body is over the {max_bytes}-byte cap")
        if time.monotonic() > deadline:
            raise FetchError(f"{response.url}: the body was still arriving at the deadline", retryable=True)
        chunks.append(chunk)
    return b"".join(chunks)


@contextlib.contextmanager
def _policed(url: str, policy: _Policy, deadline_s: float) -> Iterator[None]:
    """Connections made inside are checked by ``policy`` and cut when ``deadline_s`` passes."""
    watchdog = threading.Timer(deadline_s, policy.expire)
    watchdog.daemon = True
    token = _POLICY.set(policy)
    watchdog.start()
    try:
        yield
    except (requests.RequestException, OSError, FetchError) as exc:
        if policy.expired and not isinstance(exc, HostNotAllowed):
            raise FetchError(f"{url}: no complete answer within the {deadline_s:g} s deadline", retryable=True) from exc
        raise
    finally:
        watchdog.cancel()
        _POLICY.reset(token)


def post_target_check(url: str, *, private_ok: Collection[str] = frozenset()) -> str:
    """Raise HostNotAllowed when ``post`` would refuse ``url`` by its text alone; returns its host."""
    try:
        host = (urlsplit(url).hostname or "").lower()
    except ValueError:
        raise HostNotAllowed(f"refusing {url!r}: not a URL") from None
    if not host:
        raise HostNotAllowed(f"refusing {url!r}: no host")
    _check_host(url, [host], frozenset(h.strip().lower() for h in private_ok if h.strip()))
    return host


def post(
    url: str,
    *,
    body: bytes,
    headers: Mapping[str, str],
    private_ok: Collection[str] = frozenset(),
    user_agent: str = DEFAULT_USER_AGENT,
    timeout: tuple[float, float] = (CONNECT_TIMEOUT_S, READ_TIMEOUT_S),
    deadline_s: float = 30.0,
    answer_bytes: int = 1024,
) -> PostResult:
    """POST ``body`` to ``url`` once, by the fetcher's rules: the client may connect only to the URL's own host,
    on its scheme's default port, at a public address (``private_ok`` names hosts a test serves locally); the
    whole exchange ends by ``deadline_s``; a redirect comes back as a result with its 3xx status and is never
    followed. Keeps the first ``answer_bytes`` of the answer. Retrying is the caller's job."""
    private = frozenset(h.strip().lower() for h in private_ok if h.strip())
    host = post_target_check(url, private_ok=private)
    for name, value in headers.items():
        if not isinstance(value, str) or any(c in value for c in "\r\n\0"):
            raise FetchError(f"{url}: the {name} header has a value that cannot be sent")
    policy = _Policy(hosts=frozenset({host}), private_ok=private)
    deadline = time.monotonic() + deadline_s
    with _policed(url, policy, deadline_s), requests.Session() as session:
        session.trust_env = False  # no proxy from the environment: the checked connection is the real one
        session.mount("http://", _CheckedAdapter())
        session.mount("https://", _CheckedAdapter())
        started = time.monotonic()
        try:
            response = session.post(
                url,
                data=body,
                headers={**headers, "User-Agent": user_agent},
                timeout=timeout,
                stream=True,
                allow_redirects=False,
            )
        except (requests.ConnectionError, requests.Timeout) as exc:
            raise FetchError(f"{url}: {_network_failure(exc, timeout)}", retryable=True) from exc
        except requests.RequestException as exc:
            raise FetchError(f"{url}: {exc}") from exc
        with response:
            kept = b""
            try:
                for chunk in response.iter_content(chunk_size=answer_bytes or 1):
                    kept += chunk
                    if len(kept) >= answer_bytes or time.monotonic() > deadline:
                        break
            except requests.RequestException:
                pass  # the status is the answer; a body cut short only shortens the log line
            return PostResult(
                url=url,
                status=response.status_code,
                content=kept[:answer_bytes],
                elapsed_ms=int((time.monotonic() - started) * 1000),
            )


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
    deadline_s: float = DEFAULT_DEADLINE_S,
    sleep=time.sleep,
    headers: Mapping[str, str] | None = None,
) -> FetchResult:
    """GET ``url`` politely and safely; a 304 comes back as a result with ``not_modified``. ``headers``: the
    source's own request headers (an API key); ours (User-Agent, validators) win a clash, and no value of
    them is ever logged or put in an error."""
    private_ok = allowed_private_hosts()
    policy = _Policy(hosts=frozenset(h.lower() for h in hosts), private_ok=private_ok)
    deadline = time.monotonic() + deadline_s
    with _policed(url, policy, deadline_s):
        return _fetch(
            url,
            hosts=hosts,
            private_ok=private_ok,
            etag=etag,
            last_modified=last_modified,
            user_agent=user_agent,
            max_bytes=max_bytes,
            timeout=timeout,
            max_attempts=max_attempts,
            deadline=deadline,
            sleep=sleep,
            extra_headers=headers or {},
        )


def _fetch(
    url: str,
    *,
    hosts: Sequence[str],
    private_ok: Collection[str],
    etag: str,
    last_modified: str,
    user_agent: str,
    max_bytes: int,
    timeout: tuple[float, float],
    max_attempts: int,
    deadline: float,
    sleep,
    extra_headers: Mapping[str, str],
) -> FetchResult:
    ours = {"user-agent", "accept-encoding", "if-none-match", "if-modified-since"}
    headers = {name: value for name, value in extra_headers.items() if name.lower() not in ours}
    for name, value in headers.items():
        # requests would refuse it quoting the value (an API key) into the error and the run's log.
        if not isinstance(value, str) or value != value.strip() or any(c in value for c in "\r\n\0"):
            raise FetchError(f"{url}: the source's {name} request header has a value that cannot be sent")
    headers |= {"User-Agent": user_agent, "Accept-Encoding": "gzip, deflate"}
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified

    def wait(delay: float, why: str) -> None:
        if time.monotonic() + delay >= deadline:
            raise FetchError(f"{url}: {why}, and no time is left for another attempt", retryable=True)
        sleep(delay)

    with requests.Session() as session:
        session.trust_env = False  # no proxy from the environment: the checked connection is the real one
        session.mount("http://", _CheckedAdapter())
        session.mount("https://", _CheckedAdapter())
        for attempt in range(max_attempts):
            started = time.monotonic()
            try:
                response = _get_following_redirects(
                    session, url, hosts=hosts, private_ok=private_ok, headers=headers, timeout=timeout
                )
            except (requests.ConnectionError, requests.Timeout) as exc:
                if attempt + 1 >= max_attempts:
                    raise FetchError(f"{url}: {_network_failure(exc, timeout)}", retryable=True) from exc
                log.warning("fetch %s failed (%s); retrying", url, _network_failure(exc, timeout))
                wait(BACKOFF_BASE_S * 2**attempt, _network_failure(exc, timeout))
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
                    wait(delay, f"HTTP {response.status_code}")
                    continue
                if response.status_code == 304:
                    content = b""
                elif response.status_code >= 400:
                    raise FetchError(f"{url}: HTTP {response.status_code}", status=response.status_code)
                else:
                    try:
                        content = _read_capped(response, max_bytes, deadline)
                    except requests.RequestException as exc:
                        raise FetchError(
                            f"{url}: the body was cut short ({type(exc).__name__})", retryable=True
                        ) from exc
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
    session: requests.Session,
    url: str,
    *,
    hosts: Sequence[str],
    private_ok: Collection[str],
    headers: dict[str, str],
    timeout: tuple[float, float],
) -> requests.Response:
    """Follow redirects by hand so that every hop is checked against the declared hosts."""
    for _ in range(MAX_REDIRECTS + 1):
        _check_host(url, hosts, private_ok)
        response = session.get(url, headers=headers, timeout=timeout, stream=True, allow_redirects=False)
        if response.is_redirect and response.headers.get("Location"):
            url = urljoin(url, response.headers["Location"])
            response.close()
            continue
        return response
    raise FetchError(f"{url}: more than {MAX_REDIRECTS} redirects")

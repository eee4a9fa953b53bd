"""providers.http.fetch against a real HTTP server on 127.0.0.1, run in a thread for each test."""

from __future__ import annotations

import datetime as dt
import email.utils
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from providers import http
from providers.http import FetchError, HostNotAllowed, fetch


@dataclass
class Reply:
    status: int = 200
    body: bytes = b"ok"
    headers: dict[str, str] = field(default_factory=dict)
    delay_s: float = 0.0
    declare_length: bool = True


class Server:
    """Replies queued per path (the last one repeats); every request's path and headers recorded."""

    def __init__(self) -> None:
        self.replies: dict[str, list[Reply]] = {}
        self.requests: list[tuple[str, dict[str, str]]] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                server.requests.append((self.path, dict(self.headers)))
                queue = server.replies.get(self.path) or [Reply(404, b"not found")]
                reply = queue.pop(0) if len(queue) > 1 else queue[0]
                if reply.delay_s:
                    time.sleep(reply.delay_s)
                try:
                    self.send_response(reply.status)
                    for name, value in reply.headers.items():
                        self.send_header(name, value)
                    if reply.declare_length:
                        self.send_header("Content-Length", str(len(reply.body)))
                    self.end_headers()
                    if reply.status != 304:
                        self.wfile.write(reply.body)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (a timeout test): nothing to do

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]

    def url(self, path: str, host: str = "127.0.0.1") -> str:
        return f"http://{host}:{self.port}{path}"

    def reply(self, path: str, *replies: Reply) -> None:
        self.replies[path] = list(replies)

    def paths(self) -> list[str]:
        return [path for path, _ in self.requests]


@pytest.fixture
def server() -> Iterator[Server]:
    srv = Server()
    thread = threading.Thread(target=srv.httpd.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True)
    thread.start()
    yield srv
    srv.httpd.shutdown()
    srv.httpd.server_close()


@pytest.fixture
def slept() -> list[float]:
    return []


@pytest.fixture(autouse=True)
def _local_servers_allowed(monkeypatch):
    """These tests fetch from a server on 127.0.0.1; in production loopback is refused (tests/security)."""
    monkeypatch.setenv(http.ALLOW_PRIVATE_HOSTS_ENV, "127.0.0.1")


def get(server: Server, path: str, slept: list[float], **kwargs):
    kwargs.setdefault("hosts", ("127.0.0.1",))
    return fetch(server.url(path), sleep=slept.append, **kwargs)


def test_it_returns_the_body_with_its_validators(server, slept):
    server.reply(
        "/p",
        Reply(
            body=b"<html>prices</html>",
            headers={"Content-Type": "text/html", "ETag": '"v1"', "Last-Modified": "Fri, 17 Jul 2026 10:00:00 GMT"},
        ),
    )
    result = get(server, "/p", slept)
    assert (result.status, result.content, result.content_type) == (200, b"<html>prices</html>", "text/html")
    assert (result.etag, result.last_modified) == ('"v1"', "Fri, 17 Jul 2026 10:00:00 GMT")
    assert not result.not_modified
    assert slept == []


def test_it_names_the_service_in_its_user_agent(server, slept):
    server.reply("/p", Reply())
    get(server, "/p", slept)
    get(server, "/p", slept, user_agent="token-prices-test/2.0")
    assert server.requests[0][1]["User-Agent"] == http.DEFAULT_USER_AGENT
    assert "token-prices" in http.DEFAULT_USER_AGENT
    assert server.requests[1][1]["User-Agent"] == "token-prices-test/2.0"


def test_it_sends_no_conditional_headers_without_stored_validators(server, slept):
    server.reply("/p", Reply())
    get(server, "/p", slept)
    headers = server.requests[0][1]
    assert "If-None-Match" not in headers and "If-Modified-Since" not in headers


def test_it_sends_the_stored_validators_and_reads_a_304_as_not_modified(server, slept):
    server.reply("/p", Reply(304, b"", headers={"ETag": '"v1"'}))
    result = get(server, "/p", slept, etag='"v1"', last_modified="Fri, 17 Jul 2026 10:00:00 GMT")
    headers = server.requests[0][1]
    assert headers["If-None-Match"] == '"v1"'
    assert headers["If-Modified-Since"] == "Fri, 17 Jul 2026 10:00:00 GMT"
    assert result.not_modified
    assert result.content == b""


def test_it_retries_a_429_after_the_seconds_retry_after_asks_for(server, slept):
    server.reply("/p", Reply(429, b"slow down", headers={"Retry-After": "7"}), Reply(body=b"fine"))
    result = get(server, "/p", slept)
    assert result.content == b"fine"
    assert slept == [7.0]
    assert server.paths() == ["/p", "/p"]


def test_it_honours_a_retry_after_given_as_an_http_date(server, slept):
    when = email.utils.format_datetime(dt.datetime.now(dt.UTC) + dt.timedelta(seconds=30), usegmt=True)
    server.reply("/p", Reply(503, headers={"Retry-After": when}), Reply())
    get(server, "/p", slept)
    assert len(slept) == 1 and 25 <= slept[0] <= 30


def test_it_caps_a_retry_after_that_asks_too_much(server, slept):
    server.reply("/p", Reply(429, headers={"Retry-After": "86400"}), Reply())
    get(server, "/p", slept)
    assert slept == [http.MAX_RETRY_AFTER_S]


def test_it_backs_off_exponentially_on_5xx_without_retry_after(server, slept):
    server.reply("/p", Reply(502), Reply(503), Reply(504), Reply(body=b"back"))
    result = get(server, "/p", slept)
    assert result.content == b"back"
    assert slept == [http.BACKOFF_BASE_S, http.BACKOFF_BASE_S * 2, http.BACKOFF_BASE_S * 4]


def test_it_gives_up_after_its_attempts_with_a_retryable_error(server, slept):
    server.reply("/p", Reply(500, b"boom"))
    with pytest.raises(FetchError, match="HTTP 500 after 3 attempts") as caught:
        get(server, "/p", slept, max_attempts=3)
    assert caught.value.retryable and caught.value.status == 500
    assert len(server.requests) == 3
    assert len(slept) == 2


def test_it_does_not_retry_a_client_error(server, slept):
    server.reply("/p", Reply(404, b"gone"))
    with pytest.raises(FetchError, match="HTTP 404") as caught:
        get(server, "/p", slept)
    assert not caught.value.retryable and caught.value.status == 404
    assert len(server.requests) == 1 and slept == []


def test_it_times_out_a_slow_server_and_retries(server, slept):
    server.reply("/slow", Reply(body=b"late", delay_s=1.5))
    started = time.monotonic()
    with pytest.raises(FetchError) as caught:
        get(server, "/slow", slept, timeout=(1.0, 0.2), max_attempts=2)
    assert caught.value.retryable
    assert "Timeout" in str(caught.value)
    assert slept == [http.BACKOFF_BASE_S]
    assert time.monotonic() - started < 1.4  # it did not wait for the slow replies


def test_it_retries_when_nothing_listens(slept):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(FetchError) as caught:
        fetch(f"http://127.0.0.1:{port}/", hosts=("127.0.0.1",), sleep=slept.append, max_attempts=2)
    assert caught.value.retryable
    assert slept == [http.BACKOFF_BASE_S]


def test_it_refuses_a_body_whose_declared_length_is_over_the_cap(server, slept):
    server.reply("/big", Reply(body=b"x" * 2048))
    with pytest.raises(FetchError, match="cap"):
        get(server, "/big", slept, max_bytes=1024)


def test_it_stops_reading_an_undeclared_body_at_the_cap(server, slept):
    server.reply("/big", Reply(body=b"x" * 200_000, declare_length=False))
    with pytest.raises(FetchError, match="cap") as caught:
        get(server, "/big", slept, max_bytes=100_000)
    assert not caught.value.retryable


def test_it_reads_a_body_right_at_the_cap(server, slept):
    server.reply("/p", Reply(body=b"x" * 1024, declare_length=False))
    assert len(get(server, "/p", slept, max_bytes=1024).content) == 1024


def test_it_refuses_a_host_the_source_did_not_declare_before_connecting(server, slept):
    server.reply("/p", Reply())
    with pytest.raises(HostNotAllowed, match="not one the source declares"):
        get(server, "/p", slept, hosts=("openrouter.ai",))
    assert server.requests == []


def test_it_refuses_a_redirect_to_an_undeclared_host(server, slept):
    server.reply("/moved", Reply(302, headers={"Location": server.url("/elsewhere", host="localhost")}))
    server.reply("/elsewhere", Reply(body=b"should never be read"))
    with pytest.raises(HostNotAllowed, match="localhost"):
        get(server, "/moved", slept)
    assert server.paths() == ["/moved"]


def test_it_follows_a_redirect_within_the_declared_hosts(server, slept):
    server.reply("/old", Reply(301, headers={"Location": "/new"}))
    server.reply("/new", Reply(body=b"here"))
    result = get(server, "/old", slept)
    assert result.content == b"here"
    assert result.url == server.url("/new")


def test_it_gives_up_on_a_redirect_loop(server, slept):
    server.reply("/loop", Reply(302, headers={"Location": "/loop"}))
    with pytest.raises(FetchError, match="redirects"):
        get(server, "/loop", slept)
    assert len(server.requests) == http.MAX_REDIRECTS + 1


@pytest.mark.parametrize("url", ["file:///etc/passwd", "ftp://127.0.0.1/prices"])
def test_it_fetches_only_http_urls(url, slept):
    with pytest.raises(HostNotAllowed, match="only http"):
        fetch(url, hosts=("127.0.0.1", ""), sleep=slept.append)


def test_it_says_plainly_when_a_host_name_does_not_resolve(slept):
    with pytest.raises(FetchError) as caught:
        fetch("https://no-such-host.invalid/", hosts=("no-such-host.invalid",), sleep=slept.append, max_attempts=1)
    assert caught.value.retryable
    assert (
        str(caught.value) == "https://no-such-host.invalid/: ConnectionError: cannot resolve no-such-host.invalid (DNS)"
    )


def test_it_says_plainly_when_nothing_listens(slept):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(FetchError, match=r"127\.0\.0\.1 refused the connection"):
        fetch(f"http://127.0.0.1:{port}/", hosts=("127.0.0.1",), sleep=slept.append, max_attempts=1)


def test_it_sends_the_sources_own_headers_beside_its_own(server, slept):
    server.reply("/p", Reply())
    get(server, "/p", slept, headers={"Authorization": "Bearer tok-1", "X-Api-Version": "2"})
    sent = server.requests[0][1]
    assert (sent["Authorization"], sent["X-Api-Version"]) == ("Bearer tok-1", "2")
    assert sent["User-Agent"] == http.DEFAULT_USER_AGENT


def test_it_keeps_its_own_headers_when_a_source_names_them_too(server, slept):
    server.reply("/p", Reply())
    get(server, "/p", slept, etag='"v1"', headers={"user-agent": "spoof/1", "If-None-Match": '"x"'})
    sent = server.requests[0][1]
    assert (sent["User-Agent"], sent["If-None-Match"]) == (http.DEFAULT_USER_AGENT, '"v1"')


@pytest.mark.parametrize("value", ["Bearer tok-1\r\nX-Injected: 1", " Bearer tok-1", "Bearer tok-1\n"])
def test_it_refuses_a_header_value_that_cannot_be_sent_without_quoting_it(server, slept, value):
    server.reply("/p", Reply())
    with pytest.raises(FetchError) as refused:
        get(server, "/p", slept, headers={"Authorization": value})
    assert "tok-1" not in str(refused.value) and "Authorization" in str(refused.value)
    assert server.requests == []


def test_it_never_logs_the_sources_header_values_while_retrying(server, slept, caplog):
    server.reply("/p", Reply(503, b"busy"), Reply(200, b"ok"))
    with caplog.at_level("DEBUG"):
        result = get(server, "/p", slept, headers={"Authorization": "Bearer tok-secret"})
    assert result.content == b"ok" and len(server.requests) == 2
    assert all(sent["Authorization"] == "Bearer tok-secret" for _, sent in server.requests)
    assert "tok-secret" not in caplog.text

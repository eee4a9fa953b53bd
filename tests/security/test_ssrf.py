"""Attack drills against the fetcher (SSRF), with hostile HTTP servers on loopback.

In production no source may reach loopback, private, link-local or metadata addresses, whatever the URL
text says; ``SCRAPE_ALLOW_PRIVATE_HOSTS`` lifts that for a named host only (these tests name
``localhost`` where they need a "declared host" that serves them).
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from providers import http
from providers.http import FetchError, HostNotAllowed, fetch


class Hostile:
    """An HTTP server that counts requests and answers with what the test tells it to."""

    def __init__(self, answer) -> None:
        self.requests: list[str] = []
        hostile = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                hostile.requests.append(self.path)
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                    answer(self)

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True).start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def ok(handler: BaseHTTPRequestHandler) -> None:
    handler.send_response(200)
    handler.send_header("Content-Length", "2")
    handler.end_headers()
    handler.wfile.write(b"ok")


@pytest.fixture
def servers() -> Iterator[list[Hostile]]:
    made: list[Hostile] = []
    yield made
    for server in made:
        server.close()


def serve(servers: list[Hostile], answer=ok) -> Hostile:
    server = Hostile(answer)
    servers.append(server)
    return server


def test_it_refuses_a_redirect_whose_host_reads_differently_to_the_http_client(servers, monkeypatch):
    monkeypatch.setenv(http.ALLOW_PRIVATE_HOSTS_ENV, "localhost")
    internal = serve(servers)

    def redirect(handler: BaseHTTPRequestHandler) -> None:
        handler.send_response(302)
        handler.send_header("Location", f"http://127.0.0.1:{internal.port}\\@localhost/")
        handler.send_header("Content-Length", "0")
        handler.end_headers()

    declared = serve(servers, redirect)
    with pytest.raises(HostNotAllowed):
        fetch(f"http://localhost:{declared.port}/", hosts=("localhost",), max_attempts=1)
    assert declared.requests == ["/"]
    assert internal.requests == []


def test_it_checks_the_address_it_connected_to_not_the_name(servers):
    # "localhost" is declared, but it resolves to loopback: refused once connected, before a byte is sent.
    server = serve(servers)
    with pytest.raises(HostNotAllowed, match="loopback, private, link-local or reserved"):
        fetch(f"http://localhost:{server.port}/", hosts=(f"localhost:{server.port}",), max_attempts=1)
    assert server.requests == []


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/",
        "http://169.254.169.254/latest/meta-data/",  # cloud metadata
        "http://10.0.0.1/",
        "http://192.168.1.1/",
        "http://[::1]/",
        "http://0.0.0.0/",
        "http://100.100.100.200/",  # another cloud's metadata, in the shared range
    ],
)
def test_it_refuses_internal_addresses_before_connecting(url):
    host = url.split("/")[2].strip("[]")
    started = time.monotonic()
    with pytest.raises(HostNotAllowed):
        fetch(url, hosts=(host,), max_attempts=1)
    assert time.monotonic() - started < 0.5


def test_it_allows_only_the_schemes_default_port_unless_the_source_declares_another():
    with pytest.raises(HostNotAllowed, match="port 8080"):
        fetch("https://openrouter.ai:8080/api/v1/models", hosts=("openrouter.ai",), max_attempts=1)


def test_a_declared_port_is_allowed(servers, monkeypatch):
    monkeypatch.setenv(http.ALLOW_PRIVATE_HOSTS_ENV, "127.0.0.1")
    server = serve(servers)
    assert fetch(f"http://127.0.0.1:{server.port}/", hosts=(f"127.0.0.1:{server.port}",)).content == b"ok"


@pytest.mark.parametrize(
    "url",
    [
        "http://user:pass@openrouter.ai/",
        "http://openrouter.ai\\@127.0.0.1/",
        "http://openrouter.ai/\r\nX-Injected: 1",
    ],
)
def test_it_refuses_urls_with_credentials_backslashes_or_control_characters(url):
    with pytest.raises(HostNotAllowed):
        fetch(url, hosts=("openrouter.ai",), max_attempts=1)


def trickle_body(handler: BaseHTTPRequestHandler) -> None:
    handler.send_response(200)
    handler.send_header("Content-Length", "100")
    handler.end_headers()
    for _ in range(100):
        handler.wfile.write(b"x")
        handler.wfile.flush()
        time.sleep(0.3)


def trickle_headers(handler: BaseHTTPRequestHandler) -> None:
    for byte in b"HTTP/1.1 200 OK\r\nX-Slow: " + b"y" * 200:
        handler.wfile.write(bytes([byte]))
        handler.wfile.flush()
        time.sleep(0.3)


@pytest.mark.parametrize("answer", [trickle_body, trickle_headers], ids=["body", "headers"])
def test_a_server_trickling_bytes_cannot_hold_a_fetch_past_its_deadline(servers, monkeypatch, answer):
    monkeypatch.setenv(http.ALLOW_PRIVATE_HOSTS_ENV, "127.0.0.1")
    server = serve(servers, answer)
    started = time.monotonic()
    with pytest.raises(FetchError, match="deadline") as caught:
        fetch(f"http://127.0.0.1:{server.port}/", hosts=("127.0.0.1",), timeout=(1, 1), deadline_s=2)
    took = time.monotonic() - started
    assert caught.value.retryable
    assert took < 3, f"held for {took:.1f}s"


def test_the_deadline_covers_retries_and_their_backoff(servers, monkeypatch):
    monkeypatch.setenv(http.ALLOW_PRIVATE_HOSTS_ENV, "127.0.0.1")

    def busy(handler: BaseHTTPRequestHandler) -> None:
        handler.send_response(503)
        handler.send_header("Retry-After", "5")
        handler.send_header("Content-Length", "0")
        handler.end_headers()

    server = serve(servers, busy)
    slept: list[float] = []
    with pytest.raises(FetchError, match="no time is left"):
        fetch(f"http://127.0.0.1:{server.port}/", hosts=("127.0.0.1",), deadline_s=3, sleep=slept.append)
    assert slept == [] and len(server.requests) == 1


def test_nothing_is_left_listening_or_connected_after_a_refusal(servers):
    server = serve(servers)
    with pytest.raises(HostNotAllowed):
        fetch(f"http://localhost:{server.port}/", hosts=(f"localhost:{server.port}",), max_attempts=1)
    with socket.create_connection(("127.0.0.1", server.port), timeout=1):
        pass  # the server still serves others: the refusal only closed our own socket

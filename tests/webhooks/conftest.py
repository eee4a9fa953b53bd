"""A real HTTP receiver on loopback (allow-listed for the test), subscriptions pointing at it, and ingests
whose on-commit callbacks run, with Celery tasks executed in the test's process."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from pricing import services
from pricing.models import ScrapeRun
from pricing.webhooks import services as webhooks
from pricing.webhooks.models import ApiKey, WebhookSubscription
from providers.base import ScrapedPrice


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes

    @property
    def payload(self) -> dict[str, Any]:
        return json.loads(self.body)

    @property
    def events(self) -> list[dict[str, Any]]:
        return self.payload["events"]


@dataclass
class Receiver:
    """Records every request; answers each with the next scripted (status, headers), then ``default``."""

    port: int = 0
    requests: list[Received] = field(default_factory=list)
    script: list[tuple[int, dict[str, str]]] = field(default_factory=list)
    default: tuple[int, dict[str, str]] = (200, {})
    delay_s: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def url(self, path: str = "/hook") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def answer(self, *statuses: int | tuple[int, dict[str, str]]) -> None:
        self.script.extend(s if isinstance(s, tuple) else (s, {}) for s in statuses)

    def at(self, path: str) -> list[Received]:
        return [r for r in self.requests if r.path == path]


def _handler(receiver: Receiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def _record_and_answer(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length)
            with receiver.lock:
                receiver.requests.append(Received(self.path, {k.lower(): v for k, v in self.headers.items()}, body))
                status, headers = receiver.script.pop(0) if receiver.script else receiver.default
            answer = b'{"ok": true}' if status < 300 else b"receiver says no"
            time.sleep(receiver.delay_s)
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        do_POST = _record_and_answer
        do_GET = _record_and_answer

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler


@pytest.fixture
def receiver(settings) -> Iterator[Receiver]:
    receiver = Receiver()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(receiver))
    receiver.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    settings.WEBHOOK_ALLOW_PRIVATE_HOSTS = ["127.0.0.1"]
    settings.WEBHOOK_BACKOFF_BASE_SECONDS = 0
    settings.WEBHOOK_TIMEOUT_SECONDS = 5
    settings.WEBHOOK_DEADLINE_SECONDS = 10
    settings.CELERY_TASK_ALWAYS_EAGER = True
    yield receiver
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


def rec(model: str, amount: str, component: str = "input", *, provider: str = "deepseek") -> ScrapedPrice:
    return ScrapedPrice(provider=provider, model=model, component=component, amount_per_mtok=Decimal(amount))


@pytest.fixture
def publish(django_capture_on_commit_callbacks):
    """Ingest records as one run of ``slug`` and run what its commit queued (the webhook fan-out)."""

    def run(*records: ScrapedPrice, slug: str = "deepseek", **kwargs: Any) -> services.RunResult:
        with django_capture_on_commit_callbacks(execute=True):
            kind = kwargs.pop("kind", ScrapeRun.Kind.FILE)
            result = services.records_ingest(slug=slug, records=list(records), kind=kind, **kwargs)
        assert result.ok, result.error
        return result

    return run


@pytest.fixture
def api_key(db) -> ApiKey:
    key = ApiKey(name="a subscriber")
    key._issued = webhooks.api_key_issue(api_key=key, actor=None)  # type: ignore[attr-defined]
    return key


@pytest.fixture
def subscribe(receiver, db):
    def make(path: str = "/hook", **filters: Any) -> WebhookSubscription:
        return webhooks.subscription_create(target_url=receiver.url(path), secret="s" * 32, **filters)

    return make

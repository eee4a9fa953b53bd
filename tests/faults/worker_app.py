"""The Celery app of the killed-worker drill (tests/faults/test_worker_killed.py).

The real app and tasks, with the network replaced by a saved page. The first fetch writes the pool
process's pid to ``DRILL_MARKER`` and then hangs, so that the test can ``kill -9`` that process in the
middle of a run; every later fetch answers at once.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import providers.http
from pricing.celery import app
from providers.http import FetchResult

__all__ = ["app"]

MARKER = Path(os.environ["DRILL_MARKER"])
PAGE = Path(os.environ["DRILL_PAGE"])


def fetch(url: str, **kwargs: object) -> FetchResult:
    if not MARKER.exists():
        MARKER.write_text(str(os.getpid()))
        time.sleep(300)  # killed here
    return FetchResult(
        url=url,
        status=200,
        content=PAGE.read_bytes(),
        content_type="application/json",
        etag="",
        last_modified="",
        elapsed_ms=1,
    )


providers.http.fetch = fetch  # type: ignore[assignment]

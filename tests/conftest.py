from __future__ import annotations

import shutil
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.core.cache import cache

FIXTURES = Path(__file__).parent / "fixtures"


def pytest_configure(config: pytest.Config) -> None:
    """Each test session gets a cache of its own, before anything uses it: a file cache in a fresh temporary
    folder (not the shared ``var/cache``, which ``make run`` or another session clears and fills under our
    feet), or a key prefix of its own on Redis."""
    from django.conf import settings

    default = settings.CACHES["default"]
    if default["BACKEND"].endswith("FileBasedCache"):
        default["LOCATION"] = config._session_cache_dir = tempfile.mkdtemp(prefix="tokenprices-test-cache-")  # type: ignore[attr-defined]
    else:
        default["KEY_PREFIX"] = f"test-{uuid.uuid4().hex[:12]}"


def pytest_unconfigure(config: pytest.Config) -> None:
    folder = getattr(config, "_session_cache_dir", None)
    if folder:
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(autouse=True)
def _fresh_cache() -> Iterator[None]:
    """Every test starts with an empty cache, so cached pages and ETags never leak between tests."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def fixture_bytes():
    """Read a fixture we wrote: ``fixture_bytes("providers/openrouter/models.json")``."""

    def read(relative: str) -> bytes:
        return (FIXTURES / relative).read_bytes()

    return read


@pytest.fixture(autouse=True)
def _no_warming_after_changes(settings) -> None:
    """Changes in tests queue no warming task, and the stamp is read from the database on every request:
    a test's transaction never commits, so no change would reach the cache's copy of the stamp
    (tests/perf/test_stored_answers.py turns both on where it tests them)."""
    settings.ANSWER_WARM_AFTER_CHANGE = False
    settings.ANSWER_STAMP_MIRROR_SECONDS = 0

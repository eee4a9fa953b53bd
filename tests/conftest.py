from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from django.core.cache import cache

FIXTURES = Path(__file__).parent / "fixtures"


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
    """Changes in tests queue no warming task (tests/perf/test_stored_answers.py runs it itself)."""
    settings.ANSWER_WARM_AFTER_CHANGE = False

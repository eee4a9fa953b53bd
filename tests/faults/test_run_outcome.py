"""Fault drill: a run's outcome is what its transaction did. A real failure after the commit (a cache
server that is not there, called once the change is visible) leaves the run "succeeded" with its counts;
a failure inside the transaction applies nothing and leaves the run "failed" with zero counts."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.cache import caches
from django.db import transaction
from django.db.models.signals import post_save

from pricing import services
from pricing.models import Price, ScrapeRun
from providers.base import Document
from tests.faults.servers import spare_port

pytestmark = pytest.mark.django_db(transaction=True)

PAGE = Path(__file__).resolve().parents[1] / "fixtures" / "providers" / "openrouter" / "models.json"


def document() -> Document:
    return Document(url="https://openrouter.ai/api/v1/models", content=PAGE.read_bytes())


@pytest.fixture
def unreachable_cache(settings):
    """A plain Redis cache (no resilience) at a loopback port where nothing listens."""
    settings.CACHES = {
        **settings.CACHES,
        "unreachable": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{spare_port()}/0",
            "OPTIONS": {"socket_connect_timeout": 0.5},
        },
    }
    return caches["unreachable"]


def on_saving_a_run(action):
    """Run ``action`` whenever a run row is written (what a post-commit invalidation hook would hang on)."""

    def receiver(sender, instance, **kwargs):
        if instance.status == ScrapeRun.Status.SUCCEEDED:
            action()

    post_save.connect(receiver, sender=ScrapeRun, weak=False, dispatch_uid="drill")
    return receiver


@pytest.fixture(autouse=True)
def _disconnect():
    yield
    post_save.disconnect(sender=ScrapeRun, dispatch_uid="drill")


def test_a_failure_after_the_commit_leaves_the_run_succeeded_with_its_counts(unreachable_cache, caplog):
    # Once the run's transaction commits, "invalidate" a cache nobody serves: a real ConnectionError.
    on_saving_a_run(lambda: transaction.on_commit(lambda: unreachable_cache.delete("prices")))

    result = services.scrape_source(slug="openrouter", document=document())

    run = ScrapeRun.objects.get(pk=result.run_id)
    assert result.ok and run.status == ScrapeRun.Status.SUCCEEDED
    assert run.created > 0 and run.created == Price.objects.filter(run=run).count()
    assert "a step after the commit failed" in caplog.text
    assert not ScrapeRun.objects.filter(status=ScrapeRun.Status.RUNNING).exists()


def test_a_failure_inside_the_transaction_applies_nothing_and_fails_the_run(unreachable_cache):
    # The same unreachable server, called before the commit: the whole run rolls back.
    on_saving_a_run(lambda: unreachable_cache.delete("prices"))

    with pytest.raises(Exception, match=r"(?i)connect"):
        services.scrape_source(slug="openrouter", document=document())

    run = ScrapeRun.objects.get()
    assert run.status == ScrapeRun.Status.FAILED and "onnect" in run.error
    assert (run.created, run.records) == (0, 0)
    assert not Price.objects.exists()

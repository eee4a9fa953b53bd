"""The Celery tasks: retries, fan-out, and real workers on Redis and on the embedded filesystem broker."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
import uuid
from pathlib import Path
from unittest import mock

import pytest

from pricing import services, tasks
from pricing.models import Price, ScrapeRun, Source
from pricing.rates import RatesCounts
from providers.http import FetchError, FetchResult

ROOT = Path(__file__).resolve().parents[2]
OPENROUTER_URL = "https://openrouter.ai/api/v1/models"


def result(status: str = "succeeded", *, retryable: bool = False, error: str = "") -> services.RunResult:
    return services.RunResult(source="openrouter", run_id=1, status=status, retryable=retryable, error=error)


def fetched(content: bytes) -> FetchResult:
    return FetchResult(
        url=OPENROUTER_URL,
        status=200,
        content=content,
        content_type="application/json",
        etag='"v1"',
        last_modified="",
        elapsed_ms=5,
    )


# --- retries (run eagerly: the task body, its retry policy, no broker) ---------------------------------


@pytest.mark.django_db
def test_it_retries_a_run_that_failed_for_a_passing_reason():
    outcomes = [result("failed", retryable=True, error="HTTP 503"), result("failed", retryable=True), result()]
    with mock.patch.object(services, "scrape_source", side_effect=outcomes) as service:
        outcome = tasks.scrape_source.apply(args=["openrouter"])
    assert outcome.successful()
    assert service.call_count == 3
    assert outcome.result["status"] == "succeeded"


@pytest.mark.django_db
def test_it_gives_up_after_its_retries():
    with mock.patch.object(services, "scrape_source", return_value=result("failed", retryable=True)) as service:
        outcome = tasks.scrape_source.apply(args=["openrouter"])
    assert outcome.failed()
    assert isinstance(outcome.result, tasks.RetryableRunFailure)
    assert service.call_count == tasks.scrape_source.max_retries + 1


@pytest.mark.django_db
def test_it_does_not_retry_a_run_that_failed_for_good():
    with mock.patch.object(services, "scrape_source", return_value=result("failed", error="layout changed?")) as svc:
        outcome = tasks.scrape_source.apply(args=["openrouter"])
    assert outcome.successful() and outcome.result["status"] == "failed"
    assert svc.call_count == 1


@pytest.mark.django_db
def test_it_skips_a_source_a_curator_disabled():
    services.source_sync(slug="openrouter")
    Source.objects.filter(slug="openrouter").update(enabled=False)
    with mock.patch.object(services, "scrape_source") as service:
        outcome = tasks.scrape_source.apply(args=["openrouter"])
    assert outcome.result == {"source": "openrouter", "status": "disabled"}
    service.assert_not_called()


@pytest.mark.django_db
def test_it_fans_out_one_task_per_enabled_source():
    services.source_sync(slug="litellm")
    Source.objects.filter(slug="litellm").update(enabled=False)
    with mock.patch.object(tasks.scrape_source, "delay") as delay:
        slugs = tasks.scrape_all()
    assert "litellm" not in slugs and "openrouter" in slugs
    assert sorted(call.args[0] for call in delay.call_args_list) == slugs


def test_it_declares_late_acks_and_time_limits_so_a_killed_worker_redoes_the_run():
    task = tasks.scrape_source
    assert task.acks_late and task.reject_on_worker_lost
    assert task.soft_time_limit < task.time_limit


@pytest.mark.django_db
def test_it_retries_an_exchange_rate_refresh_when_the_network_fails():
    outcomes = [FetchError("HTTP 503", status=503, retryable=True), RatesCounts(records=30, created=30)]
    with mock.patch("pricing.rates.exchange_rates_refresh", side_effect=outcomes) as refresh:
        outcome = tasks.refresh_exchange_rates.apply()
    assert outcome.successful() and outcome.result["created"] == 30
    assert refresh.call_count == 2


@pytest.mark.django_db
def test_it_does_not_retry_an_exchange_rate_refresh_refused_for_good():
    with mock.patch("pricing.rates.exchange_rates_refresh", side_effect=FetchError("HTTP 404", status=404)) as refresh:
        outcome = tasks.refresh_exchange_rates.apply()
    assert outcome.failed()
    assert refresh.call_count == 1


# --- a real worker consuming a real task through Redis ----------------------------------------------------


@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_consumes_a_scrape_through_redis_and_the_prices_land(fixture_bytes, settings):
    if not os.environ.get("REDIS_URL"):
        pytest.skip("REDIS_URL is not set")
    from celery.contrib.testing.worker import start_worker
    from celery.signals import task_postrun
    from django.db import connections

    from pricing.celery import app

    assert app.conf.broker_url.startswith("redis://")
    queue = f"test-{uuid.uuid4().hex}"  # a queue of our own: nothing else on this Redis consumes it
    content = fixture_bytes("providers/openrouter/models.json")

    def close_worker_connections(**kwargs):
        # The worker thread has its own database connection; leave none open for the test teardown.
        connections.close_all()

    task_postrun.connect(close_worker_connections, weak=False)
    try:
        with (
            mock.patch("providers.http.fetch", return_value=fetched(content)) as fetch,
            start_worker(app, pool="solo", perform_ping_check=False, queues=[queue], shutdown_timeout=30),
        ):
            tasks.scrape_source.apply_async(args=["openrouter"], queue=queue)
            deadline = time.monotonic() + 60
            while (
                time.monotonic() < deadline and not ScrapeRun.objects.exclude(status=ScrapeRun.Status.RUNNING).exists()
            ):
                time.sleep(0.2)
    finally:
        task_postrun.disconnect(close_worker_connections)
    run = ScrapeRun.objects.get()
    assert (run.status, run.kind, run.created) == (ScrapeRun.Status.SUCCEEDED, ScrapeRun.Kind.LIVE, 37)
    assert Price.objects.filter(run=run, status=Price.Status.PUBLISHED).count() == 37
    assert fetch.call_args.args[0] == OPENROUTER_URL


# --- the embedded defaults: SQLite and the filesystem broker, in a process of their own ----------------------

EMBEDDED_SCRIPT = textwrap.dedent(
    """
    import json, os, sys, time
    from pathlib import Path
    from unittest import mock

    import django
    django.setup()
    from django.conf import settings
    from django.core.management import call_command

    from celery.contrib.testing.worker import start_worker
    from pricing import tasks
    from pricing.celery import app
    from pricing.models import Price, ScrapeRun
    from providers.http import FetchResult

    call_command("migrate", verbosity=0)
    content = Path(sys.argv[1]).read_bytes()
    result = FetchResult(url="https://openrouter.ai/api/v1/models", status=200, content=content,
                         content_type="application/json", etag="", last_modified="", elapsed_ms=1)
    with mock.patch("providers.http.fetch", return_value=result), \\
            start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=30):
        tasks.scrape_source.delay("openrouter")
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not ScrapeRun.objects.exclude(status="running").exists():
            time.sleep(0.2)
    run = ScrapeRun.objects.get()
    print(json.dumps({
        "broker": app.conf.broker_url,
        "folders": settings.CELERY_BROKER_TRANSPORT_OPTIONS,
        "database": str(settings.DATABASES["default"]["NAME"]),
        "cache": settings.CACHES["default"]["BACKEND"],
        "status": run.status,
        "prices": Price.objects.count(),
    }))
    """
)


@pytest.mark.slow
def test_the_embedded_defaults_run_a_real_worker_on_the_filesystem_broker_and_sqlite(tmp_path):
    import json

    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL")}
    env.update(VAR_DIR=str(tmp_path), DJANGO_SETTINGS_MODULE="pricing.settings", DEBUG="1", LOG_LEVEL="ERROR")
    fixture = ROOT / "tests" / "fixtures" / "providers" / "openrouter" / "models.json"
    done = subprocess.run(
        [sys.executable, "-c", EMBEDDED_SCRIPT, str(fixture)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["broker"] == "filesystem://"
    assert report["folders"]["data_folder_in"].startswith(str(tmp_path))
    assert report["database"] == str(tmp_path / "db.sqlite3")
    assert report["cache"].endswith("FileBasedCache")
    assert (report["status"], report["prices"]) == ("succeeded", 37)

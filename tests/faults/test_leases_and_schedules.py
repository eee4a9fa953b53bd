"""Leases, abandoned runs and due-state scheduling: a scrape is delayed by faults, never dropped."""

from __future__ import annotations

import datetime as dt
import io
from unittest import mock

import pytest
from celery.exceptions import Retry
from django.core.management import call_command
from django.utils import timezone
from django_celery_beat.models import IntervalSchedule, PeriodicTask

from pricing import services, tasks
from pricing.models import ScrapeRun, Source
from providers import REGISTRY

pytestmark = pytest.mark.django_db


def result(status: str) -> services.RunResult:
    return services.RunResult(source="openrouter", run_id=None, status=status)


# --- a busy lease is retried, never reported as done ----------------------------------------------


def test_it_retries_a_scrape_that_met_a_busy_lease_and_then_runs_it():
    with mock.patch.object(services, "scrape_source", side_effect=[result("busy"), result("succeeded")]) as service:
        outcome = tasks.scrape_source.apply(args=["openrouter"])
    assert outcome.successful() and outcome.result["status"] == "succeeded"
    assert service.call_count == 2


def test_it_fails_rather_than_succeeds_when_the_lease_never_frees():
    with mock.patch.object(services, "scrape_source", return_value=result("busy")) as service:
        outcome = tasks.scrape_source.apply(args=["openrouter"])
    assert outcome.failed() and isinstance(outcome.result, tasks.RetryableRunFailure)
    assert service.call_count == tasks.scrape_source.max_retries + 1


def test_it_retries_when_the_lease_ends():
    services.source_sync(slug="openrouter")
    Source.objects.filter(slug="openrouter").update(
        lock_token="other", locked_until=timezone.now() + dt.timedelta(seconds=100)
    )
    with (
        mock.patch.object(tasks.scrape_source, "retry", side_effect=Retry) as retry,
        pytest.raises(Retry),
    ):
        tasks.scrape_source.run("openrouter")
    countdown = retry.call_args.kwargs["countdown"]
    assert 99 < countdown <= 104


# --- abandoned runs ------------------------------------------------------------------------------------


def dead_run(slug: str = "openrouter", *, lease_left_s: float) -> ScrapeRun:
    """A run whose worker was killed: still "running", its source leased until ``lease_left_s`` from now."""
    source = services.source_sync(slug=slug)
    Source.objects.filter(pk=source.pk).update(
        lock_token="dead", locked_until=timezone.now() + dt.timedelta(seconds=lease_left_s)
    )
    return ScrapeRun.objects.create(source=source)


def test_the_next_run_closes_a_killed_runs_row_as_abandoned_when_it_takes_the_expired_lease():
    run = dead_run(lease_left_s=-1)
    with services.source_lock(Source.objects.get(slug="openrouter")):
        pass
    run.refresh_from_db()
    assert run.status == ScrapeRun.Status.FAILED
    assert run.error.startswith("abandoned:") and run.finished_at is not None


def test_the_periodic_task_closes_runs_whose_lease_expired_and_frees_the_lease():
    expired = dead_run("openrouter", lease_left_s=-1)
    live = dead_run("litellm", lease_left_s=600)

    assert tasks.close_abandoned_runs() == {"closed": 1, "released": 1}

    expired.refresh_from_db()
    live.refresh_from_db()
    assert (expired.status, live.status) == (ScrapeRun.Status.FAILED, ScrapeRun.Status.RUNNING)
    assert "lease expired" in expired.error
    assert Source.objects.get(slug="openrouter").locked_until is None
    assert Source.objects.get(slug="litellm").locked_until is not None


def test_release_locks_closes_abandoned_runs_before_freeing_their_leases():
    expired = dead_run("openrouter", lease_left_s=-1)
    live = dead_run("litellm", lease_left_s=600)
    out = io.StringIO()
    call_command("release_locks", stdout=out)
    assert out.getvalue().strip() == "1 abandoned run(s) closed, 1 expired lease(s) released"
    expired.refresh_from_db()
    live.refresh_from_db()
    assert expired.status == ScrapeRun.Status.FAILED and expired.error.startswith("abandoned:")
    assert live.status == ScrapeRun.Status.RUNNING


def test_a_live_lease_is_not_taken_and_its_run_is_not_closed():
    run = dead_run(lease_left_s=600)
    with pytest.raises(services.SourceBusy) as busy, services.source_lock(Source.objects.get(slug="openrouter")):
        pass
    assert busy.value.locked_until is not None
    run.refresh_from_db()
    assert run.status == ScrapeRun.Status.RUNNING


# --- schedules: one per source, whatever the interval --------------------------------------------------


def scrape_tasks() -> list[PeriodicTask]:
    return list(PeriodicTask.objects.filter(task="pricing.tasks.scrape_source").select_related("interval"))


def test_changing_the_interval_updates_each_sources_one_schedule_and_keeps_a_pause(settings):
    settings.SCRAPE_INTERVAL_HOURS = 6
    services.sources_sync()
    PeriodicTask.objects.filter(name=services.schedule_name("deepseek")).update(enabled=False)

    settings.SCRAPE_INTERVAL_HOURS = 12
    services.sources_sync()

    schedules = scrape_tasks()
    assert len(schedules) == len(REGISTRY)
    assert {t.interval.every for t in schedules} == {12}
    paused = [t.name for t in schedules if not t.enabled]
    assert paused == [services.schedule_name("deepseek")]


def test_it_folds_schedules_named_by_their_interval_into_one_keeping_a_pause(settings):
    every_6, _ = IntervalSchedule.objects.get_or_create(every=6, period=IntervalSchedule.HOURS)
    every_12, _ = IntervalSchedule.objects.get_or_create(every=12, period=IntervalSchedule.HOURS)
    for interval, enabled in ((every_6, False), (every_12, True)):
        PeriodicTask.objects.create(
            name=f"every-{interval.every}-hours-scrape-deepseek",
            task="pricing.tasks.scrape_source",
            interval=interval,
            args='["deepseek"]',
            enabled=enabled,
        )
    settings.SCRAPE_INTERVAL_HOURS = 8
    services.sources_sync()

    deepseek = [t for t in scrape_tasks() if t.args == '["deepseek"]']
    assert [(t.name, t.enabled, t.interval.every) for t in deepseek] == [("scrape-deepseek", False, 8)]


def test_it_leaves_an_interval_a_curator_chose(settings):
    settings.SCRAPE_INTERVAL_HOURS = 6
    services.sources_sync()
    daily, _ = IntervalSchedule.objects.get_or_create(every=1, period=IntervalSchedule.DAYS)
    PeriodicTask.objects.filter(name="scrape-deepseek").update(interval=daily, description="daily is enough")

    settings.SCRAPE_INTERVAL_HOURS = 3
    services.sources_sync()

    assert PeriodicTask.objects.get(name="scrape-deepseek").interval == daily
    assert PeriodicTask.objects.get(name="scrape-openai").interval.every == 3


def test_pausing_a_source_pauses_its_only_schedule(settings):
    settings.SCRAPE_INTERVAL_HOURS = 6
    services.sources_sync()
    settings.SCRAPE_INTERVAL_HOURS = 4
    services.sources_sync()
    PeriodicTask.objects.filter(name=services.schedule_name("deepseek")).update(enabled=False)
    assert not any(t.enabled for t in scrape_tasks() if t.args == '["deepseek"]')


# --- due-state: a lost beat tick delays a scrape, never drops it ----------------------------------------


def tried(slug: str, hours_ago: float, status: str = ScrapeRun.Status.SUCCEEDED) -> None:
    ScrapeRun.objects.create(
        source=Source.objects.get(slug=slug),
        status=status,
        started_at=timezone.now() - dt.timedelta(hours=hours_ago),
    )


def test_a_source_whose_interval_passed_without_a_run_is_due(settings):
    settings.SCRAPE_INTERVAL_HOURS = 6
    services.sources_sync()
    for slug in REGISTRY:
        tried(slug, hours_ago=1)
    tried("deepseek", hours_ago=7)  # older runs do not matter: the newest one does
    ScrapeRun.objects.filter(source__slug="openai").delete()
    tried("openai", hours_ago=7)  # beat's ticks were lost while the broker was down
    tried("anthropic", hours_ago=9, status=ScrapeRun.Status.FAILED)
    ScrapeRun.objects.filter(source__slug="google").delete()  # never scraped

    assert services.sources_due() == ["google", "openai"]


def test_paused_and_disabled_sources_are_never_due(settings):
    settings.SCRAPE_INTERVAL_HOURS = 6
    services.sources_sync()
    PeriodicTask.objects.filter(name="scrape-openai").update(enabled=False)
    Source.objects.filter(slug="google").update(enabled=False)
    due = services.sources_due()
    assert "openai" not in due and "google" not in due and "deepseek" in due


def test_the_catch_up_task_queues_each_overdue_source_once_and_a_queued_copy_skips_if_it_ran_since(settings):
    settings.SCRAPE_INTERVAL_HOURS = 6
    services.sources_sync()
    for slug in REGISTRY:
        tried(slug, hours_ago=1)
    ScrapeRun.objects.filter(source__slug="openai").delete()
    tried("openai", hours_ago=30)

    with mock.patch.object(tasks.scrape_source, "apply_async") as send:
        assert tasks.scrape_due_sources() == ["openai"]
    send.assert_called_once_with(args=["openai"], kwargs={"only_if_due": True})

    tried("openai", hours_ago=0)  # beat's own tick got there first
    with mock.patch.object(services, "scrape_source") as service:
        outcome = tasks.scrape_source.apply(args=["openai"], kwargs={"only_if_due": True})
    assert outcome.result["status"] == "not due"
    service.assert_not_called()

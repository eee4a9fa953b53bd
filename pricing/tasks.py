"""Thin Celery tasks: take a slug, call a service, retry and log. Nothing else lives here."""

from __future__ import annotations

import datetime as dt
import logging
import random

from celery import Task, shared_task
from celery.exceptions import SoftTimeLimitExceeded

from pricing import answers, rates, services
from providers.http import FetchError

log = logging.getLogger(__name__)

# A source's own schedule fires on time; the catch-up only queues what is overdue by more than this.
DUE_GRACE = dt.timedelta(minutes=15)


class RetryableRunFailure(Exception):
    """A run failed for a reason that may pass (network, 5xx): Celery retries it with backoff."""


@shared_task(
    bind=True,
    autoretry_for=(RetryableRunFailure,),
    retry_backoff=60,
    retry_backoff_max=1800,
    retry_jitter=True,
    max_retries=4,
    soft_time_limit=300,
    time_limit=360,
    acks_late=True,
    reject_on_worker_lost=True,
)
def scrape_source(self: Task, slug: str, only_if_due: bool = False) -> dict[str, object]:
    """Scrape one source. Scheduled per source by django-celery-beat (``manage.py sync_sources``
    creates one ``scrape-<slug>`` PeriodicTask for each; curators edit or pause it in the admin), and
    by ``scrape_due_sources`` with ``only_if_due`` when a beat tick was lost."""
    if not services.source_is_enabled(slug=slug):
        log.info("source %s is disabled; skipping", slug)
        return {"source": slug, "status": "disabled"}
    if only_if_due and not services.source_is_due(slug=slug):
        log.info("source %s was scraped since this catch-up was queued; skipping", slug)
        return {"source": slug, "status": "not due"}
    try:
        result = services.scrape_source(slug=slug)
    except SoftTimeLimitExceeded:
        # The run's transaction never committed, so nothing was half-applied; the lease expires.
        log.error("scrape of %s hit its time limit", slug)
        raise
    log.info("%s", result.summary())
    if result.status == "busy":
        # Another run holds the lease: a live one, or a killed worker's (then the lease runs out and the
        # retry closes that run as abandoned). Either way this scrape is not done: try again then.
        # (The lease lasts at most SCRAPE_LEASE_SECONDS, so the task's own retries are plenty; passing
        # max_retries here would stick to the shared task object, a Celery quirk.)
        wait = services.lease_wait(slug=slug).total_seconds()
        raise self.retry(exc=RetryableRunFailure(result.error), countdown=wait + 1 + random.uniform(0, 2))
    if result.retryable:
        raise RetryableRunFailure(result.error)
    return result.as_dict()


@shared_task
def scrape_all() -> list[str]:
    """Fan out one ``scrape_source`` per enabled source. Run by hand or from an admin action."""
    slugs = services.enabled_source_slugs()
    for slug in slugs:
        scrape_source.delay(slug)
    return slugs


@shared_task
def scrape_due_sources() -> list[str]:
    """Queue the sources whose schedule is overdue: a beat tick lost to a broker outage delays a scrape
    but never drops it. Scheduled every 10 minutes (CELERY_BEAT_SCHEDULE "every-10-minutes-scrape-due-sources");
    the grace leaves the on-time case to each source's own schedule."""
    slugs = services.sources_due(grace=DUE_GRACE)
    for slug in slugs:
        scrape_source.apply_async(args=[slug], kwargs={"only_if_due": True})
    if slugs:
        log.warning("catching up overdue scrapes: %s", ", ".join(slugs))
    return slugs


@shared_task
def close_abandoned_runs() -> dict[str, int]:
    """Close runs left "running" by killed workers (their lease expired) and free those leases.
    Scheduled every 5 minutes (CELERY_BEAT_SCHEDULE "every-5-minutes-close-abandoned-runs")."""
    closed = services.runs_close_abandoned()
    released = services.locks_release_expired()
    return {"closed": closed, "released": released}


@shared_task
def release_expired_locks() -> int:
    """Free leases left by killed workers; ``manage.py release_locks`` is its twin. Kept for tasks
    queued before ``close_abandoned_runs`` replaced it on the schedule."""
    return close_abandoned_runs()["released"]


@shared_task(
    autoretry_for=(RetryableRunFailure,),
    retry_backoff=300,
    retry_backoff_max=3600,
    retry_jitter=True,
    max_retries=5,
    soft_time_limit=120,
    time_limit=180,
)
def refresh_exchange_rates(history: bool = False) -> dict[str, int]:
    """Store the ECB's euro reference rates. Scheduled daily after the ECB publishes
    (CELERY_BEAT_SCHEDULE "every-day-refresh-exchange-rates")."""
    try:
        counts = rates.exchange_rates_refresh(history=history)
    except FetchError as exc:
        if exc.retryable:
            raise RetryableRunFailure(str(exc)) from exc
        raise
    log.info("exchange rates refreshed: %s", counts)
    return counts.as_dict()


@shared_task(soft_time_limit=600, time_limit=660)
def measure_tokenizers() -> dict[str, object]:
    """Measure every installed tokenizer on the reference corpus and link models to tokenizers.
    Scheduled daily (CELERY_BEAT_SCHEDULE "every-day-measure-and-assign-tokenizers") so models that
    scrapes created get their tokenizer; ``manage.py measure_tokenizers`` is its twin. Unchanged
    inputs write nothing."""
    from pricing import measurement

    measured = measurement.tokenizers_measure()
    assigned = measurement.tokenizer_assign()
    log.info("tokenizers: %s; %s", measured.summary(), assigned.summary())
    return {**measured.as_dict(), "models_assigned": assigned.assigned}


@shared_task(soft_time_limit=120, time_limit=180)
def warm_answers() -> dict[str, int]:
    """Compute and store the most-read answers (``answers.WARM_PATHS``) so readers rarely meet a cold path.
    Queued by ``services.prices_changed`` once each change commits; answers still fresh cost nothing."""
    return answers.warm()

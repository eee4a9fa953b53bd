"""Thin Celery tasks: take a slug, call a service, retry and log. Nothing else lives here."""

from __future__ import annotations

import logging

from celery import shared_task
from celery.exceptions import SoftTimeLimitExceeded

from pricing import rates, services
from providers.http import FetchError

log = logging.getLogger(__name__)


class RetryableRunFailure(Exception):
    """A run failed for a reason that may pass (network, 5xx): Celery retries it with backoff."""


@shared_task(
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
def scrape_source(slug: str) -> dict[str, object]:
    """Scrape one source. Scheduled per source by django-celery-beat (``manage.py sync_sources``
    creates an every-6-hours PeriodicTask for each; curators edit or pause it in the admin)."""
    if not services.source_is_enabled(slug=slug):
        log.info("source %s is disabled; skipping", slug)
        return {"source": slug, "status": "disabled"}
    try:
        result = services.scrape_source(slug=slug)
    except SoftTimeLimitExceeded:
        # The run's transaction never committed, so nothing was half-applied; the lease expires.
        log.error("scrape of %s hit its time limit", slug)
        raise
    log.info("%s", result.summary())
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
def release_expired_locks() -> int:
    """Free leases left by killed workers. Scheduled every 15 minutes (CELERY_BEAT_SCHEDULE);
    ``manage.py release_locks`` is its twin."""
    return services.locks_release_expired()


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

"""Sources and their schedules: the Source row of each registered adapter, its beat task, its run lease."""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import secrets
from collections.abc import Iterator

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from pricing.models import Provider, Source
from providers import REGISTRY, get_scraper

log = logging.getLogger(__name__)

LOCK_TTL = dt.timedelta(minutes=15)


class SourceBusy(Exception):
    """Another run of the same source holds the lock."""


# --- sources -----------------------------------------------------------------------------------------


def provider_name_for(slug: str) -> str:
    """A readable default name for a provider first met through an aggregator; curators may rename it."""
    for scraper in REGISTRY.values():
        if scraper.provider == slug and scraper.provider_name:
            return scraper.provider_name
    return slug.replace("_", " ").replace("-", " ").title()


def source_sync(*, slug: str) -> Source:
    """The Source row of a registered adapter, created on first use with the adapter's identity."""
    scraper = get_scraper(slug)
    provider = None
    if scraper.provider:
        provider, _ = Provider.objects.get_or_create(
            slug=scraper.provider,
            defaults={
                "name": scraper.provider_name or provider_name_for(scraper.provider),
                "website": scraper.provider_website,
            },
        )
    source, created = Source.objects.get_or_create(
        slug=slug,
        defaults={
            "name": scraper.name,
            "kind": scraper.kind,
            "provider": provider,
            "trust_rank": scraper.trust_rank,
            "urls": list(scraper.urls),
        },
    )
    if not created and list(scraper.urls) != source.urls:
        source.urls = list(scraper.urls)
        source.save(update_fields=["urls"])
    return source


def sources_sync() -> list[Source]:
    """Every registered adapter as a Source row, each with its own editable beat schedule."""
    from django_celery_beat.models import IntervalSchedule, PeriodicTask

    interval, _ = IntervalSchedule.objects.get_or_create(
        every=settings.SCRAPE_INTERVAL_HOURS, period=IntervalSchedule.HOURS
    )
    sources = []
    for slug in sorted(REGISTRY):
        source = source_sync(slug=slug)
        PeriodicTask.objects.get_or_create(
            name=schedule_name(slug),
            defaults={"task": "pricing.tasks.scrape_source", "interval": interval, "args": f'["{slug}"]'},
        )
        sources.append(source)
    return sources


def schedule_name(slug: str) -> str:
    return f"every-{settings.SCRAPE_INTERVAL_HOURS}-hours-scrape-{slug}"


def source_is_enabled(*, slug: str) -> bool:
    return not Source.objects.filter(slug=slug, enabled=False).exists()


def enabled_source_slugs() -> list[str]:
    disabled = set(Source.objects.filter(enabled=False).values_list("slug", flat=True))
    return [slug for slug in sorted(REGISTRY) if slug not in disabled]


@contextlib.contextmanager
def source_lock(source: Source) -> Iterator[str]:
    """A lease on the source row: one conditional UPDATE, so it holds across processes and machines."""
    token = secrets.token_hex(16)
    now = timezone.now()
    acquired = (
        Source.objects.filter(pk=source.pk)
        .filter(Q(locked_until__isnull=True) | Q(locked_until__lt=now))
        .update(lock_token=token, locked_until=now + LOCK_TTL)
    )
    if not acquired:
        raise SourceBusy(f"{source.slug}: another run is in progress")
    try:
        yield token
    finally:
        Source.objects.filter(pk=source.pk, lock_token=token).update(lock_token="", locked_until=None)


def locks_release_expired() -> int:
    return Source.objects.filter(locked_until__lt=timezone.now()).update(lock_token="", locked_until=None)

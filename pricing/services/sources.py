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

SCRAPE_TASK = "pricing.tasks.scrape_source"
# What a sync-made schedule says about itself; a curator's own interval is left alone (see sources_sync).
DEFAULT_INTERVAL_NOTE = "Default interval: every {hours} h (SCRAPE_INTERVAL_HOURS); set by sync_sources."
ABANDONED = "abandoned: its worker stopped before it finished (lease expired at {until}); nothing of it was applied"


def lease_ttl() -> dt.timedelta:
    """How long a run's lease lasts. Longer than a scrape task's hard time limit, so a live run never
    loses its lease; a killed run's lease runs out and the next run (or the periodic sweep) closes it."""
    return dt.timedelta(seconds=settings.SCRAPE_LEASE_SECONDS)


class SourceBusy(Exception):
    """Another run of the same source holds the lease, until ``locked_until``."""

    def __init__(self, message: str, *, locked_until: dt.datetime | None = None):
        super().__init__(message)
        self.locked_until = locked_until


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
    """Every registered adapter as a Source row, each with exactly one editable beat schedule.

    The schedule's name is stable (``scrape-<slug>``), so a new ``SCRAPE_INTERVAL_HOURS`` updates it
    instead of adding a second one; schedules named by an older scheme are folded into it, keeping a
    pause. The default interval is applied only to a schedule still on the previous default: an
    interval a curator chose in the admin stays.
    """
    from django_celery_beat.models import IntervalSchedule, PeriodicTask

    hours = settings.SCRAPE_INTERVAL_HOURS
    interval, _ = IntervalSchedule.objects.get_or_create(every=hours, period=IntervalSchedule.HOURS)
    note = DEFAULT_INTERVAL_NOTE.format(hours=hours)
    sources = []
    for slug in sorted(REGISTRY):
        source = source_sync(slug=slug)
        name = schedule_name(slug)
        tasks = list(
            PeriodicTask.objects.select_related("interval").filter(task=SCRAPE_TASK, args=f'["{slug}"]').order_by("id")
        )
        task = next((t for t in tasks if t.name == name), None) or (tasks[0] if tasks else None)
        if task is None:
            PeriodicTask.objects.create(
                name=name, task=SCRAPE_TASK, interval=interval, args=f'["{slug}"]', description=note
            )
        else:
            others = [t for t in tasks if t.pk != task.pk]
            paused = not all(t.enabled for t in tasks)
            # A schedule made by an older sync (name carries its interval) or still on the default we set.
            on_default = task.description.startswith("Default interval:") or task.name.startswith("every-")
            changes: dict[str, object] = {"name": name, "enabled": not paused}
            if on_default and task.interval_id != interval.pk and task.interval and task.interval.period == "hours":
                changes |= {"interval": interval, "description": note}
            if others:
                PeriodicTask.objects.filter(pk__in=[t.pk for t in others]).delete()
            if any(getattr(task, k) != v for k, v in changes.items()):
                for k, v in changes.items():
                    setattr(task, k, v)
                task.save()
        sources.append(source)
    return sources


def schedule_name(slug: str) -> str:
    """The one beat schedule of a source; stable whatever its interval."""
    return f"scrape-{slug}"


def sources_due(*, now: dt.datetime | None = None, grace: dt.timedelta = dt.timedelta(0)) -> list[str]:
    """Enabled sources with an enabled interval schedule and no live run started within that interval
    (plus ``grace``): scrapes that a lost beat tick (a broker outage) would otherwise drop. Failed runs
    count as tries, so a failing page is tried once per interval, not at every sweep."""
    from django.db.models import Max
    from django_celery_beat.models import PeriodicTask

    from pricing.models import ScrapeRun

    now = now or timezone.now()
    schedules = {
        task.args: task
        for task in PeriodicTask.objects.select_related("interval").filter(
            task=SCRAPE_TASK, enabled=True, interval__isnull=False
        )
    }
    last_tried = dict(
        ScrapeRun.objects.filter(kind=ScrapeRun.Kind.LIVE)
        .values_list("source__slug")
        .annotate(latest=Max("started_at"))
        .values_list("source__slug", "latest")
    )
    due = []
    for slug in enabled_source_slugs():
        task = schedules.get(f'["{slug}"]')
        if task is None or task.interval is None:
            continue  # paused, or on a crontab that beat keeps without catch-up
        every = dt.timedelta(**{task.interval.period: task.interval.every})
        tried = last_tried.get(slug)
        if tried is None or tried + every + grace <= now:
            due.append(slug)
    return due


def source_is_due(*, slug: str) -> bool:
    return slug in sources_due()


def source_is_enabled(*, slug: str) -> bool:
    return not Source.objects.filter(slug=slug, enabled=False).exists()


def enabled_source_slugs() -> list[str]:
    disabled = set(Source.objects.filter(enabled=False).values_list("slug", flat=True))
    return [slug for slug in sorted(REGISTRY) if slug not in disabled]


@contextlib.contextmanager
def source_lock(source: Source) -> Iterator[str]:
    """A lease on the source row: one conditional UPDATE, so it holds across processes and machines.

    Whoever takes the lease closes the runs of the source still marked running: their lease expired,
    so their worker is gone (killed, or lost its machine), and their transaction never committed."""
    from pricing.models import ScrapeRun

    token = secrets.token_hex(16)
    now = timezone.now()
    expired = Source.objects.filter(pk=source.pk).values_list("locked_until", flat=True).first()
    acquired = (
        Source.objects.filter(pk=source.pk)
        .filter(Q(locked_until__isnull=True) | Q(locked_until__lt=now))
        .update(lock_token=token, locked_until=now + lease_ttl())
    )
    if not acquired:
        locked_until = Source.objects.filter(pk=source.pk).values_list("locked_until", flat=True).first()
        raise SourceBusy(f"{source.slug}: another run is in progress", locked_until=locked_until)
    closed = ScrapeRun.objects.filter(source=source, status=ScrapeRun.Status.RUNNING).update(
        status=ScrapeRun.Status.FAILED, error=ABANDONED.format(until=expired or now), finished_at=now
    )
    if closed:
        log.warning("%s: closed %d abandoned run(s) whose lease expired", source.slug, closed)
    try:
        yield token
    finally:
        Source.objects.filter(pk=source.pk, lock_token=token).update(lock_token="", locked_until=None)


def lease_wait(*, slug: str) -> dt.timedelta:
    """How long until the lease on ``slug`` can be taken (zero when it is free)."""
    locked_until = Source.objects.filter(slug=slug).values_list("locked_until", flat=True).first()
    return max(locked_until - timezone.now(), dt.timedelta(0)) if locked_until else dt.timedelta(0)


def locks_release_expired() -> int:
    return Source.objects.filter(locked_until__lt=timezone.now()).update(lock_token="", locked_until=None)

"""Writes, split by job: ``sources`` (rows, schedules, leases), ``runs`` (fetch, parse, record a run),
``ingest`` (validate and apply a run's records to the price timelines), ``linking`` (canonical models).

The names re-exported here are the package's public contract; callers import them from ``pricing.services``.
"""

from pricing.services.ingest import (
    PRICES_CHANGED_CACHE_KEY,
    Counts,
    IngestRejected,
    ingest,
    prices_changed,
    records_validate,
    retirements_record,
)
from pricing.services.linking import models_link
from pricing.services.runs import (
    FetchFailed,
    RunResult,
    documents_fetch,
    fetch_and_parse,
    records_ingest,
    runs_close_abandoned,
    scrape_source,
)
from pricing.services.sources import (
    SourceBusy,
    enabled_source_slugs,
    lease_wait,
    locks_release_expired,
    provider_name_for,
    schedule_name,
    source_is_due,
    source_is_enabled,
    source_lock,
    source_sync,
    sources_due,
    sources_sync,
)
from pricing.services.timeline import plain, price_publish, stored_amount

__all__ = [
    "PRICES_CHANGED_CACHE_KEY",
    "Counts",
    "FetchFailed",
    "IngestRejected",
    "RunResult",
    "SourceBusy",
    "documents_fetch",
    "enabled_source_slugs",
    "fetch_and_parse",
    "ingest",
    "lease_wait",
    "locks_release_expired",
    "models_link",
    "plain",
    "price_publish",
    "prices_changed",
    "provider_name_for",
    "records_ingest",
    "records_validate",
    "retirements_record",
    "runs_close_abandoned",
    "schedule_name",
    "scrape_source",
    "source_is_due",
    "source_is_enabled",
    "source_lock",
    "source_sync",
    "sources_due",
    "sources_sync",
    "stored_amount",
]

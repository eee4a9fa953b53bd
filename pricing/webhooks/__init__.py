"""Signed webhooks for published price changes.

A subscriber (an API key a curator issued) registers a target URL, a secret and filters; every published
change that matches is POSTed to it, signed, in batches, by a Celery task that retries with backoff and
disables the subscription after repeated failures. See ``services`` for the rules and README "Webhooks".

Writers of prices call :func:`changes_published` inside their transaction; nothing happens unless it commits.
"""

from __future__ import annotations

from collections.abc import Iterable


def changes_published(price_ids: Iterable[int]) -> None:
    """Announce newly written published prices (inside the writer's transaction): once it commits, the
    changes among them become events for the subscriptions they match. Costs no query before the commit."""
    from pricing.webhooks import services

    services.changes_published(price_ids=price_ids)

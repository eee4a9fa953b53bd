"""Thin Celery tasks: send a subscription's deliveries, retry with backoff, sweep lost ones."""

from __future__ import annotations

import logging

from celery import Task, shared_task

from pricing.webhooks import services

log = logging.getLogger(__name__)


# The attempts are counted on each delivery (WEBHOOK_MAX_ATTEMPTS), so the task itself retries without limit.
@shared_task(bind=True, max_retries=None, acks_late=True, soft_time_limit=900, time_limit=960)
def deliver(self: Task, subscription_id: int) -> dict[str, object]:
    """Send one subscription's pending deliveries in order. Queued once per subscription when a commit
    publishes matching changes (``services.deliveries_enqueue``), and by ``send_overdue_deliveries``. A failed
    POST retries this task after the delivery's backoff; the deliveries behind it wait their turn."""
    outcome = services.deliveries_send(subscription_id=subscription_id, is_retry=self.request.retries > 0)
    if outcome.retry_in is not None:
        raise self.retry(countdown=max(0.0, outcome.retry_in))
    if outcome.more:
        deliver.delay(subscription_id)  # a long queue continues in a fresh task
    return outcome.as_dict()


@shared_task
def send_overdue_deliveries() -> list[int]:
    """Queue ``deliver`` for subscriptions whose next delivery is overdue (its task was lost: broker down when
    it was queued, a killed worker), and forget finished deliveries past their keeping time. Scheduled every
    5 minutes (CELERY_BEAT_SCHEDULE "every-5-minutes-send-overdue-webhook-deliveries")."""
    services.deliveries_prune()
    subscription_ids = services.overdue_subscriptions()
    for subscription_id in subscription_ids:
        deliver.delay(subscription_id)
    if subscription_ids:
        log.warning("sending overdue webhook deliveries of subscriptions %s", subscription_ids)
    return subscription_ids

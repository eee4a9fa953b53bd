"""Webhook rules: API keys, subscriptions, events from published changes, batching, signing and sending.

Flow: a writer of prices calls ``changes_published`` inside its transaction. Once it commits,
``deliveries_enqueue`` turns the changes among those rows into events, matches them against every active
subscription, stores one ``WebhookDelivery`` per subscription per ``WEBHOOK_BATCH_SIZE`` events (the
outbox) and queues one ``deliver`` task per subscription. The task sends that subscription's pending
deliveries in order, one signed POST each; a failed POST is retried by the task with exponential backoff,
and a subscription whose deliveries keep failing every attempt is disabled with a note on its record.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import hmac
import json
import logging
import random
import re
import secrets
import time
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone

from pricing.models import Price
from pricing.services.timeline import chunks, plain
from pricing.webhooks.models import ApiKey, WebhookDelivery, WebhookSubscription
from providers import http
from providers.base import COMPONENTS

log = logging.getLogger(__name__)

KEY_PREFIX = "tpk_"
SIGNATURE_HEADER = "X-Tokenprices-Signature"
EVENT_ID_HEADER = "X-Tokenprices-Event-Id"
ATTEMPT_HEADER = "X-Tokenprices-Attempt"
# A receiver should refuse a signature whose timestamp is older than this (a replayed request).
SIGNATURE_TOLERANCE_S = 300
# One sender's hold on a delivery while it POSTs it: longer than any POST may take.
CLAIM_MARGIN_S = 60
# Deliveries one task sends before it queues its successor, so one busy subscription cannot hog a worker.
SENDS_PER_TASK = 20
# A delivery still pending this long after it was due lost its task (broker down, killed worker).
OVERDUE_GRACE = dt.timedelta(minutes=5)
TARGET_RULE = "targets are public hosts on the default port; operators allow a test host in WEBHOOK_ALLOW_PRIVATE_HOSTS"
# Finished deliveries (the log) are kept this long.
KEEP_DELIVERIES = dt.timedelta(days=30)
MIN_SECRET_LENGTH = 16
MAX_FILTER_ITEMS = 100
SLUG = re.compile(r"[\w.:/@+-]{1,200}")

Actor = AbstractBaseUser | AnonymousUser | None


def _actor(actor: Actor) -> Any:
    return actor if actor is not None and getattr(actor, "is_authenticated", False) else None


def iso(moment: dt.datetime | None) -> str | None:
    return moment.astimezone(dt.UTC).isoformat().replace("+00:00", "Z") if moment else None


# --- API keys ------------------------------------------------------------------------------------------


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def api_key_issue(*, api_key: ApiKey, actor: Actor) -> str:
    """Save ``api_key`` (unsaved, with its name) with a new random key and return the key: the only time it
    is ever seen. Only its SHA-256 is stored, so a leaked database leaks no key."""
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    api_key.key_sha256 = _digest(key)
    api_key.prefix = key[: len(KEY_PREFIX) + 6]
    api_key.created_by = _actor(actor)
    api_key.save()
    log.info("API key %s issued for %s", api_key.prefix, api_key.name)
    return key


def api_key_authenticate(*, key: str) -> ApiKey | None:
    """The live key whose hash matches, or None. Marks when it was last used (at most once a minute)."""
    if not key.startswith(KEY_PREFIX) or len(key) > 200:
        return None
    found = ApiKey.objects.filter(key_sha256=_digest(key), revoked_at__isnull=True).first()
    if found is None:
        return None
    now = timezone.now()
    if found.last_used_at is None or now - found.last_used_at > dt.timedelta(minutes=1):
        ApiKey.objects.filter(pk=found.pk).update(last_used_at=now)
        found.last_used_at = now
    return found


def api_keys_revoke(*, key_ids: Sequence[int]) -> int:
    """Refuse these keys from now on; their subscriptions stop receiving events. Returns how many changed."""
    now = timezone.now()
    with transaction.atomic():
        revoked = ApiKey.objects.filter(id__in=key_ids, revoked_at__isnull=True).update(revoked_at=now)
        subscriptions = WebhookSubscription.objects.filter(api_key_id__in=key_ids, active=True)
        for subscription in subscriptions:
            _disable(subscription, reason="its API key was revoked", now=now)
    return revoked


# --- subscriptions -------------------------------------------------------------------------------------


def target_url_problem(url: str) -> str:
    """Why deliveries could never go to ``url`` ("" when they may): the fetcher's rules read from the URL's
    text (http or https, no credentials, the scheme's default port, no private or reserved address literal).
    A host name is checked again on every delivery, by the address the connection actually reaches."""
    if len(url) > (WebhookSubscription._meta.get_field("target_url").max_length or 500):
        return "the URL is too long"
    try:
        http.post_target_check(url, private_ok=settings.WEBHOOK_ALLOW_PRIVATE_HOSTS)
    except http.HostNotAllowed as exc:
        problem = str(exc).replace("the source declares", "allowed").replace("declared by the source", "allowed")
        return f"{problem} ({TARGET_RULE})"
    return ""


def _filter_list(value: object, *, what: str, allowed: Iterable[str] | None = None) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise ValidationError({what: "a list of strings"})
    if len(value) > MAX_FILTER_ITEMS:
        raise ValidationError({what: f"at most {MAX_FILTER_ITEMS} items"})
    cleaned = sorted({item.strip() for item in value if item.strip()})
    bad = [item for item in cleaned if not SLUG.fullmatch(item)]
    if allowed is not None:
        bad = [item for item in cleaned if item not in allowed]
        if bad:
            raise ValidationError({what: f"unknown: {', '.join(bad[:5])}; accepted: {', '.join(allowed)}"})
    if bad:
        raise ValidationError({what: f"not a slug or model id: {bad[0][:80]!r}"})
    return cleaned


def subscription_clean(subscription: WebhookSubscription) -> None:
    """Check and normalise a subscription before it is saved (the API and the admin both call this);
    raises ValidationError naming each bad field."""
    problem = target_url_problem(subscription.target_url or "")
    if problem:
        raise ValidationError({"target_url": problem})
    subscription.providers = sorted({p.lower() for p in _filter_list(subscription.providers, what="providers")})
    subscription.model_ids = _filter_list(subscription.model_ids, what="models")
    subscription.components = _filter_list(subscription.components, what="components", allowed=COMPONENTS)
    percent = subscription.min_change_percent
    if percent is None or not Decimal(percent).is_finite() or not 0 <= Decimal(percent) <= 100000:
        raise ValidationError({"min_change_percent": "a percentage from 0 to 100000"})
    if subscription.secret and len(subscription.secret) < MIN_SECRET_LENGTH:
        raise ValidationError({"secret": f"at least {MIN_SECRET_LENGTH} characters (or leave it out to get one)"})


def new_secret() -> str:
    return secrets.token_urlsafe(32)


def subscription_create(
    *,
    target_url: str,
    api_key: ApiKey | None = None,
    secret: str = "",
    providers: Sequence[str] = (),
    model_ids: Sequence[str] = (),
    components: Sequence[str] = (),
    min_change_percent: Decimal = Decimal(0),
    description: str = "",
    actor: Actor = None,
) -> WebhookSubscription:
    """Register a subscription (for ``api_key``'s owner, or a curator's own when ``api_key`` is None). Without
    a secret, one is generated; either way the caller shows it once."""
    subscription = WebhookSubscription(
        api_key=api_key,
        target_url=target_url.strip(),
        secret=secret or new_secret(),
        providers=list(providers),
        model_ids=list(model_ids),
        components=list(components),
        min_change_percent=min_change_percent,
        description=description,
        created_by=_actor(actor),
    )
    subscription_clean(subscription)
    with transaction.atomic():
        if api_key is not None:
            ApiKey.objects.select_for_update().filter(pk=api_key.pk).first()
            if api_key.subscriptions.count() >= settings.WEBHOOK_MAX_SUBSCRIPTIONS_PER_KEY:
                raise ValidationError(
                    {"target_url": f"this key has {settings.WEBHOOK_MAX_SUBSCRIPTIONS_PER_KEY} subscriptions already"}
                )
        subscription.save()
    return subscription


def subscription_enable(*, subscription: WebhookSubscription) -> None:
    """Deliver to it again: the failure count starts over and the disabling note is cleared."""
    WebhookSubscription.objects.filter(pk=subscription.pk).update(
        active=True, consecutive_failures=0, disabled_at=None, disabled_reason=""
    )
    subscription.active, subscription.consecutive_failures = True, 0
    subscription.disabled_at, subscription.disabled_reason = None, ""


def subscription_disable(*, subscription: WebhookSubscription, reason: str) -> None:
    with transaction.atomic():
        _disable(subscription, reason=reason, now=timezone.now())


def _disable(subscription: WebhookSubscription, *, reason: str, now: dt.datetime) -> None:
    """Stop delivering, say why on the subscription's record, and cancel what was waiting to be sent."""
    WebhookSubscription.objects.filter(pk=subscription.pk).update(
        active=False, disabled_at=now, disabled_reason=reason[:2000]
    )
    subscription.active, subscription.disabled_at, subscription.disabled_reason = False, now, reason[:2000]
    WebhookDelivery.objects.filter(subscription=subscription, status=WebhookDelivery.Status.PENDING).update(
        status=WebhookDelivery.Status.CANCELLED, last_error=f"not sent: subscription disabled ({reason[:200]})"
    )
    log.warning("webhook subscription %s disabled: %s", subscription.pk, reason)


# --- events --------------------------------------------------------------------------------------------


def changes_published(*, price_ids: Iterable[int]) -> None:
    """Call inside the transaction that wrote these published rows: once it commits, their changes are
    queued for the subscriptions they match. A rollback sends nothing; a failure here never fails the writer."""
    ids = sorted({pk for pk in price_ids if pk is not None})
    if ids:
        transaction.on_commit(functools.partial(deliveries_enqueue, price_ids=ids), robust=True)


def _api_url(offering_id: int) -> str:
    return settings.SITE_URL.rstrip("/") + reverse("api:offering-history", args=[offering_id])


def _percent(old: Decimal, new: Decimal) -> Decimal | None:
    if old == 0:
        return None  # from free: larger than any threshold
    return ((new - old) / old * 100).quantize(Decimal("0.01"))


def price_events(*, price_ids: Sequence[int]) -> list[dict[str, Any]]:
    """The events among newly written published rows, oldest first: a row whose amount differs from the
    price in force on its line just before it was written (``price.changed``), or a line's first price
    (``price.added``). Rows that only re-date or split a known amount (a backfill extending a price, the
    head of a split range) are not changes. A constant number of queries per 2,000 rows."""
    new_rows: list[Price] = []
    for chunk in chunks(list(price_ids)):
        new_rows.extend(
            Price.objects.filter(id__in=chunk, status=Price.Status.PUBLISHED).select_related(
                "offering__provider", "offering__model", "source"
            )
        )
    if not new_rows:
        return []
    batch = {p.pk for p in new_rows}
    earliest = min(p.recorded_at for p in new_rows)
    latest_start = max(p.valid_from for p in new_rows)
    # Every published row of these offerings that may have been in force before the new ones were written.
    before: dict[Any, list[Price]] = defaultdict(list)
    for chunk in chunks(sorted({p.offering_id for p in new_rows})):
        rows = Price.objects.filter(
            offering_id__in=chunk, status=Price.Status.PUBLISHED, valid_from__lte=latest_start
        ).filter(Q(superseded_at__isnull=True) | Q(superseded_at__gte=earliest))
        for row in rows:
            before[row.line_key].append(row)
    events = []
    for new in sorted(new_rows, key=lambda p: (p.valid_from, p.pk)):
        line = before[new.line_key]

        def known_before(row: Price, new: Price = new) -> bool:
            if row.pk == new.pk:
                return False
            if row.pk in batch:
                return row.valid_from < new.valid_from and row.superseded_at is None
            return row.recorded_at < new.recorded_at and (
                row.superseded_at is None or row.superseded_at >= new.recorded_at
            )

        candidates = [
            r
            for r in line
            if known_before(r)
            and r.valid_from <= new.valid_from
            and (r.valid_to is None or r.valid_to >= new.valid_from)
        ]
        old = max(candidates, key=lambda r: (r.valid_from, r.recorded_at), default=None)
        if old is not None and old.amount_per_mtok == new.amount_per_mtok:
            continue  # the same amount: a split or a restatement, not a change
        if old is None and any(
            r.superseded_at == new.recorded_at and r.amount_per_mtok == new.amount_per_mtok and r.pk not in batch
            for r in line
        ):
            continue  # a known price extended backwards by an older copy of its page
        events.append(_event(new, old))
    return events


def _event(new: Price, old: Price | None) -> dict[str, Any]:
    offering = new.offering
    model = offering.model if offering.model_id else None
    source = new.source
    evidence_url = new.evidence_url or (source.urls[0] if source is not None and source.urls else "")
    percent = _percent(old.amount_per_mtok, new.amount_per_mtok) if old is not None else None
    return {
        "id": f"price-{new.pk}",
        "type": "price.changed" if old is not None else "price.added",
        "offering": {
            "id": offering.pk,
            "provider": offering.provider.slug,
            "provider_name": offering.provider.name,
            "model_id": offering.provider_model_id,
            "name": offering.name,
            "model": model.slug if model else None,
            "variant": offering.variant,
        },
        "component": new.component,
        "mode": new.mode,
        "tier": {"min_tokens": new.tier_min_tokens, "max_tokens": new.tier_max_tokens, "label": new.tier_label},
        "conditions": new.conditions,
        "old": (
            {"amount_per_mtok": plain(old.amount_per_mtok), "currency": old.currency, "price_id": old.pk}
            if old is not None
            else None
        ),
        "new": {"amount_per_mtok": plain(new.amount_per_mtok), "currency": new.currency, "price_id": new.pk},
        "change_percent": str(percent) if percent is not None else None,
        "valid_from": iso(new.valid_from),
        "valid_to": iso(new.valid_to),
        "recorded_at": iso(new.recorded_at),
        "source": {"slug": source.slug, "name": source.name, "kind": source.kind} if source is not None else None,
        "evidence": {
            "url": evidence_url,
            "original": new.original,
            "excerpt": new.excerpt,
            "document_sha256": new.document_hash,
            "run_id": new.run_id,
            "seen_at": iso(new.last_seen_at),
            "curator_note": new.curator_note,
        },
        "api_url": _api_url(offering.pk),
    }


def subscription_matches(subscription: WebhookSubscription, event: dict[str, Any]) -> bool:
    """Whether ``event`` passes the subscription's filters: every filter given must match (an empty one
    matches everything); a new price, or a change from free, passes any minimum change."""
    offering = event["offering"]
    if subscription.providers and offering["provider"] not in subscription.providers:
        return False
    if subscription.model_ids:
        wanted = {m.lower() for m in subscription.model_ids}
        if offering["model_id"].lower() not in wanted and (offering["model"] or "").lower() not in wanted:
            return False
    if subscription.components and event["component"] not in subscription.components:
        return False
    threshold = Decimal(subscription.min_change_percent or 0)
    percent = event["change_percent"]
    return not (threshold > 0 and percent is not None and abs(Decimal(percent)) < threshold)


def deliveries_enqueue(*, price_ids: Sequence[int]) -> list[int]:
    """Store the deliveries of these rows' events (one per subscription per ``WEBHOOK_BATCH_SIZE`` events)
    and queue one ``deliver`` task per subscription that got any. Returns the deliveries' ids."""
    from pricing.webhooks import tasks

    subscriptions = list(WebhookSubscription.objects.filter(active=True).order_by("id"))
    if not subscriptions:
        return []
    events = price_events(price_ids=price_ids)
    if not events:
        return []
    size = max(1, settings.WEBHOOK_BATCH_SIZE)
    origin = _origin(events)
    now = timezone.now()
    deliveries = []
    for subscription in subscriptions:
        matched = [e for e in events if subscription_matches(subscription, e)]
        for start in range(0, len(matched), size):
            batch = matched[start : start + size]
            deliveries.append(
                WebhookDelivery(
                    subscription=subscription,
                    events=batch,
                    event_count=len(batch),
                    origin=origin,
                    created_at=now,
                    next_attempt_at=now,
                )
            )
    WebhookDelivery.objects.bulk_create(deliveries, batch_size=500)
    for subscription_id in sorted({d.subscription_id for d in deliveries}):
        try:
            tasks.deliver.delay(subscription_id)
        except Exception:  # the broker is down: the deliveries are stored, and the overdue sweep sends them
            log.exception("could not queue webhook deliveries of subscription %s", subscription_id)
    log.info("%d webhook events -> %d deliveries", len(events), len(deliveries))
    return [d.pk for d in deliveries]


def _origin(events: Sequence[dict[str, Any]]) -> str:
    runs = sorted({e["evidence"]["run_id"] for e in events if e["evidence"]["run_id"]})
    sources = sorted({e["source"]["slug"] for e in events if e["source"]})
    if runs:
        return f"{', '.join(sources)} run {', '.join(map(str, runs[:5]))}"[:200]
    return "a curator's decision"


# --- signing -------------------------------------------------------------------------------------------


def signature(*, secret: str, timestamp: int, body: bytes) -> str:
    """Hex HMAC-SHA256 of ``<timestamp>.<body>`` under the subscription's secret."""
    return hmac.new(secret.encode(), str(timestamp).encode() + b"." + body, hashlib.sha256).hexdigest()


def signature_header(*, secret: str, timestamp: int, body: bytes) -> str:
    return f"t={timestamp},v1={signature(secret=secret, timestamp=timestamp, body=body)}"


def signature_verify(
    *, secret: str, header: str, body: bytes, now: float | None = None, tolerance_s: int = SIGNATURE_TOLERANCE_S
) -> bool:
    """What a receiver does: parse ``t=…,v1=…``, refuse an old timestamp, compare in constant time."""
    parts = dict(item.split("=", 1) for item in header.split(",") if "=" in item)
    timestamp = parts.get("t", "")
    if not timestamp.isdigit() or "v1" not in parts:
        return False
    if abs((time.time() if now is None else now) - int(timestamp)) > tolerance_s:
        return False
    return hmac.compare_digest(parts["v1"], signature(secret=secret, timestamp=int(timestamp), body=body))


def delivery_body(delivery: WebhookDelivery) -> bytes:
    """The POST body: the same bytes on every attempt (the signature's timestamp is what changes)."""
    payload = {
        "id": str(delivery.event_id),
        "type": "price.changes",
        "created_at": iso(delivery.created_at),
        "subscription": delivery.subscription_id,
        "origin": delivery.origin,
        "events": delivery.events,
    }
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()


# --- sending -------------------------------------------------------------------------------------------


@dataclass
class SendOutcome:
    sent: int = 0
    failed: int = 0
    retry_in: float | None = None
    more: bool = False

    def as_dict(self) -> dict[str, object]:
        return {"sent": self.sent, "failed": self.failed, "retry_in": self.retry_in, "more": self.more}


def backoff_s(attempts: int) -> float:
    """Wait before attempt ``attempts + 1``: base × 2^(attempts-1), capped, with up to 10% jitter."""
    base = settings.WEBHOOK_BACKOFF_BASE_SECONDS * 2 ** max(0, attempts - 1)
    wait = min(base, settings.WEBHOOK_BACKOFF_MAX_SECONDS)
    return wait + random.uniform(0, wait / 10)


def deliveries_send(*, subscription_id: int, is_retry: bool = False) -> SendOutcome:
    """Send a subscription's pending deliveries in order, until one fails (``retry_in`` then says when the
    task should try again; later deliveries wait behind it) or none is left. ``is_retry``: this call is that
    scheduled retry, so it sends the head delivery even before its ``next_attempt_at``."""
    outcome = SendOutcome()
    while outcome.sent + outcome.failed < SENDS_PER_TASK:
        subscription = WebhookSubscription.objects.filter(pk=subscription_id, active=True).first()
        if subscription is None:
            return outcome
        delivery = (
            WebhookDelivery.objects.filter(subscription=subscription, status=WebhookDelivery.Status.PENDING)
            .order_by("id")
            .first()
        )
        if delivery is None:
            return outcome
        now = timezone.now()
        if delivery.next_attempt_at > now and not is_retry:
            return outcome  # its scheduled retry will send it, and what follows
        is_retry = False
        if not _claim(delivery, now):
            return outcome  # another task is sending it, and will go on with the rest
        delivered, permanent = _attempt(subscription, delivery)
        if delivered:
            outcome.sent += 1
            continue
        if delivery.status == WebhookDelivery.Status.PENDING:
            outcome.retry_in = (delivery.next_attempt_at - timezone.now()).total_seconds()
            return outcome
        outcome.failed += 1
        if permanent or not subscription.active:
            return outcome
    outcome.more = True
    return outcome


def _claim(delivery: WebhookDelivery, now: dt.datetime) -> bool:
    hold = dt.timedelta(seconds=settings.WEBHOOK_DEADLINE_SECONDS + CLAIM_MARGIN_S)
    claimed = (
        WebhookDelivery.objects.filter(pk=delivery.pk, status=WebhookDelivery.Status.PENDING)
        .filter(Q(claimed_until__isnull=True) | Q(claimed_until__lt=now))
        .update(claimed_until=now + hold)
    )
    return claimed == 1


def _attempt(subscription: WebhookSubscription, delivery: WebhookDelivery) -> tuple[bool, bool]:
    """One POST of one delivery, logged on it. Returns (delivered, refused for good)."""
    body = delivery_body(delivery)
    attempt = delivery.attempts + 1
    headers = {
        "Content-Type": "application/json",
        EVENT_ID_HEADER: str(delivery.event_id),
        ATTEMPT_HEADER: str(attempt),
        SIGNATURE_HEADER: signature_header(secret=subscription.secret, timestamp=int(time.time()), body=body),
    }
    started = time.monotonic()
    status_code, error, permanent = None, "", False
    try:
        result = http.post(
            subscription.target_url,
            body=body,
            headers=headers,
            private_ok=settings.WEBHOOK_ALLOW_PRIVATE_HOSTS,
            timeout=(settings.WEBHOOK_TIMEOUT_SECONDS, settings.WEBHOOK_TIMEOUT_SECONDS),
            deadline_s=settings.WEBHOOK_DEADLINE_SECONDS,
        )
        status_code, latency_ms = result.status, result.elapsed_ms
        if not 200 <= result.status < 300:
            error = f"HTTP {result.status}"
            if 300 <= result.status < 400:
                error += " (a redirect; redirects are not followed: register the final URL)"
            answer = result.content.decode("utf-8", "replace").strip()
            if answer:
                error += f": {answer[:200]}"
    except http.HostNotAllowed as exc:
        latency_ms, error, permanent = int((time.monotonic() - started) * 1000), str(exc), True
    except http.FetchError as exc:
        latency_ms, error = int((time.monotonic() - started) * 1000), str(exc)
    now = timezone.now()
    delivered = not error
    delivery.attempts = attempt
    delivery.status_code, delivery.latency_ms, delivery.last_error = status_code, latency_ms, error[:2000]
    delivery.last_attempt_at, delivery.claimed_until = now, None
    if delivered:
        delivery.status, delivery.delivered_at = WebhookDelivery.Status.DELIVERED, now
    elif attempt < settings.WEBHOOK_MAX_ATTEMPTS and not permanent:
        delivery.next_attempt_at = now + dt.timedelta(seconds=backoff_s(attempt))
    else:
        delivery.status = WebhookDelivery.Status.FAILED
    log.log(
        logging.INFO if delivered else logging.WARNING,
        "webhook delivery %s to subscription %s: attempt %d, %s, %s ms%s",
        delivery.event_id,
        subscription.pk,
        attempt,
        status_code or "no answer",
        latency_ms,
        f", {error[:200]}" if error else "",
    )
    with transaction.atomic():
        delivery.save(
            update_fields=[
                "attempts",
                "status",
                "status_code",
                "latency_ms",
                "last_error",
                "last_attempt_at",
                "next_attempt_at",
                "delivered_at",
                "claimed_until",
            ]
        )
        if delivered:
            if subscription.consecutive_failures:
                WebhookSubscription.objects.filter(pk=subscription.pk).update(consecutive_failures=0)
        elif delivery.status == WebhookDelivery.Status.FAILED:
            WebhookSubscription.objects.filter(pk=subscription.pk).update(
                consecutive_failures=F("consecutive_failures") + 1
            )
            subscription.refresh_from_db(fields=["consecutive_failures"])
            limit = settings.WEBHOOK_DISABLE_AFTER_FAILED_DELIVERIES
            if permanent:
                _disable(subscription, reason=f"the target was refused: {error}", now=now)
            elif subscription.consecutive_failures >= limit:
                _disable(
                    subscription,
                    reason=(
                        f"{subscription.consecutive_failures} deliveries in a row failed all "
                        f"{settings.WEBHOOK_MAX_ATTEMPTS} attempts; the last: {error}"
                    ),
                    now=now,
                )
    return delivered, permanent


def deliveries_prune(*, now: dt.datetime | None = None) -> int:
    """Forget finished deliveries older than ``KEEP_DELIVERIES``; pending ones are never pruned."""
    cutoff = (now or timezone.now()) - KEEP_DELIVERIES
    deleted, _ = (
        WebhookDelivery.objects.exclude(status=WebhookDelivery.Status.PENDING).filter(created_at__lt=cutoff).delete()
    )
    return deleted


def overdue_subscriptions() -> list[int]:
    """Active subscriptions whose next delivery is overdue by more than ``OVERDUE_GRACE`` and held by no
    sender: their task was lost, or could not be queued."""
    now = timezone.now()
    heads: dict[int, WebhookDelivery] = {}
    pending = (
        WebhookDelivery.objects.filter(status=WebhookDelivery.Status.PENDING, subscription__active=True)
        .order_by("subscription_id", "id")
        .only("id", "subscription_id", "next_attempt_at", "claimed_until")
    )
    for delivery in pending:
        heads.setdefault(delivery.subscription_id, delivery)
    return [
        subscription_id
        for subscription_id, head in heads.items()
        if head.next_attempt_at < now - OVERDUE_GRACE and (head.claimed_until is None or head.claimed_until < now)
    ]

"""Curation services: what a curator decides in the admin, each one atomic and audited.

Every function here takes the acting user, writes one AuditEntry per decision (who, what, when, why)
and, when what readers see changes, tells them through ``services.prices_changed`` once the transaction
commits. Prices are never edited in place once published: an approval or override is a new row placed
on the timeline by the ingest rules (``services.price_publish``), recorded at the moment we learned it.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db import transaction
from django.utils import timezone

from pricing import services, webhooks
from pricing.models import AliasSuggestion, AuditEntry, Model, Offering, Price, Source, Tokenizer
from providers.base import COMPONENTS, MODES, match_key

Actor = AbstractBaseUser | AnonymousUser | None

# Date stamps providers append to pinned versions: claude-3-5-sonnet-20240620, gpt-4o-2024-08-06.
DATE_SUFFIX = re.compile(r"(?:[-_@.]?(?:20\d{2}[-_.]?\d{2}[-_.]?\d{2}|\d{4}))$")


class CurationError(Exception):
    """A curator's request that cannot be carried out as asked; the message says why, for the curator."""


def _actor(actor: Actor) -> Any:
    return actor if actor is not None and getattr(actor, "is_authenticated", False) else None


def _audit(*, actor: Actor, action: str, reason: str = "", **links: Any) -> AuditEntry:
    details = links.pop("details", {})
    return AuditEntry.objects.create(actor=_actor(actor), action=action, reason=reason, details=details, **links)


def _announce() -> None:
    transaction.on_commit(services.prices_changed)


def _reason(reason: str, *, required: bool, what: str) -> str:
    reason = (reason or "").strip()
    if required and not reason:
        raise CurationError(f"{what} needs a reason")
    return reason


# --- the review queue -------------------------------------------------------------------------------


def held_prices() -> Any:
    """Held proposals still awaiting a decision (a decided proposal is superseded or rejected)."""
    return Price.objects.filter(status=Price.Status.HELD, superseded_at__isnull=True)


def _lock_held(price_ids: Sequence[int]) -> list[Price]:
    rows = list(
        Price.objects.select_for_update(of=("self",))
        .filter(id__in=price_ids)
        .select_related("offering__provider", "source", "run")
        .order_by("valid_from", "id")
    )
    found = {p.id for p in rows}
    missing = [i for i in price_ids if i not in found]
    if missing:
        raise CurationError(f"no such price: {', '.join(map(str, missing))}")
    decided = [p for p in rows if p.status != Price.Status.HELD or p.superseded_at is not None]
    if decided:
        raise CurationError(
            "already decided: " + ", ".join(f"price {p.id} ({p.get_status_display()})" for p in decided)
        )
    return rows


def prices_approve(*, price_ids: Sequence[int], actor: Actor, note: str = "") -> list[Price]:
    """Publish held proposals through the ingest timeline rules, oldest first, all or none.

    The held row is kept as the record of the proposal (superseded at the decision); the published
    row is a copy recorded now, so what was public before the approval stays answerable by ``known_at``.
    """
    note = _reason(note, required=False, what="an approval")
    now = timezone.now()
    with transaction.atomic():
        published = []
        for held in _lock_held(list(price_ids)):
            price = Price(
                **{
                    f.attname: getattr(held, f.attname)
                    for f in Price._meta.concrete_fields
                    if f.attname not in ("id", "status", "recorded_at", "superseded_at", "last_seen_at", "valid_to")
                }
            )
            price.valid_to = held.valid_to
            price.recorded_at = now
            price.last_seen_at = held.last_seen_at or now
            price.offering = held.offering
            price.replaces = held
            price.decided_by = _actor(actor)
            price.decided_at = now
            if note:
                price.curator_note = note
            services.price_publish(price=price)
            webhooks.changes_published([price.pk])
            Price.objects.filter(pk=held.pk).update(superseded_at=now, decided_by=_actor(actor), decided_at=now)
            _audit(
                actor=actor,
                action=AuditEntry.Action.APPROVE,
                reason=note,
                price=price,
                offering=held.offering,
                source=held.source,
                details={
                    "held_price": held.pk,
                    "amount_per_mtok": str(held.amount_per_mtok),
                    "currency": held.currency,
                    "hold_reason": held.hold_reason,
                },
            )
            published.append(price)
        _announce()
    return published


def price_approve(*, price_id: int, actor: Actor, note: str = "") -> Price:
    return prices_approve(price_ids=[price_id], actor=actor, note=note)[0]


def prices_reject(*, price_ids: Sequence[int], actor: Actor, reason: str) -> list[Price]:
    """Reject held proposals; a rejection needs a reason. Nothing published changes."""
    reason = _reason(reason, required=True, what="a rejection")
    now = timezone.now()
    with transaction.atomic():
        rejected = _lock_held(list(price_ids))
        for price in rejected:
            price.status = Price.Status.REJECTED
            price.decided_by = _actor(actor)
            price.decided_at = now
            price.curator_note = reason
            price.save(update_fields=["status", "decided_by", "decided_at", "curator_note"])
            _audit(
                actor=actor,
                action=AuditEntry.Action.REJECT,
                reason=reason,
                price=price,
                offering=price.offering,
                source=price.source,
                details={
                    "amount_per_mtok": str(price.amount_per_mtok),
                    "currency": price.currency,
                    "hold_reason": price.hold_reason,
                },
            )
    return rejected


def price_reject(*, price_id: int, actor: Actor, reason: str) -> Price:
    return prices_reject(price_ids=[price_id], actor=actor, reason=reason)[0]


# --- overrides and locks ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Override:
    """A price a curator sets by hand, per 1M tokens in ``currency``."""

    component: str
    amount_per_mtok: Decimal
    mode: str = "standard"
    currency: str = "USD"
    tier_min_tokens: int | None = None
    tier_max_tokens: int | None = None
    valid_from: dt.datetime | None = None
    valid_to: dt.datetime | None = None


def _check_override(override: Override) -> None:
    if override.component not in COMPONENTS:
        raise CurationError(f"unknown component {override.component!r}; one of {', '.join(COMPONENTS)}")
    if override.mode not in MODES:
        raise CurationError(f"unknown mode {override.mode!r}; one of {', '.join(MODES)}")
    if not re.fullmatch(r"[A-Z]{3}", override.currency or ""):
        raise CurationError(f"currency must be a three-letter ISO code such as USD, got {override.currency!r}")
    amount = override.amount_per_mtok
    if not isinstance(amount, Decimal) or not amount.is_finite() or amount < 0:
        raise CurationError(f"the amount per 1M tokens must be a number of zero or more, got {amount!r}")
    low, high = override.tier_min_tokens, override.tier_max_tokens
    if (low is not None and low < 0) or (high is not None and high < 0):
        raise CurationError("tier bounds are token counts and cannot be negative")
    if low is not None and high is not None and high < low:
        raise CurationError(f"tier {low}..{high} is reversed")
    if override.valid_from and override.valid_from.tzinfo is None:
        raise CurationError("valid_from must carry a time zone")
    if override.valid_from and override.valid_to and override.valid_to <= override.valid_from:
        raise CurationError("valid_to must be after valid_from")


def price_override(
    *, offering: Offering, override: Override, reason: str, evidence_url: str, actor: Actor, lock: bool = False
) -> Price:
    """Publish a price set by hand, with the reason and a link to the evidence, optionally locking the
    offering so that later scrapes raise review items instead of changing it."""
    reason = _reason(reason, required=True, what="an override")
    evidence_url = (evidence_url or "").strip()
    if not evidence_url.startswith(("https://", "http://")):
        raise CurationError("an override needs a link (http or https) to where the price is stated")
    limit = Price._meta.get_field("evidence_url").max_length or 200
    if len(evidence_url) > limit:
        raise CurationError(f"the evidence link is too long ({limit} characters at most)")
    _check_override(override)
    now = timezone.now()
    with transaction.atomic():
        offering = Offering.objects.select_for_update(of=("self",)).select_related("provider").get(pk=offering.pk)
        price = Price(
            offering=offering,
            component=override.component,
            mode=override.mode,
            tier_min_tokens=override.tier_min_tokens,
            tier_max_tokens=override.tier_max_tokens,
            amount_per_mtok=services.stored_amount(override.amount_per_mtok),
            currency=override.currency,
            original=f"{override.amount_per_mtok} {override.currency} / 1M tokens (set by a curator)",
            valid_from=override.valid_from or now,
            valid_to=override.valid_to,
            recorded_at=now,
            last_seen_at=now,
            status=Price.Status.PUBLISHED,
            curator=_actor(actor),
            curator_note=reason,
            evidence_url=evidence_url,
            decided_by=_actor(actor),
            decided_at=now,
        )
        services.price_publish(price=price)
        webhooks.changes_published([price.pk])
        _audit(
            actor=actor,
            action=AuditEntry.Action.OVERRIDE,
            reason=reason,
            price=price,
            offering=offering,
            details={
                "amount_per_mtok": str(price.amount_per_mtok),
                "currency": price.currency,
                "component": price.component,
                "mode": price.mode,
                "tier": price.tier_label,
                "evidence_url": evidence_url,
                "valid_from": price.valid_from.isoformat(),
            },
        )
        if lock and not offering.locked:
            _set_locked(offering=offering, locked=True, actor=actor, reason=reason)
        _announce()
    return price


def _set_locked(*, offering: Offering, locked: bool, actor: Actor, reason: str) -> None:
    Offering.objects.filter(pk=offering.pk).update(locked=locked)
    offering.locked = locked
    _audit(
        actor=actor,
        action=AuditEntry.Action.LOCK if locked else AuditEntry.Action.UNLOCK,
        reason=reason,
        offering=offering,
    )


def offerings_set_locked(*, offering_ids: Sequence[int], locked: bool, actor: Actor, reason: str = "") -> int:
    """Lock (scrapes cannot change the prices; their differences become review items) or unlock
    offerings. Offerings already in the wanted state are left alone; returns how many changed."""
    reason = _reason(reason, required=False, what="a lock")
    with transaction.atomic():
        offerings = list(Offering.objects.select_for_update().filter(id__in=offering_ids).exclude(locked=locked))
        for offering in offerings:
            _set_locked(offering=offering, locked=locked, actor=actor, reason=reason)
    return len(offerings)


# --- models and aliases -------------------------------------------------------------------------------


def _offering_key(offering_id: str) -> str:
    """The id a reseller or aggregator carries, without creator prefix or variant suffix."""
    bare = offering_id.split("/", 1)[1] if "/" in offering_id else offering_id
    return bare.split(":", 1)[0]


def aliases_suggest() -> int:
    """Suggest canonical Models for offerings that have none: same normalised id (creator prefix and
    ``:variant`` dropped), or the same id once a date stamp is removed; the aggregators' creator hint
    narrows the candidates when it names one. Returns how many new suggestions were made."""
    by_key: dict[str, list[tuple[int, str]]] = {}
    by_undated: dict[str, list[tuple[int, str]]] = {}
    for model_id, key, creator, slug in Model.objects.values_list("id", "match_key", "creator", "slug"):
        by_key.setdefault(key, []).append((model_id, creator))
        undated = match_key(DATE_SUFFIX.sub("", slug))
        if undated and undated != key:
            by_undated.setdefault(undated, []).append((model_id, creator))
    suggestions = []
    unlinked = Offering.objects.filter(model__isnull=True).values_list(
        "id", "provider_model_id", "creator_hint", "provider__slug"
    )
    for offering_id, provider_model_id, creator_hint, provider_slug in unlinked:
        raw = _offering_key(provider_model_id)
        prefix = provider_model_id.split("/", 1)[0].lower() if "/" in provider_model_id else ""
        creator = (creator_hint or prefix).lower()
        key, undated = match_key(raw), match_key(DATE_SUFFIX.sub("", raw))
        candidates = [(m, c, f"same normalised id {key!r}") for m, c in by_key.get(key, [])]
        if not candidates and undated:
            candidates = [
                (m, c, f"same id without its date stamp ({undated!r})")
                for m, c in by_key.get(undated, []) + by_undated.get(undated, [])
            ]
        if creator:
            named = [(m, c, why) for m, c, why in candidates if c == creator]
            if named:
                candidates = [(m, c, f"{why}; creator {creator!r} as the source names it") for m, c, why in named]
        for model_id, _creator, why in candidates:
            suggestions.append(
                AliasSuggestion(offering_id=offering_id, model_id=model_id, reason=f"{why} ({provider_slug})"[:300])
            )
    before = AliasSuggestion.objects.count()
    AliasSuggestion.objects.bulk_create(suggestions, ignore_conflicts=True, batch_size=1000)
    return AliasSuggestion.objects.count() - before


def _lock_pending(suggestion_ids: Sequence[int]) -> list[AliasSuggestion]:
    rows = list(
        AliasSuggestion.objects.select_for_update(of=("self",))
        .filter(id__in=suggestion_ids)
        .select_related("offering", "model")
    )
    if len(rows) != len(set(suggestion_ids)):
        raise CurationError("some of these suggestions no longer exist")
    decided = [s for s in rows if s.status != AliasSuggestion.Status.PENDING]
    if decided:
        raise CurationError("already decided: " + ", ".join(f"{s} ({s.status})" for s in decided))
    return rows


def aliases_accept(*, suggestion_ids: Sequence[int], actor: Actor, reason: str = "") -> list[AliasSuggestion]:
    """Link each suggestion's offering to its Model. Other pending suggestions for the same offering
    are rejected with it, since an offering has one canonical Model."""
    reason = _reason(reason, required=False, what="an alias")
    now = timezone.now()
    with transaction.atomic():
        accepted = _lock_pending(list(suggestion_ids))
        offering_ids = [s.offering_id for s in accepted]
        if len(set(offering_ids)) != len(offering_ids):
            raise CurationError("pick one suggestion per offering: an offering links to one model")
        for suggestion in accepted:
            previous = suggestion.offering.model_id
            Offering.objects.filter(pk=suggestion.offering_id).update(model=suggestion.model)
            suggestion.status = AliasSuggestion.Status.ACCEPTED
            suggestion.decided_by = _actor(actor)
            suggestion.decided_at = now
            suggestion.save(update_fields=["status", "decided_by", "decided_at"])
            others = AliasSuggestion.objects.filter(
                offering_id=suggestion.offering_id, status=AliasSuggestion.Status.PENDING
            ).exclude(pk=suggestion.pk)
            other_ids = list(others.values_list("id", flat=True))
            others.update(status=AliasSuggestion.Status.REJECTED, decided_by=_actor(actor), decided_at=now)
            _audit(
                actor=actor,
                action=AuditEntry.Action.ALIAS,
                reason=reason or suggestion.reason,
                offering=suggestion.offering,
                model=suggestion.model,
                details={"suggestion": suggestion.pk, "previous_model": previous, "rejected_suggestions": other_ids},
            )
        _announce()
    return accepted


def aliases_reject(*, suggestion_ids: Sequence[int], actor: Actor, reason: str = "") -> list[AliasSuggestion]:
    reason = _reason(reason, required=False, what="an alias rejection")
    now = timezone.now()
    with transaction.atomic():
        rejected = _lock_pending(list(suggestion_ids))
        for suggestion in rejected:
            suggestion.status = AliasSuggestion.Status.REJECTED
            suggestion.decided_by = _actor(actor)
            suggestion.decided_at = now
            suggestion.save(update_fields=["status", "decided_by", "decided_at"])
            _audit(
                actor=actor,
                action=AuditEntry.Action.ALIAS_REJECT,
                reason=reason,
                offering=suggestion.offering,
                model=suggestion.model,
                details={"suggestion": suggestion.pk},
            )
    return rejected


def offering_link_model(*, offering: Offering, model: Model | None, actor: Actor, reason: str = "") -> Offering:
    """Link an offering to a canonical Model by hand (or unlink it with ``model=None``)."""
    with transaction.atomic():
        previous = Offering.objects.select_for_update().values_list("model_id", flat=True).get(pk=offering.pk)
        if previous == (model.pk if model else None):
            return offering
        Offering.objects.filter(pk=offering.pk).update(model=model)
        offering.model = model
        if model is not None:
            AliasSuggestion.objects.filter(
                offering=offering, model=model, status=AliasSuggestion.Status.PENDING
            ).update(status=AliasSuggestion.Status.ACCEPTED, decided_by=_actor(actor), decided_at=timezone.now())
        _audit(
            actor=actor,
            action=AuditEntry.Action.ALIAS,
            reason=reason or "linked by hand",
            offering=offering,
            model=model,
            details={"previous_model": previous},
        )
        _announce()
    return offering


def models_merge(*, keep: Model, duplicates: Iterable[Model], actor: Actor, reason: str) -> Model:
    """Fold duplicate Models into ``keep``: their offerings and suggestions move over, facts ``keep``
    lacks are filled from them, and the duplicates are deleted. Audit entries keep their names."""
    reason = _reason(reason, required=True, what="a merge")
    duplicate_ids = sorted({m.pk for m in duplicates} - {keep.pk})
    if not duplicate_ids:
        raise CurationError("choose at least one other model to merge into the one you keep")
    with transaction.atomic():
        keep = Model.objects.select_for_update().get(pk=keep.pk)
        merged = list(Model.objects.select_for_update().filter(id__in=duplicate_ids).order_by("id"))
        if len(merged) != len(duplicate_ids):
            raise CurationError("some of these models no longer exist")
        filled = []
        for field_name in ("tokenizer_id", "context_window", "open_weights", "creator"):
            if getattr(keep, field_name) in (None, ""):
                value = next((getattr(m, field_name) for m in merged if getattr(m, field_name) not in (None, "")), None)
                if value is not None:
                    setattr(keep, field_name, value)
                    filled.append(field_name)
        if filled:
            keep.save(update_fields=[f.removesuffix("_id") if f.endswith("_id") else f for f in filled])
        moved = Offering.objects.filter(model_id__in=duplicate_ids).update(model=keep)
        taken = set(AliasSuggestion.objects.filter(model=keep).values_list("offering_id", flat=True))
        AliasSuggestion.objects.filter(model_id__in=duplicate_ids, offering_id__in=taken).delete()
        AliasSuggestion.objects.filter(model_id__in=duplicate_ids).update(model=keep)
        AuditEntry.objects.filter(model_id__in=duplicate_ids).update(model=keep)
        _audit(
            actor=actor,
            action=AuditEntry.Action.MERGE,
            reason=reason,
            model=keep,
            details={
                "merged": [{"id": m.pk, "slug": m.slug, "name": m.name} for m in merged],
                "offerings_moved": moved,
                "filled": filled,
            },
        )
        Model.objects.filter(id__in=duplicate_ids).delete()
        _announce()
    return keep


def model_set_tokenizer(*, model: Model, tokenizer: Tokenizer | None, actor: Actor, reason: str = "") -> Model:
    """Set the tokenizer whose words-per-token converts this model's prices to per-1M-words figures."""
    with transaction.atomic():
        previous = Model.objects.select_for_update().values_list("tokenizer_id", flat=True).get(pk=model.pk)
        new = tokenizer.pk if tokenizer else None
        if previous == new:
            return model
        # "curator": rules never overwrite this choice, nor fill a tokenizer a curator removed.
        Model.objects.filter(pk=model.pk).update(tokenizer=tokenizer, tokenizer_rule="curator")
        model.tokenizer, model.tokenizer_rule = tokenizer, "curator"
        _audit(
            actor=actor,
            action=AuditEntry.Action.TOKENIZER,
            reason=reason,
            model=model,
            details={
                "previous_tokenizer": previous,
                "tokenizer": new,
                "words_per_token": str(tokenizer.words_per_token) if tokenizer else None,
            },
        )
        _announce()  # per-1M-words figures change with the tokenizer
    return model


# --- sources ------------------------------------------------------------------------------------------


def sources_set_enabled(*, source_ids: Sequence[int], enabled: bool, actor: Actor, reason: str = "") -> int:
    """Enable or disable sources, and their beat schedules with them (a disabled source is never
    scraped, on schedule or by hand). Returns how many changed."""
    from django_celery_beat.models import PeriodicTask

    with transaction.atomic():
        sources = list(Source.objects.select_for_update().filter(id__in=source_ids).exclude(enabled=enabled))
        if sources:
            Source.objects.filter(id__in=[s.pk for s in sources]).update(enabled=enabled)
            names = [services.schedule_name(s.slug) for s in sources]
            # Going through save() is what tells django-celery-beat's scheduler to reload.
            for task in PeriodicTask.objects.filter(name__in=names).exclude(enabled=enabled):
                task.enabled = enabled
                task.save()
        for source in sources:
            source.enabled = enabled
            _audit(
                actor=actor, action=AuditEntry.Action.SOURCE, reason=reason, source=source, details={"enabled": enabled}
            )
    return len(sources)


def source_scrape_now(*, source: Source, actor: Actor) -> str:
    """Queue a scrape of ``source`` now, outside its schedule; returns the task id. The run appears in
    the source's run history when a worker starts it."""
    from pricing import tasks

    source.refresh_from_db(fields=["enabled"])
    if not source.enabled:
        raise CurationError(f"{source.name} is disabled: enable it before running it by hand")
    try:
        result = tasks.scrape_source.delay(source.slug)
    except Exception as exc:  # the broker is down or misconfigured: say so instead of a 500
        raise CurationError(f"could not queue a scrape of {source.name}: {exc}") from exc
    _audit(actor=actor, action=AuditEntry.Action.SCRAPE, source=source, details={"task_id": result.id})
    return str(result.id)

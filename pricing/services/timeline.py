"""The timeline rules: where a price goes on its line, when a change is held, and how a plan is written.

Every kind of writer goes through these functions: a live scrape, a saved file, a dated archive, the bundled
snapshot, a curated history and a curator's override. They decide; :func:`plan_write` writes.

A *line* (``LineKey``) is one offering's component, mode, prompt tier, currency and conditions. Its
published rows of current knowledge never overlap in time: ``valid_from`` inclusive, ``valid_to`` exclusive.
A correction never edits a row: it supersedes it (``superseded_at``) and writes new ones.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_EVEN, Decimal
from typing import TypeVar

from pricing.models import Price
from providers.base import decimal_to_str

# A change beyond these bounds is held for a curator instead of published.
MAX_RISE_FACTOR = Decimal(3)
MAX_DROP_FACTOR = Decimal(3)
# Two figures of one price agree when they differ by at most this share (after currency conversion).
AGREEMENT = Decimal("0.01")
# A price this many times above or below the median of the same model's other sellers is an outlier.
OUTLIER_FACTOR = Decimal(20)
AMOUNT_QUANTUM = Decimal("1e-12")
CHUNK = 2000

T = TypeVar("T")


def stored_amount(amount: Decimal) -> Decimal:
    """An amount as the database keeps it (12 decimal places per 1M tokens: 1e-18 per token)."""
    return amount.quantize(AMOUNT_QUANTUM, rounding=ROUND_HALF_EVEN)


def plain(amount: Decimal) -> str:
    """An amount as people write it: 0.270000000000 -> "0.27"."""
    return decimal_to_str(stored_amount(amount))


def chunks(items: Sequence[T], size: int = CHUNK) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


# --- reading a line ------------------------------------------------------------------------------------


def covering(timeline: Sequence[Price], moment: dt.datetime) -> Price | None:
    """The published row in force at ``moment`` (``timeline`` sorted by ``valid_from``)."""
    found = None
    for price in timeline:
        if price.valid_from <= moment and (price.valid_to is None or moment < price.valid_to):
            found = price
    return found


def following(timeline: Sequence[Price], moment: dt.datetime) -> Price | None:
    """The first published row that starts after ``moment``: the later neighbour of a backfill."""
    return next((p for p in timeline if p.valid_from > moment), None)


# --- the rules ----------------------------------------------------------------------------------------


def change_reason(old: Decimal, new: Decimal, currency: str, *, later: bool = False) -> str:
    """Why going from ``old`` to ``new`` needs a curator ("" when it does not). ``later``: ``old`` is the
    price *after* a backfilled one, so the change is read the way time runs (new, then old)."""
    before, after = (new, old) if later else (old, new)
    change = f"{plain(before)} → {plain(after)} {currency}"
    what = "backfill: " if later else ""
    if before > 0 and after == 0:
        return f"{what}paid price turning free ({change})"
    if before == 0 and after > 0 and later:
        return f"{what}free price turning paid ({change})"
    if before > 0 and after > before * MAX_RISE_FACTOR:
        return f"{what}rise beyond ×{MAX_RISE_FACTOR} ({change})"
    if before > 0 and after * MAX_DROP_FACTOR < before:
        return f"{what}drop beyond ÷{MAX_DROP_FACTOR} ({change})"
    return ""


def agree(a: Decimal, b: Decimal) -> bool:
    """Two figures of one price, in one currency, within ``AGREEMENT`` of each other."""
    if a == b:
        return True
    larger = max(abs(a), abs(b))
    return abs(a - b) <= larger * AGREEMENT


def outlier_reason(amount: Decimal, others: Sequence[Decimal], currency: str) -> str:
    """Held as an outlier when ``amount`` is over ``OUTLIER_FACTOR`` times away from the median of the same
    model's other sellers (at least two of them, all in ``currency``)."""
    if len(others) < 2 or amount <= 0:
        return ""
    ordered = sorted(others)
    middle = len(ordered) // 2
    median = ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2
    if median <= 0:
        return ""
    if amount > median * OUTLIER_FACTOR or amount * OUTLIER_FACTOR < median:
        return (
            f"outlier: {plain(amount)} {currency} is over ×{OUTLIER_FACTOR} away from the median "
            f"{plain(median)} {currency} of {len(others)} other sellers"
        )
    return ""


# --- the plan ------------------------------------------------------------------------------------------


@dataclass
class Plan:
    """What one run or one curator decision writes, decided before anything is written."""

    create: list[Price] = field(default_factory=list)
    close_at: dict[dt.datetime, list[int]] = field(default_factory=lambda: defaultdict(list))
    supersede: list[int] = field(default_factory=list)
    # Rows a document confirmed, with the moment of its evidence (never moved backwards).
    seen: dict[int, dt.datetime] = field(default_factory=dict)
    evidence: list[Price] = field(default_factory=list)
    missing_since: dict[dt.datetime, list[int]] = field(default_factory=lambda: defaultdict(list))
    back: list[int] = field(default_factory=list)
    sightings: list[Price] = field(default_factory=list)

    def see(self, price: Price, moment: dt.datetime) -> None:
        if price.pk is not None and (price.last_seen_at is None or moment > price.last_seen_at):
            price.last_seen_at = moment
            self.seen[price.pk] = moment

    def close(self, price: Price, moment: dt.datetime) -> None:
        self.close_at[moment].append(price.pk)
        price.valid_to = moment


def place_published(
    plan: Plan, template: Price, timeline: list[Price], *, now: dt.datetime, corrects: bool = True
) -> Price:
    """Put ``template`` (an unsaved published row with its ``valid_from`` and maybe ``valid_to``) on
    ``timeline`` (its line's published rows, sorted): close the row in force at its start; or supersede a
    row that starts at the same moment (a correction); or split a closed range; or, for a backfill before
    any known price, end it where the next known price starts. Returns the row to create."""
    valid_from, valid_to = template.valid_from, template.valid_to
    current = covering(timeline, valid_from)
    if current is None:
        later = following(timeline, valid_from)
        if later is not None and (valid_to is None or valid_to > later.valid_from):
            valid_to = later.valid_from
    elif current.valid_from >= valid_from and corrects:
        plan.supersede.append(current.pk)
        valid_to = valid_to or current.valid_to
    elif current.valid_to is None:
        plan.close(current, valid_from)
    else:
        # The new price starts inside a closed range: the head keeps the old amount, as new knowledge.
        plan.supersede.append(current.pk)
        plan.create.append(copy_row(current, valid_to=valid_from, now=now))
        valid_to = min(valid_to, current.valid_to) if valid_to else current.valid_to
    template.valid_to = valid_to
    template.status = Price.Status.PUBLISHED
    plan.create.append(template)
    timeline.append(template)
    timeline.sort(key=lambda p: p.valid_from)
    return template


def copy_row(price: Price, *, valid_to: dt.datetime | None, now: dt.datetime) -> Price:
    row = Price(
        **{
            f.attname: getattr(price, f.attname)
            for f in Price._meta.concrete_fields
            if f.attname not in ("id", "valid_to", "recorded_at", "superseded_at")
        }
    )
    row.valid_to = valid_to
    row.recorded_at = now
    return row


def plan_write(plan: Plan, *, now: dt.datetime) -> list[Price]:
    """Write a plan: closes, supersessions, new rows, evidence, sightings, "last seen" and "missing"."""
    for moment, ids in plan.close_at.items():
        for chunk in chunks(ids):
            Price.objects.filter(id__in=chunk).update(valid_to=moment)
    for chunk in chunks(plan.supersede):
        Price.objects.filter(id__in=chunk).update(superseded_at=now)
    created = Price.objects.bulk_create(plan.create, batch_size=1000) if plan.create else []
    if plan.evidence:
        Price.objects.bulk_update(plan.evidence, ["source", "run", "document_hash", "excerpt"], batch_size=1000)
    if plan.sightings:
        Price.objects.bulk_update(plan.sightings, ["sightings", "last_seen_at"], batch_size=1000)
    by_moment: dict[dt.datetime, list[int]] = defaultdict(list)
    for pk, moment in plan.seen.items():
        by_moment[moment].append(pk)
    for moment, ids in by_moment.items():
        for chunk in chunks(ids):
            Price.objects.filter(id__in=chunk).update(last_seen_at=moment)
    for moment, ids in plan.missing_since.items():
        for chunk in chunks(ids):
            Price.objects.filter(id__in=chunk).update(missing_since=moment)
    for chunk in chunks(plan.back):
        Price.objects.filter(id__in=chunk).update(missing_since=None)
    return created


def price_publish(*, price: Price) -> Price:
    """Publish one prepared, unsaved price (a curator's override, an approved proposal) on its line by the
    same rules as ingest. ``price.recorded_at`` is the moment of the correction. Call inside the caller's
    transaction."""
    timeline = list(Price.objects.select_for_update().published().line(price.line_key).order_by("valid_from"))
    plan = Plan()
    place_published(plan, price, timeline, now=price.recorded_at)
    plan_write(plan, now=price.recorded_at)
    return price

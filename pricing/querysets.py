"""The named filters of prices that every reader and writer uses, one spelling each."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from django.db import models
from django.db.models import Q

if TYPE_CHECKING:
    from pricing.models import LineKey

PUBLISHED = "published"


class PriceQuerySet(models.QuerySet):
    """The named filters every reader and writer uses, one spelling each."""

    def current_knowledge(self) -> PriceQuerySet:
        """Rows no correction has replaced."""
        return self.filter(superseded_at__isnull=True)

    def published(self) -> PriceQuerySet:
        return self.filter(status=PUBLISHED, superseded_at__isnull=True)

    def open_published(self) -> PriceQuerySet:
        """Published rows of current knowledge with no end: the price in force now on each line."""
        return self.published().filter(valid_to__isnull=True)

    def in_force(self, moment: dt.datetime) -> PriceQuerySet:
        """Published rows of current knowledge that the provider charged at ``moment``."""
        return self.published().filter(valid_from__lte=moment).filter(Q(valid_to__isnull=True) | Q(valid_to__gt=moment))

    def line(self, key: LineKey) -> PriceQuerySet:
        """Rows of one price line (NULL tier bounds compared as NULL)."""
        rows = self.filter(
            offering_id=key.offering_id,
            component=key.component,
            mode=key.mode,
            currency=key.currency,
            conditions=key.conditions,
        )
        for name in ("tier_min_tokens", "tier_max_tokens"):
            value = getattr(key, name)
            rows = rows.filter(**({f"{name}__isnull": True} if value is None else {name: value}))
        return rows


class PriceManager(models.Manager.from_queryset(PriceQuerySet)):  # type: ignore[misc]
    """``Price.objects``: the queryset's named filters on the manager too."""

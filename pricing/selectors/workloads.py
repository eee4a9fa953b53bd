"""A workload's estimate over the whole catalogue in a few queries and without model instances.

``workload_estimates`` prices offerings that come with their price lines; given full ``Offering`` rows it
spends most of its time building them (and their providers, models and tokenizers) for thousands of
offerings of which a page shows a hundred. Here every matching offering is ranked from lean rows (its
lines as ``LeanLine``s, the few offering columns the estimate reads), by the very same
``workload_estimates``; then only the page's offerings are loaded whole, for the serializer.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from types import SimpleNamespace
from typing import Any

from django.db.models.functions import Coalesce

from pricing import selectors
from pricing.models import Tokenizer


def estimates_over_catalogue(
    *,
    spec: selectors.WorkloadSpec,
    display: selectors.Display,
    rates: selectors.Rates,
    as_of: dt.datetime | None = None,
    **filters: Any,
) -> list[selectors.Estimate]:
    """``workload_estimates`` of every offering matching ``offerings_with_prices`` filters, ranked the same
    way, in two queries. Each estimate's ``offering`` is a stand-in with what the estimate reads (id,
    provider name, context windows, tokenizer): pass a page of them to :func:`with_offerings`."""
    # lean_offerings' query, with the few offering columns the estimate reads joined in: one query.
    offerings = selectors.offerings_with_prices(as_of=as_of, **filters).prefetch_related(None)
    lines = selectors.prices_in_force(as_of=as_of).filter(offering_id__in=offerings.order_by().values("id"))
    if filters.get("mode"):
        lines = lines.filter(mode=filters["mode"])
    rows = lines.order_by(
        "offering__provider__name", "offering__provider_model_id", "offering_id", *selectors.LINE_ORDER
    ).values_list(
        "offering_id",
        "offering__model__tokenizer_id",
        "offering__provider__name",
        "offering__context_window",
        "offering__model_id",
        "offering__model__context_window",
        "component",
        "mode",
        "tier_min_tokens",
        "tier_max_tokens",
        "currency",
        "amount_per_mtok",
        "conditions",
        Coalesce("source__trust_rank", 1000),
    )
    tokenizers = Tokenizer.objects.only("id", "words_per_token", "provenance", "curated_ratios").in_bulk()
    stand_ins: list[Any] = []
    current: Any = None
    for offering_id, tokenizer_id, provider_name, context_window, model_id, model_context_window, *line in rows:
        if current is None or current.id != offering_id:
            model = SimpleNamespace(tokenizer=tokenizers.get(tokenizer_id), context_window=model_context_window)
            current = SimpleNamespace(
                id=offering_id,
                provider=SimpleNamespace(name=provider_name),
                context_window=context_window,
                model_id=model_id,
                model=model if model_id else None,
                current_prices=[],
            )
            stand_ins.append(current)
        current.current_prices.append(selectors.LeanLine(*line))
    return selectors.workload_estimates(stand_ins, spec=spec, display=display, rates=rates)  # type: ignore[arg-type]


def with_offerings(
    estimates: list[selectors.Estimate], *, as_of: dt.datetime | None = None
) -> list[selectors.Estimate]:
    """The same estimates with their offerings loaded whole (two queries), for showing them."""
    if not estimates:
        return []
    ids = [estimate.offering.id for estimate in estimates]
    loaded = {o.id: o for o in selectors.offerings_with_price_lines(as_of=as_of, offering_ids=ids)}
    return [dataclasses.replace(e, offering=loaded[e.offering.id]) for e in estimates if e.offering.id in loaded]

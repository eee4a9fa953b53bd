"""``/api/v1/models/``: canonical models with their best price across sellers ("best price per model"),
and ``/api/v1/models/<slug>/``: one model with every seller, the cheapest per component and blend, every
price line in force and the dated events of its price history, the same as the model page.

The list is the leaderboard grouped by model: ``ordering=blended`` (or ``input``, ``output``...) ranks
models by their cheapest ranked seller; ``search`` finds models by any seller's id or name
(:mod:`pricing.search`) and, unless ``ordering`` is given, ranks them by match quality.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Q
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import serializers
from rest_framework.exceptions import NotFound
from rest_framework.request import Request

from pricing import search, selectors
from pricing.api import params
from pricing.api.serializers import (
    AmountField,
    amount,
    iso,
    nullable_datetime,
    nullable_int,
    nullable_str,
    page_serializer,
)
from pricing.api.views import ERROR, NOT_FOUND, NOT_MODIFIED, ApiView
from pricing.identity import creator_slug
from pricing.models import Model
from pricing.selectors import models as model_reads
from providers.base import MODES

MODEL_ORDERING = (*model_reads.MODEL_ORDERINGS, "slug")
PRICE_ORDERINGS = (*selectors.HEADLINE_COMPONENTS, "blended", "sellers")


# --- parameters ---------------------------------------------------------------------------------------


class ModelListParams(params.PageParams, params.DisplayParams):
    q = serializers.CharField(
        required=False, max_length=200, help_text="Tolerant search, the same as `search` (kept for old links)."
    )
    search = serializers.CharField(
        required=False,
        max_length=200,
        help_text="Words of a model's name or any seller's id for it, in any case and with any separators "
        '("llama 3.3 70b", "sonnet 4", "gpt4o"). Results rank by match quality unless `ordering` is given.',
    )
    creator = serializers.CharField(required=False, max_length=80, help_text="Who made the model, any spelling.")
    open_weights = serializers.BooleanField(required=False, default=None, help_text="true or false.")
    provider = serializers.CharField(
        required=False,
        max_length=400,
        help_text="Only models these providers sell (slugs, separated by commas); best prices are theirs.",
    )
    mode = params.choice(MODES, default="standard", help_text="Mode of the best prices (default standard).")
    ordering = params.ordering_field(MODEL_ORDERING, default="name")


class ModelDetailParams(params.DisplayParams):
    mode = params.choice(
        MODES, default="standard", help_text="Mode the cheapest sellers are found in (default standard)."
    )


# --- shapes -------------------------------------------------------------------------------------------


def _ratio_fields(ratio: Any) -> dict[str, Any]:
    return {"words_per_token": ratio.words_per_token, "words_per_token_source": ratio.provenance}


class BestSerializer(serializers.Serializer):
    input = AmountField()
    cached_input = AmountField()
    cache_write_5m = AmountField()
    cache_write_1h = AmountField()
    output = AmountField()
    blended = AmountField(help_text="The cheapest seller's input and output mixed at blend_ratio.")


class CheapestOfferingSerializer(serializers.Serializer):
    input = nullable_int()
    cached_input = nullable_int()
    cache_write_5m = nullable_int()
    cache_write_1h = nullable_int()
    output = nullable_int()
    blended = nullable_int()


class ModelRowSerializer(serializers.Serializer):
    """A canonical model with the best price any ranked seller (list price, still listed) charges for it."""

    slug = serializers.CharField(read_only=True)
    name = serializers.CharField(read_only=True)
    creator = serializers.CharField(read_only=True)
    context_window = nullable_int()
    open_weights = serializers.BooleanField(read_only=True, allow_null=True)
    tokenizer = nullable_str(help_text="Tokenizer slug.")
    words_per_token = AmountField(help_text="Words a token carries in `language`.")
    words_per_token_source = serializers.CharField(read_only=True, help_text="measured, curated or assumed (0.75).")
    seller_count = serializers.IntegerField(read_only=True, help_text="Ranked sellers with a price in `mode`.")
    currency = serializers.CharField(read_only=True)
    unit = serializers.CharField(read_only=True)
    mode = serializers.CharField(read_only=True)
    blend_ratio = serializers.CharField(read_only=True)
    best = BestSerializer(read_only=True, help_text="The lowest headline price of each component over its sellers.")
    cheapest_offering = CheapestOfferingSerializer(read_only=True, help_text="Offering id of each best price.")


def model_row(model: Model, best: model_reads.ModelBest | None, *, display: selectors.Display) -> dict[str, Any]:
    tokenizer = model.tokenizer if model.tokenizer_id else None
    ratio = best.ratio if best is not None else display.ratio_of_tokenizer(tokenizer)
    amounts = best.amounts if best is not None else dict.fromkeys(selectors.HEADLINE_COMPONENTS)
    cheapest = best.cheapest_offering if best is not None else {}
    return {
        "slug": model.slug,
        "name": model.name,
        "creator": model.creator,
        "context_window": model.context_window,
        "open_weights": model.open_weights,
        "tokenizer": tokenizer.slug if tokenizer else None,
        **_ratio_fields(ratio),
        "seller_count": best.sellers if best is not None else 0,
        "currency": display.currency,
        "unit": display.unit,
        "mode": display.mode,
        "blend_ratio": f"{display.ratio[0]}:{display.ratio[1]}",
        "best": {
            **{c: amount(amounts.get(c)) for c in selectors.HEADLINE_COMPONENTS},
            "blended": amount(best.blended if best is not None else None),
        },
        "cheapest_offering": {
            **{c: cheapest.get(c) for c in selectors.HEADLINE_COMPONENTS},
            "blended": best.blended_offering if best is not None else None,
        },
    }


class LineSerializer(serializers.Serializer):
    """One price line in force at one seller."""

    component = serializers.CharField(read_only=True)
    mode = serializers.CharField(read_only=True)
    tier_min_tokens = nullable_int(help_text="Lowest prompt length of the tier (inclusive); null = open.")
    tier_max_tokens = nullable_int(help_text="Highest prompt length of the tier (inclusive); null = open.")
    conditions = serializers.CharField(read_only=True, help_text='e.g. "thinking=on"; "" for the plain price.')
    amount = AmountField(help_text="In `unit` and `currency`.")
    per_mwords = AmountField(help_text="In `currency` per 1M words of `language`.")
    native_amount_per_mtok = AmountField()
    native_currency = serializers.CharField(read_only=True)
    original = serializers.CharField(read_only=True, help_text="The figure as the page printed it.")
    valid_from = serializers.DateTimeField(read_only=True)
    verified_at = nullable_datetime(help_text="When a source last showed it.")
    source = nullable_str(help_text="Slug of the source; null when a curator set it.")  # type: ignore[assignment]
    evidence_url = serializers.CharField(read_only=True, help_text="Where the figure can be checked.")


def line_row(view: model_reads.LineView) -> dict[str, Any]:
    line = view.line
    return {
        "component": line.component,
        "mode": line.mode,
        "tier_min_tokens": line.tier_min_tokens,
        "tier_max_tokens": line.tier_max_tokens,
        "conditions": line.conditions,
        "amount": amount(view.amount),
        "per_mwords": amount(view.per_mwords),
        "native_amount_per_mtok": amount(line.amount_per_mtok),
        "native_currency": line.currency,
        "original": line.original,
        "valid_from": iso(line.valid_from),
        "verified_at": iso(view.verified_at),
        "source": line.source.slug if line.source is not None else None,
        "evidence_url": view.evidence_url,
    }


class SellerSerializer(serializers.Serializer):
    offering = serializers.IntegerField(read_only=True, help_text="Offering id (`/api/v1/offerings/<id>/`).")
    provider = serializers.CharField(read_only=True)
    provider_name = serializers.CharField(read_only=True)
    model_id = serializers.CharField(read_only=True, help_text="The seller's own id.")
    listing = serializers.CharField(read_only=True, help_text="list, free (free/rate-limited variant) or unlisted.")
    ranked = serializers.BooleanField(read_only=True, help_text="Takes part in `cheapest`: list price, still listed.")
    attributes = serializers.DictField(
        child=serializers.CharField(), read_only=True, help_text="region, deploy_scope, variant where stated."
    )
    modes = serializers.ListField(child=serializers.CharField(), read_only=True)
    input = AmountField()
    cached_input = AmountField()
    output = AmountField()
    blended = AmountField()
    last_verified_at = nullable_datetime()
    stale = serializers.BooleanField(read_only=True)
    missing = serializers.BooleanField(read_only=True)
    missing_since = nullable_datetime()
    source = nullable_str(help_text="Source of the headline input price.")  # type: ignore[assignment]
    evidence_url = serializers.CharField(read_only=True)
    prices = LineSerializer(many=True, read_only=True, help_text="Every line in force: each tier, mode, condition.")


def seller_row(seller: model_reads.Seller) -> dict[str, Any]:
    row = seller.row
    offering = seller.offering
    return {
        "offering": offering.id,
        "provider": offering.provider.slug,
        "provider_name": offering.provider.name,
        "model_id": offering.provider_model_id,
        "listing": seller.listing,
        "ranked": seller.ranked,
        "attributes": seller.scope,
        "modes": seller.modes,
        "input": amount(row.amounts.get("input")),
        "cached_input": amount(row.amounts.get("cached_input")),
        "output": amount(row.amounts.get("output")),
        "blended": amount(row.blended),
        "last_verified_at": iso(row.last_verified_at),
        "stale": row.stale,
        "missing": row.missing,
        "missing_since": iso(row.missing_since),
        "source": row.source.slug if row.source is not None else None,
        "evidence_url": seller.evidence_url,
        "prices": [line_row(v) for v in seller.lines],
    }


class CheapestSerializer(serializers.Serializer):
    component = serializers.CharField(read_only=True, help_text="A component, or blended.")
    amount = AmountField()
    per_mwords = AmountField()
    offering = serializers.IntegerField(read_only=True)
    provider = serializers.CharField(read_only=True)
    model_id = serializers.CharField(read_only=True)
    tier_min_tokens = nullable_int()
    tier_max_tokens = nullable_int()
    sellers = serializers.IntegerField(read_only=True, help_text="Ranked sellers pricing it.")


def cheapest_row(cheapest: model_reads.Cheapest) -> dict[str, Any]:
    line = cheapest.line.line if cheapest.line is not None else None
    return {
        "component": cheapest.component,
        "amount": amount(cheapest.amount),
        "per_mwords": amount(cheapest.line.per_mwords) if cheapest.line is not None else None,
        "offering": cheapest.seller.offering.id,
        "provider": cheapest.seller.offering.provider.slug,
        "model_id": cheapest.seller.offering.provider_model_id,
        "tier_min_tokens": line.tier_min_tokens if line else None,
        "tier_max_tokens": line.tier_max_tokens if line else None,
        "sellers": cheapest.sellers,
    }


class EventSerializer(serializers.Serializer):
    component = serializers.CharField(read_only=True)
    mode = serializers.CharField(read_only=True)
    tier = serializers.CharField(read_only=True)
    conditions = serializers.CharField(read_only=True)
    previous = AmountField(help_text="In `unit` and `currency` (changes only).")
    amount = AmountField()
    native_previous_per_mtok = AmountField()
    native_amount_per_mtok = AmountField()
    native_currency = serializers.CharField(read_only=True)
    percent = AmountField()


class TimelineEntrySerializer(serializers.Serializer):
    at = serializers.DateTimeField(read_only=True)
    kind = serializers.ChoiceField(
        choices=["listed", "change", "promo", "mode_window", "ended"],
        read_only=True,
        help_text="listed: first price known; change; promo: a limited-time price (see `until`); mode_window: "
        "when a non-standard mode (off-peak, batch...) was offered; ended: a line no longer charged.",
    )
    offering = serializers.IntegerField(read_only=True)
    provider = serializers.CharField(read_only=True)
    model_id = serializers.CharField(read_only=True)
    mode = serializers.CharField(read_only=True)
    until = nullable_datetime()
    source = serializers.CharField(read_only=True)  # type: ignore[assignment]  # the API's name, not DRF's Field.source
    events = EventSerializer(many=True, read_only=True)


def entry_row(entry: model_reads.TimelineEntry) -> dict[str, Any]:
    events = []
    for e in entry.events:
        if e.kind in ("listed", "mode_window"):
            events += [
                {
                    "component": component,
                    "mode": e.mode,
                    "tier": "",
                    "conditions": "",
                    "previous": None,
                    "amount": amount(value),
                    "native_previous_per_mtok": None,
                    "native_amount_per_mtok": None,
                    "native_currency": e.currency,
                    "percent": None,
                }
                for component, value in e.lines
            ]
            continue
        events.append(
            {
                "component": e.component,
                "mode": e.mode,
                "tier": e.tier,
                "conditions": e.conditions,
                "previous": amount(e.previous),
                "amount": amount(e.amount),
                "native_previous_per_mtok": amount(e.previous_per_mtok),
                "native_amount_per_mtok": amount(e.amount_per_mtok),
                "native_currency": e.currency,
                "percent": e.percent,
            }
        )
    return {
        "at": iso(entry.at),
        "kind": entry.kind,
        "offering": entry.offering.id,
        "provider": entry.offering.provider.slug,
        "model_id": entry.offering.provider_model_id,
        "mode": entry.mode,
        "until": iso(entry.until),
        "source": entry.source,
        "events": events,
    }


class ModelDetailSerializer(ModelRowSerializer):
    """One model, every seller: the model page as data."""

    language = serializers.CharField(read_only=True)
    as_of = nullable_datetime()
    cheapest = CheapestSerializer(many=True, read_only=True, help_text="The cheapest ranked seller per component.")
    cheapest_blend = CheapestSerializer(read_only=True, allow_null=True)
    sellers = SellerSerializer(many=True, read_only=True, help_text="Every seller, ranked ones first.")
    timeline = TimelineEntrySerializer(many=True, read_only=True, help_text="Dated events, newest first.")
    timeline_total = serializers.IntegerField(read_only=True, help_text="Events in all (the newest 200 are listed).")


def detail_row(page: model_reads.ModelPage) -> dict[str, Any]:
    display = page.display
    blend = page.cheapest_blend
    best = {c.component: c for c in page.cheapest}
    shaped = {
        "slug": page.model.slug,
        "name": page.model.name,
        "creator": page.model.creator,
        "context_window": page.model.context_window,
        "open_weights": page.model.open_weights,
        "tokenizer": page.model.tokenizer.slug if page.model.tokenizer_id and page.model.tokenizer else None,
        **_ratio_fields(page.ratio),
        "seller_count": len(page.ranked_sellers),
        "currency": display.currency,
        "unit": display.unit,
        "mode": display.mode,
        "blend_ratio": f"{display.ratio[0]}:{display.ratio[1]}",
        "best": {
            **{c: amount(best[c].amount) if c in best else None for c in selectors.HEADLINE_COMPONENTS},
            "blended": amount(blend.amount) if blend else None,
        },
        "cheapest_offering": {
            **{c: best[c].seller.offering.id if c in best else None for c in selectors.HEADLINE_COMPONENTS},
            "blended": blend.seller.offering.id if blend else None,
        },
        "language": display.language,
        "as_of": iso(page.as_of),
        "cheapest": [cheapest_row(c) for c in page.cheapest],
        "cheapest_blend": cheapest_row(blend) if blend else None,
        "sellers": [seller_row(s) for s in page.sellers],
        "timeline": [entry_row(e) for e in page.timeline],
        "timeline_total": page.timeline_total,
    }
    return shaped


ModelRowPage = page_serializer("ModelRowPage", ModelRowSerializer(many=True, read_only=True))
MODEL_SLUG = OpenApiParameter("slug", str, OpenApiParameter.PATH, description="Canonical model slug.")


# --- the viewset --------------------------------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(
        summary="Canonical models with their best price (the leaderboard grouped by model)",
        description="Every canonical model with the lowest headline price (base tier, `mode`) any ranked seller "
        "charges for each component, in `unit` and `currency`, and which offering charges it. Ranked sellers sell "
        "at a public list price their source still lists. `ordering=blended` ranks models by their cheapest blend; "
        "models no seller prices come last. `search` finds models by their name or any seller's id.",
        parameters=[ModelListParams],
        responses={200: ModelRowPage, 304: NOT_MODIFIED, 400: ERROR},
    ),
    retrieve=extend_schema(
        summary="One model with every seller",
        description="Every seller of the model (free variants, unlisted and no-longer-listed offerings too, "
        "with `ranked: false`), each price line in force (every tier, mode and condition, with when it was last "
        "verified and where), the cheapest ranked seller per component and blend in `mode`, and the dated events "
        "of its price history (changes, promotional prices, windows of off-peak or other modes).",
        parameters=[MODEL_SLUG, ModelDetailParams],
        responses={200: ModelDetailSerializer, 304: NOT_MODIFIED, 400: ERROR, 404: NOT_FOUND},
    ),
)
class ModelViewSet(ApiView):
    lookup_field = "slug"
    lookup_value_regex = r"[^/]+"

    def list(self, request: Request) -> Any:
        return self.respond(request, lambda: self._list(request))

    def _list(self, request: Request) -> dict[str, Any]:
        values = params.read(ModelListParams, request.query_params)
        display = params.display_from(values)
        as_of = values.get("as_of")
        rates = params.rates_for(currency=display.currency, as_of=as_of)
        models = Model.objects.select_related("tokenizer")
        creator = values.get("creator")
        if creator:
            models = models.filter(Q(creator__iexact=creator) | Q(creator=creator_slug(creator)))
        if values.get("open_weights") is not None:
            models = models.filter(open_weights=values["open_weights"])
        providers = [p.strip() for p in (values.get("provider") or "").split(",") if p.strip()]
        sellers: dict[str, Any] = {"mode": display.mode, "providers": providers}
        if providers:
            sold = model_reads.models_best(display=display, rates=rates, as_of=as_of, **sellers)
            models = models.filter(id__in=[b.model_id for b in sold])
        wanted = values.get("search") or values.get("q") or ""
        ranked_ids: list[int] | None = None
        if wanted:
            ranked_ids = search.model_ids(wanted)
            models = models.filter(id__in=ranked_ids)
        field_name, descending = values["ordering"].lstrip("-"), values["ordering"].startswith("-")
        limit, offset = values["limit"], values["offset"]
        explicit = "ordering" in request.query_params
        if field_name in PRICE_ORDERINGS:
            ids = list(models.order_by().values_list("id", flat=True))
            found = model_reads.models_best(display=display, rates=rates, as_of=as_of, **sellers)
            allowed = set(ids)
            best_sorted = model_reads.models_best_sorted(
                [b for b in found if b.model_id in allowed], sort=field_name, descending=descending
            )
            priced = [b.model_id for b in best_sorted]
            unpriced = sorted(allowed - set(priced))
            order = priced + unpriced
            best_of = {b.model_id: b for b in best_sorted}
            page_ids = order[offset : offset + limit]
            count = len(order)
        else:
            if ranked_ids is not None and not explicit:
                position = {model_id: i for i, model_id in enumerate(ranked_ids)}
                order = sorted(models.order_by().values_list("id", flat=True), key=lambda i: position[i])
            else:
                columns = {"name": ("name", "slug"), "slug": ("slug",)}[field_name]
                order = list(
                    models.order_by(*(f"-{c}" if descending else c for c in columns), "id").values_list("id", flat=True)
                )
            count = len(order)
            page_ids = order[offset : offset + limit]
            best_of = {
                b.model_id: b
                for b in model_reads.models_best(
                    display=display, rates=rates, as_of=as_of, model_ids=page_ids, **sellers
                )
            }
        loaded = models.in_bulk(page_ids)
        rows = [model_row(loaded[i], best_of.get(i), display=display) for i in page_ids if i in loaded]
        return self.page(request, rows=rows, count=count, values=values)

    def retrieve(self, request: Request, slug: str) -> Any:
        return self.respond(request, lambda: self._retrieve(request, slug))

    def _retrieve(self, request: Request, slug: str) -> dict[str, Any]:
        values = params.read(ModelDetailParams, request.query_params)
        display = params.display_from(values)
        as_of = values.get("as_of")
        rates = params.rates_for(currency=display.currency, as_of=as_of)
        model = model_reads.model_get(slug=slug)
        if model is None:
            raise NotFound("No model with this slug.")
        return detail_row(model_reads.model_page(model=model, display=display, rates=rates, as_of=as_of))

"""Explicit response shapes.

The declared fields document each shape (drf-spectacular reads them); ``to_representation`` is
written out by hand because DRF's generic field machinery costs ~10x more per row, and a list of
1,000 offerings with their prices must stay fast. ``tests/api`` checks both agree, and the
schemathesis run checks every response against the schema.
"""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

from drf_spectacular.utils import extend_schema_field, extend_schema_serializer
from rest_framework import serializers

from pricing import selectors, units
from pricing.models import Offering, Price, Provider, ScrapeRun, Source

QUANTUM = Decimal("1e-12")


def amount(value: Decimal | None) -> Decimal | None:
    """Money as shown: at most 12 decimal places (what we store), exact otherwise."""
    if value is None:
        return None
    return value.quantize(QUANTUM, rounding=ROUND_HALF_EVEN)


def iso(moment: dt.datetime | None) -> str | None:
    if moment is None:
        return None
    return moment.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


@extend_schema_field({"type": "number", "nullable": True, "example": 0.014})
class AmountField(serializers.Field):
    """A Decimal amount, written as a JSON number with its exact decimal digits."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("allow_null", True)
        super().__init__(read_only=True, **kwargs)

    def to_representation(self, value: Any) -> Any:
        return amount(value)


def nullable_int(**kwargs: Any) -> serializers.IntegerField:
    return serializers.IntegerField(allow_null=True, read_only=True, **kwargs)


def nullable_str(**kwargs: Any) -> serializers.CharField:
    return serializers.CharField(allow_null=True, read_only=True, **kwargs)


def nullable_datetime(**kwargs: Any) -> serializers.DateTimeField:
    return serializers.DateTimeField(allow_null=True, read_only=True, **kwargs)


# --- prices -------------------------------------------------------------------------------------------


class PriceSerializer(serializers.Serializer):
    """One price line of an offering: component x mode x prompt-length tier."""

    component = serializers.CharField(read_only=True)
    mode = serializers.CharField(read_only=True)
    tier_min_tokens = nullable_int(help_text="Lowest prompt length of the tier (inclusive); null = open.")
    tier_max_tokens = nullable_int(help_text="Highest prompt length of the tier (inclusive); null = open.")
    amount = AmountField(help_text="In the requested unit and currency; null when no exchange rate is known.")
    native_amount_per_mtok = AmountField(help_text="Per 1M tokens in the currency the provider charges.")
    native_currency = serializers.CharField(read_only=True)
    original = serializers.CharField(read_only=True, help_text="The figure as the page printed it.")
    valid_from = serializers.DateTimeField(read_only=True, help_text="When the provider started charging it.")
    valid_to = nullable_datetime(help_text="When the provider stopped charging it; null = still charged.")
    recorded_at = serializers.DateTimeField(read_only=True, help_text="When we learned it.")
    last_seen_at = nullable_datetime()
    # Fields named "source" are what DRF allows and the API promises; the stubs take them for Field.source.
    source = nullable_str(  # type: ignore[assignment]
        help_text="Slug of the source it was read from; null when a curator set it."
    )

    def to_representation(self, price: Price) -> dict[str, Any]:
        context = self.context
        return price_line(price, display=context["display"], rates=context["rates"], ratio=context.get("ratio"))


def _offering_ratio(price: Price | selectors.PriceLine, display: selectors.Display) -> units.WordsRatio:
    if not isinstance(price, Price):
        raise TypeError("a price line is shaped with its offering's words-per-token ratio; pass ratio=")
    return display.ratio_of(price.offering)


def price_line(
    price: Price | selectors.PriceLine,
    *,
    display: selectors.Display,
    rates: selectors.Rates,
    ratio: units.WordsRatio | None = None,
) -> dict[str, Any]:
    converted = selectors.convert_amount(
        price.amount_per_mtok,
        from_currency=price.currency,
        display=display,
        rates=rates,
        ratio=ratio or _offering_ratio(price, display),
    )
    return {
        "component": price.component,
        "mode": price.mode,
        "tier_min_tokens": price.tier_min_tokens,
        "tier_max_tokens": price.tier_max_tokens,
        "amount": amount(converted),
        "native_amount_per_mtok": amount(price.amount_per_mtok),
        "native_currency": price.currency,
        "original": price.original,
        "valid_from": iso(price.valid_from),
        "valid_to": iso(price.valid_to),
        "recorded_at": iso(price.recorded_at),
        "last_seen_at": iso(price.last_seen_at),
        "source": price.source.slug if price.source is not None else None,
    }


class PriceRowSerializer(PriceSerializer):
    """A flat price row of ``prices/``: the line plus whose it is."""

    offering = serializers.IntegerField(read_only=True, help_text="Offering id.")
    provider = serializers.CharField(read_only=True)
    model_id = serializers.CharField(read_only=True, help_text="The provider's own model id.")
    model = nullable_str(help_text="Canonical model slug, null when not linked.")
    currency = serializers.CharField(read_only=True)
    unit = serializers.CharField(read_only=True)
    status = serializers.CharField(read_only=True)

    def to_representation(self, price: Price) -> dict[str, Any]:
        display: selectors.Display = self.context["display"]
        offering = price.offering
        return {
            "offering": offering.id,
            "provider": offering.provider.slug,
            "model_id": offering.provider_model_id,
            "model": offering.model.slug if offering.model_id and offering.model else None,
            **price_line(price, display=display, rates=self.context["rates"]),
            "currency": display.currency,
            "unit": display.unit,
            "status": price.status,
        }


class HistoryPriceSerializer(PriceSerializer):
    """A price as it ever was, on both time axes."""

    superseded_at = nullable_datetime(help_text="When a correction replaced this knowledge; null = current.")
    currency = serializers.CharField(read_only=True)
    unit = serializers.CharField(read_only=True)

    def to_representation(self, price: Price) -> dict[str, Any]:
        display: selectors.Display = self.context["display"]
        return {
            **price_line(price, display=display, rates=self.context["rates"], ratio=self.context["ratio"]),
            "superseded_at": iso(price.superseded_at),
            "currency": display.currency,
            "unit": display.unit,
        }


# --- offerings ------------------------------------------------------------------------------------------


class PendingSerializer(serializers.Serializer):
    """A figure a source states that is held until evidence or a curator confirms it."""

    component = serializers.CharField(read_only=True)
    mode = serializers.CharField(read_only=True)
    tier = serializers.CharField(read_only=True)
    amount_per_mtok = serializers.DecimalField(max_digits=24, decimal_places=12, read_only=True)
    currency = serializers.CharField(read_only=True)
    source = nullable_str()  # type: ignore[assignment]
    since = nullable_datetime(help_text="When the source first stated it.")
    reason = serializers.CharField(read_only=True, help_text="Why it waits.")


def pending_change(price: Price) -> dict[str, Any]:
    return {
        "component": price.component,
        "mode": price.mode,
        "tier": price.tier_label,
        "amount_per_mtok": amount(price.amount_per_mtok),
        "currency": price.currency,
        "source": price.source.slug if price.source else None,
        "since": iso(price.valid_from),
        "reason": price.hold_reason,
    }


class MapsToSerializer(serializers.Serializer):
    model_id = serializers.CharField(read_only=True, help_text="The seller's id the retired one now maps to.")
    conditions = serializers.CharField(read_only=True, help_text="Which of its prices apply, e.g. thinking=off.")
    stated_by = serializers.CharField(read_only=True, help_text="The source that said so.")


def maps_to(row: selectors.OfferingRow) -> dict[str, str] | None:
    if not row.retired_by:
        return None
    return {"model_id": row.maps_to, "conditions": row.maps_to_conditions, "stated_by": row.retired_by}


class OfferingSerializer(serializers.Serializer):
    """An offering with its headline prices (standard mode unless asked, base tier) and every price line."""

    id = serializers.IntegerField(read_only=True)
    provider = serializers.CharField(read_only=True, help_text="Provider slug.")
    provider_name = serializers.CharField(read_only=True)
    model = nullable_str(help_text="Canonical model slug, null when not linked.")
    model_id = serializers.CharField(read_only=True, help_text="The provider's own model id.")
    name = serializers.CharField(read_only=True)
    creator = serializers.CharField(read_only=True)
    context_window = nullable_int()
    open_weights = serializers.BooleanField(
        read_only=True, allow_null=True, help_text="Whether the model's weights are published; null when unknown."
    )
    listing = serializers.ChoiceField(
        choices=Offering.Listing.choices,
        read_only=True,
        help_text="list (a public list price), free (a free or rate-limited variant) or unlisted (no public list "
        "price); lists take list prices only unless include_free / include_unlisted.",
    )
    region = nullable_str(help_text="The region the seller sells this offering in, as it writes it; null if none.")
    words_per_token = AmountField(help_text="Words a token carries for this model's tokenizer.")
    words_per_token_source = serializers.CharField(read_only=True, help_text="measured, curated or assumed (0.75).")
    currency = serializers.CharField(read_only=True)
    unit = serializers.CharField(read_only=True, help_text="mtok (per 1M tokens) or mwords (per 1M words).")
    mode = serializers.CharField(read_only=True, help_text="Mode of the headline prices.")
    input = AmountField()
    cached_input = AmountField()
    cache_write_5m = AmountField()
    cache_write_1h = AmountField()
    output = AmountField()
    blended = AmountField(help_text="input and output mixed at blend_ratio.")
    blend_ratio = serializers.CharField(read_only=True, help_text="input:output, e.g. 3:1.")
    last_verified_at = nullable_datetime(help_text="When a source last showed the headline prices.")
    stale = serializers.BooleanField(read_only=True)
    missing = serializers.BooleanField(read_only=True, help_text="The source stopped listing a headline price.")
    missing_since = nullable_datetime(
        help_text="Since when the source no longer lists a headline price, or the seller retired the id."
    )
    maps_to = MapsToSerializer(
        read_only=True, allow_null=True, help_text="The seller's own statement that this id is retired, if any."
    )
    source = nullable_str(help_text="Slug of the source of the input price.")  # type: ignore[assignment]
    pending = PendingSerializer(
        many=True, read_only=True, help_text="Newer figures held until evidence or a curator confirms them."
    )
    prices = PriceSerializer(many=True, read_only=True)

    def to_representation(self, row: selectors.OfferingRow) -> dict[str, Any]:
        display: selectors.Display = self.context["display"]
        rates: selectors.Rates = self.context["rates"]
        offering = row.offering
        model = offering.model if offering.model_id else None
        return {
            "id": offering.id,
            "provider": offering.provider.slug,
            "provider_name": offering.provider.name,
            "model": model.slug if model else None,
            "model_id": offering.provider_model_id,
            "name": offering.name or (model.name if model else offering.provider_model_id),
            "creator": (model.creator if model else "") or offering.creator_hint,
            "context_window": offering.context_window or (model.context_window if model else None),
            "open_weights": model.open_weights if model else None,
            "listing": offering.listing,
            "region": (offering.attributes or {}).get("region"),
            "words_per_token": row.ratio.words_per_token,
            "words_per_token_source": row.ratio.provenance,
            "currency": row.currency,
            "unit": row.unit,
            "mode": display.mode,
            **{component: amount(row.amounts[component]) for component in selectors.HEADLINE_COMPONENTS},
            "blended": amount(row.blended),
            "blend_ratio": f"{display.ratio[0]}:{display.ratio[1]}",
            "last_verified_at": iso(row.last_verified_at),
            "stale": row.stale,
            "missing": row.missing,
            "missing_since": iso(row.missing_since),
            "maps_to": maps_to(row),
            "source": row.source.slug if row.source else None,
            "pending": [pending_change(p) for p in row.pending],
            "prices": [price_line(p, display=display, rates=rates, ratio=row.ratio) for p in row.prices],
        }


# --- changes --------------------------------------------------------------------------------------------


class ChangeEvidenceSerializer(serializers.Serializer):
    """Where the new amount was read: the source, its document and when it was seen."""

    source = nullable_str(help_text="Slug of the source; null when a curator set the price.")  # type: ignore[assignment]
    source_name = nullable_str()
    document_url = nullable_str(help_text="The page or API the figure was read from, or the curator's evidence.")
    document_hash = nullable_str(help_text="SHA-256 of the document as fetched, when one was kept.")
    seen_at = nullable_datetime(help_text="When the document that first showed the new amount was fetched or captured.")
    last_seen_at = nullable_datetime(help_text="When a source last showed the new amount.")


def change_evidence(change: selectors.PriceChange) -> dict[str, Any]:
    price = change.price
    source = price.source if price.source_id else None
    return {
        "source": source.slug if source is not None else None,
        "source_name": source.name if source is not None else None,
        "document_url": change.document_url or None,
        "document_hash": price.document_hash or None,
        "seen_at": iso(change.seen_at),
        "last_seen_at": iso(price.last_seen_at),
    }


class ChangeSerializer(serializers.Serializer):
    """A published price that replaced the previous published price of its line at another amount."""

    id = serializers.IntegerField(read_only=True, help_text="Id of the new price row.")
    offering = serializers.IntegerField(read_only=True, help_text="Offering id.")
    provider = serializers.CharField(read_only=True, help_text="Provider slug.")
    provider_name = serializers.CharField(read_only=True)
    model_id = serializers.CharField(read_only=True, help_text="The provider's own model id.")
    model = nullable_str(help_text="Canonical model slug, null when not linked.")
    component = serializers.CharField(read_only=True)
    mode = serializers.CharField(read_only=True)
    tier_min_tokens = nullable_int(help_text="Lowest prompt length of the tier (inclusive); null = open.")
    tier_max_tokens = nullable_int(help_text="Highest prompt length of the tier (inclusive); null = open.")
    conditions = serializers.CharField(read_only=True, help_text='Conditions of the line, e.g. "thinking=on"; "".')
    old_amount = AmountField(help_text="In the requested unit and currency; null when no exchange rate is known.")
    new_amount = AmountField(help_text="In the requested unit and currency; null when no exchange rate is known.")
    percent = AmountField(help_text="Change in percent of the old amount, to 0.1; null when the old one was free.")
    currency = serializers.CharField(read_only=True)
    unit = serializers.CharField(read_only=True)
    native_old_amount = AmountField(help_text="Per 1M tokens in the currency the provider charges.")
    native_new_amount = AmountField(help_text="Per 1M tokens in the currency the provider charges.")
    native_currency = serializers.CharField(read_only=True)
    old_valid_from = serializers.DateTimeField(read_only=True, help_text="Since when the old amount was charged.")
    changed_at = serializers.DateTimeField(read_only=True, help_text="When the new amount took effect (valid_from).")
    recorded_at = serializers.DateTimeField(read_only=True, help_text="When we learned it.")
    source = nullable_str(help_text="Slug of the source of the new amount.")  # type: ignore[assignment]
    evidence = ChangeEvidenceSerializer(read_only=True)

    def to_representation(self, change: selectors.PriceChange) -> dict[str, Any]:
        display: selectors.Display = self.context["display"]
        rates: selectors.Rates = self.context["rates"]
        price, previous = change.price, change.previous
        offering = price.offering
        ratio = display.ratio_of(offering)

        def shown(line: Price) -> Decimal | None:
            return amount(
                selectors.convert_amount(
                    line.amount_per_mtok, from_currency=line.currency, display=display, rates=rates, ratio=ratio
                )
            )

        evidence = change_evidence(change)
        return {
            "id": price.id,
            "offering": offering.id,
            "provider": offering.provider.slug,
            "provider_name": offering.provider.name,
            "model_id": offering.provider_model_id,
            "model": offering.model.slug if offering.model_id and offering.model else None,
            "component": price.component,
            "mode": price.mode,
            "tier_min_tokens": price.tier_min_tokens,
            "tier_max_tokens": price.tier_max_tokens,
            "conditions": price.conditions,
            "old_amount": shown(previous),
            "new_amount": shown(price),
            "percent": change.percent,
            "currency": display.currency,
            "unit": display.unit,
            "native_old_amount": amount(previous.amount_per_mtok),
            "native_new_amount": amount(price.amount_per_mtok),
            "native_currency": price.currency,
            "old_valid_from": iso(previous.valid_from),
            "changed_at": iso(price.valid_from),
            "recorded_at": iso(price.recorded_at),
            "source": evidence["source"],
            "evidence": evidence,
        }


# --- catalogue ------------------------------------------------------------------------------------------


class ProviderSerializer(serializers.ModelSerializer):
    website = serializers.CharField(read_only=True, help_text="Home page, or empty.")

    class Meta:
        model = Provider
        fields = ["slug", "name", "website"]


class RunSerializer(serializers.ModelSerializer):
    class Meta:
        model = ScrapeRun
        fields = [
            "id",
            "kind",
            "status",
            "started_at",
            "finished_at",
            "http_status",
            "records",
            "created",
            "changed",
            "unchanged",
            "held",
            "missing",
            "error",
        ]


class SourceSerializer(serializers.ModelSerializer):
    provider: serializers.SlugRelatedField[Any] = serializers.SlugRelatedField(
        slug_field="slug", read_only=True, allow_null=True
    )
    last_run = serializers.SerializerMethodField()
    health = serializers.SerializerMethodField()

    class Meta:
        model = Source
        fields = [
            "slug",
            "name",
            "kind",
            "provider",
            "trust_rank",
            "enabled",
            "urls",
            "last_run",
            "last_success_at",
            "last_record_count",
            "health",
        ]

    @extend_schema_field(RunSerializer(allow_null=True))
    def get_last_run(self, source: Source) -> dict[str, Any] | None:
        runs = getattr(source, "latest_runs", [])
        return RunSerializer(runs[0]).data if runs else None

    @extend_schema_field({"type": "string", "enum": ["ok", "failing", "stale", "never", "disabled"]})
    def get_health(self, source: Source) -> str:
        return selectors.source_health(source)


# --- estimate ---------------------------------------------------------------------------------------------


class CostLineSerializer(serializers.Serializer):
    component = serializers.CharField(read_only=True)
    tokens = serializers.IntegerField(read_only=True, help_text="Tokens of this component in one request.")
    amount_per_mtok = AmountField(help_text="Price per 1M tokens of the tier that applied, in the currency asked.")
    cost = AmountField(help_text="Cost of this component in one request.")
    total_tokens = serializers.IntegerField(read_only=True, help_text="`tokens` times `requests`.")
    total_cost = AmountField(help_text="`cost` times `requests`.")
    tier_min_tokens = nullable_int()
    tier_max_tokens = nullable_int()


class EstimateTokensSerializer(serializers.Serializer):
    """The workload in tokens as this offering was priced: its words converted through its own ratio."""

    input = serializers.IntegerField(read_only=True)
    cached_input = serializers.IntegerField(read_only=True)
    cache_write_5m = serializers.IntegerField(read_only=True)
    cache_write_1h = serializers.IntegerField(read_only=True)
    output = serializers.IntegerField(read_only=True)


class EstimateSerializer(serializers.Serializer):
    offering = serializers.IntegerField(read_only=True)
    provider = serializers.CharField(read_only=True)
    model = nullable_str()
    model_id = serializers.CharField(read_only=True)
    name = serializers.CharField(read_only=True)
    total = AmountField(help_text="Cost of the whole workload (all `requests`) in the currency asked.")
    per_request_total = AmountField(help_text="Cost of one request; `total` is this times `requests`.")
    requests = serializers.IntegerField(read_only=True, help_text="Requests the total covers.")
    currency = serializers.CharField(read_only=True)
    complete = serializers.BooleanField(read_only=True, help_text="False when a price the workload needs is unknown.")
    missing = serializers.ListField(child=serializers.CharField(), read_only=True)
    words_per_token = AmountField(help_text="Words a token carries for this offering's tokenizer in `language`.")
    words_per_token_source = serializers.CharField(read_only=True, help_text="measured, curated or assumed (0.75).")
    tokens = EstimateTokensSerializer(
        read_only=True,
        help_text="Tokens per component of one request as this offering was priced: token counts plus words "
        "(and `text`) converted at its words_per_token, rounded up to whole tokens.",
    )
    context_window = nullable_int(help_text="The offering's context window in tokens, if known.")
    fits_context = serializers.BooleanField(
        read_only=True,
        allow_null=True,
        help_text="Whether one request (prompt and output) fits the context window; null when it is unknown.",
    )
    breakdown = CostLineSerializer(many=True, read_only=True, help_text="One request's cost, component by component.")

    def to_representation(self, estimate: selectors.Estimate) -> dict[str, Any]:
        offering, cost, ratio, workload = estimate.offering, estimate.cost, estimate.ratio, estimate.workload
        model = offering.model if offering.model_id else None
        requests = estimate.requests
        return {
            "offering": offering.id,
            "provider": offering.provider.slug,
            "model": model.slug if model else None,
            "model_id": offering.provider_model_id,
            "name": offering.name or offering.provider_model_id,
            "total": amount(estimate.total),
            "per_request_total": amount(estimate.per_request),
            "requests": requests,
            "currency": self.context["display"].currency,
            "complete": cost.complete,
            "missing": list(cost.missing),
            "words_per_token": ratio.words_per_token,
            "words_per_token_source": ratio.provenance,
            "tokens": {component: workload.tokens_of(component) for component in selectors.HEADLINE_COMPONENTS},
            "context_window": estimate.context_window,
            "fits_context": estimate.fits,
            "breakdown": [
                {
                    "component": line.component,
                    "tokens": line.tokens,
                    "amount_per_mtok": amount(line.amount_per_mtok),
                    "cost": amount(line.cost),
                    "total_tokens": line.tokens * requests,
                    "total_cost": amount(line.cost * requests),
                    "tier_min_tokens": line.min_tokens,
                    "tier_max_tokens": line.max_tokens,
                }
                for line in cost.lines
            ],
        }


class WorkloadSerializer(serializers.Serializer):
    """The workload as asked: requests a month, and one request's token and word counts before any
    words-to-tokens conversion, which depends on each offering's ratio (each result's ``tokens`` gives
    what it became)."""

    requests = serializers.IntegerField(read_only=True, help_text="Requests a month; every count is per request.")
    input_tokens = serializers.IntegerField(read_only=True)
    cached_input_tokens = serializers.IntegerField(read_only=True)
    cache_write_5m_tokens = serializers.IntegerField(read_only=True)
    cache_write_1h_tokens = serializers.IntegerField(read_only=True)
    output_tokens = serializers.IntegerField(read_only=True)
    input_words = serializers.IntegerField(read_only=True)
    output_words = serializers.IntegerField(read_only=True)
    text_words = serializers.IntegerField(
        read_only=True,
        help_text="Words counted in `text` (each CJK character is one word), priced as input words through "
        "each offering's ratio.",
    )
    mode = serializers.CharField(read_only=True)


def page_serializer(name: str, item: serializers.Serializer, **extra: serializers.Field) -> type:
    """The documented shape of a page: ``count``, ``next``, ``previous``, ``results`` (+ extras)."""
    fields: dict[str, Any] = {
        "count": serializers.IntegerField(read_only=True, help_text="Rows matching, over all pages."),
        # Relative (path and query): one stored answer serves every host name it is reached by.
        "next": serializers.CharField(
            read_only=True, allow_null=True, help_text="The next page as a relative URL (path and query), or null."
        ),
        "previous": serializers.CharField(
            read_only=True, allow_null=True, help_text="The previous page as a relative URL, or null."
        ),
        "results": item,
        **extra,
    }
    # many=False: a page is one object, even on a list action (drf-spectacular would wrap it in an array).
    return extend_schema_serializer(many=False)(type(name, (serializers.Serializer,), fields))


OfferingPage = page_serializer("OfferingPage", OfferingSerializer(many=True, read_only=True))
PricePage = page_serializer("PricePage", PriceRowSerializer(many=True, read_only=True))
HistoryPage = page_serializer(
    "HistoryPage",
    HistoryPriceSerializer(many=True, read_only=True),
    offering=serializers.IntegerField(read_only=True),
)
ChangePage = page_serializer("ChangePage", ChangeSerializer(many=True, read_only=True))
ProviderPage = page_serializer("ProviderPage", ProviderSerializer(many=True, read_only=True))
SourcePage = page_serializer("SourcePage", SourceSerializer(many=True, read_only=True))
EstimatePage = page_serializer(
    "EstimatePage",
    EstimateSerializer(many=True, read_only=True),
    workload=WorkloadSerializer(read_only=True),
    currency=serializers.CharField(read_only=True),
    as_of=serializers.DateTimeField(read_only=True, allow_null=True),
)

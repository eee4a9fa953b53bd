"""Read-only API views: read parameters, call selectors, shape rows. No query logic lives here.

The GETs named in ``ApiView.stored_actions`` are answered by ``pricing.answers.StoredAnswerMiddleware``:
conditional requests from ``selectors.prices_changed_at()`` (ETag and Last-Modified), and stored bytes
(compressed once) per path, sorted query and that stamp, so an ingest or a curator change invalidates
every stored answer at once without deleting anything. These views only compute the misses.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any
from urllib.parse import urlencode, urlsplit

from django.http.response import HttpResponseBase
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.pagination import LimitOffsetPagination
from rest_framework.renderers import BrowsableAPIRenderer
from rest_framework.request import Request
from rest_framework.response import Response

from pricing import selectors
from pricing.api import filters, params
from pricing.api import serializers as out
from pricing.api.renderers import CSVRenderer, ExactJSONRenderer
from pricing.selectors import changes, workloads

MAX_ID = 2**63 - 1

ERROR = OpenApiResponse(
    response={"type": "object", "additionalProperties": True},
    description="Bad input: each bad parameter with what it accepts, e.g. "
    '{"unit": ["\\"x\\" is not accepted; accepted values: mtok, mwords."]}',
)
NOT_FOUND = OpenApiResponse(response={"type": "object", "additionalProperties": True}, description="No such row.")
OFFERING_ID = OpenApiParameter("id", int, OpenApiParameter.PATH, description="Offering id.")
NOT_MODIFIED = OpenApiResponse(description="Not modified since the ETag or Last-Modified you sent.")


class ApiView(viewsets.GenericViewSet):
    """Shared behaviour: exact JSON or CSV, conditional GETs, cached pages, 400s for bad formats."""

    renderer_classes = [ExactJSONRenderer, BrowsableAPIRenderer, CSVRenderer]
    # GET actions answered from stored bytes per price-change stamp (pricing/answers.py).
    stored_actions: tuple[str, ...] = ("list", "retrieve", "history")
    pagination_class: type[LimitOffsetPagination] | None = None
    filter_backends: list[Any] = []

    def perform_content_negotiation(self, request: Request, force: bool = False) -> Any:
        wanted = request.query_params.get("format")
        accepted = [r.format for r in self.get_renderers() if not isinstance(r, BrowsableAPIRenderer)]
        if wanted is not None and wanted not in (*accepted, "api") and not force:
            raise ValidationError({"format": [f'"{wanted}" is not accepted; accepted values: {", ".join(accepted)}.']})
        return super().perform_content_negotiation(request, force=force)

    def handle_exception(self, exc: Exception) -> Response:
        # Errors are JSON even when the rows were asked for as CSV.
        if isinstance(getattr(self.request, "accepted_renderer", None), CSVRenderer):
            self.request.accepted_renderer = ExactJSONRenderer()
            self.request.accepted_media_type = ExactJSONRenderer.media_type
        return super().handle_exception(exc)

    def respond(self, request: Request, build: Callable[[], Any]) -> HttpResponseBase:
        """``build()``'s data as a response. Conditional requests, ETags and the stored bytes of a GET are
        ``pricing.answers.StoredAnswerMiddleware``'s, for the actions named in ``stored_actions``."""
        return Response(build())

    def page(
        self,
        request: Request,
        *,
        rows: Sequence[Any],
        count: int,
        values: dict[str, Any],
        query: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        """The page envelope around rows already cut to ``limit`` from ``offset``.

        ``next`` and ``previous`` are relative (path and query, parameters sorted): a stored answer serves
        every host it is reached by. ``query`` replaces the request's parameters (a POST's body as a GET)."""
        limit, offset = values["limit"], values["offset"]
        pairs = sorted(request.query_params.lists()) if query is None else [(k, [v]) for k, v in sorted(query.items())]
        kept = [(name, value) for name, items in pairs if name != "offset" for value in items]

        def link(to: int) -> str:
            wanted = kept + ([("offset", str(to))] if to else [])
            return f"{request.path}?{urlencode(wanted)}" if wanted else request.path

        next_url = link(offset + limit) if offset + limit < count else None
        previous_url = link(max(offset - limit, 0)) if offset > 0 else None
        return {"count": count, "next": next_url, "previous": previous_url, "results": list(rows)}


def relative(url: str) -> str:
    """``http://host:port/path?query`` -> ``/path?query``."""
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}" if parts.query else parts.path


def split_ordering(ordering: str) -> tuple[str, bool]:
    return ordering.lstrip("-"), ordering.startswith("-")


def checked_id(pk: str) -> int:
    if not pk.isascii() or not pk.isdigit() or int(pk) > MAX_ID:
        raise NotFound("No such offering.")
    return int(pk)


# --- offerings ------------------------------------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(
        summary="Offerings with their prices",
        description="One row per offering: headline prices (base tier, standard mode unless `mode` is given) as "
        "flat fields in the requested unit and currency, and every price line under `prices`.",
        parameters=[params.OfferingListParams],
        responses={200: out.OfferingPage, 304: NOT_MODIFIED, 400: ERROR},
    ),
    retrieve=extend_schema(
        summary="One offering",
        parameters=[OFFERING_ID, params.OfferingDetailParams],
        responses={200: out.OfferingSerializer, 304: NOT_MODIFIED, 400: ERROR, 404: NOT_FOUND},
    ),
    history=extend_schema(
        summary="Every price an offering ever had",
        description="Published prices on both time axes: `valid_from`/`valid_to` (when the provider charged it) "
        "and `recorded_at`/`superseded_at` (when we knew it). With `as_of`, only prices that started by then.",
        parameters=[OFFERING_ID, params.HistoryParams],
        responses={200: out.HistoryPage, 304: NOT_MODIFIED, 400: ERROR, 404: NOT_FOUND},
    ),
)
class OfferingViewSet(ApiView):
    # Any path segment reaches the view, so a bad id gets a JSON 404 rather than Django's HTML one.
    lookup_value_regex = r"[^/]+"

    def list(self, request: Request) -> HttpResponseBase:
        return self.respond(request, lambda: self._list(request))

    def _list(self, request: Request) -> dict[str, Any]:
        values = params.read(params.OfferingListParams, request.query_params)
        filters = params.filters_from(values)
        display = params.display_from(values)
        rates = params.rates_for(currency=display.currency, as_of=values.get("as_of"))
        field_name, descending = split_ordering(values["ordering"])
        limit, offset = values["limit"], values["offset"]
        # Rank every offering on lean rows, then load full prices for the page only.
        ids = selectors.offering_ids_sorted(
            sort=field_name,
            descending=descending,
            display=display,
            rates=rates,
            as_of=values.get("as_of"),
            min_price=values.get("min_price"),
            max_price=values.get("max_price"),
            **filters.as_selector_kwargs(),
        )
        count = len(ids)
        rows = selectors.offering_rows_for(
            ids[offset : offset + limit], display=display, rates=rates, as_of=values.get("as_of"), mode=filters.mode
        )
        context = {"display": display, "rates": rates}
        shaped = [out.OfferingSerializer(row, context=context).data for row in rows]
        return self.page(request, rows=shaped, count=count, values=values)

    def retrieve(self, request: Request, pk: str) -> HttpResponseBase:
        return self.respond(request, lambda: self._retrieve(request, checked_id(pk)))

    def _retrieve(self, request: Request, offering_id: int) -> dict[str, Any]:
        values = params.read(params.OfferingDetailParams, request.query_params)
        display = params.display_from(values)
        rates = params.rates_for(currency=display.currency, as_of=values.get("as_of"))
        rows = selectors.offering_rows_for([offering_id], display=display, rates=rates, as_of=values.get("as_of"))
        if not rows:
            raise NotFound("No offering with this id has a price in force at that time.")
        [row] = rows
        return out.OfferingSerializer(row, context={"display": display, "rates": rates}).data

    @action(detail=True, methods=["get"])
    def history(self, request: Request, pk: str) -> HttpResponseBase:
        return self.respond(request, lambda: self._history(request, checked_id(pk)))

    def _history(self, request: Request, offering_id: int) -> dict[str, Any]:
        values = params.read(params.HistoryParams, request.query_params)
        display = params.display_from(values)
        as_of = values.get("as_of")
        rates = params.rates_for(currency=display.currency, as_of=as_of)
        offering = selectors.offering_get(offering_id=offering_id)
        if offering is None:
            raise NotFound("No such offering.")
        prices = selectors.offering_history(offering_id=offering_id)
        if as_of is not None:
            prices = prices.filter(valid_from__lte=as_of)
        limit, offset = values["limit"], values["offset"]
        count = prices.count()
        context = {"display": display, "rates": rates, "ratio": display.ratio_of(offering)}
        shaped = [out.HistoryPriceSerializer(p, context=context).data for p in prices[offset : offset + limit]]
        return {"offering": offering.id, **self.page(request, rows=shaped, count=count, values=values)}


# --- prices and changes ------------------------------------------------------------------------------------

PRICE_DB_ORDER = {
    "amount": ("amount_per_mtok",),
    "provider": ("offering__provider__name", "offering__provider_model_id", "component", "mode", "tier_min_tokens"),
    "model_id": ("offering__provider_model_id", "component", "mode", "tier_min_tokens"),
    "component": ("component", "offering__provider__name", "offering__provider_model_id"),
    "mode": ("mode", "offering__provider__name", "offering__provider_model_id"),
    "valid_from": ("valid_from",),
    "recorded_at": ("recorded_at",),
}


@extend_schema_view(
    list=extend_schema(
        summary="Published prices in force, as flat rows",
        description="One row per offering x component x mode x tier. `ordering=amount` sorts on the amount in the "
        "currency the provider charges.",
        parameters=[params.PriceListParams],
        responses={200: out.PricePage, 304: NOT_MODIFIED, 400: ERROR},
    )
)
class PriceViewSet(ApiView):
    def list(self, request: Request) -> HttpResponseBase:
        return self.respond(request, lambda: self._list(request))

    def _list(self, request: Request) -> dict[str, Any]:
        values = params.read(params.PriceListParams, request.query_params)
        filters = params.filters_from(values)
        display = params.display_from(values)
        rates = params.rates_for(currency=display.currency, as_of=values.get("as_of"))
        rows = selectors.prices_listed(
            as_of=values.get("as_of"), component=values.get("component") or "", **filters.as_selector_kwargs()
        )
        field_name, descending = split_ordering(values["ordering"])
        order = [f"-{name}" if descending else name for name in PRICE_DB_ORDER[field_name]]
        limit, offset = values["limit"], values["offset"]
        count = rows.count()
        page = rows.order_by(*order, "id")[offset : offset + limit]
        context = {"display": display, "rates": rates}
        shaped = [out.PriceRowSerializer(price, context=context).data for price in page]
        return self.page(request, rows=shaped, count=count, values=values)


@extend_schema_view(
    list=extend_schema(
        summary="Price changes, newest first",
        description="Every published price that replaced the previous published price of its line (offering, "
        "component, mode, prompt tier, currency, conditions) at another amount, with the old and new amount, "
        "the percent change and the evidence of the new one. A line's first price is not a change; paid to free "
        "is (-100%); free to paid has a null `percent`. Held, rejected and corrected rows never make a change. "
        "`since` (inclusive) and `until` (exclusive) bound when the new amount took effect: a date is the start "
        "of that day, UTC. `as_of` keeps the changes in effect by then. The offering filters (`provider`, "
        "`model`, `creator`, `q`, `min_context`, `open_weights`, `mode`, `region`, `include_free`, "
        "`include_unlisted`, `include_missing`) keep exactly the offerings `offerings/` lists for the same "
        "filters. `count` is exact; pages are cut by the database.",
        parameters=[params.ChangeListParams],
        responses={200: out.ChangePage, 304: NOT_MODIFIED, 400: ERROR},
    )
)
class ChangeViewSet(ApiView):
    def list(self, request: Request) -> HttpResponseBase:
        return self.respond(request, lambda: self._list(request))

    def _list(self, request: Request) -> dict[str, Any]:
        values = params.read(params.ChangeListParams, request.query_params)
        filters = params.filters_from(values)
        display = params.display_from(values)
        as_of = values.get("as_of")
        rates = params.rates_for(currency=display.currency, as_of=as_of)
        offering = values.get("offering")
        rows = changes.changes_matching(
            as_of=as_of,
            since=values.get("since"),
            until=values.get("until"),
            component=values.get("component") or "",
            min_change_pct=values.get("min_change_pct"),
            ordering=values["ordering"],
            offering_ids=[offering] if offering else [],
            **filters.as_selector_kwargs(),
        )
        limit, offset = values["limit"], values["offset"]
        count = rows.count()
        page = rows[offset : offset + limit] if offset < count else []
        context = {"display": display, "rates": rates}
        shaped = [out.ChangeSerializer(change, context=context).data for change in page]
        return self.page(request, rows=shaped, count=count, values=values)


# --- catalogue ---------------------------------------------------------------------------------------------


class StrictPagination(LimitOffsetPagination):
    """limit/offset pagination that answers a bad ``limit`` or ``offset`` with a 400, not a silent default."""

    default_limit = params.DEFAULT_LIMIT
    max_limit = params.MAX_LIMIT

    def paginate_queryset(self, queryset: Any, request: Request, view: Any = None) -> list[Any] | None:
        values = params.read(params.PageParams, request.query_params)
        self.limit, self.offset, self.request = values["limit"], values["offset"], request
        self.count = self.get_count(queryset)
        return list(queryset[self.offset : self.offset + self.limit])

    def get_next_link(self) -> str | None:
        # Relative, like every other page's links (ApiView.page): stored answers carry no host.
        link = super().get_next_link()
        return None if link is None else relative(link)

    def get_previous_link(self) -> str | None:
        link = super().get_previous_link()
        return None if link is None else relative(link)

    def get_paginated_response_schema(self, schema: dict[str, Any]) -> dict[str, Any]:
        shape = super().get_paginated_response_schema(schema)
        for name in ("next", "previous"):
            shape["properties"][name] = {"type": "string", "nullable": True, "example": "/api/v1/models/?offset=100"}
        return shape

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] == "limit":
                parameter["schema"].update({"minimum": 1, "maximum": params.MAX_LIMIT})
            if parameter["name"] == "offset":
                parameter["schema"].update({"minimum": 0, "maximum": params.MAX_OFFSET})
        return parameters


class CatalogueView(mixins.ListModelMixin, ApiView):
    pagination_class = StrictPagination
    filter_backends = [DjangoFilterBackend]

    def list(self, request: Request, *args: Any, **kwargs: Any) -> HttpResponseBase:  # type: ignore[override]
        return self.respond(request, lambda: super(CatalogueView, self).list(request, *args, **kwargs).data)

    def get_queryset(self) -> Any:
        return self.queryset_of()

    def queryset_of(self) -> Any:  # pragma: no cover - each view names its selector
        raise NotImplementedError


@extend_schema_view(list=extend_schema(summary="Providers", responses={200: out.ProviderPage, 400: ERROR}))
class ProviderViewSet(CatalogueView):
    serializer_class = out.ProviderSerializer
    filterset_class = filters.ProviderFilter

    def queryset_of(self) -> Any:
        return selectors.providers_list()


@extend_schema_view(
    list=extend_schema(
        summary="Sources with their health",
        description="Each page or API we read, its latest run, last success and health "
        "(ok, failing, stale, never, disabled).",
        responses={200: out.SourcePage, 400: ERROR},
    )
)
class SourceViewSet(CatalogueView):
    serializer_class = out.SourceSerializer
    filterset_class = filters.SourceFilter

    def queryset_of(self) -> Any:
        return selectors.sources_with_health()

    stored_actions = ()  # health moves with runs, not prices: no price-stamped ETag or cache here

    def list(self, request: Request, *args: Any, **kwargs: Any) -> HttpResponseBase:  # type: ignore[override]
        return super(CatalogueView, self).list(request, *args, **kwargs)


# --- estimate ----------------------------------------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(
        summary="Estimate a workload (query parameters)",
        description="Offerings ranked by the total cost of a workload of `requests` (a month; default 1) requests, "
        "each with one request's breakdown and the prompt-length tier that applied: every count is per request and "
        "the tier comes from one request's prompt, never from the month's total. `per_request_total` is one "
        "request's cost, `total` all of them. Offerings whose context window cannot hold one request "
        "(`fits_context: false`) come after those that can. Words become tokens through each offering's "
        "words-per-token ratio in `language`, rounded up to whole tokens; a `text` has its words counted (each "
        "CJK character is one word) and added to `input_words`. Each result's `tokens` gives the workload in "
        "tokens it was priced at. Offerings lacking a price the workload needs come last with `complete: false`.",
        parameters=[params.EstimateParams],
        responses={200: out.EstimatePage, 304: NOT_MODIFIED, 400: ERROR},
    ),
    create=extend_schema(
        summary="Estimate a workload (JSON body)",
        description="The same as GET, with the workload and filters in a JSON body.",
        request=params.EstimateParams,
        responses={200: out.EstimatePage, 400: ERROR},
    ),
)
class EstimateViewSet(ApiView):
    serializer_class = params.EstimateParams  # describes the POST body (OPTIONS, browsable API)

    def list(self, request: Request) -> HttpResponseBase:
        return self.respond(request, lambda: self._estimate(request, request.query_params))

    def create(self, request: Request) -> HttpResponseBase:
        if not isinstance(request.data, dict):
            raise ValidationError({"non_field_errors": ["Send a JSON object."]})
        # A POST body is not part of the URL, so it is neither cached nor given an ETag; its `next` and
        # `previous` are GETs of the same estimate (see ``workload_query``).
        return Response(self._estimate(request, request.data))

    def _estimate(self, request: Request, data: Any) -> dict[str, Any]:
        values = params.read(params.EstimateParams, data)
        filters = params.filters_from(values)
        display = params.display_from(values)
        as_of = values.get("as_of")
        rates = params.rates_for(currency=display.currency, as_of=as_of)
        text_words = selectors.text_words(values.get("text") or "")
        spec = selectors.WorkloadSpec(
            requests=values["requests"],
            input_tokens=values["input_tokens"],
            cached_input_tokens=values["cached_input_tokens"],
            cache_write_5m_tokens=values["cache_write_5m_tokens"],
            cache_write_1h_tokens=values["cache_write_1h_tokens"],
            output_tokens=values["output_tokens"],
            input_words=values["input_words"] + text_words,
            output_words=values["output_words"],
            mode=display.mode,
        )
        workload = {
            "requests": spec.requests,
            "input_tokens": spec.input_tokens,
            "cached_input_tokens": spec.cached_input_tokens,
            "cache_write_5m_tokens": spec.cache_write_5m_tokens,
            "cache_write_1h_tokens": spec.cache_write_1h_tokens,
            "output_tokens": spec.output_tokens,
            "input_words": values["input_words"],
            "output_words": spec.output_words,
            "text_words": text_words,
            "mode": spec.mode,
        }
        # Ranked on lean lines over the whole catalogue; only the page's offerings are loaded whole.
        estimates = workloads.estimates_over_catalogue(
            spec=spec, display=display, rates=rates, as_of=as_of, **filters.as_selector_kwargs()
        )
        limit, offset = values["limit"], values["offset"]
        context = {"display": display}
        page = workloads.with_offerings(estimates[offset : offset + limit], as_of=as_of)
        shaped = [out.EstimateSerializer(item, context=context).data for item in page]
        return {
            **self.page(
                request,
                rows=shaped,
                count=len(estimates),
                values=values,
                query=workload_query(data, values, text_words) if request.method == "POST" else None,
            ),
            "workload": workload,
            "currency": display.currency,
            "as_of": out.iso(as_of),
        }


def workload_query(data: dict[str, Any], values: dict[str, Any], text_words: int) -> dict[str, str]:
    """A POST estimate's body as GET parameters for its `next` and `previous` links: the same estimate, its
    pasted text already counted into ``input_words`` (a text can be too long for a URL; its count cannot)."""
    accepted = params.EstimateParams().fields
    query: dict[str, str] = {}
    for name, value in data.items():
        if name not in accepted or name in ("text", "offset", "input_words") or value is None or value == "":
            continue
        query[name] = ("true" if value else "false") if isinstance(value, bool) else str(value)
    words = values["input_words"] + text_words
    if words:
        query["input_words"] = str(words)
    return query

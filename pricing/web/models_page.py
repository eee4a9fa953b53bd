"""The model page: one canonical model, every seller of it, the cheapest per component and blend, and a
timeline of its price history. Four queries for the model whatever the number of sellers (plus the
display's and the cache's fixed few)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django import forms
from django.conf import settings
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_safe

from pricing import selectors, units
from pricing.selectors import models as model_reads
from pricing.web import charts
from pricing.web.forms import DisplayFields, Params, as_of_moment, ratio_field_clean, read_params
from pricing.web.views import _cached_by_prices, _display, _template

# Charts are drawn for this many sellers (the cheapest); every seller's history is in the timeline.
CHARTED_SELLERS = 6
# Parameters the model page passes on to its API twin.
API_PARAMS = ("unit", "currency", "mode", "language", "ratio", "as_of")


class ModelPageForm(DisplayFields):
    """How the model page shows amounts: the shared display fields and the blend ratio."""

    ratio = forms.CharField(
        max_length=13,
        initial="3:1",
        required=False,
        label="Blend input:output",
        widget=forms.TextInput(attrs={"size": 5, "inputmode": "numeric"}),
    )

    def clean_ratio(self) -> tuple[int, int]:
        return ratio_field_clean(self.cleaned_data.get("ratio") or "")


def _api_url(request: HttpRequest, slug: str) -> str:
    wanted = [(k, v) for k in API_PARAMS for v in request.GET.getlist(k) if v]
    path = reverse("api:model-detail", kwargs={"slug": slug})
    return request.build_absolute_uri(path + (f"?{urlencode(wanted)}" if wanted else ""))


@require_safe
@_cached_by_prices
def model_detail(request: HttpRequest, slug: str) -> HttpResponse:
    model = model_reads.model_get(slug=slug)
    if model is None:
        raise Http404("No such model.")
    params = read_params(ModelPageForm, request.GET, currencies=selectors.known_currencies())
    display = _display(params)
    as_of = as_of_moment(params["as_of"])
    rates = selectors.rates_on(day=as_of.date() if as_of else None)
    page = model_reads.model_page(model=model, display=display, rates=rates, as_of=as_of)
    now = timezone.now()
    charted: list[tuple[model_reads.Seller, str]] = []
    if page.sellers:
        # The history query already holds every seller's rows: charts need no query of their own.
        by_offering: dict[int, list[Any]] = {}
        for entry in page.history:
            by_offering.setdefault(entry.offering_id, []).append(entry)
        for seller in page.sellers[:CHARTED_SELLERS]:
            history = by_offering.get(seller.offering.id, [])
            charted.append(
                (
                    seller,
                    charts.price_history_svg(
                        title=f"{seller.offering.provider.name}: {seller.offering.provider_model_id}",
                        prices=history,
                        display=display,
                        rates=rates,
                        ratio=seller.row.ratio,
                        now=now,
                    ),
                )
            )
    if display.mode != "standard" and not any(s.row.amounts.get("input") for s in page.ranked_sellers):
        params.notices.append(
            f"No seller charges {display.mode.replace('_', '-')} prices for this model on that day; the main table "
            "shows every mode in force, and the timeline below shows when a mode was offered."
        )
    context = {
        "model": model,
        "page": page,
        "display": display,
        "params": params,
        "form": params.form,
        "as_of": as_of,
        "ratio": page.ratio,
        "charted": charted,
        "api_url": _api_url(request, slug),
        "language_name": selectors.LANGUAGES.get(display.language, display.language),
    }
    return render(request, "pricing/model.html", context)


# --- the leaderboard grouped by model ---------------------------------------------------------------------

GROUPED_COMPONENTS = ("input", "cached_input", "output")
# The leaderboard's sort names -> the models list API's ordering names.
API_ORDERING = {
    "name": "name",
    "blended": "blended",
    "input": "input",
    "cached_input": "cached_input",
    "output": "output",
}


def leaderboard_by_model(
    request: HttpRequest,
    params: Params,
    *,
    display: selectors.Display,
    rates: selectors.Rates,
    as_of: Any,
    context: dict[str, Any],
) -> HttpResponse:
    """The leaderboard with ``group=model``: one row per canonical model with its best price per component
    and blend over the sellers the leaderboard's filters keep, and who charges it. Offerings no model is
    linked to are left out (the page says how to see them). Three queries for the rows whatever the
    number of offerings (lines in force, tokenizers, the shown rows' cheapest offerings)."""
    filters = {
        "providers": [params["provider"]] if params["provider"] else [],
        "creator": params["creator"],
        "q": params["q"],
        "min_context": params["min_context"] or None,
        "open_weights": {"yes": True, "no": False}.get(params["open_weights"]),
    }
    for name in ("region", "include_free", "include_unlisted", "include_missing"):
        if name in params.values:
            filters[name] = params[name]
    found = model_reads.models_best(display=display, rates=rates, as_of=as_of, mode=display.mode, **filters)
    low, high = params.values.get("min_price"), params.values.get("max_price")
    if low is not None or high is not None:
        found = [
            m
            for m in found
            if m.blended is not None and (low is None or m.blended >= low) and (high is None or m.blended <= high)
        ]
    sort = params["sort"] if params["sort"] in model_reads.MODEL_ORDERINGS else "blended"
    ordered = model_reads.models_best_sorted(found, sort=sort, descending=params["dir"] == "desc")
    per_page = len(ordered) or 1 if params["per_page"] == "all" else int(params["per_page"])
    paginator = Paginator(ordered, per_page)
    page = paginator.get_page(params["page"])
    if params["page"] > paginator.num_pages > 0:
        params.notices.append(f"There is no page {params['page']}; showing page {page.number}.")
    shown = list(page.object_list)
    model_reads.cheapest_offerings_fill(shown)
    rows = [
        {
            "model": item,
            "cells": [(c, item.amounts.get(c), item.cheapest(c)) for c in GROUPED_COMPONENTS],
            "blended": item.blended,
            "blended_offering": item.cheapest("blended"),
        }
        for item in shown
    ]
    grouped = {
        **context,
        "params": params,
        "form": params.form,
        "display": display,
        "as_of": as_of,
        "grouped": True,
        "page": page,
        "model_rows": rows,
        "total": len(ordered),
        "assumed_ratio": units.ASSUMED_WORDS_PER_TOKEN,
        "stale_after_hours": settings.SCRAPE_STALE_AFTER_HOURS,
        "sort_fields": ["input", "cached_input", "output", "blended"],
        "api_url": _models_api_url(request, params, page_number=page.number, per_page=per_page),
        "model_query": _display_query(request),
    }
    return render(request, _template(request, "pricing/leaderboard.html", "pricing/_models_results.html"), grouped)


def _display_query(request: HttpRequest) -> str:
    """The reader's display choices, for links to model pages: ``?currency=EUR&unit=mwords`` or ""."""
    wanted = [(k, v) for k in API_PARAMS for v in request.GET.getlist(k) if v]
    return f"?{urlencode(wanted)}" if wanted else ""


def _models_api_url(request: HttpRequest, params: Params, *, page_number: int, per_page: int) -> str:
    """``/api/v1/models/?…`` for the grouped leaderboard: its search, creator, weights, display and order."""
    ratio = params.values.get("ratio") or units.DEFAULT_BLEND_RATIO
    ordering = API_ORDERING.get(params["sort"], "blended")
    limit = min(per_page, 1000)
    pairs: list[tuple[str, Any]] = [
        ("search", params["q"]),
        ("creator", params["creator"]),
        ("open_weights", {"yes": "true", "no": "false"}.get(params["open_weights"] or "")),
        ("mode", params["mode"] if params["mode"] != "standard" else None),
        ("unit", params["unit"] if params["unit"] != "mtok" else None),
        ("language", params["language"] if params["language"] != "en" else None),
        ("currency", params["currency"] if params["currency"] != "USD" else None),
        ("ratio", f"{ratio[0]}:{ratio[1]}" if tuple(ratio) != units.DEFAULT_BLEND_RATIO else None),
        ("as_of", params.values.get("as_of")),
        ("ordering", f"-{ordering}" if params["dir"] == "desc" else ordering),
        ("limit", limit),
        ("offset", (page_number - 1) * limit or None),
    ]
    query = urlencode([(k, v) for k, v in pairs if v not in (None, "")])
    return request.build_absolute_uri(reverse("api:model-list") + (f"?{query}" if query else ""))

"""The model page: one canonical model, every seller of it, the cheapest per component and blend, and a
timeline of its price history. Four queries for the model whatever the number of sellers (plus the
display's and the cache's fixed few)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django import forms
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_safe

from pricing import selectors
from pricing.selectors import models as model_reads
from pricing.web import charts
from pricing.web.forms import DisplayFields, as_of_moment, ratio_field_clean, read_params
from pricing.web.views import _cached_by_prices, _display

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

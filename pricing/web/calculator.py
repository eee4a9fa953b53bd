"""The cost calculator: a month's workload (requests × one request's tokens or words) priced at every
offering, each request at the tier its own prompt falls in."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_safe

from pricing import selectors, units
from pricing.selectors import workloads
from pricing.web.forms import CalculatorForm, as_of_moment, read_params
from pricing.web.views import _cached_by_prices, _display, _provider_choices, _template, _workload_spec


@require_safe
@_cached_by_prices
def calculator(request: HttpRequest) -> HttpResponse:
    params = read_params(
        CalculatorForm, request.GET, providers=_provider_choices(), currencies=selectors.known_currencies()
    )
    display = _display(params)
    text_words = selectors.text_words(params["text"])
    if params["amount_unit"] == "text" and not text_words:
        params.notices.append("Paste some text to count its words; counting the numbers below as words meanwhile.")
        params.values["amount_unit"] = "words"
    as_of = as_of_moment(params["as_of"])
    rates = selectors.rates_on(day=as_of.date() if as_of else None)
    # Every matching offering is ranked on its lean lines; only the rows shown are loaded whole.
    ranked = workloads.estimates_over_catalogue(
        spec=_workload_spec(params),
        display=display,
        rates=rates,
        as_of=as_of,
        providers=[params["provider"]] if params["provider"] else [],
        q=params["q"],
        mode=params["mode"],
    )
    limit = len(ranked) if params["limit"] == "all" else int(params["limit"])
    results = workloads.with_offerings(ranked[:limit], as_of=as_of)
    total = len(ranked)
    context = {
        "params": params,
        "form": params.form,
        "display": display,
        "as_of": as_of,
        "results": results,
        "total": total,
        "requests": params["requests"],
        "example_words": units.tokens_to_words(1_000_000),
        "text_words": text_words,
    }
    return render(request, _template(request, "pricing/calculator.html", "pricing/_calculator_results.html"), context)

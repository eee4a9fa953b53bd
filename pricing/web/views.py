"""Public pages. Thin: read parameters (bad ones fall back to defaults with a notice), call selectors,
render. Each page runs a fixed number of queries whatever the number of offerings."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_safe

from pricing import answers, selectors, units
from pricing.models import Model, Provider, Source
from pricing.web import api_links, charts, compare
from pricing.web import methodology as methodology_tables
from pricing.web.changes import changes_context
from pricing.web.forms import (
    LeaderboardForm,
    Params,
    as_of_moment,
    read_params,
)


def _cached_by_prices(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Serve a page from stored bytes until prices change (every ingest moves ``prices_changed_at``) or a
    few minutes pass (staleness flags depend on the clock), compressed once, one worker recomputing it
    while the others serve the previous copy: ``pricing.answers.StoredAnswerMiddleware`` answers it."""
    return answers.stored(view)


def _provider_choices() -> list[tuple[str, str]]:
    return [(p.slug, p.name) for p in selectors.providers_list()]


def _display(params: Params) -> selectors.Display:
    return selectors.display_for(
        unit=params["unit"],
        currency=params["currency"],
        ratio=params.values.get("ratio") or units.DEFAULT_BLEND_RATIO,
        mode=params["mode"],
        language=params["language"],
    )


def _template(request: HttpRequest, full: str, partial: str) -> str:
    """htmx requests that target the results get the results alone; everything else the page."""
    target = request.headers.get("HX-Target", "")
    return partial if request.htmx and target == "results" else full  # type: ignore[attr-defined]


@require_safe
@_cached_by_prices
def leaderboard(request: HttpRequest) -> HttpResponse:
    params = read_params(
        LeaderboardForm,
        request.GET,
        providers=_provider_choices(),
        creators=selectors.creators_list(),
        regions=selectors.regions_list(),
        currencies=selectors.known_currencies(),
    )
    basket, basket_notices = compare.basket_parse(request.GET.getlist(compare.BASKET_PARAM))
    params.notices.extend(basket_notices)
    display = _display(params)
    as_of = as_of_moment(params["as_of"])
    rates = selectors.rates_on(day=as_of.date() if as_of else None)
    if request.GET.get("group") == "model":
        # Best price per model: the same filters, one row per canonical model (imported here: it uses this module).
        from pricing.web import models_page

        basket_state = compare.basket_context(request, basket)
        return models_page.leaderboard_by_model(
            request, params, display=display, rates=rates, as_of=as_of, context=basket_state
        )
    # Rank every offering on lean price lines, then build rows for the page shown only. Only offerings
    # with a price in the chosen mode belong in a mode's leaderboard.
    ids = selectors.offering_ids_sorted(
        sort="shown_name" if params["sort"] == "name" else params["sort"],
        descending=params["dir"] == "desc",
        display=display,
        rates=rates,
        as_of=as_of,
        mode=display.mode,
        providers=[params["provider"]] if params["provider"] else [],
        creator=params["creator"],
        q=params["q"],
        min_context=params["min_context"] or None,
        open_weights={"yes": True, "no": False}.get(params["open_weights"]),
        region=params["region"],
        min_price=params["min_price"],
        max_price=params["max_price"],
        include_free=params["include_free"],
        include_unlisted=params["include_unlisted"],
        include_missing=params["include_missing"],
    )
    per_page = len(ids) or 1 if params["per_page"] == "all" else int(params["per_page"])
    paginator = Paginator(ids, per_page)
    page = paginator.get_page(params["page"])
    if params["page"] > paginator.num_pages > 0:
        params.notices.append(f"There is no page {params['page']}; showing page {page.number}.")
    rows = selectors.offering_rows_for(
        list(page.object_list), display=display, rates=rates, as_of=as_of, mode=display.mode
    )
    context = {
        "params": params,
        "form": params.form,
        "display": display,
        "as_of": as_of,
        "page": page,
        "rows": rows,
        "total": len(ids),
        "assumed_ratio": units.ASSUMED_WORDS_PER_TOKEN,
        "stale_after_hours": settings.SCRAPE_STALE_AFTER_HOURS,
        "sort_fields": ["input", "cached_input", "output", "blended"],
        "api_url": api_links.leaderboard_api_url(request, params.values, page_number=page.number),
        **compare.basket_context(request, basket),
    }
    return render(request, _template(request, "pricing/leaderboard.html", "pricing/_leaderboard_results.html"), context)


def _workload_spec(params: Params) -> selectors.WorkloadSpec:
    """The workload of the calculator and compare forms: counts in tokens or words, or a pasted text
    whose words are the input (cached input and output then count in words)."""
    counts = {c: params[c] or 0 for c in ("input", "cached_input", "output")}
    if params["amount_unit"] == "text":
        counts["input"] = selectors.text_words(params["text"])
    if params["amount_unit"] == "tokens":
        return selectors.WorkloadSpec(
            requests=params["requests"],
            input_tokens=counts["input"],
            cached_input_tokens=counts["cached_input"],
            output_tokens=counts["output"],
            mode=params["mode"],
        )
    return selectors.WorkloadSpec(
        requests=params["requests"],
        input_words=counts["input"],
        cached_input_words=counts["cached_input"],
        output_words=counts["output"],
        mode=params["mode"],
    )


@require_safe
@_cached_by_prices
def model_detail(request: HttpRequest, slug: str) -> HttpResponse:
    model = get_object_or_404(Model.objects.select_related("tokenizer"), slug=slug)
    params = read_params(LeaderboardForm, request.GET, currencies=selectors.known_currencies())
    display = _display(params)
    offerings = selectors.offerings_with_price_lines(model=slug)
    rows = selectors.sort_rows(
        selectors.offering_rows(offerings, display=display, rates=selectors.rates_on()), field_name="blended"
    )
    histories = selectors.histories_for(offering_ids=[o.id for o in offerings])
    now = timezone.now()
    for row in rows:
        history = histories.get(row.offering.id, [])
        row.history = history  # type: ignore[attr-defined]
        row.chart = charts.price_history_svg(  # type: ignore[attr-defined]
            title=f"{row.offering.provider.name}: {row.offering.provider_model_id}",
            prices=history,
            currency=next((p.currency for p in history), "USD"),
            now=now,
        )
    ratio = (
        display.ratio_of(offerings[0])
        if offerings
        else (
            units.WordsRatio(model.tokenizer.words_per_token, model.tokenizer.provenance)
            if model.tokenizer
            else units.ASSUMED_RATIO
        )
    )
    context = {"model": model, "rows": rows, "display": display, "params": params, "form": params.form, "ratio": ratio}
    return render(request, "pricing/model.html", context)


@require_safe
def providers_index(request: HttpRequest) -> HttpResponse:
    sources = list(selectors.sources_with_health())
    for source in sources:
        source.health = selectors.source_health(source)  # type: ignore[attr-defined]
    providers = list(selectors.providers_list())
    api_url = request.build_absolute_uri(reverse("api:source-list"))
    return render(request, "pricing/providers.html", {"sources": sources, "providers": providers, "api_url": api_url})


@require_safe
def provider_detail(request: HttpRequest, slug: str) -> HttpResponse:
    provider = get_object_or_404(Provider, slug=slug)
    sources = [s for s in selectors.sources_with_health().filter(provider=provider)]
    for source in sources:
        source.health = selectors.source_health(source)  # type: ignore[attr-defined]
    runs = list(selectors.recent_runs(provider_slug=slug))
    display = selectors.Display()
    offerings = selectors.offerings_with_price_lines(providers=[slug])
    rows = selectors.sort_rows(
        selectors.offering_rows(offerings, display=display, rates=selectors.rates_on()), field_name="blended"
    )
    # Prices for this provider that came from another (aggregator) source are labelled as such.
    context = {
        "provider": provider,
        "sources": sources,
        "runs": runs,
        "rows": rows,
        "display": display,
        "stale_after_hours": settings.SCRAPE_STALE_AFTER_HOURS,
        "api_url": request.build_absolute_uri(reverse("api:offering-list")) + f"?provider={slug}&ordering=blended",
    }
    return render(request, "pricing/provider.html", context)


@require_safe
@_cached_by_prices
def changes(request: HttpRequest) -> HttpResponse:
    return render(request, "pricing/changes.html", changes_context(request))


@require_safe
def methodology(request: HttpRequest) -> HttpResponse:
    sources = Source.objects.select_related("provider").order_by("-trust_rank", "slug")
    rows = methodology_tables.tokenizer_rows(list(selectors.tokenizers_with_measurements()))
    context = {
        "sources": sources,
        "tokenizer_rows": rows,
        "languages": selectors.LANGUAGES,
        "english_headers": methodology_tables.headers(methodology_tables.english_codes()),
        "other_headers": methodology_tables.headers(methodology_tables.other_codes()),
        "parallel_headers": methodology_tables.headers(methodology_tables.parallel_others()),
        "corpus_languages": methodology_tables.language_rows(),
        "rules_of_thumb": methodology_tables.RULES_OF_THUMB,
        "english_range": methodology_tables.english_range(rows),
        "coverage": methodology_tables.offering_coverage(),
        "interval_hours": settings.SCRAPE_INTERVAL_HOURS,
        "stale_after_hours": settings.SCRAPE_STALE_AFTER_HOURS,
        "assumed_ratio": units.ASSUMED_WORDS_PER_TOKEN,
        "example_words": units.tokens_to_words(1_000_000),
        "blend": units.DEFAULT_BLEND_RATIO,
    }
    return render(request, "pricing/methodology.html", context)

"""The compare basket and the compare page.

The basket is a list of up to six offering ids in the URL (``compare=12,34``), so it survives searches,
sorts, pages and a shared link without JavaScript; ``pricing/static/pricing/site.js`` also keeps it in
localStorage, so it comes back on a page reached without it. Every page that lists offerings shows an
"add to compare" control (``templates/pricing/_compare_button.html``) built from :func:`basket_url`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_safe

from pricing import search, selectors
from pricing.models import Offering, tier_label
from pricing.web.forms import CompareForm, Params, as_of_moment, read_params

MAX_COMPARE = 6
BASKET_PARAM = "compare"
# Offerings the compare page's own search offers to add.
FIND_LIMIT = 12
# Best search matches looked at for them (some may have no list price in force).
FIND_SCANNED = 200
MAX_ID = 2**63 - 1


def basket_parse(raw: Iterable[str]) -> tuple[list[int], list[str]]:
    """Offering ids from ``compare=`` values (comma-separated, in order, each once, at most six) and
    notices for what was dropped: a mistyped link still shows a page."""
    ids: list[int] = []
    bad: list[str] = []
    for value in raw:
        for part in value.split(","):
            part = part.strip()
            if not part:
                continue
            if part.isascii() and part.isdigit() and int(part) <= MAX_ID:
                if int(part) not in ids:
                    ids.append(int(part))
            else:
                bad.append(part[:20])
    notices = []
    if bad:
        notices.append(f"Ignored {', '.join(repr(b) for b in bad[:3])} in compare: offering ids are whole numbers.")
    if len(ids) > MAX_COMPARE:
        notices.append(f"Compare takes up to {MAX_COMPARE} offerings; kept the first {MAX_COMPARE}.")
        ids = ids[:MAX_COMPARE]
    return ids, notices


def basket_of(request: HttpRequest) -> list[int]:
    """The basket a request carries (``compare=``, and the older repeated ``o=`` of compare links)."""
    ids, _ = basket_parse([*request.GET.getlist(BASKET_PARAM), *request.GET.getlist("o")])
    return ids


def basket_url(query: QueryDict, ids: Sequence[int], *, path: str = "") -> str:
    """``path`` with ``query`` and the basket set to ``ids`` (kept even when empty, so a basket emptied on
    purpose is not restored from the browser's storage); the page number resets."""
    params = query.copy()
    params.pop("o", None)
    params.pop("page", None)
    params[BASKET_PARAM] = ",".join(str(i) for i in ids)
    return f"{path}?{params.urlencode(safe=',')}"


def basket_offerings(ids: Sequence[int]) -> list[Offering]:
    """The basket's offerings in basket order, for its bar (one query; none for an empty basket)."""
    if not ids:
        return []
    found = Offering.objects.select_related("provider", "model").only(
        "id", "provider_model_id", "name", "provider__name", "provider__slug", "model__name", "model__slug"
    )
    by_id = {o.id: o for o in found.filter(id__in=ids)}
    return [by_id[i] for i in ids if i in by_id]


def basket_context(request: HttpRequest, ids: list[int]) -> dict[str, Any]:
    """What the basket bar and the add/remove controls need."""
    return {
        "basket": ids,
        "basket_offerings": basket_offerings(ids),
        "basket_full": len(ids) >= MAX_COMPARE,
        "basket_compare_url": basket_url(QueryDict(), ids, path=reverse("web:compare")),
        "basket_clear_url": basket_url(request.GET, [], path=request.path),
        "max_compare": MAX_COMPARE,
    }


def _lines_table(rows: list[selectors.OfferingRow], *, display: selectors.Display, rates: selectors.Rates) -> list:
    """One line per component, mode and tier that any of the offerings prices, a cell per offering."""
    line_keys = sorted(
        {(p.component, p.mode, p.tier_min_tokens, p.tier_max_tokens) for row in rows for p in row.prices},
        key=lambda k: (
            selectors.HEADLINE_COMPONENTS.index(k[0]) if k[0] in selectors.HEADLINE_COMPONENTS else 99,
            k[1] != "standard",
            k[1],
            k[2] or 0,
        ),
    )
    table = []
    for component, mode, tier_min, tier_max in line_keys:
        cells = []
        for row in rows:
            match = next(
                (
                    p
                    for p in row.prices
                    if (p.component, p.mode, p.tier_min_tokens, p.tier_max_tokens)
                    == (component, mode, tier_min, tier_max)
                ),
                None,
            )
            amount = None
            if match is not None:
                amount = selectors.convert_amount(
                    match.amount_per_mtok, from_currency=match.currency, display=display, rates=rates, ratio=row.ratio
                )
            cells.append({"price": match, "amount": amount})
        table.append({"component": component, "mode": mode, "tier": tier_label(tier_min, tier_max), "cells": cells})
    return table


@require_safe
def compare(request: HttpRequest) -> HttpResponse:
    from pricing.web.views import _display, _workload_spec  # views' shared readers of the workload form

    params: Params = read_params(CompareForm, request.GET, currencies=selectors.known_currencies())
    # The older repeated ``o=`` ids come too (the form already reported a bad one).
    older = [o for o in request.GET.getlist("o") if o.isascii() and o.isdigit()]
    wanted, notices = basket_parse([*request.GET.getlist(BASKET_PARAM), *older])
    params.notices.extend(notices)
    display = _display(params)
    as_of = as_of_moment(params["as_of"])
    rates = selectors.rates_on(day=as_of.date() if as_of else None)
    offerings = selectors.offerings_with_price_lines(as_of=as_of, offering_ids=wanted) if wanted else []
    found = {o.id: o for o in offerings}
    missing = [i for i in wanted if i not in found]
    if missing:
        params.notices.append(f"No current prices for offering {', '.join(map(str, missing))}; left out.")
    ordered = [found[i] for i in wanted if i in found]
    if wanted and len(ordered) < 2:
        params.notices.append("Pick two to six offerings to compare: find them above, or add them on the leaderboard.")
    rows = selectors.offering_rows(ordered, display=display, rates=rates)
    estimates = {
        e.offering.id: e
        for e in selectors.workload_estimates(ordered, spec=_workload_spec(params), display=display, rates=rates)
    }
    basket = [row.offering.id for row in rows]
    find = request.GET.get("find", "").strip()[:100]
    candidates: list[Offering] = []
    if find:
        # Best matches first (pricing.search ranks them), among the offerings the leaderboard would show;
        # those already chosen are left out after loading, so the page runs the same queries however full.
        ranked = search.offering_ids(find)[: FIND_SCANNED + len(basket)]
        rank = {offering_id: n for n, offering_id in enumerate(ranked)}
        shown = selectors.offerings_with_prices().prefetch_related(None).filter(id__in=ranked)
        candidates = sorted((o for o in shown if o.id not in basket), key=lambda o: rank[o.id])[:FIND_LIMIT]
    for row in rows:
        row.remove_url = basket_url(request.GET, [i for i in basket if i != row.offering.id])  # type: ignore[attr-defined]
    for candidate in candidates:
        candidate.add_url = basket_url(request.GET, [*basket, candidate.id])  # type: ignore[attr-defined]
    table = _lines_table(rows, display=display, rates=rates)
    # A phone shows one card per offering instead of the wide table: the same figures, its own lines only.
    cards = [
        {
            "row": row,
            "estimate": estimates[row.offering.id],
            "lines": [
                {**line, "amount": line["cells"][i]["amount"]}
                for line in table
                if line["cells"][i]["price"] is not None
            ],
        }
        for i, row in enumerate(rows)
    ]
    api_query = QueryDict(mutable=True)
    defaults = {"unit": "mtok", "currency": selectors.BASE_CURRENCY, "mode": "standard", "language": "en"}
    for name, default in defaults.items():
        if params[name] and params[name] != default:
            api_query[name] = params[name]
    suffix = f"?{api_query.urlencode()}" if api_query else ""
    kept = request.GET.copy()
    for name in ("find", "o", BASKET_PARAM):
        kept.pop(name, None)
    context = {
        "params": params,
        "form": params.form,
        "display": display,
        "as_of": as_of,
        "rows": rows,
        "table": table,
        "cards": cards,
        "estimates": [estimates[r.offering.id] for r in rows],
        "find": find,
        "candidates": candidates,
        "kept_params": [(k, v) for k in kept for v in kept.getlist(k)],
        "basket": basket,
        "basket_full": len(basket) >= MAX_COMPARE,
        "basket_param": ",".join(map(str, basket)),
        "max_compare": MAX_COMPARE,
        "api_urls": [request.build_absolute_uri(reverse("api:offering-detail", args=[i])) + suffix for i in basket],
    }
    return render(request, "pricing/compare.html", context)

"""The compare basket in templates: ``{% load basket %}`` then ``_compare_button.html`` per offering.

Read from the request itself, so any page can show the controls without its view knowing the basket."""

from __future__ import annotations

from django import template
from django.http import QueryDict
from django.urls import reverse

from pricing.web.compare import BASKET_PARAM, MAX_COMPARE, basket_of, basket_url

register = template.Library()


def _basket(context: template.Context) -> list[int]:
    # One parse per page render, however many rows show a control.
    cached = context.get("_basket_ids")
    if cached is None:
        cached = basket_of(context["request"])
        context.dicts[0]["_basket_ids"] = cached
    return cached


@register.simple_tag(takes_context=True)
def basket_state(context: template.Context, offering_id: int) -> str:
    """``in`` (in the basket), ``full`` (six chosen, not this one) or ``out``."""
    ids = _basket(context)
    if offering_id in ids:
        return "in"
    return "full" if len(ids) >= MAX_COMPARE else "out"


def _page_url(context: template.Context, ids: list[int]) -> str:
    # The rest of the query is encoded once per render, however many rows show a control: a 500-row
    # leaderboard would otherwise copy and encode the query a thousand times.
    rest = context.get("_basket_rest")
    if rest is None:
        params = context["request"].GET.copy()
        for name in (BASKET_PARAM, "o", "page"):
            params.pop(name, None)
        rest = context.dicts[0]["_basket_rest"] = params.urlencode()
    basket = f"{BASKET_PARAM}={','.join(map(str, ids))}"
    return f"?{rest}&{basket}" if rest else f"?{basket}"


@register.simple_tag(takes_context=True)
def basket_add_url(context: template.Context, offering_id: int) -> str:
    """This page with ``offering_id`` added to the basket."""
    ids = _basket(context)
    return _page_url(context, [*ids, offering_id] if offering_id not in ids else ids)


@register.simple_tag(takes_context=True)
def basket_remove_url(context: template.Context, offering_id: int) -> str:
    """This page with ``offering_id`` taken out of the basket."""
    return _page_url(context, [i for i in _basket(context) if i != offering_id])


@register.simple_tag(takes_context=True)
def basket_compare_url(context: template.Context) -> str:
    """The compare page for the basket."""
    return basket_url(QueryDict(), _basket(context), path=reverse("web:compare"))


@register.simple_tag(takes_context=True)
def basket_size(context: template.Context) -> int:
    return len(_basket(context))

"""The Atom feed of price changes, filterable like the changes page (?provider=...&model=...)."""

from __future__ import annotations

import datetime as dt

from django.contrib.syndication.views import Feed
from django.http import HttpRequest
from django.urls import reverse
from django.utils.feedgenerator import Atom1Feed

from pricing import selectors
from pricing.templatetags.pricing_format import money, percent
from pricing.web.forms import ChangesForm, read_params


class PriceChangesFeed(Feed):
    feed_type = Atom1Feed
    title = "Token price changes"
    subtitle = "Published LLM price changes per 1M tokens: old → new, with the percent change."

    def get_object(self, request: HttpRequest, *args: object, **kwargs: object) -> dict[str, object]:
        params = read_params(ChangesForm, request.GET, providers=[(p.slug, p.name) for p in selectors.providers_list()])
        return {"provider": params["provider"], "model": params["model"], "query": request.GET.urlencode()}

    def link(self, obj: dict[str, object]) -> str:
        query = f"?{obj['query']}" if obj["query"] else ""
        return reverse("web:changes") + query

    def items(self, obj: dict[str, object]) -> list[selectors.PriceChange]:
        provider = str(obj["provider"])
        return selectors.price_changes(providers=[provider] if provider else [], model=str(obj["model"]), limit=50)

    def item_title(self, item: selectors.PriceChange) -> str:
        price, old = item.price, item.previous
        assert old is not None  # price_changes only returns changes with a previous price
        return (
            f"{price.offering.provider.name} {price.offering.provider_model_id}: {price.component.replace('_', ' ')} "
            f"{money(old.amount_per_mtok, old.currency)} → {money(price.amount_per_mtok, price.currency)} "
            f"per 1M tokens ({percent(item.percent)})"
        )

    def item_description(self, item: selectors.PriceChange) -> str:
        price = item.price
        source = price.source.name if price.source else "a curator"
        return (
            f"Mode {price.mode}, {price.tier_label}. In force from {price.valid_from:%Y-%m-%d %H:%M} UTC; "
            f"read from {source}."
        )

    def item_link(self, item: selectors.PriceChange) -> str:
        offering = item.price.offering
        if offering.model_id and offering.model:
            return reverse("web:model", args=[offering.model.slug]) + f"#offering-{offering.id}"
        return reverse("web:provider", args=[offering.provider.slug])

    def item_guid(self, item: selectors.PriceChange) -> str:
        return f"price-change-{item.price.id}"

    item_guid_is_permalink = False

    def item_updateddate(self, item: selectors.PriceChange) -> dt.datetime:
        return item.price.recorded_at

    def item_pubdate(self, item: selectors.PriceChange) -> dt.datetime:
        return item.price.valid_from

"""The Atom feed of price changes (RFC 4287), with the changes page's filters: ``/changes/feed/?days=7``,
``?since=2025-01-01&until=2025-02-01``, ``?provider=…&model=…&q=…&component=…``.

Each entry is one change, newest first: its id is a ``tag:`` URI (RFC 4151) of the new price row, which
never changes once written, so a reader never sees an entry twice; ``updated`` is when we recorded it.
"""

from __future__ import annotations

import datetime as dt
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.syndication.views import Feed
from django.http import HttpRequest
from django.urls import reverse
from django.utils.feedgenerator import Atom1Feed
from django.utils.html import format_html

from pricing.selectors.changes import PriceChange
from pricing.templatetags.pricing_format import money_exact, percent
from pricing.web.changes import FEED_ENTRIES, ChangesQuery, changes_read

# The year in every entry id's tag (RFC 4151 "taggingEntity": an authority and a date it held the name).
TAG_DATE = "2025"


def tag_authority() -> str:
    """The host name of ``SITE_URL`` (no port: a tag's authority is a DNS name)."""
    return urlsplit(settings.SITE_URL).hostname or "localhost"


class PriceChangesFeed(Feed):
    feed_type = Atom1Feed
    subtitle = "Published LLM price changes per 1M tokens: old → new, the percent change, and where it was read."
    author_name = settings.SITE_NAME
    author_link = settings.SITE_URL

    def get_object(self, request: HttpRequest, *args: object, **kwargs: object) -> ChangesQuery:
        return changes_read(request.GET)

    def title(self, obj: ChangesQuery) -> str:
        params = obj.params
        scope = [params["provider"], params["model"], params["q"] and f"“{params['q']}”", params["component"]]
        named = ", ".join(str(s).replace("_", " ") for s in scope if s)
        return f"Token price changes{f' ({named})' if named else ''}"

    def link(self, obj: ChangesQuery) -> str:
        query = obj.query
        return reverse("web:changes") + (f"?{query}" if query else "")

    def feed_url(self, obj: ChangesQuery) -> str:
        return reverse("web:changes-feed") + (f"?{obj.query}" if obj.query else "")

    def feed_guid(self, obj: ChangesQuery) -> str:
        query = obj.query
        return f"tag:{tag_authority()},{TAG_DATE}:price-changes" + (f"?{query}" if query else "")

    def items(self, obj: ChangesQuery) -> list[PriceChange]:
        return obj.rows[:FEED_ENTRIES]

    def item_title(self, item: PriceChange) -> str:
        price, old = item.price, item.previous
        change = "was free" if item.percent is None else percent(item.percent)
        return (
            f"{price.offering.provider.name} {price.offering.provider_model_id}: {price.component.replace('_', ' ')} "
            f"{money_exact(old.amount_per_mtok, old.currency)} → {money_exact(price.amount_per_mtok, price.currency)} "
            f"per 1M tokens ({change})"
        )

    def item_description(self, item: PriceChange) -> str:
        # Atom's summary is HTML here: every value is escaped by format_html.
        price = item.price
        source = price.source.name if price.source else "a curator"
        conditions = f", {price.conditions}" if price.conditions else ""
        evidence = (
            format_html('<a href="{}">{}</a>', item.document_url, source)
            if item.document_url
            else format_html("{}", source)
        )
        return format_html(
            "Mode {}, {}{}. In force from {} UTC (previously {} since {}). Read from {}, seen {} UTC.",
            price.mode,
            price.tier_label,
            conditions,
            f"{price.valid_from:%Y-%m-%d %H:%M}",
            money_exact(item.previous.amount_per_mtok, item.previous.currency),
            f"{item.previous.valid_from:%Y-%m-%d}",
            evidence,
            f"{item.seen_at:%Y-%m-%d %H:%M}",
        )

    def item_link(self, item: PriceChange) -> str:
        offering = item.price.offering
        if offering.model_id and offering.model:
            return reverse("web:model", args=[offering.model.slug]) + f"#offering-{offering.id}"
        return reverse("web:provider", args=[offering.provider.slug])

    def item_guid(self, item: PriceChange) -> str:
        return f"tag:{tag_authority()},{TAG_DATE}:price-change/{item.price.id}"

    item_guid_is_permalink = False

    def item_author_name(self, item: PriceChange) -> str:
        return item.price.source.name if item.price.source else "curator"

    def item_updateddate(self, item: PriceChange) -> dt.datetime:
        return item.price.recorded_at

    def item_pubdate(self, item: PriceChange) -> dt.datetime:
        return item.price.valid_from

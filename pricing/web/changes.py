"""The changes page and its Atom feed read the same parameters into the same query: a 7, 30 or 90-day
window or explicit ``since``/``until`` dates, provider, model, search and component. Both list exactly
what ``/api/v1/changes/`` lists for the same filters."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django import forms
from django.core.paginator import Paginator
from django.http import HttpRequest, QueryDict
from django.urls import reverse
from django.utils import timezone

from pricing import selectors
from pricing.selectors import changes
from pricing.web.forms import Params, read_params
from providers.base import COMPONENTS

WINDOW_DAYS = (7, 30, 90)
PER_PAGE = 100
FEED_ENTRIES = 50
DATE_FORMAT = "%Y-%m-%d"


def _date_field(label: str, help_text: str) -> forms.DateField:
    return forms.DateField(
        required=False,
        label=label,
        help_text=help_text,
        input_formats=[DATE_FORMAT],
        widget=forms.DateInput(attrs={"type": "date"}, format=DATE_FORMAT),
    )


class ChangesForm(forms.Form):
    days = forms.TypedChoiceField(
        choices=[("", "all time"), *((str(d), f"last {d} days") for d in WINDOW_DAYS)],
        coerce=int,
        empty_value=None,
        required=False,
        label="Window",
    )
    since = _date_field("Since", "From the start of this day, UTC.")
    until = _date_field("Until", "Up to the start of this day, UTC (the day itself is not included).")
    provider = forms.ChoiceField(choices=[("", "all providers")], required=False)
    model = forms.SlugField(max_length=160, required=False, label="Model (slug)")
    q = forms.CharField(
        max_length=100,
        required=False,
        label="Search",
        widget=forms.TextInput(attrs={"type": "search", "placeholder": "model id or name"}),
    )
    component = forms.ChoiceField(
        choices=[("", "all components"), *((c, c.replace("_", " ")) for c in COMPONENTS)], required=False
    )
    page = forms.IntegerField(min_value=1, max_value=100_000, initial=1, required=False, widget=forms.HiddenInput)

    def __init__(self, *args: Any, providers: list[tuple[str, str]] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["provider"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = [("", "all providers"), *(providers or [])]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        since, until = data.get("since"), data.get("until")
        if since and until and until <= since:
            self.add_error("until", "It must be a later day than since (the until day is not included).")
        return data


@dataclass
class ChangesQuery:
    """What the page and the feed list: the changes and the window they cover."""

    params: Params
    rows: changes.Changes
    since: dt.datetime | None
    until: dt.datetime | None
    # The query string without the page number: what the feed and the API call repeat.
    query: str = ""


def _day_start(day: dt.date | None) -> dt.datetime | None:
    return dt.datetime.combine(day, dt.time.min, tzinfo=dt.UTC) if day else None


def changes_read(data: QueryDict) -> ChangesQuery:
    """Parameters (bad ones dropped with a notice) and the matching changes, newest first (one query for
    the provider choices; the changes are a lazy query)."""
    params = read_params(ChangesForm, data, providers=[(p.slug, p.name) for p in selectors.providers_list()])
    since, until = _day_start(params["since"]), _day_start(params["until"])
    days = params["days"]
    if days and since is None:
        since = _day_start(timezone.now().date() - dt.timedelta(days=days))
    elif days:
        params.notices.append(f"Showing changes since {params['since']:%Y-%m-%d}, not the last {days} days.")
    rows = changes.changes_matching(
        since=since,
        until=until,
        providers=[params["provider"]] if params["provider"] else [],
        model=params["model"],
        q=params["q"],
        component=params["component"],
    )
    query = data.copy()
    query.pop("page", None)
    return ChangesQuery(params, rows, since, until, query.urlencode())


def changes_api_url(request: HttpRequest, found: ChangesQuery, *, page_number: int = 1) -> str:
    """``/api/v1/changes/?…`` listing what the page shows (absolute)."""
    params = found.params
    query = QueryDict(mutable=True)
    pairs: list[tuple[str, Any]] = [
        ("since", found.since.date().isoformat() if found.since else None),
        ("until", found.until.date().isoformat() if found.until else None),
        ("provider", params["provider"]),
        ("model", params["model"]),
        ("q", params["q"]),
        ("component", params["component"]),
        ("limit", PER_PAGE),
        ("offset", (page_number - 1) * PER_PAGE or None),
    ]
    for name, value in pairs:
        if value:
            query[name] = str(value)
    return request.build_absolute_uri(reverse("api:change-list")) + "?" + query.urlencode()


def changes_context(request: HttpRequest) -> dict[str, Any]:
    """The changes page: one page of :func:`changes_read` (count, page and previous rows: three queries)."""
    found = changes_read(request.GET)
    params = found.params
    paginator: Paginator[changes.PriceChange] = Paginator(found.rows, PER_PAGE)
    page = paginator.get_page(params["page"])
    if params["page"] > paginator.num_pages > 0:
        params.notices.append(f"There is no page {params['page']}; showing page {page.number}.")
    return {
        "params": params,
        "form": params.form,
        "page": page,
        "changes": page.object_list,
        "total": paginator.count,
        "since": found.since,
        "until": found.until,
        "windows": WINDOW_DAYS,
        "api_url": changes_api_url(request, found, page_number=page.number),
        "feed_query": found.query,
    }

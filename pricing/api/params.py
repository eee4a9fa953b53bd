"""Query parameters: read, checked and turned into typed values before any selector runs.

Each group is a DRF serializer, so bad input becomes a 400 naming the parameter and what it
accepts, and drf-spectacular documents the very same fields.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from pricing import selectors, units
from providers.base import COMPONENTS, MODES

MAX_LIMIT = 1000
MAX_OFFSET = 1_000_000_000
DEFAULT_LIMIT = 100
# A workload beyond this many tokens is a typo, not a request: ten billion tokens.
MAX_TOKENS = 10_000_000_000
MAX_TEXT_CHARS = 1_000_000
PRICE_FIELDS = ("input", "cached_input", "cache_write_5m", "cache_write_1h", "output", "blended")


def choice(choices: tuple[str, ...], *, default: str | None = None, help_text: str = "") -> serializers.ChoiceField:
    accepted = ", ".join(choices)
    kwargs: dict[str, Any] = {"required": False, "help_text": help_text or f"One of: {accepted}."}
    if default is not None:
        kwargs["default"] = default
    return serializers.ChoiceField(
        choices=choices,
        error_messages={"invalid_choice": f'"{{input}}" is not accepted; accepted values: {accepted}.'},
        **kwargs,
    )


@extend_schema_field({"oneOf": [{"type": "string", "format": "date"}, {"type": "string", "format": "date-time"}]})
class MomentField(serializers.Field):
    """A date (``2025-01-31``: the end of that day, UTC) or an ISO 8601 datetime (naive means UTC)."""

    default_error_messages = {
        "invalid": "Expected a date YYYY-MM-DD or an ISO 8601 datetime such as 2025-01-31T12:00:00Z.",
    }
    # The moment a bare date stands for.
    day_time = dt.time.max

    def to_internal_value(self, data: Any) -> dt.datetime:
        text = str(data).strip()
        try:
            moment = parse_datetime(text)
            day = None if moment else parse_date(text)
        except ValueError:
            self.fail("invalid")
        if moment is None and day is None:
            self.fail("invalid")
        if moment is None:
            assert day is not None
            moment = dt.datetime.combine(day, self.day_time, tzinfo=dt.UTC)
        if timezone.is_naive(moment):
            moment = moment.replace(tzinfo=dt.UTC)
        return moment.astimezone(dt.UTC)

    def to_representation(self, value: Any) -> Any:
        return value


class DayStartField(MomentField):
    """A date (``2025-01-31``: the start of that day, UTC) or an ISO 8601 datetime (naive means UTC)."""

    day_time = dt.time.min


class PageParams(serializers.Serializer):
    limit = serializers.IntegerField(
        required=False,
        default=DEFAULT_LIMIT,
        min_value=1,
        max_value=MAX_LIMIT,
        help_text=f"Rows per page, 1 to {MAX_LIMIT} (default {DEFAULT_LIMIT}).",
    )
    offset = serializers.IntegerField(
        required=False, default=0, min_value=0, max_value=MAX_OFFSET, help_text="Rows to skip."
    )
    format = choice(("json", "csv"), help_text="json (default) or csv, for spreadsheets.")


class FilterParams(serializers.Serializer):
    provider = serializers.CharField(
        required=False, allow_blank=True, max_length=400, help_text="Provider slug; several separated by commas."
    )
    model = serializers.CharField(required=False, allow_blank=True, max_length=160, help_text="Canonical model slug.")
    creator = serializers.CharField(
        required=False, allow_blank=True, max_length=80, help_text="Who made the model (e.g. meta)."
    )
    q = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=200,
        help_text="Words of the model's name or any seller's id for it, in any case and with any separators "
        '("llama 3.3 70b", "sonnet 4", "gpt4o"); the same as `search`.',
    )
    search = serializers.CharField(
        required=False,
        max_length=200,
        help_text="Tolerant search, as `q`; on the offerings list, results rank by match quality "
        "(`ordering=relevance`) unless another `ordering` is given.",
    )
    min_context = serializers.IntegerField(
        required=False,
        min_value=0,
        max_value=MAX_TOKENS,
        help_text="Context window of at least this many tokens (the offering's own, else its model's); offerings "
        "whose context window no source states are left out.",
    )
    open_weights = serializers.BooleanField(
        required=False,
        default=None,
        help_text="true: models whose weights are published; false: models whose weights are kept. Models whose "
        "weights are unknown are in neither.",
    )
    mode = choice(MODES, help_text=f"Only offerings sold in this mode; one of: {', '.join(MODES)}.")


class ListingParams(serializers.Serializer):
    """Which offerings a list takes beyond list prices, and the region filter (offering lists only)."""

    include_free = serializers.BooleanField(
        required=False, default=False, help_text="true: also free and rate-limited variants (`:free` ids, $0 tiers)."
    )
    include_unlisted = serializers.BooleanField(
        required=False,
        default=False,
        help_text="true: also offerings without a public list price (self-hosted runtimes, contact-sales entries).",
    )
    include_missing = serializers.BooleanField(
        required=False,
        default=False,
        help_text="true: also offerings their source no longer lists or their seller retired "
        "(`missing_since` says since when).",
    )
    region = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=100,
        help_text="Only offerings sold in this region, as the seller writes it (`attributes.region`, e.g. eastus); "
        "offerings that state no region are left out.",
    )


class PriceRangeParams(serializers.Serializer):
    min_price = serializers.DecimalField(
        required=False,
        max_digits=24,
        decimal_places=12,
        min_value=0,
        help_text="Lowest blended price (see `ratio`), per 1M tokens or words (`unit`) in `currency`; "
        "offerings without a blended price are left out when a bound is set.",
    )
    max_price = serializers.DecimalField(
        required=False,
        max_digits=24,
        decimal_places=12,
        min_value=0,
        help_text="Highest blended price, in the same unit and currency as `min_price`.",
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        attrs = super().validate(attrs)
        low, high = attrs.get("min_price"), attrs.get("max_price")
        if low is not None and high is not None and low > high:
            raise serializers.ValidationError({"max_price": ["Must be at least min_price."]})
        return attrs


class DisplayParams(serializers.Serializer):
    unit = choice(selectors.UNITS, default="mtok", help_text="mtok: per 1M tokens (default); mwords: per 1M words.")
    language = choice(
        tuple(selectors.LANGUAGES),
        default="en",
        help_text="Whose words `mwords` counts: en (English prose, default), zh (Chinese), code (source code).",
    )
    currency = serializers.CharField(
        required=False,
        default=selectors.BASE_CURRENCY,
        max_length=3,
        min_length=3,
        help_text="USD (default) or any currency with a stored exchange rate.",
    )
    ratio = serializers.RegexField(
        regex=r"^[0-9]{0,5}[1-9]:[0-9]{1,6}$|^[0-9]{1,6}:[0-9]{0,5}[1-9]$",
        required=False,
        default="3:1",
        max_length=20,
        help_text="input:output weights of `blended` (default 3:1).",
        error_messages={"invalid": "Expected two whole numbers like 3:1, not both 0."},
    )
    as_of = MomentField(
        required=False, help_text="Prices in force then: a date (end of that day, UTC) or an ISO 8601 datetime."
    )

    def validate_ratio(self, value: str) -> tuple[int, int]:
        try:
            return units.parse_ratio(value)
        except ValueError as exc:
            raise serializers.ValidationError(f"{exc}; accepted: two whole numbers like 3:1.") from exc

    def validate_currency(self, value: str) -> str:
        return value.upper()


def ordering_field(fields: tuple[str, ...], *, default: str) -> serializers.ChoiceField:
    accepted = (*fields, *(f"-{name}" for name in fields))
    return serializers.ChoiceField(
        choices=accepted,
        required=False,
        default=default,
        help_text=f"Sort on one of {', '.join(fields)}; prefix - for descending. Unknown values sort last.",
        error_messages={"invalid_choice": f'"{{input}}" is not accepted; accepted values: {", ".join(accepted)}.'},
    )


OFFERING_ORDERING = (
    *PRICE_FIELDS,
    "provider",
    "model_id",
    "name",
    "context_window",
    "last_verified_at",
    "relevance",
)
PRICE_ORDERING = ("amount", "provider", "model_id", "component", "mode", "valid_from", "recorded_at")
CHANGE_ORDERING = ("changed_at", "old_amount", "new_amount", "percent", "provider", "model_id")


class OfferingListParams(PageParams, FilterParams, ListingParams, PriceRangeParams, DisplayParams):
    ordering = ordering_field(OFFERING_ORDERING, default="provider")

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        attrs = super().validate(attrs)
        searched = attrs.get("search") or attrs.get("q")
        if attrs.get("search") and "ordering" not in self.initial_data:
            attrs["ordering"] = "relevance"
        if attrs.get("ordering", "").lstrip("-") == "relevance" and not searched:
            raise serializers.ValidationError({"ordering": ["relevance ranks a search: give `search` or `q` too."]})
        return attrs


class OfferingDetailParams(DisplayParams):
    mode = choice(MODES, help_text="Mode of the headline prices (default standard).")
    format = choice(("json", "csv"), help_text="json (default) or csv.")


class HistoryParams(PageParams, DisplayParams):
    pass


class PriceListParams(PageParams, FilterParams, ListingParams, DisplayParams):
    component = choice(COMPONENTS)
    ordering = ordering_field(PRICE_ORDERING, default="provider")


class ChangeListParams(PageParams, FilterParams, ListingParams, DisplayParams):
    since = DayStartField(
        required=False,
        help_text="Changes that took effect at or after this moment: a date (its start, UTC) or an ISO 8601 datetime.",
    )
    until = DayStartField(
        required=False,
        help_text="Changes that took effect before this moment (exclusive): a date (its start, UTC) or an ISO 8601 "
        "datetime. since=2025-01-01&until=2025-02-01 is January.",
    )
    offering = serializers.IntegerField(
        required=False, min_value=1, max_value=2**63 - 1, help_text="One offering, by its id."
    )
    component = choice(COMPONENTS)
    min_change_pct = serializers.DecimalField(
        required=False,
        max_digits=12,
        decimal_places=4,
        min_value=Decimal(0),
        help_text="Changes of at least this many percent, up or down; a change from 0 passes any threshold.",
    )
    ordering = ordering_field(CHANGE_ORDERING, default="-changed_at")

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        attrs = super().validate(attrs)
        since, until = attrs.get("since"), attrs.get("until")
        if since is not None and until is not None and until <= since:
            raise serializers.ValidationError({"until": ["Must be later than since (until is exclusive)."]})
        return attrs


class TextField(serializers.CharField):
    """A string, and only a string: ``"text": 0`` in a JSON body is a mistake worth a 400."""

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


def token_count(help_text: str) -> serializers.IntegerField:
    return serializers.IntegerField(
        required=False,
        default=0,
        min_value=0,
        max_value=MAX_TOKENS,
        help_text=f"{help_text} (0 to {MAX_TOKENS:,}).",
    )


class EstimateParams(PageParams, FilterParams, ListingParams, DisplayParams):
    """A workload, in tokens, in words (through each offering's words-per-token ratio) or as a text."""

    unit = None  # type: ignore[assignment]  # an estimate is a cost, not a price per unit (DRF drops the field)
    requests = serializers.IntegerField(
        required=False,
        default=1,
        min_value=1,
        max_value=selectors.MAX_REQUESTS,
        help_text="Requests a month (1 to "
        f"{selectors.MAX_REQUESTS:,}; default 1). Every count below is per request: each request is priced at the "
        "tier its own prompt falls in, and `total` is all the requests.",
    )
    input_tokens = token_count("Prompt tokens read at the input price")
    cached_input_tokens = token_count("Prompt tokens read from the cache")
    cache_write_5m_tokens = token_count("Prompt tokens written to a 5-minute cache")
    cache_write_1h_tokens = token_count("Prompt tokens written to a 1-hour cache")
    output_tokens = token_count("Tokens generated")
    input_words = token_count("Prompt words, turned into tokens by each offering's ratio")
    output_words = token_count("Generated words, turned into tokens by each offering's ratio")
    text = TextField(
        required=False,
        allow_blank=True,
        max_length=MAX_TEXT_CHARS,
        trim_whitespace=False,
        help_text="A prompt to count: its words (each CJK character is one) are added to `input_words`.",
    )
    mode = choice(MODES, default="standard", help_text=f"Billing mode; one of: {', '.join(MODES)}.")

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        counts = (
            "input_tokens",
            "cached_input_tokens",
            "cache_write_5m_tokens",
            "cache_write_1h_tokens",
            "output_tokens",
            "input_words",
            "output_words",
        )
        if not any(attrs.get(name) for name in counts) and not selectors.text_words(attrs.get("text") or ""):
            raise serializers.ValidationError(
                {"input_tokens": [f"Give a workload: one of {', '.join(counts)} above 0, or a text with words in it."]}
            )
        return attrs


@dataclass(frozen=True)
class Filters:
    providers: tuple[str, ...] = ()
    model: str = ""
    creator: str = ""
    q: str = ""
    min_context: int | None = None
    open_weights: bool | None = None
    mode: str = ""
    region: str = ""
    include_free: bool = False
    include_unlisted: bool = False
    include_missing: bool = False

    def as_selector_kwargs(self) -> dict[str, Any]:
        return {
            "providers": self.providers,
            "model": self.model,
            "creator": self.creator,
            "q": self.q,
            "min_context": self.min_context,
            "open_weights": self.open_weights,
            "mode": self.mode,
            "region": self.region,
            "include_free": self.include_free,
            "include_unlisted": self.include_unlisted,
            "include_missing": self.include_missing,
        }


def filters_from(values: dict[str, Any]) -> Filters:
    providers = tuple(p.strip() for p in (values.get("provider") or "").split(",") if p.strip())
    return Filters(
        providers=providers,
        model=values.get("model") or "",
        creator=values.get("creator") or "",
        q=values.get("search") or values.get("q") or "",
        min_context=values.get("min_context"),
        open_weights=values.get("open_weights"),
        mode=values.get("mode") or "",
        region=values.get("region") or "",
        include_free=bool(values.get("include_free")),
        include_unlisted=bool(values.get("include_unlisted")),
        include_missing=bool(values.get("include_missing")),
    )


def read(params_class: type[serializers.Serializer], data: Any) -> dict[str, Any]:
    """Validated parameters, or a ValidationError (a 400 naming each bad parameter)."""
    # A plain dict, not a QueryDict: DRF reads an empty form value as "not given", an API should say it is bad.
    params = params_class(data=data.dict() if hasattr(data, "dict") else data)
    params.is_valid(raise_exception=True)
    return dict(params.validated_data)


def rates_for(*, currency: str, as_of: dt.datetime | None) -> selectors.Rates:
    """The exchange rates of ``as_of``'s day, checking that ``currency`` is one we can convert to."""
    rates = selectors.rates_on(day=as_of.date() if as_of else None)
    accepted = {selectors.BASE_CURRENCY}
    if selectors.BASE_CURRENCY in rates.units_per_eur:
        accepted |= {"EUR", *rates.units_per_eur}
    if currency not in accepted:
        raise serializers.ValidationError(
            {"currency": [f'"{currency}" has no stored exchange rate; accepted values: {", ".join(sorted(accepted))}.']}
        )
    return rates


def display_from(values: dict[str, Any], *, mode: str = "") -> selectors.Display:
    return selectors.display_for(
        unit=values.get("unit") or "mtok",
        currency=values.get("currency") or selectors.BASE_CURRENCY,
        ratio=values.get("ratio") or units.DEFAULT_BLEND_RATIO,
        mode=mode or values.get("mode") or "standard",
        language=values.get("language") or "en",
    )

"""Query-string forms of the public pages. Every page's state lives in the URL; a parameter that does
not validate falls back to its default and the page says so (``read_params``), never a 500."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django import forms
from django.utils import timezone

from pricing import selectors, units
from providers.base import MODES

UNIT_CHOICES = [("mtok", "per 1M tokens"), ("mwords", "per 1M words")]
MODE_CHOICES = [(m, m.replace("_", "-")) for m in MODES]
SORT_CHOICES = [
    ("blended", "blended"),
    ("input", "input"),
    ("cached_input", "cached input"),
    ("output", "output"),
    ("name", "name"),
]
DIR_CHOICES = [("asc", "cheapest first"), ("desc", "dearest first")]
CONTEXT_CHOICES = [
    (0, "any"),
    (8_000, "≥ 8,000 tokens"),
    (32_000, "≥ 32,000 tokens"),
    (128_000, "≥ 128,000 tokens"),
    (200_000, "≥ 200,000 tokens"),
    (1_000_000, "≥ 1,000,000 tokens"),
]
OPEN_WEIGHTS_CHOICES = [("", "either"), ("yes", "open weights"), ("no", "closed weights")]
PER_PAGE_CHOICES = [("50", "50"), ("100", "100"), ("500", "500"), ("all", "all")]
# The language whose measured words-per-token ratio the per-words figures use.
LANGUAGE_CHOICES = list(selectors.LANGUAGES.items())
AMOUNT_UNIT_CHOICES = [("tokens", "tokens"), ("words", "words"), ("text", "pasted text")]
MAX_TOKENS = 10**12
MAX_TEXT_CHARS = 200_000


def _choices(form: forms.Form, name: str, choices: list[tuple[Any, str]]) -> None:
    field = form.fields[name]
    assert isinstance(field, forms.ChoiceField)
    field.choices = choices


def ratio_field_clean(value: str) -> tuple[int, int]:
    try:
        return units.parse_ratio(value or "3:1")
    except ValueError as exc:
        raise forms.ValidationError(str(exc)) from exc


# The first day an ``as_of`` may name: no price we hold is older.
FIRST_AS_OF = dt.date(2020, 1, 1)


def as_of_moment(day: dt.date | None) -> dt.datetime | None:
    """The moment an ``as_of`` date stands for, as the API reads it: the end of that day, UTC. None
    (prices now) for no date or today, so today's page is the ordinary, cached one."""
    if not day or day >= timezone.now().date():
        return None
    return dt.datetime.combine(day, dt.time.max, tzinfo=dt.UTC)


class DisplayFields(forms.Form):
    """How amounts are shown: shared by every page that prints prices."""

    as_of = forms.DateField(
        required=False,
        label="Prices on",
        input_formats=["%Y-%m-%d"],
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        help_text="Leave empty for today's prices.",
    )

    unit = forms.ChoiceField(choices=UNIT_CHOICES, initial="mtok", required=False, widget=forms.RadioSelect)
    currency = forms.ChoiceField(choices=[("USD", "USD")], initial="USD", required=False)
    mode = forms.ChoiceField(choices=MODE_CHOICES, initial="standard", required=False)
    language = forms.ChoiceField(choices=LANGUAGE_CHOICES, initial="en", required=False, label="Words in")

    def __init__(self, *args: Any, currencies: list[str] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if currencies:
            _choices(self, "currency", [(c, c) for c in currencies])
        today = timezone.now().date()
        self.fields["as_of"].widget.attrs.update(min=FIRST_AS_OF.isoformat(), max=today.isoformat())

    def clean_as_of(self) -> dt.date | None:
        day: dt.date | None = self.cleaned_data.get("as_of")
        if day is None:
            return None
        if day > timezone.now().date():
            raise forms.ValidationError("Prices after today are not known yet.")
        if day < FIRST_AS_OF:
            raise forms.ValidationError(f"We hold no prices before {FIRST_AS_OF.isoformat()}.")
        return day


class LeaderboardForm(DisplayFields):
    q = forms.CharField(
        max_length=100,
        required=False,
        label="Search",
        widget=forms.TextInput(attrs={"type": "search", "placeholder": "model or id"}),
    )
    provider = forms.ChoiceField(choices=[("", "all providers")], required=False)
    creator = forms.ChoiceField(choices=[("", "all creators")], required=False)
    min_context = forms.TypedChoiceField(
        choices=CONTEXT_CHOICES,
        coerce=int,
        initial=0,
        required=False,
        empty_value=0,  # type: ignore[arg-type]
        label="Context",
    )
    open_weights = forms.ChoiceField(choices=OPEN_WEIGHTS_CHOICES, initial="", required=False, label="Weights")
    region = forms.ChoiceField(choices=[("", "any region")], required=False)
    min_price = forms.DecimalField(
        min_value=0,
        max_digits=24,
        decimal_places=12,
        required=False,
        label="Blended from",
        widget=forms.NumberInput(attrs={"step": "any", "size": 6, "placeholder": "min"}),
    )
    max_price = forms.DecimalField(
        min_value=0,
        max_digits=24,
        decimal_places=12,
        required=False,
        label="Blended to",
        widget=forms.NumberInput(attrs={"step": "any", "size": 6, "placeholder": "max"}),
    )
    include_free = forms.BooleanField(required=False, label="Show free variants")
    include_missing = forms.BooleanField(required=False, label="Show no-longer-listed")
    include_unlisted = forms.BooleanField(required=False, label="Show self-hosted / unlisted")
    ratio = forms.CharField(
        max_length=13,
        initial="3:1",
        required=False,
        label="Blend input:output",
        widget=forms.TextInput(attrs={"size": 5, "inputmode": "numeric"}),
    )
    sort = forms.ChoiceField(choices=SORT_CHOICES, initial="blended", required=False)
    dir = forms.ChoiceField(choices=DIR_CHOICES, initial="asc", required=False, label="Order")
    per_page = forms.ChoiceField(choices=PER_PAGE_CHOICES, initial="50", required=False, label="Rows")
    page = forms.IntegerField(min_value=1, max_value=100_000, initial=1, required=False, widget=forms.HiddenInput)

    def __init__(
        self,
        *args: Any,
        providers: list[tuple[str, str]] | None = None,
        creators: list[str] | None = None,
        regions: list[str] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        _choices(self, "provider", [("", "all providers"), *(providers or [])])
        _choices(self, "creator", [("", "all creators"), *((c, c) for c in creators or [])])
        _choices(self, "region", [("", "any region"), *((r, r) for r in regions or [])])

    def clean_ratio(self) -> tuple[int, int]:
        return ratio_field_clean(self.cleaned_data.get("ratio") or "")

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        low, high = cleaned.get("min_price"), cleaned.get("max_price")
        if low is not None and high is not None and low > high:
            self.add_error("max_price", "The upper bound is below the lower one.")
        return cleaned


class WorkloadFields(DisplayFields):
    """A workload: ``requests`` a month, each of input, cached input and output in tokens, words or a
    pasted text. Counts are per request, so a long-context tier applies only to requests that long."""

    amount_unit = forms.ChoiceField(
        choices=AMOUNT_UNIT_CHOICES, initial="tokens", required=False, widget=forms.RadioSelect, label="Count in"
    )
    requests = forms.IntegerField(
        min_value=1,
        max_value=selectors.MAX_REQUESTS,
        initial=1,
        required=False,
        label="Requests a month",
        widget=forms.NumberInput(attrs={"min": 1, "inputmode": "numeric"}),
    )
    input = forms.IntegerField(
        min_value=0, max_value=MAX_TOKENS, initial=10_000, required=False, label="Input per request"
    )
    cached_input = forms.IntegerField(
        min_value=0, max_value=MAX_TOKENS, initial=0, required=False, label="Cached input per request"
    )
    output = forms.IntegerField(
        min_value=0, max_value=MAX_TOKENS, initial=2_000, required=False, label="Output per request"
    )
    text = forms.CharField(
        max_length=MAX_TEXT_CHARS,
        required=False,
        label="Text (its words are the input)",
        widget=forms.Textarea(attrs={"rows": 4}),
    )


class CalculatorForm(WorkloadFields):
    q = forms.CharField(
        max_length=100,
        required=False,
        label="Search",
        widget=forms.TextInput(attrs={"type": "search", "placeholder": "model or id"}),
    )
    provider = forms.ChoiceField(choices=[("", "all providers")], required=False)
    limit = forms.ChoiceField(choices=PER_PAGE_CHOICES, initial="50", required=False, label="Rows")

    def __init__(self, *args: Any, providers: list[tuple[str, str]] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _choices(self, "provider", [("", "all providers"), *(providers or [])])


class CompareForm(WorkloadFields):
    o = forms.TypedMultipleChoiceField(coerce=int, required=False, label="Offerings")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Any integer id: unknown ones are reported by the view, not rejected as a bad choice.
        self.fields["o"].valid_value = lambda value: str(value).isdigit()  # type: ignore[attr-defined]


@dataclass
class Params:
    """Cleaned parameters, defaults standing in for the bad ones, and what was replaced."""

    values: dict[str, Any]
    notices: list[str] = field(default_factory=list)
    form: forms.Form | None = None

    def __getitem__(self, key: str) -> Any:
        return self.values[key]


def _default(form_field: forms.Field) -> Any:
    if isinstance(form_field, forms.MultipleChoiceField):
        return []
    if form_field.initial is not None:
        return (
            form_field.clean(form_field.initial)
            if not isinstance(form_field, forms.CharField)
            else (form_field.initial)
        )
    return None if isinstance(form_field, forms.IntegerField) else ""


def read_params(form_class: type[forms.Form], data: Any, **form_kwargs: Any) -> Params:
    """Validate query parameters; each invalid one is dropped for its default with a notice, so a
    mistyped or stale link still shows a page. The returned form is bound to the good values only."""
    form = form_class(data, **form_kwargs)
    form.is_valid()
    notices: list[str] = []
    good = data.copy() if hasattr(data, "copy") else dict(data)
    for name, errors in form.errors.items():
        if name == "__all__":
            notices.extend(str(e) for e in errors)
            continue
        shown = ", ".join(data.getlist(name)) if hasattr(data, "getlist") else str(data.get(name))
        notices.append(f"Ignored {name}={shown[:60]!r}: {' '.join(str(e) for e in errors)} Using the default.")
        good.pop(name, None)
    # A bound form renders only what was sent: fill in defaults so selects show them (a select with no
    # selected option would show, and next submit, its first choice instead of the default).
    for name, form_field in form.fields.items():
        if (
            name not in good
            and form_field.initial not in (None, "")
            and not isinstance(form_field.widget, forms.HiddenInput)
        ):
            good[name] = str(form_field.initial)
    clean_form = form_class(good, **form_kwargs)
    clean_form.is_valid()
    values = {}
    for name, form_field in clean_form.fields.items():
        value = clean_form.cleaned_data.get(name)
        values[name] = _default(form_field) if value in (None, "", []) and name not in ("q", "text") else value
        if name in ("q", "text"):
            values[name] = value or ""
    return Params(values, notices, clean_form)

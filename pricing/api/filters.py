"""django-filter sets for the catalogue lists (providers, models, sources)."""

from __future__ import annotations

import django_filters
from django.db.models import Q, QuerySet
from drf_spectacular.utils import extend_schema_field

from pricing.models import Provider, Source


class TextSearchFilter(django_filters.CharFilter):
    """``q``: text in the slug or the name."""

    def __init__(self, **kwargs: object) -> None:
        super().__init__(method="search", max_length=200, help_text="Text in the slug or name.", **kwargs)


def search(queryset: QuerySet, name: str, value: str) -> QuerySet:
    return queryset.filter(Q(slug__icontains=value) | Q(name__icontains=value)) if value else queryset


@extend_schema_field({"type": "string", "enum": ["true", "false"]})
class YesNoFilter(django_filters.TypedChoiceFilter):
    """``true`` or ``false``; anything else is a 400, not silently ignored."""

    def __init__(self, **kwargs: object) -> None:
        super().__init__(choices=[("true", "true"), ("false", "false")], coerce=lambda v: v == "true", **kwargs)


class StrictFilterSet(django_filters.FilterSet):
    """A parameter given with an empty value is a 400, as everywhere else in the API, not "no filter"."""

    def is_valid(self) -> bool:
        valid = super().is_valid()
        for name in self.filters:
            if name in self.data and self.data.get(name) == "" and name not in self.form.errors:
                self.form.add_error(name, "An empty value is not accepted; leave the parameter out instead.")
                valid = False
        return valid


class ProviderFilter(StrictFilterSet):
    q = TextSearchFilter()

    class Meta:
        model = Provider
        fields = ["q"]

    search = staticmethod(search)


class SourceFilter(StrictFilterSet):
    q = TextSearchFilter()
    kind = django_filters.ChoiceFilter(choices=Source.Kind.choices)
    provider = django_filters.CharFilter(field_name="provider__slug", max_length=80, help_text="Provider slug.")
    enabled = YesNoFilter()

    class Meta:
        model = Source
        fields = ["q", "kind", "provider", "enabled"]

    search = staticmethod(search)

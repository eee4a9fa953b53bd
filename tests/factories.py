"""Factories for the data model: tests build the rows they need, nothing more."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import factory
from django.utils import timezone

from pricing import models
from providers.base import match_key


class ProviderFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Provider
        django_get_or_create = ("slug",)

    slug = factory.Sequence(lambda n: f"provider-{n}")
    name = factory.LazyAttribute(lambda o: o.slug.title())


class SourceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Source
        django_get_or_create = ("slug",)

    slug = factory.Sequence(lambda n: f"source-{n}")
    name = factory.LazyAttribute(lambda o: f"{o.slug} prices")
    kind = models.Source.Kind.OFFICIAL
    provider = factory.SubFactory(ProviderFactory)
    trust_rank = 100
    urls = factory.LazyAttribute(lambda o: [f"https://{o.slug}.example/pricing"])


class TokenizerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Tokenizer
        django_get_or_create = ("slug",)

    slug = factory.Sequence(lambda n: f"tokenizer-{n}")
    name = factory.LazyAttribute(lambda o: o.slug)
    words_per_token = Decimal("0.75")
    provenance = models.Tokenizer.Provenance.MEASURED


class ModelFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Model
        django_get_or_create = ("slug",)

    slug = factory.Sequence(lambda n: f"model-{n}")
    name = factory.LazyAttribute(lambda o: o.slug.replace("-", " ").title())
    match_key = factory.LazyAttribute(lambda o: match_key(o.slug))
    creator = "acme"


class OfferingFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Offering

    provider = factory.SubFactory(ProviderFactory)
    provider_model_id = factory.Sequence(lambda n: f"model-{n}")
    match_key = factory.LazyAttribute(lambda o: match_key(o.provider_model_id))
    name = factory.LazyAttribute(lambda o: o.provider_model_id)
    context_window = 128000


class ScrapeRunFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.ScrapeRun

    source = factory.SubFactory(SourceFactory)
    status = models.ScrapeRun.Status.SUCCEEDED
    finished_at = factory.LazyFunction(timezone.now)


class PriceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Price

    offering = factory.SubFactory(OfferingFactory)
    component = "input"
    mode = "standard"
    amount_per_mtok = Decimal("1.25")
    currency = "USD"
    valid_from = factory.LazyFunction(lambda: timezone.now() - dt.timedelta(days=30))
    recorded_at = factory.LazyFunction(timezone.now)
    last_seen_at = factory.LazyFunction(timezone.now)
    status = models.Price.Status.PUBLISHED
    source = factory.SubFactory(SourceFactory)


class ExchangeRateFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.ExchangeRate
        django_get_or_create = ("currency", "date")

    currency = "USD"
    date = factory.LazyFunction(lambda: timezone.now().date())
    units_per_eur = Decimal("1.08")


class TokenizerMeasurementFactory(factory.django.DjangoModelFactory):
    """A measurement whose words per token is ``words / tokens`` (set ``words_per_token`` to fix it)."""

    class Meta:
        model = models.TokenizerMeasurement

    tokenizer = factory.SubFactory(TokenizerFactory)
    language = "en"
    tokenizer_version = "test 1"
    corpus_name = factory.LazyAttribute(lambda o: f"{o.language}.txt")
    corpus_sha256 = "0" * 64
    tokens = 1000
    words = 1000
    characters = 4000
    words_per_token = factory.LazyAttribute(lambda o: Decimal(o.words) / Decimal(o.tokens))
    chars_per_token = factory.LazyAttribute(lambda o: Decimal(o.characters) / Decimal(o.tokens))

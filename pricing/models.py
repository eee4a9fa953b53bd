"""The data model, in the design's vocabulary.

Prices are bitemporal: ``valid_from``/``valid_to`` say when the provider charged a price,
``recorded_at``/``superseded_at`` when we learned it and when a later correction replaced our
knowledge. History is never rewritten: a correction supersedes a row and writes new ones.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Coalesce
from django.utils import timezone

from pricing.querysets import PriceManager
from providers.base import COMPONENTS, MODES, OFFERING_ATTRIBUTES, attributes_key
from providers.base import match_key as id_match_key


class Provider(models.Model):
    """Who sells access (OpenAI, DeepSeek, OpenRouter, Together...)."""

    slug = models.SlugField(max_length=80, unique=True)
    name = models.CharField(max_length=120)
    website = models.URLField(blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Tokenizer(models.Model):
    """How many words a token carries (English, the default language), with where that figure comes from.
    Per-language figures are in TokenizerMeasurement (measured) or ``curated_ratios`` (curated)."""

    class Provenance(models.TextChoices):
        MEASURED = "measured", "measured"
        CURATED = "curated", "curated"
        ASSUMED = "assumed", "assumed"

    slug = models.SlugField(max_length=80, unique=True)
    name = models.CharField(max_length=120)
    words_per_token = models.DecimalField(max_digits=8, decimal_places=5, default=Decimal("0.75"))
    chars_per_token = models.DecimalField(max_digits=8, decimal_places=5, null=True, blank=True)
    provenance = models.CharField(max_length=10, choices=Provenance.choices, default=Provenance.ASSUMED)
    provenance_detail = models.TextField(
        blank=True, help_text="Which tokenizer, corpus and date; or the public source."
    )
    # Curated per-language ratios where no tokenizer can be run: {"zh": {"words_per_token": "0.6", "source": "..."}}.
    curated_ratios = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Model(models.Model):
    """The canonical model (DeepSeek-V3, Llama 3.1 405B), whoever sells it."""

    slug = models.SlugField(max_length=160, unique=True)
    name = models.CharField(max_length=200)
    match_key = models.CharField(max_length=160, db_index=True, editable=False)
    creator = models.CharField(max_length=80, blank=True, db_index=True)
    # The model within its creator as pricing.identity spells it ("llama-3.3-70b"): where every seller's id meets.
    identity_key = models.CharField(max_length=160, blank=True, db_index=True)
    tokenizer = models.ForeignKey(Tokenizer, null=True, blank=True, on_delete=models.SET_NULL, related_name="models")
    # How the tokenizer was chosen ("name rule: llama[-. ]?3", "creator deepseek", "curator"): its provenance.
    tokenizer_rule = models.CharField(max_length=120, blank=True)
    context_window = models.PositiveIntegerField(null=True, blank=True)
    open_weights = models.BooleanField(null=True, blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        self.match_key = self.match_key or id_match_key(self.slug)
        super().save(*args, **kwargs)


class Source(models.Model):
    """A page or API we read; its adapter is ``providers.REGISTRY[slug]``."""

    class Kind(models.TextChoices):
        OFFICIAL = "official", "official"
        AGGREGATOR = "aggregator", "aggregator"

    slug = models.SlugField(max_length=80, unique=True)
    name = models.CharField(max_length=160)
    kind = models.CharField(max_length=12, choices=Kind.choices)
    provider = models.ForeignKey(Provider, null=True, blank=True, on_delete=models.PROTECT, related_name="sources")
    trust_rank = models.PositiveSmallIntegerField(help_text="Higher is more trusted.")
    urls = models.JSONField(default=list)
    enabled = models.BooleanField(default=True)
    # Conditional GET validators per URL: {"https://...": {"etag": "...", "last_modified": "..."}}.
    http_validators = models.JSONField(default=dict, blank=True)
    # A lease held by the one run in progress; expires so a killed worker cannot block forever.
    lock_token = models.CharField(max_length=64, blank=True)
    locked_until = models.DateTimeField(null=True, blank=True)
    last_success_at = models.DateTimeField(null=True, blank=True)
    last_record_count = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-trust_rank", "slug"]

    def __str__(self) -> str:
        return self.name


class Offering(models.Model):
    """One model as one provider sells it, under the provider's own id (and, where the provider sells it
    several ways, in one region, deployment scope or supply variant)."""

    class Listing(models.TextChoices):
        LIST_PRICE = "list", "public list price"
        FREE_VARIANT = "free", "free or rate-limited variant"
        UNLISTED = "unlisted", "no public list price (self-hosted, local or contact sales)"

    provider = models.ForeignKey(Provider, on_delete=models.PROTECT, related_name="offerings")
    model = models.ForeignKey(Model, null=True, blank=True, on_delete=models.SET_NULL, related_name="offerings")
    provider_model_id = models.CharField(max_length=200, help_text="The provider's own id, e.g. deepseek-chat.")
    # provider_model_id lowercased without separators: how sources that spell one id differently meet.
    match_key = models.CharField(max_length=200, db_index=True, editable=False)
    name = models.CharField(max_length=200, blank=True)
    context_window = models.PositiveIntegerField(null=True, blank=True)
    tokenizer_hint = models.CharField(max_length=80, blank=True, help_text="Tokenizer family a source names.")
    creator_hint = models.CharField(max_length=80, blank=True)
    locked = models.BooleanField(default=False, help_text="Scrapes cannot change a locked offering's prices.")
    first_seen_at = models.DateTimeField(default=timezone.now)
    # How this offering is sold when one seller sells one model several ways (providers.base.OFFERING_ATTRIBUTES):
    # {"region": "eastus", "deploy_scope": "Global"}; ``variant`` is the same as one canonical string ("" if none).
    attributes = models.JSONField(default=dict, blank=True)
    variant = models.CharField(max_length=300, blank=True, default="", editable=False)
    listing = models.CharField(
        max_length=10,
        choices=Listing.choices,
        default=Listing.LIST_PRICE,
        db_index=True,
        help_text="Only list prices rank by default; free variants show behind a toggle; unlisted never rank.",
    )

    class Meta:
        ordering = ["provider__name", "provider_model_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["provider", "provider_model_id", "variant"], name="offering_unique_per_provider_variant"
            )
        ]

    def __str__(self) -> str:
        shown = f"{self.provider_model_id} ({self.variant})" if self.variant else self.provider_model_id
        return f"{shown} @ {self.provider.slug}" if self.provider_id else shown

    def save(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        self.match_key = id_match_key(self.provider_model_id)
        self.variant = attributes_key(self.attributes or {}, OFFERING_ATTRIBUTES)
        super().save(*args, **kwargs)


class ScrapeRun(models.Model):
    """One fetch + parse + ingest of one source."""

    class Status(models.TextChoices):
        RUNNING = "running", "running"
        SUCCEEDED = "succeeded", "succeeded"
        UNCHANGED = "unchanged", "not modified (304)"
        FAILED = "failed", "failed"

    class Kind(models.TextChoices):
        LIVE = "live", "live fetch"
        FILE = "file", "saved file"
        ARCHIVE = "archive", "dated archive copy"
        SNAPSHOT = "snapshot", "bundled snapshot"
        CURATED = "curated", "curated from dated page copies"

    source = models.ForeignKey(Source, on_delete=models.CASCADE, related_name="runs")
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.LIVE)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.RUNNING, db_index=True)
    started_at = models.DateTimeField(default=timezone.now, db_index=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    as_of = models.DateTimeField(null=True, blank=True, help_text="For archive copies: in force from this date.")
    evidence_at = models.DateTimeField(
        null=True, blank=True, help_text="When the document was fetched or captured: what the run's prices are seen at."
    )
    http_status = models.PositiveSmallIntegerField(null=True, blank=True)
    bytes_fetched = models.PositiveIntegerField(default=0)
    content_hash = models.CharField(max_length=64, blank=True)
    fetch_ms = models.PositiveIntegerField(null=True, blank=True)
    records = models.PositiveIntegerField(default=0)
    created = models.PositiveIntegerField(default=0)
    changed = models.PositiveIntegerField(default=0)
    unchanged = models.PositiveIntegerField(default=0)
    held = models.PositiveIntegerField(default=0)
    missing = models.PositiveIntegerField(default=0)
    closed = models.PositiveIntegerField(default=0, help_text="Lines the source no longer emits, closed at its date.")
    skipped = models.PositiveIntegerField(default=0, help_text="Malformed records left out (see problems).")
    published_held = models.PositiveIntegerField(default=0, help_text="Held proposals this run's evidence published.")
    problems = models.TextField(blank=True, help_text="One line per record left out, and why.")
    error = models.TextField(blank=True)
    note = models.TextField(blank=True, help_text="Where a snapshot or curated run's figures come from.")

    class Meta:
        ordering = ["-started_at"]
        indexes = [models.Index(fields=["source", "-started_at"])]

    def __str__(self) -> str:
        return f"{self.source.slug} run {self.pk} ({self.status})"


@dataclass(frozen=True, slots=True)
class LineKey:
    """One price line: an offering's component, mode, prompt tier, currency and conditions. Every row of a
    line's timeline shares it; at most one published row of a line is open at a time."""

    offering_id: int
    component: str
    mode: str
    tier_min_tokens: int | None
    tier_max_tokens: int | None
    currency: str
    conditions: str


class Price(models.Model):
    """An amount per 1M tokens for one component, mode and prompt-length tier of an offering."""

    class Status(models.TextChoices):
        PUBLISHED = "published", "published"
        HELD = "held", "held for review"
        REJECTED = "rejected", "rejected"

    offering = models.ForeignKey(Offering, on_delete=models.CASCADE, related_name="prices")
    component = models.CharField(max_length=16, choices=[(c, c) for c in COMPONENTS])
    mode = models.CharField(max_length=10, choices=[(m, m) for m in MODES], default="standard")
    tier_min_tokens = models.PositiveIntegerField(null=True, blank=True)
    tier_max_tokens = models.PositiveIntegerField(null=True, blank=True)
    amount_per_mtok = models.DecimalField(max_digits=24, decimal_places=12)
    currency = models.CharField(max_length=3, default="USD")
    # Conditions of this price within the offering (providers.base.PRICE_CONDITIONS) as one canonical string:
    # "output_tier=201-;thinking=on"; "" for the plain price.
    conditions = models.CharField(max_length=300, blank=True, default="")
    original = models.CharField(max_length=200, blank=True, help_text="The figure and unit as the page printed it.")

    valid_from = models.DateTimeField(db_index=True)
    valid_to = models.DateTimeField(null=True, blank=True)
    recorded_at = models.DateTimeField(default=timezone.now)
    superseded_at = models.DateTimeField(null=True, blank=True)
    last_seen_at = models.DateTimeField(null=True, blank=True)
    missing_since = models.DateTimeField(null=True, blank=True)

    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PUBLISHED)
    hold_reason = models.CharField(max_length=300, blank=True)
    replaces = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="proposals")
    # Held proposals: how many runs of the proposing source have stated this figure (the first included).
    sightings = models.PositiveIntegerField(default=1)

    # Evidence: the run and document it was read from, or the curator who set it.
    source = models.ForeignKey(Source, null=True, blank=True, on_delete=models.PROTECT, related_name="prices")
    run = models.ForeignKey(ScrapeRun, null=True, blank=True, on_delete=models.SET_NULL, related_name="prices")
    document_hash = models.CharField(max_length=64, blank=True)
    excerpt = models.CharField(max_length=300, blank=True)
    curator = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT)
    curator_note = models.TextField(blank=True)
    evidence_url = models.URLField(blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)

    objects = PriceManager()

    class Meta:
        ordering = ["offering_id", "component", "mode", "tier_min_tokens", "-valid_from"]
        constraints = [
            # At most one open, current published price per offering, component, mode, tier and currency.
            models.UniqueConstraint(
                F("offering"),
                F("component"),
                F("mode"),
                Coalesce(F("tier_min_tokens"), 0),
                Coalesce(F("tier_max_tokens"), -1),
                F("currency"),
                F("conditions"),
                condition=Q(status="published", valid_to__isnull=True, superseded_at__isnull=True),
                name="price_one_open_published",
            ),
            models.CheckConstraint(
                condition=Q(amount_per_mtok__gte=0) | ~Q(status="published"), name="price_published_not_negative"
            ),
            models.CheckConstraint(
                condition=Q(valid_to__isnull=True) | Q(valid_to__gt=F("valid_from")), name="price_valid_range_ordered"
            ),
            models.CheckConstraint(
                condition=Q(tier_max_tokens__isnull=True)
                | Q(tier_min_tokens__isnull=True)
                | Q(tier_max_tokens__gte=F("tier_min_tokens")),
                name="price_tier_ordered",
            ),
        ]
        indexes = [
            models.Index(fields=["offering", "status", "superseded_at"], name="price_offering_current"),
            models.Index(fields=["status", "recorded_at"], name="price_status_recorded"),
            models.Index(fields=["source", "status"], name="price_source_status"),
        ]

    def __str__(self) -> str:
        return f"{self.offering_id} {self.component}/{self.mode} {self.amount_per_mtok} {self.currency}"

    @property
    def tier_label(self) -> str:
        return tier_label(self.tier_min_tokens, self.tier_max_tokens)

    @property
    def line_key(self) -> LineKey:
        """The price line this row belongs to."""
        return LineKey(
            self.offering_id,
            self.component,
            self.mode,
            self.tier_min_tokens,
            self.tier_max_tokens,
            self.currency,
            self.conditions,
        )


def tier_label(min_tokens: int | None, max_tokens: int | None) -> str:
    if min_tokens is None and max_tokens is None:
        return "all prompt lengths"
    if min_tokens is None:
        return f"≤ {max_tokens:,} tokens"
    if max_tokens is None:
        return f"> {min_tokens - 1:,} tokens"
    return f"{min_tokens:,}–{max_tokens:,} tokens"


class Retirement(models.Model):
    """A seller's own statement that one of its model ids is retired, or will be on ``retires_at``, and
    which model it now maps to. Readers show the seller's offerings under that id as "no longer offered
    by <source> since <date>" from that moment, ranked out like models a source stopped listing."""

    provider = models.ForeignKey(Provider, on_delete=models.CASCADE, related_name="retirements")
    provider_model_id = models.CharField(max_length=200)
    match_key = models.CharField(max_length=200, db_index=True, editable=False)
    retires_at = models.DateTimeField(help_text="From when the id is no longer offered (the statement's date).")
    successor = models.CharField(max_length=200, blank=True, help_text="The id its requests now go to.")
    successor_conditions = models.CharField(
        max_length=300, blank=True, help_text="Which of the successor's prices apply, e.g. thinking=off."
    )
    source = models.ForeignKey(Source, on_delete=models.CASCADE, related_name="retirements")
    run = models.ForeignKey(ScrapeRun, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    evidence_url = models.URLField(max_length=500, blank=True)
    excerpt = models.CharField(max_length=300, blank=True)
    first_seen_at = models.DateTimeField()
    last_seen_at = models.DateTimeField()

    class Meta:
        ordering = ["provider_id", "provider_model_id"]
        constraints = [
            models.UniqueConstraint(fields=["provider", "match_key", "source"], name="retirement_one_per_source")
        ]

    def __str__(self) -> str:
        target = f" → {self.successor}" if self.successor else ""
        return f"{self.provider_model_id} retires {self.retires_at:%Y-%m-%d}{target}"

    def save(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        self.match_key = id_match_key(self.provider_model_id)
        super().save(*args, **kwargs)


class ExchangeRate(models.Model):
    """A dated reference rate: units of ``currency`` per 1 EUR (the ECB's convention)."""

    currency = models.CharField(max_length=3)
    date = models.DateField()
    units_per_eur = models.DecimalField(max_digits=20, decimal_places=8)
    source = models.CharField(max_length=120, default="European Central Bank euro foreign exchange reference rates")

    class Meta:
        ordering = ["-date", "currency"]
        constraints = [models.UniqueConstraint(fields=["currency", "date"], name="exchange_rate_unique_per_day")]

    def __str__(self) -> str:
        return f"{self.currency} {self.units_per_eur}/EUR on {self.date}"


class TokenizerMeasurement(models.Model):
    """Tokens, words and characters of one corpus text under one tokenizer: the ratio with its proof."""

    tokenizer = models.ForeignKey(Tokenizer, on_delete=models.CASCADE, related_name="measurements")
    language = models.CharField(max_length=16, help_text="en, zh, code...")
    tokenizer_version = models.CharField(max_length=120, help_text="Package and version, or file hash.")
    corpus_name = models.CharField(max_length=120)
    corpus_sha256 = models.CharField(max_length=64)
    tokens = models.PositiveIntegerField()
    words = models.PositiveIntegerField()
    characters = models.PositiveIntegerField()
    words_per_token = models.DecimalField(max_digits=8, decimal_places=5)
    chars_per_token = models.DecimalField(max_digits=8, decimal_places=5)
    measured_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["tokenizer__name", "language"]
        constraints = [
            models.UniqueConstraint(
                fields=["tokenizer", "language", "tokenizer_version", "corpus_sha256"],
                name="measurement_unique_per_input",
            )
        ]

    def __str__(self) -> str:
        return f"{self.tokenizer} {self.language}: {self.words_per_token} words/token"


class AliasSuggestion(models.Model):
    """A likely link between an offering and a canonical Model, waiting for a curator."""

    class Status(models.TextChoices):
        PENDING = "pending", "pending"
        ACCEPTED = "accepted", "accepted"
        REJECTED = "rejected", "rejected"

    offering = models.ForeignKey(Offering, on_delete=models.CASCADE, related_name="alias_suggestions")
    model = models.ForeignKey(Model, on_delete=models.CASCADE, related_name="alias_suggestions")
    reason = models.CharField(max_length=300)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING, db_index=True)
    created_at = models.DateTimeField(default=timezone.now)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT)
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [models.UniqueConstraint(fields=["offering", "model"], name="alias_suggestion_unique")]

    def __str__(self) -> str:
        return f"{self.offering} → {self.model}"


class AuditEntry(models.Model):
    """Who decided what, when and why: every approval, rejection, override, lock and alias."""

    class Action(models.TextChoices):
        APPROVE = "approve", "approved a held price"
        REJECT = "reject", "rejected a held price"
        OVERRIDE = "override", "set a price by hand"
        LOCK = "lock", "locked an offering"
        UNLOCK = "unlock", "unlocked an offering"
        ALIAS = "alias", "linked an offering to a model"
        ALIAS_REJECT = "alias_reject", "rejected an alias suggestion"
        MERGE = "merge", "merged models"
        TOKENIZER = "tokenizer", "set a model's tokenizer"
        SOURCE = "source", "changed a source"
        AUTO_PUBLISH = "auto_publish", "published a held price on corroborating evidence"
        SCRAPE = "scrape", "ran a source by hand"

    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT)
    action = models.CharField(max_length=16, choices=Action.choices, db_index=True)
    at = models.DateTimeField(default=timezone.now, db_index=True)
    reason = models.TextField(blank=True)
    offering = models.ForeignKey(Offering, null=True, blank=True, on_delete=models.SET_NULL, related_name="audit")
    price = models.ForeignKey(Price, null=True, blank=True, on_delete=models.SET_NULL, related_name="audit")
    model = models.ForeignKey(Model, null=True, blank=True, on_delete=models.SET_NULL, related_name="audit")
    source = models.ForeignKey(Source, null=True, blank=True, on_delete=models.SET_NULL, related_name="audit")
    details = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-at"]
        verbose_name_plural = "audit entries"

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor} {self.get_action_display()}"

"""The curation UI. The admin shows and asks; every decision is a call to ``pricing.curation``.

Prices, runs, sources, suggestions and audit entries are read-only here (history is never edited by
hand): the decisions curators take on them are admin actions and small confirmation pages guarded by
the model's ``change`` permission, which the ``curators`` group holds.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Count, OuterRef, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.http import urlencode

from pricing import curation, selectors, services
from pricing.models import (
    AliasSuggestion,
    AuditEntry,
    ExchangeRate,
    Model,
    Offering,
    Price,
    Provider,
    ScrapeRun,
    Source,
    Tokenizer,
    TokenizerMeasurement,
)
from providers.base import COMPONENTS, MODES

admin.site.site_header = "Token prices curation"
admin.site.site_title = "Token prices curation"
admin.site.index_title = "Curation"


def _admin_url(obj: Any, action: str = "change") -> str:
    meta = obj._meta
    return reverse(f"admin:{meta.app_label}_{meta.model_name}_{action}", args=[obj.pk])


def _link(obj: Any, text: object | None = None) -> str:
    if obj is None:
        return "—"
    return format_html('<a href="{}">{}</a>', _admin_url(obj), obj if text is None else text)


def _percent(old: Decimal | None, new: Decimal | None) -> str:
    if old is None or new is None:
        return "—"
    if old == 0:
        return "from free" if new else "0%"
    change = ((new - old) / old * 100).quantize(Decimal("0.1"))
    return f"{change:+}%"


# --- forms --------------------------------------------------------------------------------------------


class ReasonForm(forms.Form):
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 3, "cols": 80}), required=False)

    def __init__(self, *args: Any, required: bool = False, label: str = "Reason", **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.fields["reason"].required = required
        self.fields["reason"].label = label
        if required:
            self.fields["reason"].error_messages["required"] = f"{label} is required."


class MergeForm(ReasonForm):
    keep = forms.ModelChoiceField(queryset=Model.objects.none(), label="Keep this model", empty_label=None)

    def __init__(self, *args: Any, models: QuerySet[Model], **kwargs: Any):
        super().__init__(*args, required=True, **kwargs)
        self.fields["keep"].queryset = models  # type: ignore[attr-defined]


class OverrideForm(forms.Form):
    component = forms.ChoiceField(choices=[(c, c) for c in COMPONENTS])
    mode = forms.ChoiceField(choices=[(m, m) for m in MODES], initial="standard")
    tier_min_tokens = forms.IntegerField(min_value=0, required=False, help_text="Blank: from the first token.")
    tier_max_tokens = forms.IntegerField(min_value=0, required=False, help_text="Blank: no upper bound.")
    amount_per_mtok = forms.DecimalField(
        label="Amount per 1M tokens", min_value=Decimal(0), max_digits=24, decimal_places=12
    )
    currency = forms.RegexField(
        regex=r"^[A-Z]{3}$",
        initial="USD",
        max_length=3,
        error_messages={"invalid": "A three-letter ISO code in capitals, such as USD."},
    )
    valid_from = forms.DateTimeField(
        required=False, help_text="When the provider started charging it (UTC). Blank: now."
    )
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 3, "cols": 80}))
    evidence_url = forms.URLField(
        assume_scheme="https", label="Evidence link", max_length=200, help_text="Where the provider states this price."
    )
    lock = forms.BooleanField(required=False, help_text="Lock the offering: later scrapes become review items.")

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        low, high = data.get("tier_min_tokens"), data.get("tier_max_tokens")
        if low is not None and high is not None and high < low:
            self.add_error("tier_max_tokens", "The tier's upper bound is below its lower bound.")
        valid_from = data.get("valid_from")
        if valid_from and valid_from > timezone.now():
            self.add_error("valid_from", "A price set by hand cannot start in the future.")
        return data

    def override(self) -> curation.Override:
        data = self.cleaned_data
        return curation.Override(
            component=data["component"],
            mode=data["mode"],
            tier_min_tokens=data["tier_min_tokens"],
            tier_max_tokens=data["tier_max_tokens"],
            amount_per_mtok=data["amount_per_mtok"],
            currency=data["currency"],
            valid_from=data["valid_from"],
        )


# --- shared behaviour ---------------------------------------------------------------------------------


class CurationAdmin(admin.ModelAdmin):
    """Read-only pages with curation decisions guarded by the model's ``change`` permission."""

    editable = False

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self.editable and super().has_change_permission(request, obj)

    def has_curate_permission(self, request: HttpRequest) -> bool:
        opts = self.opts
        return request.user.has_perm(f"{opts.app_label}.change_{opts.model_name}")

    def get_actions(self, request: HttpRequest) -> dict[str, Any]:
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions

    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        extra_context = {**(extra_context or {}), "can_curate": self.has_curate_permission(request)}
        return super().change_view(request, object_id, form_url, extra_context)

    def changelist_view(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> HttpResponse:
        extra_context = {**(extra_context or {}), "can_curate": self.has_curate_permission(request)}
        return super().changelist_view(request, extra_context)

    # -- helpers for actions and object pages --

    def curation_view(self, view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        def guarded(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if not self.has_curate_permission(request):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return self.admin_site.admin_view(guarded)

    def perform(self, request: HttpRequest, call: Callable[[], Any], success: Callable[[Any], str]) -> bool:
        """Run a curation service; its refusals become messages for the curator, never a 500."""
        try:
            result = call()
        except curation.CurationError as exc:
            self.message_user(request, str(exc), messages.ERROR)
            return False
        self.message_user(request, success(result), messages.SUCCESS)
        return True

    def form_page(
        self,
        request: HttpRequest,
        *,
        title: str,
        form: forms.Form,
        submit: str,
        objects: Sequence[Any] | QuerySet[Any] = (),
        action: str = "",
        description: str = "",
        obj: Any = None,
        details: Sequence[tuple[str, Any]] = (),
    ) -> TemplateResponse:
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": title,
            "form": form,
            "submit": submit,
            "objects": list(objects[:200]),
            "more": max(0, len(objects) - 200),
            "selected": [o.pk for o in objects] if action else [],
            "action": action,
            "description": description,
            "original": obj,
            "details": details,
        }
        request.current_app = self.admin_site.name
        return TemplateResponse(request, "admin/pricing/curation_form.html", context)

    def reason_action(
        self,
        request: HttpRequest,
        queryset: QuerySet[Any],
        *,
        action: str,
        title: str,
        submit: str,
        required: bool,
        call: Callable[[list[int], str], Any],
        success: Callable[[Any], str],
        description: str = "",
    ) -> TemplateResponse | None:
        """An action that asks for a reason on an intermediate page before it calls the service."""
        form = ReasonForm(request.POST if "post" in request.POST else None, required=required)
        if form.is_bound and form.is_valid():
            ids = list(queryset.values_list("id", flat=True))
            self.perform(request, lambda: call(ids, form.cleaned_data["reason"]), success)
            return None
        return self.form_page(
            request, title=title, form=form, submit=submit, objects=queryset, action=action, description=description
        )


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class AuditInline(ReadOnlyInline):
    model = AuditEntry
    fields = ("at", "actor", "action", "reason", "details")
    readonly_fields = fields
    ordering = ("-at",)
    verbose_name_plural = "audit trail"

    def get_queryset(self, request: HttpRequest) -> QuerySet[AuditEntry]:
        return super().get_queryset(request).select_related("actor")


# --- prices: the review queue -------------------------------------------------------------------------


class QueueFilter(admin.SimpleListFilter):
    """Held proposals awaiting a decision by default: the review queue is the first thing curators see."""

    title = "status"
    parameter_name = "queue"
    default = "held"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [
            ("held", "Held for review (queue)"),
            ("published", "Published, current knowledge"),
            ("decided", "Decided proposals"),
            ("rejected", "Rejected"),
            ("all", "All rows, superseded included"),
        ]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Price]) -> QuerySet[Price]:
        value = self.value() or self.default
        if value == "held":
            return queryset.filter(status=Price.Status.HELD, superseded_at__isnull=True)
        if value == "published":
            return queryset.filter(status=Price.Status.PUBLISHED, superseded_at__isnull=True)
        if value == "decided":
            return queryset.filter(decided_at__isnull=False).exclude(status=Price.Status.PUBLISHED)
        if value == "rejected":
            return queryset.filter(status=Price.Status.REJECTED)
        return queryset

    def choices(self, changelist: Any) -> Any:
        current = self.value() or self.default
        for value, label in self.lookup_choices:
            yield {
                "selected": current == value,
                "query_string": changelist.get_query_string({self.parameter_name: value}),
                "display": label,
            }


def _open_price_of_line() -> QuerySet[Price]:
    """The open published price of the same line as the outer row (tiers compared with NULL as a value)."""
    return (
        Price.objects.filter(
            offering_id=OuterRef("offering_id"),
            component=OuterRef("component"),
            mode=OuterRef("mode"),
            currency=OuterRef("currency"),
            status=Price.Status.PUBLISHED,
            valid_to__isnull=True,
            superseded_at__isnull=True,
        )
        .annotate(low=Coalesce("tier_min_tokens", Value(-1)), high=Coalesce("tier_max_tokens", Value(-1)))
        .filter(
            low=Coalesce(OuterRef("tier_min_tokens"), Value(-1)), high=Coalesce(OuterRef("tier_max_tokens"), Value(-1))
        )
        .order_by("-valid_from")
    )


@admin.register(Price)
class PriceAdmin(CurationAdmin):
    list_display = (
        "offering",
        "line",
        "current",
        "proposed",
        "change",
        "status",
        "hold_reason",
        "evidence",
        "valid_from",
        "recorded_at",
    )
    list_display_links = ("proposed",)
    list_select_related = ("offering__provider", "source", "run", "curator", "decided_by")
    # Date ranges, not date_hierarchy: its per-day DISTINCT scans every row of a large table.
    list_filter = (
        QueueFilter,
        ("recorded_at", admin.DateFieldListFilter),
        "component",
        "mode",
        "source",
        "offering__provider",
        "currency",
    )
    search_fields = ("offering__provider_model_id", "offering__name", "offering__model__name", "hold_reason", "excerpt")
    search_help_text = "Offering id or name, model, hold reason or excerpt."
    list_per_page = 50
    ordering = ("-recorded_at", "-id")
    actions = ("approve_selected", "reject_selected")
    readonly_fields = (
        "offering_link",
        "line",
        "current",
        "proposed",
        "change",
        "status",
        "hold_reason",
        "valid_from",
        "valid_to",
        "recorded_at",
        "superseded_at",
        "last_seen_at",
        "missing_since",
        "original",
        "source",
        "run_link",
        "fetched_at",
        "document_hash",
        "excerpt",
        "evidence_url",
        "curator",
        "curator_note",
        "decided_by",
        "decided_at",
        "replaces_link",
    )
    fieldsets = (
        (None, {"fields": ("offering_link", "line", "current", "proposed", "change", "status", "hold_reason")}),
        (
            "Evidence",
            {
                "fields": (
                    "source",
                    "run_link",
                    "fetched_at",
                    "document_hash",
                    "excerpt",
                    "original",
                    "evidence_url",
                    "curator",
                    "curator_note",
                )
            },
        ),
        (
            "Time",
            {"fields": ("valid_from", "valid_to", "recorded_at", "superseded_at", "last_seen_at", "missing_since")},
        ),
        ("Decision", {"fields": ("decided_by", "decided_at", "replaces_link")}),
    )
    inlines = (AuditInline,)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Price]:
        current = _open_price_of_line()
        return (
            super()
            .get_queryset(request)
            .select_related("offering__provider", "source", "run", "curator", "decided_by", "replaces")
            .annotate(
                current_amount=Subquery(current.values("amount_per_mtok")[:1]),
                current_id=Subquery(current.values("id")[:1]),
            )
        )

    @admin.display(description="line")
    def line(self, obj: Price) -> str:
        return f"{obj.component} · {obj.mode} · {obj.tier_label}"

    @admin.display(description="offering")
    def offering_link(self, obj: Price) -> str:
        return _link(obj.offering)

    @admin.display(description="current")
    def current(self, obj: Price) -> str:
        if getattr(obj, "current_id", None) in (None, obj.pk):
            return "—"
        return f"{obj.current_amount.normalize():f} {obj.currency}"  # type: ignore[attr-defined]

    @admin.display(description="proposed", ordering="amount_per_mtok")
    def proposed(self, obj: Price) -> str:
        return f"{obj.amount_per_mtok.normalize():f} {obj.currency}"

    @admin.display(description="change")
    def change(self, obj: Price) -> str:
        if getattr(obj, "current_id", None) in (None, obj.pk):
            return "—"
        return _percent(obj.current_amount, obj.amount_per_mtok)  # type: ignore[attr-defined]

    @admin.display(description="fetched at")
    def fetched_at(self, obj: Price) -> Any:
        return obj.run.started_at if obj.run else None

    @admin.display(description="run")
    def run_link(self, obj: Price) -> str:
        return _link(obj.run)

    @admin.display(description="replaces")
    def replaces_link(self, obj: Price) -> str:
        return _link(obj.replaces)

    @admin.display(description="evidence")
    def evidence(self, obj: Price) -> str:
        if obj.source_id is None:
            who = obj.curator.get_username() if obj.curator else "a curator"
            link = format_html(' <a href="{}">link</a>', obj.evidence_url) if obj.evidence_url else ""
            return format_html("set by {}: {}{}", who, obj.curator_note[:120], link)
        run = (
            format_html(
                '<a href="{}">run {}</a>, fetched {}',
                _admin_url(obj.run),
                obj.run.pk,
                obj.run.started_at.strftime("%Y-%m-%d %H:%M"),
            )
            if obj.run
            else "no run"
        )
        return format_html(
            "{} · {} · doc {}<br><small>{}</small>", obj.source, run, obj.document_hash[:12] or "—", obj.excerpt[:160]
        )

    # -- decisions --

    @admin.action(description="Approve selected held prices (publish them)", permissions=["curate"])
    def approve_selected(self, request: HttpRequest, queryset: QuerySet[Price]) -> None:
        ids = list(queryset.values_list("id", flat=True))
        self.perform(
            request,
            lambda: curation.prices_approve(price_ids=ids, actor=request.user),
            lambda published: f"Published {len(published)} price(s).",
        )

    @admin.action(description="Reject selected held prices…", permissions=["curate"])
    def reject_selected(self, request: HttpRequest, queryset: QuerySet[Price]) -> TemplateResponse | None:
        return self.reason_action(
            request,
            queryset,
            action="reject_selected",
            title="Reject held prices",
            submit="Reject",
            required=True,
            call=lambda ids, reason: curation.prices_reject(price_ids=ids, actor=request.user, reason=reason),
            success=lambda rejected: f"Rejected {len(rejected)} price(s).",
            description="Nothing published changes. Say why, for the next curator.",
        )

    def get_urls(self) -> list[Any]:
        return [
            path("<int:object_id>/approve/", self.curation_view(self.approve_view), name="pricing_price_approve"),
            path("<int:object_id>/reject/", self.curation_view(self.reject_view), name="pricing_price_reject"),
            *super().get_urls(),
        ]

    def _decision_page(self, request: HttpRequest, object_id: int, *, approve: bool) -> HttpResponse:
        price = get_object_or_404(self.get_queryset(request), pk=object_id)
        label = "Note" if approve else "Reason"
        form = ReasonForm(request.POST if request.method == "POST" else None, required=not approve, label=label)
        if request.method == "POST" and form.is_valid():
            reason = form.cleaned_data["reason"]
            if approve:
                done = self.perform(
                    request,
                    lambda: curation.price_approve(price_id=price.pk, actor=request.user, note=reason),
                    lambda p: f"Published {p.amount_per_mtok.normalize():f} {p.currency} for {price.offering}.",
                )
            else:
                done = self.perform(
                    request,
                    lambda: curation.price_reject(price_id=price.pk, actor=request.user, reason=reason),
                    lambda p: f"Rejected the proposed {p.amount_per_mtok.normalize():f} {p.currency}.",
                )
            target = reverse("admin:pricing_price_changelist") if done else _admin_url(price)
            return HttpResponseRedirect(target)
        details = [
            ("Offering", price.offering),
            ("Line", self.line(price)),
            ("Current", self.current(price)),
            ("Proposed", self.proposed(price)),
            ("Change", self.change(price)),
            ("Held because", price.hold_reason),
            ("Evidence", self.evidence(price)),
        ]
        return self.form_page(
            request,
            title=f"{'Approve' if approve else 'Reject'} the proposed price",
            form=form,
            submit="Approve and publish" if approve else "Reject",
            obj=price,
            details=details,
            description=(
                "Publishing closes the current row at the proposal's start and opens the new one."
                if approve
                else "A rejection needs a reason. Nothing published changes."
            ),
        )

    def approve_view(self, request: HttpRequest, object_id: int) -> HttpResponse:
        return self._decision_page(request, object_id, approve=True)

    def reject_view(self, request: HttpRequest, object_id: int) -> HttpResponse:
        return self._decision_page(request, object_id, approve=False)


# --- offerings: links, overrides, locks --------------------------------------------------------------


class CurrentPriceInline(ReadOnlyInline):
    model = Price
    fk_name = "offering"
    fields = (
        "component",
        "mode",
        "tier_min_tokens",
        "tier_max_tokens",
        "amount_per_mtok",
        "currency",
        "status",
        "source",
        "curator",
        "valid_from",
        "hold_reason",
    )
    readonly_fields = fields
    verbose_name_plural = "prices now (published and awaiting review)"

    def get_queryset(self, request: HttpRequest) -> QuerySet[Price]:
        return (
            super()
            .get_queryset(request)
            .filter(
                superseded_at__isnull=True,
                valid_to__isnull=True,
                status__in=[Price.Status.PUBLISHED, Price.Status.HELD],
            )
            .select_related("source", "curator")
            .order_by("component", "mode", "tier_min_tokens", "status")
        )


class OfferingAuditInline(AuditInline):
    fk_name = "offering"


@admin.register(Offering)
class OfferingAdmin(CurationAdmin):
    editable = True
    list_display = ("provider_model_id", "provider", "model", "locked", "name", "first_seen_at")
    list_select_related = ("provider", "model")
    list_filter = ("locked", "provider", ("model", admin.EmptyFieldListFilter))
    search_fields = ("provider_model_id", "name", "match_key", "model__name", "model__slug")
    autocomplete_fields = ("model",)
    fields = (
        "provider",
        "provider_model_id",
        "name",
        "model",
        "locked",
        "context_window",
        "tokenizer_hint",
        "creator_hint",
        "match_key",
        "first_seen_at",
    )
    readonly_fields = (
        "provider",
        "provider_model_id",
        "name",
        "locked",
        "context_window",
        "tokenizer_hint",
        "creator_hint",
        "match_key",
        "first_seen_at",
    )
    actions = ("lock_selected", "unlock_selected")
    inlines = (CurrentPriceInline, OfferingAuditInline)

    def save_model(self, request: HttpRequest, obj: Offering, form: forms.ModelForm, change: bool) -> None:
        # The only editable field is the model link; it goes through the service so it is audited.
        if "model" in form.changed_data:
            curation.offering_link_model(offering=obj, model=form.cleaned_data["model"], actor=request.user)

    @admin.action(description="Lock selected offerings (scrapes become review items)…", permissions=["curate"])
    def lock_selected(self, request: HttpRequest, queryset: QuerySet[Offering]) -> TemplateResponse | None:
        return self.reason_action(
            request,
            queryset,
            action="lock_selected",
            title="Lock offerings",
            submit="Lock",
            required=False,
            call=lambda ids, reason: curation.offerings_set_locked(
                offering_ids=ids, locked=True, actor=request.user, reason=reason
            ),
            success=lambda n: f"Locked {n} offering(s).",
            description="Scrapes will not change a locked offering's prices: differences wait in the review queue.",
        )

    @admin.action(description="Unlock selected offerings…", permissions=["curate"])
    def unlock_selected(self, request: HttpRequest, queryset: QuerySet[Offering]) -> TemplateResponse | None:
        return self.reason_action(
            request,
            queryset,
            action="unlock_selected",
            title="Unlock offerings",
            submit="Unlock",
            required=False,
            call=lambda ids, reason: curation.offerings_set_locked(
                offering_ids=ids, locked=False, actor=request.user, reason=reason
            ),
            success=lambda n: f"Unlocked {n} offering(s).",
        )

    def get_urls(self) -> list[Any]:
        return [
            path("<int:object_id>/override/", self.curation_view(self.override_view), name="pricing_offering_override"),
            path("<int:object_id>/lock/", self.curation_view(self.lock_view), name="pricing_offering_lock"),
            *super().get_urls(),
        ]

    def override_view(self, request: HttpRequest, object_id: int) -> HttpResponse:
        offering = get_object_or_404(Offering.objects.select_related("provider"), pk=object_id)
        form = OverrideForm(request.POST if request.method == "POST" else None)
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            done = self.perform(
                request,
                lambda: curation.price_override(
                    offering=offering,
                    override=form.override(),
                    reason=data["reason"],
                    evidence_url=data["evidence_url"],
                    lock=data["lock"],
                    actor=request.user,
                ),
                lambda p: f"Published {p.amount_per_mtok.normalize():f} {p.currency} for {offering} by hand"
                + (" and locked it." if data["lock"] else "."),
            )
            if done:
                return HttpResponseRedirect(_admin_url(offering))
        return self.form_page(
            request,
            title=f"Set a price by hand for {offering}",
            form=form,
            submit="Publish",
            obj=offering,
            description="The price is published now, recorded as a correction with your reason and link; "
            "what was published before stays in the history.",
        )

    def lock_view(self, request: HttpRequest, object_id: int) -> HttpResponse:
        offering = get_object_or_404(Offering.objects.select_related("provider"), pk=object_id)
        form = ReasonForm(request.POST if request.method == "POST" else None)
        lock = not offering.locked
        if request.method == "POST" and form.is_valid():
            self.perform(
                request,
                lambda: curation.offerings_set_locked(
                    offering_ids=[offering.pk], locked=lock, actor=request.user, reason=form.cleaned_data["reason"]
                ),
                lambda n: f"{'Locked' if lock else 'Unlocked'} {offering}.",
            )
            return HttpResponseRedirect(_admin_url(offering))
        return self.form_page(
            request,
            title=f"{'Lock' if lock else 'Unlock'} {offering}",
            form=form,
            submit="Lock" if lock else "Unlock",
            obj=offering,
        )


# --- models and aliases -------------------------------------------------------------------------------


class ModelOfferingInline(ReadOnlyInline):
    model = Offering
    fields = ("provider", "provider_model_id", "name", "locked")
    readonly_fields = fields
    verbose_name_plural = "offerings linked to this model"

    def get_queryset(self, request: HttpRequest) -> QuerySet[Offering]:
        return super().get_queryset(request).select_related("provider")


class ModelAuditInline(AuditInline):
    fk_name = "model"


@admin.register(Model)
class ModelAdmin(CurationAdmin):
    editable = True
    list_display = ("name", "slug", "creator", "tokenizer", "context_window", "open_weights", "offering_count")
    list_select_related = ("tokenizer",)
    list_filter = ("tokenizer", "open_weights")
    search_fields = ("name", "slug", "creator", "match_key")
    fields = ("name", "slug", "creator", "tokenizer", "context_window", "open_weights", "match_key")
    readonly_fields = ("match_key",)
    actions = ("merge_selected",)
    inlines = (ModelOfferingInline, ModelAuditInline)

    def has_add_permission(self, request: HttpRequest) -> bool:
        # A model sold only by resellers has no official source to define it: curators create it.
        return admin.ModelAdmin.has_add_permission(self, request)

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> tuple[str, ...]:
        return ("slug", "match_key") if obj else ("match_key",)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Model]:
        return super().get_queryset(request).annotate(offerings_total=Count("offerings"))

    @admin.display(description="offerings", ordering="offerings_total")
    def offering_count(self, obj: Model) -> int:
        return obj.offerings_total  # type: ignore[attr-defined]

    def save_model(self, request: HttpRequest, obj: Model, form: forms.ModelForm, change: bool) -> None:
        # The tokenizer goes through the service (audited, caches told); other facts are plain edits.
        if change and "tokenizer" in form.changed_data:
            tokenizer = obj.tokenizer
            obj.tokenizer_id = form.initial.get("tokenizer")
            super().save_model(request, obj, form, change)
            curation.model_set_tokenizer(model=obj, tokenizer=tokenizer, actor=request.user)
            return
        super().save_model(request, obj, form, change)

    @admin.action(description="Merge selected models into one…", permissions=["curate"])
    def merge_selected(self, request: HttpRequest, queryset: QuerySet[Model]) -> TemplateResponse | None:
        form = MergeForm(request.POST if "post" in request.POST else None, models=queryset)
        if form.is_bound and form.is_valid():
            keep = form.cleaned_data["keep"]
            self.perform(
                request,
                lambda: curation.models_merge(
                    keep=keep, duplicates=list(queryset), actor=request.user, reason=form.cleaned_data["reason"]
                ),
                lambda kept: f"Merged {queryset.count() - 1} model(s) into {kept}.",
            )
            return None
        return self.form_page(
            request,
            title="Merge models",
            form=form,
            submit="Merge",
            objects=queryset,
            action="merge_selected",
            description="Offerings and suggestions of the others move to the model you keep; the others are "
            "deleted. Facts the kept model lacks are filled from them.",
        )


@admin.register(AliasSuggestion)
class AliasSuggestionAdmin(CurationAdmin):
    list_display = (
        "offering",
        "offering_provider",
        "model",
        "model_creator",
        "reason",
        "status",
        "created_at",
        "decided_by",
    )
    list_select_related = ("offering__provider", "model", "decided_by")
    list_filter = ("status", "offering__provider", "model__creator")
    search_fields = ("offering__provider_model_id", "model__name", "model__slug", "reason")
    actions = ("accept_selected", "reject_selected")
    readonly_fields = ("offering", "model", "reason", "status", "created_at", "decided_by", "decided_at")

    @admin.display(description="provider", ordering="offering__provider__name")
    def offering_provider(self, obj: AliasSuggestion) -> str:
        return obj.offering.provider.name

    @admin.display(description="creator", ordering="model__creator")
    def model_creator(self, obj: AliasSuggestion) -> str:
        return obj.model.creator

    @admin.action(description="Accept selected suggestions (link the offerings)", permissions=["curate"])
    def accept_selected(self, request: HttpRequest, queryset: QuerySet[AliasSuggestion]) -> None:
        ids = list(queryset.values_list("id", flat=True))
        self.perform(
            request,
            lambda: curation.aliases_accept(suggestion_ids=ids, actor=request.user),
            lambda accepted: f"Linked {len(accepted)} offering(s).",
        )

    @admin.action(description="Reject selected suggestions…", permissions=["curate"])
    def reject_selected(self, request: HttpRequest, queryset: QuerySet[AliasSuggestion]) -> TemplateResponse | None:
        return self.reason_action(
            request,
            queryset,
            action="reject_selected",
            title="Reject alias suggestions",
            submit="Reject",
            required=False,
            call=lambda ids, reason: curation.aliases_reject(suggestion_ids=ids, actor=request.user, reason=reason),
            success=lambda rejected: f"Rejected {len(rejected)} suggestion(s).",
        )

    def get_urls(self) -> list[Any]:
        return [
            path("suggest/", self.curation_view(self.suggest_view), name="pricing_aliassuggestion_suggest"),
            *super().get_urls(),
        ]

    def suggest_view(self, request: HttpRequest) -> HttpResponse:
        form = forms.Form(request.POST if request.method == "POST" else None)
        if request.method == "POST":
            self.perform(request, curation.aliases_suggest, lambda n: f"Made {n} new suggestion(s).")
            return HttpResponseRedirect(reverse("admin:pricing_aliassuggestion_changelist") + "?status__exact=pending")
        return self.form_page(
            request,
            title="Suggest aliases",
            form=form,
            submit="Suggest",
            description="Look for canonical models matching every unlinked offering: the same normalised id, "
            "the same id without a date stamp, narrowed by the creator a source names.",
        )


# --- sources and runs ---------------------------------------------------------------------------------


class HealthFilter(admin.SimpleListFilter):
    title = "health"
    parameter_name = "health"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [
            ("failing", "failing (latest run failed)"),
            ("stale", "stale (no success lately)"),
            ("disabled", "disabled"),
        ]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Source]) -> QuerySet[Source]:
        value = self.value()
        if value == "failing":
            latest = ScrapeRun.objects.filter(source=OuterRef("pk")).order_by("-started_at", "-id")
            return queryset.annotate(latest_status=Subquery(latest.values("status")[:1])).filter(
                enabled=True, latest_status=ScrapeRun.Status.FAILED
            )
        if value == "stale":
            return queryset.filter(enabled=True).exclude(last_success_at__gte=selectors.stale_before())
        if value == "disabled":
            return queryset.filter(enabled=False)
        return queryset


# Coloured by pricing/static/pricing/admin.css (class health-<state>): the CSP allows no style attribute.
HEALTH_MARKS = {
    "ok": "✔ ok",
    "failing": "✖ failing",
    "stale": "⚠ stale",
    "never": "⚠ never succeeded",
    "disabled": "⏸ disabled",
}


class SourceAuditInline(AuditInline):
    fk_name = "source"


@admin.register(Source)
class SourceAdmin(CurationAdmin):
    list_display = (
        "name",
        "slug",
        "kind",
        "provider",
        "trust_rank",
        "enabled",
        "health",
        "last_success_at",
        "latest_run",
    )
    list_select_related = ("provider",)
    list_filter = (HealthFilter, "kind", "enabled")
    search_fields = ("name", "slug")
    actions = ("scrape_selected", "enable_selected", "disable_selected")
    readonly_fields = (
        "name",
        "slug",
        "kind",
        "provider",
        "trust_rank",
        "enabled",
        "health",
        "urls",
        "last_success_at",
        "last_record_count",
        "locked_until",
        "schedule",
        "recent_runs",
    )
    fields = readonly_fields
    inlines = (SourceAuditInline,)

    class Media:
        css = {"all": ("pricing/admin.css",)}

    def get_queryset(self, request: HttpRequest) -> QuerySet[Source]:
        return selectors.sources_with_health()

    @admin.display(description="health")
    def health(self, obj: Source) -> str:
        state = selectors.source_health(obj)
        return format_html('<strong class="health-{}">{}</strong>', state, HEALTH_MARKS[state])

    @admin.display(description="latest run")
    def latest_run(self, obj: Source) -> str:
        run = obj.latest_runs[0] if getattr(obj, "latest_runs", None) else None  # type: ignore[attr-defined]
        if run is None:
            return "—"
        return format_html(
            '<a href="{}">{} {}</a> {} records, {} changed, {} held{}',
            _admin_url(run),
            run.get_status_display(),
            run.started_at.strftime("%Y-%m-%d %H:%M"),
            run.records,
            run.changed,
            run.held,
            format_html("<br><small>{}</small>", run.error[:160]) if run.error else "",
        )

    @admin.display(description="schedule")
    def schedule(self, obj: Source) -> str:
        from django_celery_beat.models import PeriodicTask

        task = (
            PeriodicTask.objects.select_related("interval", "crontab")
            .filter(name=services.schedule_name(obj.slug))
            .first()
        )
        if task is None:
            return "no schedule (run manage.py sync_sources)"
        every = task.interval or task.crontab or "—"
        state = "on" if task.enabled else "paused"
        return format_html('<a href="{}">{} ({}; {})</a>', _admin_url(task), task.name, every, state)

    @admin.display(description="recent runs")
    def recent_runs(self, obj: Source) -> str:
        runs = list(ScrapeRun.objects.filter(source=obj).order_by("-started_at", "-id")[:20])
        if not runs:
            return "no runs yet"
        rows = format_html_join(
            "",
            '<tr><td><a href="{}">{}</a></td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td>'
            "<td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            (
                (
                    _admin_url(r),
                    r.pk,
                    r.started_at.strftime("%Y-%m-%d %H:%M"),
                    r.get_kind_display(),
                    r.get_status_display(),
                    r.records,
                    r.created,
                    r.changed,
                    r.held,
                    r.missing,
                    r.error[:200],
                )
                for r in runs
            ),
        )
        all_runs = reverse("admin:pricing_scraperun_changelist") + "?" + urlencode({"source__id__exact": obj.pk})
        return format_html(
            "<table><tr><th>run</th><th>started</th><th>kind</th><th>status</th><th>records</th><th>created</th>"
            '<th>changed</th><th>held</th><th>missing</th><th>error</th></tr>{}</table><a href="{}">all runs</a>',
            rows,
            all_runs,
        )

    def _runs_url(self, source: Source) -> str:
        return reverse("admin:pricing_scraperun_changelist") + "?" + urlencode({"source__id__exact": source.pk})

    @admin.action(description="Scrape selected sources now", permissions=["curate"])
    def scrape_selected(self, request: HttpRequest, queryset: QuerySet[Source]) -> HttpResponse | None:
        sources = list(queryset)
        for source in sources:
            self.perform(
                request,
                lambda source=source: curation.source_scrape_now(source=source, actor=request.user),  # type: ignore[misc]
                lambda task_id, source=source: f"Queued a scrape of {source} (task {task_id}).",  # type: ignore[misc]
            )
        if len(sources) == 1:
            return HttpResponseRedirect(self._runs_url(sources[0]))
        return None

    @admin.action(description="Enable selected sources…", permissions=["curate"])
    def enable_selected(self, request: HttpRequest, queryset: QuerySet[Source]) -> TemplateResponse | None:
        return self.reason_action(
            request,
            queryset,
            action="enable_selected",
            title="Enable sources",
            submit="Enable",
            required=False,
            call=lambda ids, reason: curation.sources_set_enabled(
                source_ids=ids, enabled=True, actor=request.user, reason=reason
            ),
            success=lambda n: f"Enabled {n} source(s) and their schedules.",
        )

    @admin.action(description="Disable selected sources…", permissions=["curate"])
    def disable_selected(self, request: HttpRequest, queryset: QuerySet[Source]) -> TemplateResponse | None:
        return self.reason_action(
            request,
            queryset,
            action="disable_selected",
            title="Disable sources",
            submit="Disable",
            required=False,
            call=lambda ids, reason: curation.sources_set_enabled(
                source_ids=ids, enabled=False, actor=request.user, reason=reason
            ),
            success=lambda n: f"Disabled {n} source(s) and paused their schedules.",
            description="A disabled source is not scraped, on schedule or by hand; its prices stay published.",
        )

    def get_urls(self) -> list[Any]:
        return [
            path("<int:object_id>/scrape/", self.curation_view(self.scrape_view), name="pricing_source_scrape"),
            path("<int:object_id>/toggle/", self.curation_view(self.toggle_view), name="pricing_source_toggle"),
            *super().get_urls(),
        ]

    def scrape_view(self, request: HttpRequest, object_id: int) -> HttpResponse:
        source = get_object_or_404(Source, pk=object_id)
        form = forms.Form(request.POST if request.method == "POST" else None)
        if request.method == "POST":
            done = self.perform(
                request,
                lambda: curation.source_scrape_now(source=source, actor=request.user),
                lambda task_id: f"Queued a scrape of {source} (task {task_id}); its run appears at the top of this "
                "list when a worker starts it.",
            )
            return HttpResponseRedirect(self._runs_url(source) if done else _admin_url(source))
        return self.form_page(
            request,
            title=f"Scrape {source} now",
            form=form,
            submit="Scrape now",
            obj=source,
            description="Queues one run outside the schedule. Prices change only through the "
            "ingest rules; suspicious changes wait in the review queue.",
        )

    def toggle_view(self, request: HttpRequest, object_id: int) -> HttpResponse:
        source = get_object_or_404(Source, pk=object_id)
        enable = not source.enabled
        form = ReasonForm(request.POST if request.method == "POST" else None)
        if request.method == "POST" and form.is_valid():
            self.perform(
                request,
                lambda: curation.sources_set_enabled(
                    source_ids=[source.pk], enabled=enable, actor=request.user, reason=form.cleaned_data["reason"]
                ),
                lambda n: f"{'Enabled' if enable else 'Disabled'} {source}.",
            )
            return HttpResponseRedirect(_admin_url(source))
        return self.form_page(
            request,
            title=f"{'Enable' if enable else 'Disable'} {source}",
            form=form,
            submit="Enable" if enable else "Disable",
            obj=source,
        )


@admin.register(ScrapeRun)
class ScrapeRunAdmin(CurationAdmin):
    list_display = (
        "id",
        "source",
        "kind",
        "status",
        "started_at",
        "duration",
        "http_status",
        "records",
        "created",
        "changed",
        "unchanged",
        "held",
        "missing",
        "short_error",
    )
    list_display_links = ("id",)
    list_select_related = ("source",)
    list_filter = ("status", "kind", "source", ("started_at", admin.DateFieldListFilter))
    search_fields = ("error", "content_hash")
    ordering = ("-started_at", "-id")

    def has_curate_permission(self, request: HttpRequest) -> bool:
        return False

    @admin.display(description="took")
    def duration(self, obj: ScrapeRun) -> str:
        if obj.finished_at is None:
            return "running" if obj.status == ScrapeRun.Status.RUNNING else "—"
        return f"{(obj.finished_at - obj.started_at).total_seconds():.1f} s"

    @admin.display(description="error")
    def short_error(self, obj: ScrapeRun) -> str:
        return obj.error[:120]


# --- the audit trail and reference data ---------------------------------------------------------------


@admin.register(AuditEntry)
class AuditEntryAdmin(CurationAdmin):
    list_display = ("at", "actor", "action", "subject", "reason")
    list_select_related = ("actor", "offering__provider", "model", "source", "price")
    list_filter = ("action", ("at", admin.DateFieldListFilter), ("actor", admin.RelatedOnlyFieldListFilter), "source")
    search_fields = (
        "reason",
        "offering__provider_model_id",
        "model__name",
        "model__slug",
        "source__slug",
        "actor__username",
    )
    readonly_fields = ("at", "actor", "action", "reason", "offering", "model", "source", "price_link", "details")
    fields = readonly_fields

    def has_curate_permission(self, request: HttpRequest) -> bool:
        return False

    @admin.display(description="on")
    def subject(self, obj: AuditEntry) -> str:
        parts = [_link(o) for o in (obj.offering, obj.model, obj.source) if o is not None]
        if obj.price_id:
            parts.append(format_html('<a href="{}">price {}</a>', _admin_url(obj.price), obj.price_id))
        return format_html_join(" · ", "{}", ((p,) for p in parts)) if parts else "—"

    @admin.display(description="price")
    def price_link(self, obj: AuditEntry) -> str:
        return _link(obj.price)


@admin.register(Provider)
class ProviderAdmin(CurationAdmin):
    list_display = ("name", "slug", "website")
    search_fields = ("name", "slug")


@admin.register(Tokenizer)
class TokenizerAdmin(CurationAdmin):
    list_display = ("name", "slug", "words_per_token", "chars_per_token", "provenance")
    list_filter = ("provenance",)
    search_fields = ("name", "slug")


@admin.register(TokenizerMeasurement)
class TokenizerMeasurementAdmin(CurationAdmin):
    list_display = (
        "tokenizer",
        "language",
        "words_per_token",
        "chars_per_token",
        "corpus_name",
        "tokenizer_version",
        "measured_at",
    )
    list_select_related = ("tokenizer",)
    list_filter = ("language", "tokenizer")


@admin.register(ExchangeRate)
class ExchangeRateAdmin(CurationAdmin):
    list_display = ("currency", "date", "units_per_eur", "source")
    list_filter = ("currency",)
    date_hierarchy = "date"

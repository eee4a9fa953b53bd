"""Canonical models: link every seller's offering of one model to one Model, where the evidence is certain.

Which model an id names is decided by :mod:`pricing.identity` (pure rules); this module only stores
the outcome. A certain identity links, and defines the Model if no seller has yet; an uncertain one
(an unknown creator, another seller's moving alias such as ``deepseek-chat``) becomes an
``AliasSuggestion`` for a curator when a Model with that key exists, never a link. Offerings that are
already linked (by an earlier run or a curator) are never touched. The Model's tokenizer is resolved
here too, so a newly scraped offering shows its measured words per token at once.
"""

from __future__ import annotations

import logging
import re
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from pricing.identity import Identity, identify
from pricing.models import AliasSuggestion, Model, Offering, Source
from pricing.openweights import open_weights

log = logging.getLogger(__name__)

# Notes a source may carry per offering that name the model more surely than its id (OpenRouter's).
HUGGING_FACE_ID_NOTE = "hugging_face_id"


def offering_identity(offering: Offering, *, notes: Mapping[str, Any] | None = None) -> Identity:
    """What ``offering`` sells, by its seller's id, name, creator hint and a source's notes."""
    return identify(
        offering.provider_model_id,
        seller=offering.provider.slug,
        name=offering.name,
        creator_hint=offering.creator_hint,
        hugging_face_id=str((notes or {}).get(HUGGING_FACE_ID_NOTE) or ""),
    )


def models_link(
    *,
    offerings: Sequence[Offering],
    official_source: Source | None = None,
    notes: Mapping[int, Mapping[str, Any]] | None = None,
) -> int:
    """Link the unlinked ``offerings`` to their canonical Models and return how many were linked.

    ``notes`` (by offering id) carries what a source states beyond the id, e.g. OpenRouter's
    ``hugging_face_id``. A constant number of queries per call, whatever the number of offerings.
    """
    unlinked = [o for o in offerings if o.model_id is None]
    if not unlinked:
        return 0
    identities = {o.pk: offering_identity(o, notes=(notes or {}).get(o.pk)) for o in unlinked}
    certain = [o for o in unlinked if identities[o.pk].certain and identities[o.pk].key]
    pairs = {identities[o.pk].pair for o in certain}
    models = _models_by_pair(pairs)
    to_define: dict[tuple[str, str], list[Offering]] = defaultdict(list)
    for offering in certain:
        if identities[offering.pk].pair not in models:
            to_define[identities[offering.pk].pair].append(offering)
    if to_define:
        _models_create(to_define, identities, official_source)
        models = _models_by_pair(pairs)
    linked = []
    for offering in certain:
        model = models.get(identities[offering.pk].pair)
        if model is not None:
            offering.model = model
            linked.append(offering)
    if linked:
        Offering.objects.bulk_update(linked, ["model"], batch_size=1000)
        _tokenizers_resolve({o.model_id: o.model for o in linked if o.model}.values(), linked)
    # By id: ``o not in linked`` compares model instances pairwise (quadratic; 2.5M comparisons, most of an
    # ingest of the LiteLLM file).
    linked_ids = {o.pk for o in linked}
    _suggest([o for o in unlinked if o.pk not in linked_ids], identities)
    return len(linked)


def models_link_all(*, batch_size: int = 2000) -> int:
    """Link every unlinked offering in the database (after new rules, or for a database made before them)."""
    linked = 0
    ids = list(Offering.objects.filter(model__isnull=True).values_list("id", flat=True))
    for start in range(0, len(ids), batch_size):
        batch = list(Offering.objects.select_related("provider").filter(id__in=ids[start : start + batch_size]))
        linked += models_link(offerings=batch)
    return linked


def models_open_weights_fill() -> int:
    """Give every Model without an open-weights value the one :mod:`pricing.openweights` knows (a curator's
    value, or an earlier fill, is never overwritten); returns how many were filled."""
    filled = []
    for model in Model.objects.filter(open_weights__isnull=True).only("id", "creator", "identity_key", "slug"):
        value = open_weights(creator=model.creator, key=model.identity_key or model.slug)
        if value is not None:
            model.open_weights = value
            filled.append(model)
    Model.objects.bulk_update(filled, ["open_weights"], batch_size=1000)
    return len(filled)


def _models_by_pair(pairs: set[tuple[str, str]]) -> dict[tuple[str, str], Model]:
    if not pairs:
        return {}
    rows = Model.objects.filter(
        creator__in={c for c, _ in pairs}, identity_key__in={k for _, k in pairs}
    ).select_related("tokenizer")
    found: dict[tuple[str, str], Model] = {}
    for model in rows.order_by("id"):
        found.setdefault((model.creator, model.identity_key), model)
    return {pair: found[pair] for pair in pairs if pair in found}


def _models_create(
    to_define: Mapping[tuple[str, str], list[Offering]],
    identities: Mapping[int, Identity],
    official_source: Source | None,
) -> None:
    new_models = []
    for (creator, key), group in to_define.items():
        definer = min(group, key=lambda o: _definer_rank(o, creator, official_source))
        new_models.append(
            Model(
                slug=_model_slug(key),
                name=_display_name(definer, key)[:200],
                creator=creator,
                identity_key=key,
                match_key=re.sub(r"[^a-z0-9]", "", key)[:160],
                context_window=definer.context_window,
                open_weights=open_weights(creator=creator, key=key),
            )
        )
    wanted = {m.slug for m in new_models} | {_qualified_slug(m) for m in new_models}
    taken = set(Model.objects.filter(slug__in=wanted).values_list("slug", flat=True))
    for model in new_models:
        if model.slug in taken:  # another creator's model has this name: qualify ours
            model.slug = _qualified_slug(model)
        while model.slug in taken:
            model.slug = f"{model.slug[:150]}-{len(taken)}"
        taken.add(model.slug)
    Model.objects.bulk_create(new_models, ignore_conflicts=True)


def _definer_rank(offering: Offering, creator: str, official_source: Source | None) -> tuple[int, str]:
    """Who names a new Model: the creator's own offering, then a source's display name, then any id."""
    first_party = offering.provider.slug.replace("_", "-") in {creator, creator.split("-")[0]}
    named = bool(offering.name) and offering.name != offering.provider_model_id
    return (0 if first_party else 1 if named else 2, offering.provider_model_id)


def _display_name(offering: Offering, key: str) -> str:
    name = offering.name if offering.name and offering.name != offering.provider_model_id else ""
    if name:
        # OpenRouter writes "Meta: Llama 3.3 70B Instruct (free)": the creator and the variant are not the name.
        name = re.sub(r"^[^:]{1,40}:\s+", "", name)
        return re.sub(r"\s*\((free|beta|self-moderated|thinking|extended)\)$", "", name, flags=re.IGNORECASE)
    tail = offering.provider_model_id.split("/")[-1].split(":")[0]
    return tail if len(tail) >= len(key) - 4 else key


def _qualified_slug(model: Model) -> str:
    # The creator as a slug too: a creator spelled "hf:zai-org" must not put a ':' in a URL.
    return _model_slug(f"{model.creator}-{model.slug}")


def models_slugs_repair() -> int:
    """Give every Model whose slug is no URL slug (made before qualified slugs were slugified) a valid one."""
    valid = re.compile(r"[-a-zA-Z0-9_]+")
    broken = [m for m in Model.objects.only("id", "slug") if not valid.fullmatch(m.slug)]
    taken = set(Model.objects.values_list("slug", flat=True))
    for model in broken:
        slug = _model_slug(model.slug)
        while slug in taken:
            slug = f"{slug[:150]}-{len(taken)}"
        taken.add(slug)
        model.slug = slug
    Model.objects.bulk_update(broken, ["slug"], batch_size=500)
    return len(broken)


def _model_slug(key: str) -> str:
    # "deepseek-v-3.1" -> "deepseek-v3-1": the key's split of letter and number joined again for reading.
    joined = re.sub(r"\b([a-z])-(\d)", r"\1\2", key)
    return re.sub(r"[^a-z0-9]+", "-", joined.lower()).strip("-")[:150] or "model"


def _tokenizers_resolve(models: Iterable[Model], offerings: Sequence[Offering]) -> None:
    """Give each Model without a tokenizer the one its name, creator or a source's hint names."""
    pending = [m for m in models if m.tokenizer_id is None and m.tokenizer_rule != "curator"]
    if not pending:
        return
    from pricing import measurement  # measurement imports services: import at call time

    hints: dict[int, list[str]] = defaultdict(list)
    for offering in offerings:
        if offering.tokenizer_hint and offering.model_id:
            hints[offering.model_id].append(offering.tokenizer_hint)
    tokenizers = measurement.tokenizers_sync()
    changed = []
    for model in pending:
        resolved = measurement.tokenizer_resolve(
            model_slug=model.identity_key or model.slug,
            model_name=model.name,
            creator=model.creator,
            hints=hints[model.pk],
        )
        if resolved is not None:
            model.tokenizer = tokenizers[resolved.slug]
            model.tokenizer_rule = resolved.rule[:120]
            changed.append(model)
    if changed:
        Model.objects.bulk_update(changed, ["tokenizer", "tokenizer_rule"], batch_size=500)


def _suggest(unlinked: Sequence[Offering], identities: Mapping[int, Identity]) -> int:
    """Uncertain identities whose key a Model already has: a suggestion each, for a curator to decide."""
    keyed = {o.pk: identities[o.pk] for o in unlinked if identities[o.pk].key}
    if not keyed:
        return 0
    candidates: dict[str, list[Model]] = defaultdict(list)
    for model in Model.objects.filter(identity_key__in={i.key for i in keyed.values()}).only(
        "id", "creator", "identity_key"
    ):
        candidates[model.identity_key].append(model)
    suggestions = []
    for offering_id, identity in keyed.items():
        matches = [m for m in candidates.get(identity.key, []) if not identity.creator or m.creator == identity.creator]
        for model in matches[:3]:
            reason = f"same model key {identity.key!r}; not linked: {identity.reason}"
            suggestions.append(AliasSuggestion(offering_id=offering_id, model=model, reason=reason[:300]))
    AliasSuggestion.objects.bulk_create(suggestions, ignore_conflicts=True, batch_size=1000)
    return len(suggestions)

"""Canonical models: link offerings of one model across providers where the evidence is certain."""

from __future__ import annotations

import logging
import re
from collections import defaultdict
from collections.abc import Sequence

from pricing.models import Model, Offering, Source
from providers.base import match_key

log = logging.getLogger(__name__)


# --- canonical models ---------------------------------------------------------------------------------


def models_link(*, offerings: Sequence[Offering], official_source: Source) -> int:
    """Link offerings to canonical Models where the match is certain; leave the rest to curators.

    An official source's first-party offering (its provider made the model) defines the Model. A
    reseller's offering named ``creator/id`` links to the Model of that creator with the same id after
    normalising case and separators. Nothing else is guessed.
    """
    unlinked = [o for o in offerings if o.model_id is None]
    if not unlinked:
        return 0
    first_party_provider = official_source.provider_id if official_source.kind == Source.Kind.OFFICIAL else None
    wanted: dict[tuple[str, str], list[Offering]] = defaultdict(list)
    to_define: dict[tuple[str, str], Offering] = {}
    for offering in unlinked:
        seller = offering.provider.slug
        named_creator = offering.provider_model_id.split("/", 1)[0].lower() if "/" in offering.provider_model_id else ""
        if named_creator and named_creator != seller:
            wanted[_reseller_key(offering.provider_model_id)].append(offering)
        elif offering.provider_id == first_party_provider and (offering.creator_hint or seller) == seller:
            key = (seller, offering.match_key)
            to_define.setdefault(key, offering)
            wanted[key].append(offering)
    if not wanted:
        return 0
    existing = {
        (m.creator, m.match_key): m
        for m in Model.objects.filter(match_key__in={k for _, k in wanted}, creator__in={c for c, _ in wanted})
    }
    new_models = [
        Model(
            slug=_model_slug(offering.provider_model_id),
            name=offering.name or offering.provider_model_id,
            creator=key[0],
            match_key=key[1],
            context_window=offering.context_window,
        )
        for key, offering in to_define.items()
        if key not in existing
    ]
    if new_models:
        taken = set(Model.objects.filter(slug__in=[m.slug for m in new_models]).values_list("slug", flat=True))
        for model in new_models:
            if model.slug in taken:  # another creator's model has this name: qualify ours
                model.slug = f"{model.creator}-{model.slug}"[:160]
            taken.add(model.slug)
        Model.objects.bulk_create(new_models, ignore_conflicts=True)
        existing = {
            (m.creator, m.match_key): m
            for m in Model.objects.filter(match_key__in={k for _, k in wanted}, creator__in={c for c, _ in wanted})
        }
        # Resellers seen before the creator's own page defined these models link to them now, so the
        # outcome does not depend on which source ran first.
        new_keys = {(m.creator, m.match_key) for m in new_models}
        for earlier in Offering.objects.filter(model__isnull=True, provider_model_id__contains="/").only(
            "id", "provider_model_id", "model"
        ):
            if (key := _reseller_key(earlier.provider_model_id)) in new_keys:
                wanted[key].append(earlier)
    linked = []
    for key, group in wanted.items():
        canonical = existing.get(key)
        if canonical is not None:
            for offering in group:
                offering.model = canonical
                linked.append(offering)
    if linked:
        Offering.objects.bulk_update(linked, ["model"], batch_size=1000)
    return len(linked)


def _reseller_key(model_id: str) -> tuple[str, str]:
    """``openai/gpt-4o:free`` -> ("openai", "gpt4o"): the creator and the model a reseller's id names."""
    creator_slug, rest = model_id.split("/", 1)
    return creator_slug.lower(), match_key(rest.split(":", 1)[0])


def _model_slug(model_id: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", model_id.lower()).strip("-")[:150] or "model"

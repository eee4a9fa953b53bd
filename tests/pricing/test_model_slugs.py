"""Model slugs are URL slugs whatever the creator's spelling: a page linking a model never fails to reverse."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from pricing.models import Model
from pricing.services.linking import models_link, models_slugs_repair
from tests.factories import ModelFactory, OfferingFactory, ProviderFactory

pytestmark = pytest.mark.django_db
SLUG = re.compile(r"[-a-zA-Z0-9_]+")


def test_a_second_creators_model_of_the_same_name_gets_a_url_slug():
    ModelFactory(slug="glm-4-6", creator="z-ai", identity_key="glm-4.6")
    seller = ProviderFactory(slug="synthetic")
    offering = OfferingFactory(provider=seller, provider_model_id="hf:zai-org/GLM-4.6", creator_hint="")

    models_link(offerings=[offering])

    offering.refresh_from_db()
    assert offering.model is not None
    reverse("web:model", args=[offering.model.slug])
    assert all(SLUG.fullmatch(slug) for slug in Model.objects.values_list("slug", flat=True))


def test_the_repair_gives_broken_slugs_valid_unique_ones():
    ModelFactory(slug="hf-zai-org-glm-4-6")
    broken = ModelFactory(slug="hf:zai-org-glm-4-6")
    other = ModelFactory(slug="fine-slug")

    assert models_slugs_repair() == 1

    broken.refresh_from_db()
    assert SLUG.fullmatch(broken.slug) and broken.slug != "hf-zai-org-glm-4-6"
    reverse("web:model", args=[broken.slug])
    assert Model.objects.get(pk=other.pk).slug == "fine-slug"

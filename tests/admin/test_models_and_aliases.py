"""Canonical models: suggestions accepted or rejected, links by hand, merges and tokenizers."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse

from pricing import curation
from pricing.models import AliasSuggestion, AuditEntry, Model, Offering
from tests.factories import ModelFactory, OfferingFactory, ProviderFactory, TokenizerFactory

pytestmark = pytest.mark.django_db

SUGGESTIONS = reverse("admin:pricing_aliassuggestion_changelist")


@pytest.fixture
def llama() -> Model:
    return ModelFactory(slug="llama-3-1-405b", name="Llama 3.1 405B", creator="meta-llama")


@pytest.fixture
def resold() -> Offering:
    return OfferingFactory(
        provider=ProviderFactory(slug="together"), provider_model_id="meta-llama/Meta-Llama-3.1-405B-Instruct-Turbo"
    )


def test_it_suggests_a_model_with_the_same_normalised_id(curator_client, llama):
    offering = OfferingFactory(
        provider=ProviderFactory(slug="openrouter"), provider_model_id="meta-llama/llama-3.1-405b"
    )
    OfferingFactory(provider_model_id="something-else")

    response = curator_client.post(reverse("admin:pricing_aliassuggestion_suggest"), {})

    assert response.status_code == 302
    [suggestion] = AliasSuggestion.objects.all()
    assert (suggestion.offering, suggestion.model, suggestion.status) == (offering, llama, "pending")
    assert "same normalised id" in suggestion.reason and "meta-llama" in suggestion.reason


def test_it_suggests_a_dated_id_for_the_undated_model():
    model = ModelFactory(slug="claude-3-5-sonnet", creator="anthropic")
    offering = OfferingFactory(provider_model_id="anthropic/claude-3-5-sonnet-20240620")

    assert curation.aliases_suggest() == 1

    suggestion = AliasSuggestion.objects.get()
    assert (suggestion.offering, suggestion.model) == (offering, model)
    assert "date stamp" in suggestion.reason


def test_it_does_not_suggest_the_same_link_twice(llama):
    OfferingFactory(provider_model_id="meta-llama/llama-3.1-405b")

    assert curation.aliases_suggest() == 1
    assert curation.aliases_suggest() == 0


def test_it_links_an_offering_when_a_curator_accepts_a_suggestion(curator_client, curator, llama, resold):
    other = ModelFactory(slug="llama-3-1-405b-instruct", creator="meta-llama")
    chosen = AliasSuggestion.objects.create(offering=resold, model=llama, reason="same family")
    rival = AliasSuggestion.objects.create(offering=resold, model=other, reason="same family")

    response = curator_client.post(
        SUGGESTIONS, {"action": "accept_selected", "_selected_action": [chosen.pk], "index": 0}
    )

    assert response.status_code == 302
    resold.refresh_from_db()
    assert resold.model == llama
    chosen.refresh_from_db()
    rival.refresh_from_db()
    assert (chosen.status, chosen.decided_by) == ("accepted", curator)
    assert rival.status == "rejected"
    entry = AuditEntry.objects.get(action=AuditEntry.Action.ALIAS)
    assert (entry.actor, entry.offering, entry.model) == (curator, resold, llama)


def test_it_refuses_two_suggestions_for_one_offering_at_once(curator_client, llama, resold):
    other = ModelFactory(slug="other", creator="meta-llama")
    ids = [AliasSuggestion.objects.create(offering=resold, model=m, reason="x").pk for m in (llama, other)]

    response = curator_client.post(
        SUGGESTIONS, {"action": "accept_selected", "_selected_action": ids, "index": 0}, follow=True
    )

    assert "one suggestion per offering" in response.content.decode()
    resold.refresh_from_db()
    assert resold.model is None


def test_it_rejects_a_suggestion_and_audits_it(curator_client, curator, llama, resold):
    suggestion = AliasSuggestion.objects.create(offering=resold, model=llama, reason="same family")

    curator_client.post(
        SUGGESTIONS,
        {
            "action": "reject_selected",
            "_selected_action": [suggestion.pk],
            "post": "yes",
            "reason": "the turbo variant is quantised",
        },
    )

    suggestion.refresh_from_db()
    assert suggestion.status == "rejected"
    resold.refresh_from_db()
    assert resold.model is None
    entry = AuditEntry.objects.get()
    assert (entry.action, entry.reason, entry.actor) == ("alias_reject", "the turbo variant is quantised", curator)


def test_it_links_an_offering_by_hand_from_its_page(curator_client, curator, llama, resold):
    response = curator_client.post(
        reverse("admin:pricing_offering_change", args=[resold.pk]),
        {
            "model": llama.pk,
            **inline_management("prices"),
            **inline_management("audit"),
        },
    )

    assert response.status_code == 302, response.context and response.context["errors"]
    resold.refresh_from_db()
    assert resold.model == llama
    assert AuditEntry.objects.get().action == "alias"


def inline_management(prefix: str) -> dict[str, str]:
    return {
        f"{prefix}-TOTAL_FORMS": "0",
        f"{prefix}-INITIAL_FORMS": "0",
        f"{prefix}-MIN_NUM_FORMS": "0",
        f"{prefix}-MAX_NUM_FORMS": "1000",
    }


def test_it_merges_duplicate_models_into_the_one_kept(curator_client, curator):
    tokenizer = TokenizerFactory(slug="llama3")
    keep = ModelFactory(slug="deepseek-v3", creator="deepseek")
    duplicate = ModelFactory(slug="deepseek-v3-0324", creator="deepseek", tokenizer=tokenizer, context_window=64000)
    linked = OfferingFactory(model=duplicate)
    changelist = reverse("admin:pricing_model_changelist")
    data = {"action": "merge_selected", "_selected_action": [keep.pk, duplicate.pk]}

    refused = curator_client.post(changelist, {**data, "post": "yes", "keep": keep.pk, "reason": ""})
    done = curator_client.post(changelist, {**data, "post": "yes", "keep": keep.pk, "reason": "same weights"})

    assert refused.status_code == 200 and "Reason is required." in refused.content.decode()
    assert done.status_code == 302
    assert not Model.objects.filter(pk=duplicate.pk).exists()
    linked.refresh_from_db()
    keep.refresh_from_db()
    assert linked.model == keep
    assert (keep.tokenizer, keep.context_window) == (tokenizer, 64000)
    entry = AuditEntry.objects.get()
    assert (entry.action, entry.model, entry.reason) == ("merge", keep, "same weights")
    assert entry.details["merged"][0]["slug"] == "deepseek-v3-0324"


def test_it_sets_a_models_tokenizer_through_the_audited_service(curator_client, curator):
    tokenizer = TokenizerFactory(slug="o200k", words_per_token=Decimal("0.8"))
    model = ModelFactory(slug="gpt-4o", creator="openai")

    response = curator_client.post(
        reverse("admin:pricing_model_change", args=[model.pk]),
        {
            "name": model.name,
            "creator": "openai",
            "tokenizer": tokenizer.pk,
            "context_window": "",
            "open_weights": "unknown",
            **inline_management("offerings"),
            **inline_management("audit"),
        },
    )

    assert response.status_code == 302, response.context and response.context["errors"]
    model.refresh_from_db()
    assert model.tokenizer == tokenizer
    entry = AuditEntry.objects.get()
    assert (entry.action, entry.actor, entry.details["words_per_token"]) == ("tokenizer", curator, "0.80000")

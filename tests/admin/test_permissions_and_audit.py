"""Who reaches the admin and what they may decide; the audit trail as curators read it."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.contrib.auth.models import Group, User
from django.core.management import CommandError, call_command
from django.urls import reverse

from pricing import curation
from pricing.models import AliasSuggestion, AuditEntry, Price, Source
from tests.admin.conftest import ingest, scraped
from tests.factories import ModelFactory, OfferingFactory, PriceFactory, SourceFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def held():
    ingest(scraped("0.27"))
    ingest(scraped("2.70"))
    return Price.objects.get(status="held")


def test_it_sends_the_public_to_the_login_page(client, held):
    for url in (
        reverse("admin:index"),
        reverse("admin:pricing_price_changelist"),
        reverse("admin:pricing_price_approve", args=[held.pk]),
    ):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("admin:login"))


def test_it_refuses_every_curation_page_to_staff_who_are_not_curators(staff_client, held):
    offering = held.offering
    source = Source.objects.get(slug="deepseek")
    pages = [
        reverse("admin:pricing_price_changelist"),
        reverse("admin:pricing_price_approve", args=[held.pk]),
        reverse("admin:pricing_price_reject", args=[held.pk]),
        reverse("admin:pricing_offering_override", args=[offering.pk]),
        reverse("admin:pricing_offering_lock", args=[offering.pk]),
        reverse("admin:pricing_aliassuggestion_suggest"),
        reverse("admin:pricing_source_scrape", args=[source.pk]),
        reverse("admin:pricing_source_toggle", args=[source.pk]),
        reverse("admin:pricing_auditentry_changelist"),
    ]
    for url in pages:
        assert staff_client.get(url).status_code == 403, url
        assert staff_client.post(url, {"reason": "x"}).status_code == 403, url


def test_it_changes_nothing_when_a_non_curator_posts_a_decision(staff_client, held):
    staff_client.post(reverse("admin:pricing_price_approve", args=[held.pk]), {})
    staff_client.post(
        reverse("admin:pricing_price_changelist"),
        {"action": "approve_selected", "_selected_action": [held.pk], "index": 0},
    )

    held.refresh_from_db()
    assert held.status == "held" and held.superseded_at is None
    assert not AuditEntry.objects.exists()


def test_it_lets_a_view_only_user_see_the_queue_but_not_decide(client, held):
    viewer = User.objects.create_user("vic", is_staff=True)
    viewer.user_permissions.add(*Group.objects.get(name="curators").permissions.filter(codename__startswith="view_"))
    client.force_login(viewer)

    page = client.get(reverse("admin:pricing_price_changelist"))
    decision = client.post(reverse("admin:pricing_price_approve", args=[held.pk]), {})

    assert page.status_code == 200
    assert "approve_selected" not in page.content.decode()
    assert decision.status_code == 403


def test_it_gives_curators_exactly_the_permissions_curation_needs():
    permissions = {
        f"{p.content_type.app_label}.{p.codename}" for p in Group.objects.get(name="curators").permissions.all()
    }

    assert permissions == {
        *(
            f"pricing.view_{m}"
            for m in (
                "provider",
                "tokenizer",
                "tokenizermeasurement",
                "exchangerate",
                "scraperun",
                "auditentry",
                "price",
                "offering",
                "model",
                "aliassuggestion",
                "source",
            )
        ),
        "pricing.change_price",
        "pricing.change_offering",
        "pricing.change_model",
        "pricing.add_model",
        "pricing.change_aliassuggestion",
        "pricing.change_source",
        "django_celery_beat.view_periodictask",
        "django_celery_beat.change_periodictask",
        "django_celery_beat.view_intervalschedule",
        "django_celery_beat.add_intervalschedule",
        "django_celery_beat.view_crontabschedule",
        "django_celery_beat.add_crontabschedule",
        # Failed sign-ins, and unlocking a locked-out colleague (migration 0007).
        "axes.view_accessattempt",
        "axes.delete_accessattempt",
        "axes.view_accesslog",
        "axes.view_accessfailurelog",
        # Issuing API keys, registering and pausing webhook subscriptions, reading deliveries (webhooks 0002).
        "webhooks.view_apikey",
        "webhooks.add_apikey",
        "webhooks.change_apikey",
        "webhooks.view_webhooksubscription",
        "webhooks.add_webhooksubscription",
        "webhooks.change_webhooksubscription",
        "webhooks.view_webhookdelivery",
    }
    assert not any(p.endswith(("delete_auditentry", "change_auditentry", "add_price")) for p in permissions)


def test_it_lets_a_curator_edit_a_sources_schedule(curator_client):
    from django_celery_beat.models import PeriodicTask

    from pricing import services

    services.sources_sync()
    task = PeriodicTask.objects.get(name=services.schedule_name("deepseek"))

    response = curator_client.get(reverse("admin:django_celery_beat_periodictask_change", args=[task.pk]))

    assert response.status_code == 200
    assert 'name="_save"' in response.content.decode()


def test_it_lists_and_filters_the_audit_trail(curator_client, curator, held):
    curation.price_reject(price_id=held.pk, actor=curator, reason="misread")
    curation.offerings_set_locked(offering_ids=[held.offering_id], locked=True, actor=curator, reason="disputed")
    url = reverse("admin:pricing_auditentry_changelist")

    everything = curator_client.get(url)
    rejections = curator_client.get(url, {"action__exact": "reject"})
    searched = curator_client.get(url, {"q": "disputed"})

    assert everything.status_code == 200
    page = everything.content.decode()
    assert "carol" in page and "misread" in page and "deepseek-chat @ deepseek" in page
    assert [e.action for e in rejections.context["cl"].result_list] == ["reject"]
    assert [e.action for e in searched.context["cl"].result_list] == ["lock"]


def test_it_shows_the_audit_trail_on_the_price_it_concerns(curator_client, curator, held):
    curation.price_reject(price_id=held.pk, actor=curator, reason="batch price, not standard")

    page = curator_client.get(reverse("admin:pricing_price_change", args=[held.pk])).content.decode()

    assert "batch price, not standard" in page
    assert "Approve" not in page  # decided: no more buttons


def test_it_runs_a_constant_number_of_queries_on_every_list_page(
    curator_client, curator, django_assert_max_num_queries
):
    source = SourceFactory()
    for n in range(25):
        model = ModelFactory()
        offering = OfferingFactory(provider=source.provider, model=model if n % 2 else None)
        price = PriceFactory(offering=offering, source=source, amount_per_mtok=Decimal("1"))
        AliasSuggestion.objects.create(offering=offering, model=model, reason="same id")
        AuditEntry.objects.create(
            actor=curator, action="override", offering=offering, model=model, price=price, source=source
        )

    for name in ("offering", "model", "aliassuggestion", "auditentry", "price", "provider", "tokenizer"):
        with django_assert_max_num_queries(12):
            response = curator_client.get(
                reverse(f"admin:pricing_{name}_changelist"), {"queue": "all"} if name == "price" else {}
            )
        assert response.status_code == 200, name


def test_it_creates_a_curator_account_with_the_management_command(monkeypatch):
    monkeypatch.setenv("CURATOR_PASSWORD", "a long enough passphrase 42")

    call_command("create_curator", "dana", "--email", "dana@example.org", "--no-input")

    user = User.objects.get(username="dana")
    assert user.is_staff and not user.is_superuser
    assert user.check_password("a long enough passphrase 42")
    assert list(user.groups.values_list("name", flat=True)) == ["curators"]
    assert user.has_perm("pricing.change_price") and not user.has_perm("pricing.delete_price")


def test_it_adds_an_existing_user_to_the_curators_without_a_new_password(monkeypatch):
    monkeypatch.delenv("CURATOR_PASSWORD", raising=False)
    User.objects.create_user("erin", password="old password 1234")

    call_command("create_curator", "erin", "--no-input")

    user = User.objects.get(username="erin")
    assert user.is_staff and user.check_password("old password 1234")
    assert user.groups.filter(name="curators").exists()


def test_it_creates_a_curator_without_a_usable_password_when_none_is_given(monkeypatch):
    monkeypatch.delenv("CURATOR_PASSWORD", raising=False)

    call_command("create_curator", "finn", "--no-input")

    assert not User.objects.get(username="finn").has_usable_password()


def test_it_says_to_migrate_when_the_curators_group_is_missing():
    Group.objects.filter(name="curators").delete()

    with pytest.raises(CommandError, match=r"run `manage\.py migrate` first"):
        call_command("create_curator", "gil", "--no-input")

    assert not User.objects.filter(username="gil").exists()

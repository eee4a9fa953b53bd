"""Sources: disabled and enabled with their schedules, run by hand, their health and run history."""

from __future__ import annotations

import datetime as dt
from unittest import mock

import pytest
from django.urls import reverse
from django.utils import timezone
from django_celery_beat.models import PeriodicTask

from pricing import services
from pricing.celery import app
from pricing.models import AuditEntry, Price, ScrapeRun, Source
from providers.http import FetchResult
from tests.factories import ScrapeRunFactory, SourceFactory

pytestmark = pytest.mark.django_db

SOURCES = reverse("admin:pricing_source_changelist")


@pytest.fixture
def deepseek() -> Source:
    services.sources_sync()
    return Source.objects.get(slug="deepseek")


@pytest.fixture
def deepseek_pages(fixture_bytes):
    """The network, answered by the pages we saved (English and Chinese)."""
    pages = {
        "https://api-docs.deepseek.com/quick_start/pricing": fixture_bytes("providers/deepseek/pricing_en.html"),
        "https://api-docs.deepseek.com/zh-cn/quick_start/pricing": fixture_bytes(
            "providers/deepseek/pricing_zh_cn.html"
        ),
    }

    def fetch(url, **kwargs):
        return FetchResult(url, 200, pages[url], "text/html", "", "", 5)

    with mock.patch("providers.http.fetch", side_effect=fetch) as fake:
        yield fake


@pytest.fixture
def eager_celery(settings):
    """Run queued tasks in the test's process, so "scrape now" really scrapes (and no broker is touched)."""
    settings.CELERY_TASK_ALWAYS_EAGER = True
    assert app.conf.task_always_eager


def test_it_disables_a_source_and_pauses_its_schedule(curator_client, curator, deepseek):
    data = {"action": "disable_selected", "_selected_action": [deepseek.pk]}

    asked = curator_client.post(SOURCES, {**data, "index": 0})
    done = curator_client.post(SOURCES, {**data, "post": "yes", "reason": "page redesign, parser broken"})

    assert asked.status_code == 200 and done.status_code == 302
    deepseek.refresh_from_db()
    assert not deepseek.enabled
    assert not PeriodicTask.objects.get(name=services.schedule_name("deepseek")).enabled
    assert PeriodicTask.objects.get(name=services.schedule_name("openai")).enabled
    entry = AuditEntry.objects.get()
    assert (entry.action, entry.source, entry.actor, entry.details) == ("source", deepseek, curator, {"enabled": False})
    assert "disabled" in curator_client.get(SOURCES).content.decode()


def test_it_refuses_to_run_a_disabled_source_by_hand(curator_client, deepseek, deepseek_pages, eager_celery):
    Source.objects.filter(pk=deepseek.pk).update(enabled=False)

    response = curator_client.post(reverse("admin:pricing_source_scrape", args=[deepseek.pk]), {}, follow=True)

    assert "is disabled: enable it before running it by hand" in response.content.decode()
    assert not ScrapeRun.objects.exists()
    assert not deepseek_pages.called


def test_it_runs_a_source_by_hand_and_shows_its_run(curator_client, curator, deepseek, deepseek_pages, eager_celery):
    Source.objects.filter(pk=deepseek.pk).update(enabled=False)
    curator_client.post(reverse("admin:pricing_source_toggle", args=[deepseek.pk]), {"reason": "parser fixed"})

    response = curator_client.post(reverse("admin:pricing_source_scrape", args=[deepseek.pk]), {}, follow=True)

    run = ScrapeRun.objects.get(source=deepseek)
    assert run.status == ScrapeRun.Status.SUCCEEDED and run.created > 0
    assert Price.objects.filter(source=deepseek, status="published").count() == run.created
    assert (
        response.redirect_chain[-1][0]
        == f"{reverse('admin:pricing_scraperun_changelist')}?source__id__exact={deepseek.pk}"
    )
    page = response.content.decode()
    assert "Queued a scrape of DeepSeek pricing page" in page
    assert list(response.context["cl"].result_list) == [run]
    assert list(AuditEntry.objects.order_by("id").values_list("action", flat=True)) == ["source", "scrape"]
    assert AuditEntry.objects.get(action="scrape").actor == curator


def test_it_enqueues_the_scrape_task_with_the_sources_slug(curator_client, deepseek):
    with mock.patch("pricing.tasks.scrape_source.delay") as delay:
        delay.return_value.id = "task-1"
        response = curator_client.post(
            SOURCES, {"action": "scrape_selected", "_selected_action": [deepseek.pk], "index": 0}, follow=True
        )

    delay.assert_called_once_with("deepseek")
    assert "Queued a scrape of DeepSeek pricing page (task task-1)" in response.content.decode()
    assert AuditEntry.objects.get().details == {"task_id": "task-1"}


def test_it_says_so_when_the_broker_is_down(curator_client, deepseek):
    with mock.patch("pricing.tasks.scrape_source.delay", side_effect=OSError("connection refused")):
        response = curator_client.post(reverse("admin:pricing_source_scrape", args=[deepseek.pk]), {}, follow=True)

    assert response.status_code == 200
    assert "could not queue a scrape of deepseek pricing page: connection refused" in response.content.decode().lower()
    assert not AuditEntry.objects.exists()


def test_it_marks_failing_and_stale_sources(curator_client):
    now = timezone.now()
    failing = SourceFactory(slug="failing", last_success_at=now)
    ScrapeRunFactory(source=failing, status=ScrapeRun.Status.FAILED, error="layout changed? no table")
    SourceFactory(slug="stale", last_success_at=now - dt.timedelta(days=30))
    SourceFactory(slug="fine", last_success_at=now)

    page = curator_client.get(SOURCES).content.decode()
    failing_only = curator_client.get(SOURCES, {"health": "failing"}).context["cl"].result_list
    stale_only = curator_client.get(SOURCES, {"health": "stale"}).context["cl"].result_list

    assert "✖ failing" in page and "⚠ stale" in page and "✔ ok" in page
    assert "layout changed? no table" in page
    assert [s.slug for s in failing_only] == ["failing"]
    assert [s.slug for s in stale_only] == ["stale"]


def test_it_shows_a_sources_schedule_and_run_history(curator_client, deepseek):
    ScrapeRunFactory(source=deepseek, status=ScrapeRun.Status.FAILED, error="HTTP 503")

    page = curator_client.get(reverse("admin:pricing_source_change", args=[deepseek.pk])).content.decode()

    assert services.schedule_name("deepseek") in page
    assert "HTTP 503" in page
    assert "Scrape now" in page and "Disable" in page


def test_it_runs_a_constant_number_of_queries_on_the_source_and_run_lists(
    curator_client, django_assert_max_num_queries
):
    for n in range(15):
        source = SourceFactory(slug=f"s{n}")
        ScrapeRunFactory(source=source)
        ScrapeRunFactory(source=source, status=ScrapeRun.Status.FAILED)

    with django_assert_max_num_queries(10):
        curator_client.get(SOURCES)
    with django_assert_max_num_queries(10):
        curator_client.get(reverse("admin:pricing_scraperun_changelist"))

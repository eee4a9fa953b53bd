"""``manage.py scrape``: the scrape contract of DESIGN.md, through call_command and as a real process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from decimal import Decimal
from io import StringIO
from pathlib import Path
from unittest import mock

import pytest
from django.core.management import CommandError, call_command

from pricing.models import Price, ScrapeRun

ROOT = Path(__file__).resolve().parents[2]
FIXTURE = ROOT / "tests" / "fixtures" / "providers" / "openrouter" / "models.json"


def scrape(*args: str) -> str:
    out = StringIO()
    call_command("scrape", *args, stdout=out)
    return out.getvalue()


def manage(*args: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "VAR_DIR": str(tmp_path),
        "DEBUG": "1",
        "LOG_LEVEL": "ERROR",
    }
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


def test_it_prints_exactly_one_json_array_of_contract_records_in_a_dry_run(tmp_path):
    done = manage("scrape", "openrouter", "--file", str(FIXTURE), "--dry-run", "--json", tmp_path=tmp_path)
    assert done.returncode == 0, done.stderr
    records = json.loads(done.stdout)  # the whole of stdout is one JSON document
    assert isinstance(records, list) and len(records) == 37
    gpt4o = next(r for r in records if r["model"] == "openai/gpt-4o" and r["component"] == "input")
    assert gpt4o | {"name": None, "original": None} == {
        "provider": "openrouter",
        "model": "openai/gpt-4o",
        "component": "input",
        "mode": "standard",
        "tier_min_tokens": None,
        "tier_max_tokens": None,
        "amount": "2.5",
        "currency": "USD",
        "unit": "1M tokens",
        "name": None,
        "original": None,
    }
    assert {r["amount"] for r in records if r["model"] == "deepseek/deepseek-chat"} == {"0.2002", "0.8001"}


def test_it_exits_non_zero_with_a_clear_message_when_a_dry_run_fails(tmp_path):
    broken = tmp_path / "models.json"
    broken.write_text("<html>maintenance</html>")
    done = manage("scrape", "openrouter", "--file", str(broken), "--dry-run", "--json", tmp_path=tmp_path)
    assert done.returncode != 0
    assert done.stdout == ""
    assert "layout changed?" in done.stderr


def test_it_exits_non_zero_on_an_unknown_source(tmp_path):
    done = manage("scrape", "nosuchsource", "--dry-run", tmp_path=tmp_path)
    assert done.returncode != 0
    assert "unknown source 'nosuchsource'" in done.stderr
    assert "openrouter" in done.stderr  # it lists the known ones


def test_it_writes_nothing_in_a_dry_run(db):
    out = scrape("openrouter", "--file", str(FIXTURE), "--dry-run")
    assert "37 records parsed (dry run, nothing written)" in out
    assert not Price.objects.exists() and not ScrapeRun.objects.exists()


def test_it_ingests_a_file_and_reports_everything_unchanged_the_second_time(db):
    first = scrape("openrouter", "--file", str(FIXTURE))
    rows = Price.objects.count()
    second = scrape("openrouter", "--file", str(FIXTURE))
    assert "37 created" in first
    assert "0 created, 0 changed, 37 unchanged" in second
    assert Price.objects.count() == rows == 37


def test_it_prints_the_run_counts_as_json(db):
    counts = json.loads(scrape("openrouter", "--file", str(FIXTURE), "--json"))
    assert counts | {"run": None} == {
        "source": "openrouter",
        "run": None,
        "status": "succeeded",
        "error": "",
        "records": 37,
        "created": 37,
        "changed": 0,
        "unchanged": 0,
        "held": 0,
        "missing": 0,
        "closed": 0,
        "skipped": 0,
        "published_held": 0,
    }


def test_it_records_an_archive_copy_from_its_as_of_date(db):
    scrape("openrouter", "--file", str(FIXTURE), "--as-of", "2026-07-18")
    run = ScrapeRun.objects.get()
    assert run.kind == ScrapeRun.Kind.ARCHIVE
    assert run.as_of.isoformat() == "2026-07-18T00:00:00+00:00"
    assert Price.objects.filter(valid_from=run.as_of).count() == 37


def test_it_fails_the_command_when_the_run_fails(db, tmp_path):
    empty = tmp_path / "empty.json"
    empty.write_text('{"data": []}')
    with pytest.raises(CommandError, match="run failed: openrouter: the document parsed to no prices"):
        scrape("openrouter", "--file", str(empty))
    assert ScrapeRun.objects.get().status == ScrapeRun.Status.FAILED


def test_it_fails_the_command_when_a_live_fetch_fails(db):
    from providers.http import FetchError

    with (
        mock.patch("providers.http.fetch", side_effect=FetchError("connection refused", retryable=True)),
        pytest.raises(CommandError, match="connection refused"),
    ):
        scrape("openrouter")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((), "name one SOURCE or pass --all"),
        (("openrouter", "--all"), "name one SOURCE or pass --all"),
        (("--all", "--file", "x.json"), "--file needs one SOURCE"),
        (("openrouter", "--as-of", "2026-01-01"), "--as-of records a saved copy: it needs --file"),
        (("openrouter", "--file", str(FIXTURE), "--as-of", "last tuesday"), "--as-of must be a date"),
        (("openrouter", "--file", "/nonexistent/models.json"), "cannot read"),
        (("nosuchsource",), "unknown source"),
    ],
)
def test_it_refuses_bad_arguments_with_a_clear_error(db, args, message):
    with pytest.raises(CommandError, match=message):
        scrape(*args)
    assert not Price.objects.exists()


def test_it_keeps_amounts_exact_in_json(db):
    out = StringIO()
    call_command("scrape", "openrouter", "--file", str(FIXTURE), "--dry-run", "--json", stdout=out)
    for record in json.loads(out.getvalue()):
        assert Decimal(record["amount"]) >= 0
        assert "e" not in record["amount"].lower()


@pytest.mark.django_db
def test_release_locks_frees_only_expired_leases():
    import datetime as dt

    from django.utils import timezone

    from pricing.models import Source
    from tests.factories import SourceFactory

    expired = SourceFactory(lock_token="dead", locked_until=timezone.now() - dt.timedelta(minutes=1))
    live = SourceFactory(lock_token="busy", locked_until=timezone.now() + dt.timedelta(minutes=10))
    out = StringIO()
    call_command("release_locks", stdout=out)
    assert out.getvalue().strip() == "0 abandoned run(s) closed, 1 expired lease(s) released"
    assert Source.objects.get(pk=expired.pk).lock_token == ""
    assert Source.objects.get(pk=live.pk).lock_token == "busy"

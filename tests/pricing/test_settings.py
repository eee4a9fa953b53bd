"""Settings from the environment: production mode refuses to start half-configured, and then passes
``check --deploy``. Each case runs in a process of its own, since settings are read once at start."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SETUP = "import django; django.setup(); from django.conf import settings; print(settings.DEBUG)"
INHERITED_NOT_WANTED = {
    "DEBUG",
    "SECRET_KEY",
    "ALLOWED_HOSTS",
    "DATABASE_URL",
    "REDIS_URL",
    "CELERY_BROKER_URL",
    "DJANGO_ALLOW_ASYNC_UNSAFE",
}
SECRET = "x7Qp2-not-a-real-secret-but-long-and-random-enough-9fK3mZ1vB8nL4cR6tY0wE5"


def python(*args: str, tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    # Only what a production host would set: nothing another test put into this process's environment
    # (tests/web sets DJANGO_ALLOW_ASYNC_UNSAFE, which check --deploy rightly flags).
    clean = {k: v for k, v in os.environ.items() if k not in INHERITED_NOT_WANTED}
    clean.update(DJANGO_SETTINGS_MODULE="pricing.settings", VAR_DIR=str(tmp_path), **env)
    return subprocess.run([sys.executable, *args], cwd=ROOT, env=clean, capture_output=True, text=True, timeout=120)


def test_it_refuses_to_start_in_production_without_a_secret_key(tmp_path):
    done = python("-c", SETUP, tmp_path=tmp_path, DEBUG="0", ALLOWED_HOSTS="prices.example.org")
    assert done.returncode != 0
    assert "SECRET_KEY must be set when DEBUG is off" in done.stderr


def test_it_refuses_to_start_in_production_without_allowed_hosts(tmp_path):
    done = python("-c", SETUP, tmp_path=tmp_path, DEBUG="0", SECRET_KEY=SECRET)
    assert done.returncode != 0
    assert "ALLOWED_HOSTS must be set when DEBUG is off" in done.stderr


def test_it_starts_in_production_with_both_set(tmp_path):
    done = python("-c", SETUP, tmp_path=tmp_path, DEBUG="0", SECRET_KEY=SECRET, ALLOWED_HOSTS="prices.example.org")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "False"


def test_it_is_in_production_mode_unless_told_otherwise_and_then_refuses_to_start_half_configured(tmp_path):
    done = python("-c", SETUP, tmp_path=tmp_path)
    assert done.returncode != 0
    assert "SECRET_KEY must be set when DEBUG is off (the default; DEBUG=1 for development)" in done.stderr


def test_it_refuses_a_debug_value_it_cannot_read(tmp_path):
    done = python("-c", SETUP, tmp_path=tmp_path, DEBUG="maybe")
    assert done.returncode != 0
    assert "DEBUG='maybe' is not a boolean" in done.stderr


def test_it_starts_with_only_debug_set_on_the_embedded_defaults(tmp_path):
    script = (
        "import django; django.setup(); from django.conf import settings as s; "
        "print(s.DEBUG, s.DATABASES['default']['ENGINE'], s.CELERY_BROKER_URL, s.CACHES['default']['BACKEND'])"
    )
    done = python("-c", script, tmp_path=tmp_path, DEBUG="1")
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == [
        "True",
        "django.db.backends.sqlite3",
        "filesystem://",
        "django.core.cache.backends.filebased.FileBasedCache",
    ]


def test_it_passes_the_deploy_security_checks_in_production(tmp_path):
    done = python(
        "manage.py",
        "check",
        "--deploy",
        "--tag",
        "security",
        "--fail-level",
        "WARNING",
        tmp_path=tmp_path,
        DEBUG="0",
        SECRET_KEY=SECRET,
        ALLOWED_HOSTS="prices.example.org",
    )
    assert done.returncode == 0, done.stderr
    assert "System check identified no issues" in done.stdout


def test_it_reports_no_issue_at_all_on_check_deploy_in_production(tmp_path):
    from tests.faults.production import collect_static

    collect_static(tmp_path)  # a release collects static files first (pricing/checks.py says so otherwise)
    done = python(
        "manage.py",
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        tmp_path=tmp_path,
        DEBUG="0",
        SECRET_KEY=SECRET,
        ALLOWED_HOSTS="prices.example.org",
    )
    assert done.returncode == 0, done.stderr
    assert "System check identified no issues" in done.stdout


def test_an_offline_command_runs_unconfigured_while_the_server_still_refuses(tmp_path):
    fixture = ROOT / "tests/fixtures/providers/openrouter"
    page = next(p for p in sorted(fixture.iterdir()) if p.is_file())
    scrape = python("manage.py", "scrape", "openrouter", "--file", str(page), "--dry-run", "--json", tmp_path=tmp_path)
    assert scrape.returncode == 0, scrape.stderr
    assert scrape.stdout.startswith("[{")
    serve = python("manage.py", "runserver", "--noreload", "127.0.0.1:0", tmp_path=tmp_path)
    assert serve.returncode != 0
    assert "SECRET_KEY must be set when DEBUG is off" in serve.stderr

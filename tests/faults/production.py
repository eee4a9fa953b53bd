"""The app in production mode, in processes of its own: settings are read once per process."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SECRET = "x7Qp2-not-a-real-secret-but-long-and-random-enough-9fK3mZ1vB8nL4cR6tY0wE5"
# Nothing another test (or the developer's shell) put into this process's environment.
NOT_INHERITED = {
    "DEBUG",
    "SECRET_KEY",
    "ALLOWED_HOSTS",
    "DATABASE_URL",
    "REDIS_URL",
    "CELERY_BROKER_URL",
    "DJANGO_ALLOW_ASYNC_UNSAFE",
    "DJANGO_SETTINGS_MODULE",
}


def production_env(var_dir: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in NOT_INHERITED}
    env.update(
        DJANGO_SETTINGS_MODULE="pricing.settings",
        DEBUG="0",
        SECRET_KEY=SECRET,
        ALLOWED_HOSTS="127.0.0.1,prices.example.org",
        SECURE_SSL_REDIRECT="0",
        VAR_DIR=str(var_dir),
    )
    env.update(extra)
    return env


def manage(*args: str, var_dir: Path, timeout: float = 180, **extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=production_env(var_dir, **extra),
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def collect_static(var_dir: Path) -> None:
    """What a release runs, ``collectstatic``, with Django's plain manifest storage: the same manifest
    (every file under its hashed name) without WhiteNoise compressing each file, which takes a minute."""
    done = manage(
        "collectstatic",
        "--no-input",
        "-v0",
        var_dir=var_dir,
        DJANGO_SETTINGS_MODULE="tests.faults.plain_manifest_settings",
    )
    assert done.returncode == 0, done.stderr

"""Production start-up checks: say what to run instead of answering 500 on every page.

In production (``DEBUG`` off) static files are served under hashed names from the manifest that
``collectstatic`` writes. Without it, or with a manifest older than the code's static files, every page
that links a stylesheet fails. ``manage.py check --deploy`` reports it, and the WSGI application (gunicorn,
runserver) refuses to start with the same message (``pricing/wsgi.py``).
"""

from __future__ import annotations

import posixpath
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.staticfiles import finders
from django.contrib.staticfiles.storage import ManifestFilesMixin
from django.core.checks import CheckMessage, Error, Tags, register
from django.core.exceptions import ImproperlyConfigured
from django.core.files.storage import storages

COLLECT_COMMAND = "manage.py collectstatic --no-input"
# What collectstatic leaves out by default: the manifest never lists these.
IGNORED = ["CVS", ".*", "*~"]


def static_manifest_problems() -> list[Error]:
    """Errors when the configured storage serves from a manifest that is missing or misses files."""
    storage = storages["staticfiles"]
    if not isinstance(storage, ManifestFilesMixin):
        return []
    manifest = Path(settings.STATIC_ROOT) / storage.manifest_name
    hint = f"Run `{COLLECT_COMMAND}` (once per release, after every update of the code), then start the server."
    try:
        listed, _ = storage.load_manifest()
    except ValueError:
        listed = {}
    if not listed:
        return [
            Error(
                f"static files are not collected: {manifest} is missing or unreadable, so every page would fail (500)",
                hint=hint,
                id="pricing.E001",
            )
        ]
    missing = sorted(path for path in _static_paths() if path not in listed)
    if missing:
        return [
            Error(
                f"the collected static files are out of date: {len(missing)} file(s) are not in {manifest} "
                f"(first: {missing[0]}), so pages linking them would fail (500)",
                hint=hint,
                id="pricing.E002",
            )
        ]
    return []


def _static_paths() -> set[str]:
    found = set()
    for finder in finders.get_finders():
        for path, storage in finder.list(IGNORED):
            prefix = getattr(storage, "prefix", None)
            found.add(posixpath.join(prefix, path.replace("\\", "/")) if prefix else path.replace("\\", "/"))
    return found


@register(Tags.staticfiles, deploy=True)
def check_static_manifest(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """``check --deploy``: the manifest exists and lists every static file (a deploy check, so that
    ``collectstatic`` itself, which runs the static-files checks, is never stopped by it)."""
    if settings.DEBUG:
        return []
    return list(static_manifest_problems())


def refuse_to_serve_without_static() -> None:
    """Called by the WSGI application as it loads: in production, stop before serving any 500."""
    if settings.DEBUG:
        return
    problems = static_manifest_problems()
    if problems:
        raise ImproperlyConfigured("; ".join(f"{p.msg}. {p.hint}" for p in problems))

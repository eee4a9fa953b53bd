"""Custom 404 and 500 pages in production mode (DEBUG off): our pages, never Django's debug page.

Production mode is read once at start, so this runs in a process of its own, configured as a host would
be (tests/pricing/test_settings.py does the same)."""

from __future__ import annotations

import json

from tests.pricing.test_settings import SECRET, python

SCRIPT = """
import json, django
import pricing.settings as configured
# Collecting the sidecar's assets into the manifest takes minutes; plain static URLs render the same pages.
configured.STORAGES["staticfiles"]["BACKEND"] = "django.contrib.staticfiles.storage.StaticFilesStorage"
django.setup()
from django.conf import settings
from django.test import Client, RequestFactory
from django.views.defaults import server_error
client = Client()
missing = client.get("/no-such-page/")
unknown_model = client.get("/models/no-such-model/")
crashed = server_error(RequestFactory().get("/"))
print(json.dumps({
    "debug": settings.DEBUG,
    "missing": [missing.status_code, missing.content.decode()],
    "unknown_model": [unknown_model.status_code, unknown_model.content.decode()],
    "crashed": [crashed.status_code, crashed.content.decode()],
}))
"""


def test_a_missing_page_gets_our_404_and_an_error_our_500_in_production(tmp_path):
    production = {
        "DEBUG": "0",
        "SECRET_KEY": SECRET,
        "ALLOWED_HOSTS": "testserver",
        "SECURE_SSL_REDIRECT": "0",
    }
    done = python("manage.py", "migrate", "--no-input", "-v0", tmp_path=tmp_path, **production)
    assert done.returncode == 0, done.stderr

    done = python("-c", SCRIPT, tmp_path=tmp_path, **production)
    assert done.returncode == 0, done.stderr
    pages = json.loads(done.stdout.strip().splitlines()[-1])

    assert pages["debug"] is False
    status, body = pages["missing"]
    assert status == 404
    assert "<h1>Page not found</h1>" in body and "/no-such-page/" in body
    assert 'href="/api/docs/"' in body  # the site's navigation, so the reader can go on
    assert "Traceback" not in body and "URLconf" not in body and "DEBUG" not in body
    assert pages["unknown_model"][0] == 404 and "Page not found" in pages["unknown_model"][1]
    status, body = pages["crashed"]
    assert status == 500
    assert "Something went wrong" in body and "Traceback" not in body

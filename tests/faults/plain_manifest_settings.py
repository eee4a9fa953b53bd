"""Production settings with Django's plain manifest storage: ``collectstatic`` writes the same manifest
(hashed names of every static file) without WhiteNoise compressing each file, which takes a minute."""

from pricing.settings import *  # noqa: F403
from pricing.settings import STORAGES

STORAGES = {**STORAGES, "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.ManifestStaticFilesStorage"}}

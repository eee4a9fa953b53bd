"""The Celery app. Workers: ``celery -A pricing worker``; beat: ``celery -A pricing beat``."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "pricing.settings")

app = Celery("pricing")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

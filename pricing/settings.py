"""Settings for every environment, driven by environment variables.

With nothing set it runs on embedded defaults: a SQLite file and Celery on kombu's filesystem
transport under ``var/``, so ``make run`` works on a machine with no database or broker installed.
"""

from __future__ import annotations

import datetime as dt
import os
import secrets
import sys
from pathlib import Path

import dj_database_url
from celery.schedules import crontab
from csp import constants as csp_constants
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("VAR_DIR", BASE_DIR / "var"))


def env_bool(name: str, default: bool) -> bool:
    """``1/true/yes/on`` or ``0/false/no/off``; anything else is a mistake, never read as "off"."""
    value = os.environ.get(name)
    if value is None or not value.strip():
        return default
    word = value.strip().lower()
    if word in {"1", "true", "yes", "on"}:
        return True
    if word in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name}={value!r} is not a boolean: use 1 or 0")


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    if not value:
        return default
    try:
        return int(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name}={value!r} is not a whole number") from None


def env_list(name: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, "").split(",") if item.strip()]


# Off unless asked for: a production deploy that forgets DEBUG must not serve debug pages.
# `make run`, `make test` and `.ci/run` set DEBUG=1 explicitly. The development tools that import these
# settings themselves (pytest, mypy's Django plugin) default to on, so running them bare still works.
_DEVELOPMENT_TOOL = "pytest" in sys.modules or "mypy" in sys.modules
DEBUG = env_bool("DEBUG", _DEVELOPMENT_TOOL)
# manage.py running anything but the development server (which serves pages, so must be configured).
_OFFLINE_COMMAND = Path(sys.argv[0]).name == "manage.py" and sys.argv[1:2] != ["runserver"]
SECRET_KEY = os.environ.get("SECRET_KEY", "")
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS")

if DEBUG:
    SECRET_KEY = SECRET_KEY or "dev-only-insecure-key-never-used-in-production"
    ALLOWED_HOSTS = ALLOWED_HOSTS or ["127.0.0.1", "localhost", "[::1]", "testserver"]
elif _OFFLINE_COMMAND and not SECRET_KEY:
    # A management command that serves nothing (scrape --dry-run, migrate, snapshot build) signs nothing that
    # outlives it, so it needs no configured key: it gets one of its own, never written anywhere.
    SECRET_KEY = secrets.token_urlsafe(50)
else:
    if not SECRET_KEY:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off (the default; DEBUG=1 for development)")
    if not ALLOWED_HOSTS:
        raise ImproperlyConfigured("ALLOWED_HOSTS must be set when DEBUG is off (the default; DEBUG=1 for development)")

SITE_URL = os.environ.get("SITE_URL", "http://127.0.0.1:8000")
SITE_NAME = "Token prices"

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "corsheaders",
    "django_htmx",
    "django_celery_beat",
    "axes",
    "csp",
    "pricing",
    "pricing.webhooks",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # First after security, so every answer carries the policy, stored answers included.
    "csp.middleware.CSPMiddleware",
    "pricing.middleware.RequestLimitsMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "corsheaders.middleware.CorsMiddleware",
    # Cached API lists and pages from stored bytes, before sessions, auth and views (pricing/answers.py).
    "pricing.answers.StoredAnswerMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Last, as django-axes asks: it turns a lockout raised during authentication into its response.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "pricing.urls"
WSGI_APPLICATION = "pricing.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- database: SQLite file by default, DATABASE_URL for PostgreSQL --------------------------------
DATABASES = {
    "default": dj_database_url.config(
        default=f"sqlite:///{VAR_DIR / 'db.sqlite3'}",
        conn_max_age=int(os.environ.get("CONN_MAX_AGE", "60")),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    # Several processes (web, worker, beat) share the file: wait for locks instead of failing.
    DATABASES["default"]["OPTIONS"] = {"timeout": 30, "transaction_mode": "IMMEDIATE"}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Redis: broker and cache when REDIS_URL is set -----------------------------------------------
REDIS_URL = os.environ.get("REDIS_URL", "")
if REDIS_URL:
    # Reads keep serving, uncached, while Redis is down, and use it again when it returns (pricing/cache.py).
    CACHES = {
        "default": {
            "BACKEND": "pricing.cache.ResilientRedisCache",
            "LOCATION": REDIS_URL,
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 1.0},
        }
    }
else:
    # A file cache is shared by web and worker processes.
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(VAR_DIR / "cache"),
        }
    }
# When published prices last changed (the key of every cached page and every ETag) lives with the prices:
# written in the transaction that changes them, so it can neither be lost nor outlive a change.
# Its table is created by a migration (0003); the test runner creates it too.
CACHES["stamps"] = {
    "BACKEND": "django.core.cache.backends.db.DatabaseCache",
    "LOCATION": "pricing_stamps",
}

# --- Celery ----------------------------------------------------------------------------------------
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL") or REDIS_URL or "filesystem://"
if CELERY_BROKER_URL == "filesystem://":
    _broker_dir = VAR_DIR / "broker"
    for _folder in ("queue", "processed", "control"):
        (_broker_dir / _folder).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir / "queue"),
        "data_folder_out": str(_broker_dir / "queue"),
        "processed_folder": str(_broker_dir / "processed"),
        "control_folder": str(_broker_dir / "control"),
        "store_processed": False,
    }
else:
    # A task unacknowledged this long is redelivered; longer than the hard time limit.
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = "UTC"
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", False)
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
# Jobs that are not per-source scrapes. Per-source schedules live in the database (one
# PeriodicTask per source, editable by curators) and are created by ``manage.py sync_sources``.
CELERY_BEAT_SCHEDULE = {
    # Runs left "running" by a killed worker are closed as abandoned, and their leases freed.
    "every-5-minutes-close-abandoned-runs": {
        "task": "pricing.tasks.close_abandoned_runs",
        "schedule": 5 * 60,
    },
    # Catch-up: a source whose scrape a lost beat tick (broker outage) skipped is scraped now.
    "every-10-minutes-scrape-due-sources": {
        "task": "pricing.tasks.scrape_due_sources",
        "schedule": 10 * 60,
    },
    # Webhook deliveries whose task was lost (broker down when queued, a killed worker) are sent again.
    "every-5-minutes-send-overdue-webhook-deliveries": {
        "task": "pricing.webhooks.tasks.send_overdue_deliveries",
        "schedule": 5 * 60,
    },
    # The ECB publishes its reference rates around 16:00 CET on working days.
    "every-day-refresh-exchange-rates": {
        "task": "pricing.tasks.refresh_exchange_rates",
        "schedule": crontab(minute=30, hour=15),
    },
    # Links models that scrapes created since to their tokenizers; unchanged measurements write nothing.
    "every-day-measure-and-assign-tokenizers": {
        "task": "pricing.tasks.measure_tokenizers",
        "schedule": crontab(minute=0, hour=4),
    },
}

# --- scraping --------------------------------------------------------------------------------------
SCRAPE_INTERVAL_HOURS = env_int("SCRAPE_INTERVAL_HOURS", 6)
# A run's lease on its source; must outlast the scrape task's hard time limit (360 s).
SCRAPE_LEASE_SECONDS = env_int("SCRAPE_LEASE_SECONDS", 15 * 60)
SCRAPE_USER_AGENT = os.environ.get(
    "SCRAPE_USER_AGENT", "token-prices/1.0 (+https://github.com/token-prices/token-prices; price comparison bot)"
)
SCRAPE_MAX_BYTES = int(os.environ.get("SCRAPE_MAX_BYTES", str(20 * 1024 * 1024)))
SCRAPE_STALE_AFTER_HOURS = int(os.environ.get("SCRAPE_STALE_AFTER_HOURS", "48"))
# A held change publishes itself when its own source repeats it in this many runs spanning this many hours.
HOLD_AUTO_PUBLISH_RUNS = int(os.environ.get("HOLD_AUTO_PUBLISH_RUNS", "3"))
HOLD_AUTO_PUBLISH_HOURS = int(os.environ.get("HOLD_AUTO_PUBLISH_HOURS", "72"))

# --- webhooks (pricing/webhooks/, README "Webhooks") -------------------------------------------------
# Events per POST; a burst of changes from one ingest goes out as one task per subscription sending these.
WEBHOOK_BATCH_SIZE = env_int("WEBHOOK_BATCH_SIZE", 100)
# Attempts per delivery, with exponential backoff between them (base × 2^n seconds, at most the cap).
WEBHOOK_MAX_ATTEMPTS = env_int("WEBHOOK_MAX_ATTEMPTS", 8)
WEBHOOK_BACKOFF_BASE_SECONDS = env_int("WEBHOOK_BACKOFF_BASE_SECONDS", 30)
WEBHOOK_BACKOFF_MAX_SECONDS = env_int("WEBHOOK_BACKOFF_MAX_SECONDS", 3600)
# A subscription whose deliveries failed every attempt this many times in a row is disabled, with a note.
WEBHOOK_DISABLE_AFTER_FAILED_DELIVERIES = env_int("WEBHOOK_DISABLE_AFTER_FAILED_DELIVERIES", 3)
WEBHOOK_TIMEOUT_SECONDS = env_int("WEBHOOK_TIMEOUT_SECONDS", 10)
# Everything one POST may take, however slowly the target answers.
WEBHOOK_DEADLINE_SECONDS = env_int("WEBHOOK_DEADLINE_SECONDS", 30)
WEBHOOK_MAX_SUBSCRIPTIONS_PER_KEY = env_int("WEBHOOK_MAX_SUBSCRIPTIONS_PER_KEY", 20)
# Hosts whose address and port are not checked (a receiver on loopback in tests); never set in production.
WEBHOOK_ALLOW_PRIVATE_HOSTS = env_list("WEBHOOK_ALLOW_PRIVATE_HOSTS")

SNAPSHOT_PATH = Path(os.environ.get("SNAPSHOT_PATH", BASE_DIR / "pricing" / "snapshot" / "snapshot.json.gz"))

# --- request limits (pricing/middleware.py) ---------------------------------------------------------
# The largest legitimate body is an estimate with pasted text: 1,000,000 characters, JSON-escaped.
REQUEST_MAX_BODY_BYTES = env_int("REQUEST_MAX_BODY_BYTES", 8 * 1024 * 1024)
REQUEST_MAX_JSON_DEPTH = 32
DATA_UPLOAD_MAX_MEMORY_SIZE = REQUEST_MAX_BODY_BYTES

# --- REST API --------------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_RENDERER_CLASSES": [
        "rest_framework.renderers.JSONRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.AllowAny"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    # DRF's anonymous rate in a fixed window, counted with stored answers too (pricing/api/throttles.py).
    "DEFAULT_THROTTLE_CLASSES": ["pricing.api.throttles.AnonWindowThrottle"],
    "DEFAULT_THROTTLE_RATES": {"anon": os.environ.get("API_ANON_RATE", "600/hour")},
    # How many proxies in front of the app append to X-Forwarded-For. 0: the header is ignored and the
    # client is the connecting address; otherwise the address that many hops back. Never trust it all,
    # or any client rotates the header past the throttle.
    "NUM_PROXIES": env_int("NUM_PROXIES", 0),
    "COERCE_DECIMAL_TO_STRING": False,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Token prices API",
    "DESCRIPTION": "LLM prices per 1M tokens and per 1M words, current and historical, with their sources.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # Swagger UI and ReDoc from drf-spectacular-sidecar's static files: the docs work offline, with no CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}
CORS_URLS_REGEX = r"^/api/.*$"
CORS_ALLOW_ALL_ORIGINS = True
CORS_ALLOW_METHODS = ["GET", "HEAD", "OPTIONS", "POST"]

# --- static files, i18n, security ------------------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
STATICFILES_DIRS = [BASE_DIR / "pricing" / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True
LOGIN_URL = "admin:login"

# --- Content-Security-Policy (django-csp) -----------------------------------------------------------
# Scripts, styles, images and fonts from our own origin only: no inline script, no inline style, no
# style or event-handler attributes, no eval. A page that must carry an inline block marks it with the
# request's nonce (``request.csp_nonce``), which the header then names; none does today (Swagger UI's
# set-up script is a response of its own), and a stored page never may.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [csp_constants.SELF],
        "script-src": [csp_constants.SELF, csp_constants.NONCE],
        "style-src": [csp_constants.SELF, csp_constants.NONCE],
        "img-src": [csp_constants.SELF, "data:"],
        "font-src": [csp_constants.SELF],
        "connect-src": [csp_constants.SELF],
        "object-src": [csp_constants.NONE],
        "base-uri": [csp_constants.SELF],
        "form-action": [csp_constants.SELF],
        "frame-ancestors": [csp_constants.NONE],
    }
}

# --- login throttling (django-axes) -----------------------------------------------------------------
# After LOGIN_FAILURE_LIMIT wrong passwords for one username from one address, that pair is locked out
# for LOGIN_LOCKOUT_MINUTES (429). The address is read like the API throttle's (NUM_PROXIES), so a
# rotated X-Forwarded-For gains nothing. Curators unlock in the admin (Axes > Access attempts: delete)
# or with `manage.py axes_reset_username NAME`.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = dt.timedelta(minutes=env_int("LOGIN_LOCKOUT_MINUTES", 60))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_CLIENT_IP_CALLABLE = "pricing.clientip.client_ip"
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "admin/locked_out.html"
AXES_VERBOSE = False  # no start-up banner in every command's output; lockouts are still logged

if not DEBUG:
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", str(60 * 60 * 24 * 365)))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
}

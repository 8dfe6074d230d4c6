"""StockFlow settings, read from environment variables.

DATABASE_URL   postgres://user:pass@host:5432/name or sqlite:///path (default: var/stockflow.sqlite3)
SECRET_KEY     required when DEBUG is off
DEBUG          "1"/"true" to enable (default off)
ALLOWED_HOSTS  comma-separated (default: localhost,127.0.0.1 in DEBUG, none otherwise)
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

from stockflow.dburl import parse_database_url, sqlite_database

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = Path(os.environ.get("STOCKFLOW_VAR_DIR", BASE_DIR / "var"))
VAR_DIR.mkdir(parents=True, exist_ok=True)


def read_env_file(path: Path) -> None:
    """``NAME=value`` lines of a file into the environment; a variable already set wins.

    ``make run`` writes development settings to ``.env`` so that ``manage.py`` commands work
    afterwards without any variable. ``STOCKFLOW_ENV_FILE`` names another file, or none when
    empty (``make serve`` reads only the real environment); the test suite reads none."""
    if not path.is_file():
        return
    for line in path.read_text().splitlines():
        name, sep, value = line.strip().partition("=")
        if sep and name and not name.startswith("#"):
            os.environ.setdefault(name.strip(), value.strip().strip("'\""))


if "PYTEST_VERSION" not in os.environ and os.environ.get("STOCKFLOW_ENV_FILE", ".env"):
    read_env_file(BASE_DIR / os.environ.get("STOCKFLOW_ENV_FILE", ".env"))


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return default if value in (None, "") else int(value)


def env_list(name: str, default: list[str]) -> list[str]:
    value = os.environ.get(name)
    if value is None:
        return default
    return [item.strip() for item in value.split(",") if item.strip()]


DEBUG = env_bool("DEBUG", False)
SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    # pytest sets PYTEST_VERSION: the test suite runs without a configured secret.
    if not DEBUG and "PYTEST_VERSION" not in os.environ:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off.")
    SECRET_KEY = "insecure-development-key-only-for-debug-and-tests-0123456789abcdef"

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_htmx",
    "stockflow.api",
    "stockflow.tenancy",
    "stockflow.catalog",
    "stockflow.inventory",
    "stockflow.alerts",
    "stockflow.purchasing",
    "stockflow.notifications",
    "stockflow.dataio",
    "stockflow.demo",
    "stockflow.web",
    "django_tasks",
    "django_tasks_db",
    "stockflow.accounts",
    "stockflow.ops",
]

MIDDLEWARE = [
    "stockflow.ops.middleware.RequestObservabilityMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "stockflow.api.middleware.ApiErrorMiddleware",
    "stockflow.api.middleware.ApiBodySizeLimitMiddleware",
    "stockflow.web.middleware.WebErrorPageMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "stockflow.tenancy.middleware.TenantDatabaseMiddleware",
]

ROOT_URLCONF = "stockflow.urls"
WSGI_APPLICATION = "stockflow.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
            "builtins": ["stockflow.web.templatetags.web"],
        },
    },
]

# A request that finds the database unavailable is answered 503 with this Retry-After.
STOCKFLOW_DATABASE_RETRY_AFTER = env_int("STOCKFLOW_DATABASE_RETRY_AFTER", 2)
_SYNC_GUNICORN = Path(sys.argv[0]).name == "gunicorn" and "--threads" not in sys.argv
DATABASE_URL = os.environ.get("DATABASE_URL", "")
if DATABASE_URL:
    DATABASES = {
        "default": parse_database_url(
            DATABASE_URL,
            pool=env_bool("DATABASE_POOL", True),
            # One connection per sync gunicorn worker (one request at a time); more for a
            # threaded server and the test suite's threads.
            pool_max_size=env_int("DATABASE_POOL_MAX_SIZE", 1 if _SYNC_GUNICORN else 10),
            pool_timeout=float(os.environ.get("DATABASE_POOL_TIMEOUT") or 3),
        )
    }
else:
    DATABASES = {"default": sqlite_database(VAR_DIR / "stockflow.sqlite3")}
# The sale's statements are prepared once per connection on PostgreSQL (``stockflow.prepared``);
# 0 behind a pooler that hands each transaction another server session (PgBouncer in
# transaction mode).
DATABASE_PREPARED_STATEMENTS = env_bool("DATABASE_PREPARED_STATEMENTS", True)
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    # A file, not shared-cache memory, so tests with threads see real SQLite locking.
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / "test-stockflow.sqlite3")}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
# Tests and DEBUG serve static files straight from the apps, no collectstatic needed.
WHITENOISE_USE_FINDERS = DEBUG or "PYTEST_VERSION" in os.environ
if WHITENOISE_USE_FINDERS:
    STORAGES["staticfiles"] = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}

# The web app (stockflow.web): session login, its own error pages outside /api/.
LOGIN_URL = "web:login"
LOGIN_REDIRECT_URL = "web:home"
LOGOUT_REDIRECT_URL = "web:login"
CSRF_FAILURE_VIEW = "stockflow.web.views.errors.csrf_failure"

# Request bodies: stock and catalog payloads are small; anything larger is refused early.
DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("STOCKFLOW_MAX_BODY_BYTES", 1024 * 1024)
DATA_UPLOAD_MAX_NUMBER_FIELDS = 1000

# Imports (POST /api/imports, the one endpoint taking a file): the largest file (bytes) and
# the most rows a file may have. Exports: the most rows of an XLSX file (CSV has no limit).
STOCKFLOW_IMPORT_MAX_BYTES = env_int("STOCKFLOW_IMPORT_MAX_BYTES", 50 * 1024 * 1024)
STOCKFLOW_IMPORT_MAX_ROWS = env_int("STOCKFLOW_IMPORT_MAX_ROWS", 1_000_000)
STOCKFLOW_EXPORT_XLSX_MAX_ROWS = env_int("STOCKFLOW_EXPORT_XLSX_MAX_ROWS", 100_000)

# Security headers; the HTTPS-only ones are on unless DEBUG, and can be turned off for a
# deployment behind a proxy that terminates TLS differently.
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
_https = env_bool("STOCKFLOW_HTTPS", not DEBUG and "PYTEST_VERSION" not in os.environ)
SESSION_COOKIE_SECURE = _https
CSRF_COOKIE_SECURE = _https
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", _https)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000 if _https else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = _https
SECURE_HSTS_PRELOAD = _https
# Behind a proxy that terminates TLS: the header it sets to "https" on secure requests
# (STOCKFLOW_PROXY_SSL_HEADER, default X-Forwarded-Proto; empty when no proxy sets it, as a
# client could then send it itself).
_proxy_header = os.environ.get("STOCKFLOW_PROXY_SSL_HEADER", "X-Forwarded-Proto").strip()
SECURE_PROXY_SSL_HEADER = (
    ("HTTP_" + _proxy_header.upper().replace("-", "_"), "https")
    if _https and _proxy_header
    else None
)
# Probes and the metrics scraper talk plain HTTP inside the network.
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$", r"^metrics$"]

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "stockflow.tenancy.authentication.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "stockflow.api.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "rest_framework.filters.OrderingFilter",
    ],
    # JSON bodies only: no endpoint takes a file or a form.
    "DEFAULT_PARSER_CLASSES": ["stockflow.api.parsers.DecimalJSONParser"],
    "DEFAULT_RENDERER_CLASSES": [
        "rest_framework.renderers.JSONRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
    "EXCEPTION_HANDLER": "stockflow.api.errors.exception_handler",
    "DEFAULT_SCHEMA_CLASS": "stockflow.api.schema.AutoSchema",
    "DEFAULT_THROTTLE_CLASSES": [
        "stockflow.api.throttling.TokenRateThrottle",
        "stockflow.api.throttling.AnonRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "token": os.environ.get("STOCKFLOW_THROTTLE_RATE", "100000/hour") or None,
        "anon": os.environ.get("STOCKFLOW_ANON_THROTTLE_RATE", "1000/hour") or None,
        "login": os.environ.get("STOCKFLOW_LOGIN_THROTTLE_RATE", "10/minute") or None,
        "account": os.environ.get("STOCKFLOW_ACCOUNT_THROTTLE_RATE", "30/hour") or None,
    },
    "COERCE_DECIMAL_TO_STRING": True,
    "DATETIME_FORMAT": "iso-8601",
    "NON_FIELD_ERRORS_KEY": "non_field_errors",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}

# REDIS_URL (redis://host:6379/0): a cache shared by every process, so rate limits hold
# across them; else each process has its own.
REDIS_URL = os.environ.get("REDIS_URL", "")
CACHES = {
    "default": (
        {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "stockflow",
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
        if REDIS_URL
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "stockflow"}
    )
}

SPECTACULAR_SETTINGS = {
    "TITLE": "StockFlow API",
    "DESCRIPTION": (
        "Multi-tenant inventory: warehouses, products, suppliers, an append-only stock "
        "ledger and low-stock alerts. Authenticate with `Authorization: Bearer <token>`."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {},
}

# One JSON object per line (LOG_FORMAT=plain for people reading a terminal; the default
# with DEBUG), each with its request's id, secrets masked (ops/logs.py).
LOG_FORMAT = os.environ.get("LOG_FORMAT", "plain" if DEBUG else "json")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "stockflow.ops.logs.RequestIdFilter"}},
    "formatters": {
        "json": {"()": "stockflow.ops.logs.JsonFormatter"},
        "plain": {
            "()": "stockflow.ops.logs.PlainFormatter",
            "format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s",
        },
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "json" if LOG_FORMAT == "json" else "plain",
            "filters": ["request_id"],
        }
    },
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    # Every request has its JSON line (stockflow.request); Django's own 4xx lines repeat it.
    "loggers": {"django.request": {"level": "ERROR"}},
}

# /metrics (Prometheus) answers only with "Authorization: Bearer <this token>"; without
# it the route is a 404.
STOCKFLOW_METRICS_TOKEN = os.environ.get("STOCKFLOW_METRICS_TOKEN", "")

# How long idempotency keys are kept (hours); a retry within this window is answered from
# the stored response.
IDEMPOTENCY_KEY_TTL_HOURS = env_int("STOCKFLOW_IDEMPOTENCY_TTL_HOURS", 48)

# Background work (SPEC §4.2): Django's task API, on a database queue by default (works on
# SQLite and PostgreSQL, nothing else to run). Another backend (e.g. RQ on Redis,
# "django_tasks_rq.RQBackend", with django-rq's RQ_QUEUES) replaces it by configuration.
TASKS = {
    "default": {
        "BACKEND": os.environ.get("STOCKFLOW_TASK_BACKEND", "django_tasks_db.DatabaseBackend"),
        "QUEUES": ["default"],
    }
}
if TASKS["default"]["BACKEND"] == "django_tasks_rq.RQBackend":
    INSTALLED_APPS += ["django_rq"]
    RQ_QUEUES = {"default": {"URL": os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")}}

# The worker (manage.py worker): how often its scheduler looks for new events, and how long
# it sleeps when the queue is empty (seconds).
WORKER_TICK_SECONDS = float(os.environ.get("STOCKFLOW_WORKER_TICK", "0.2"))
WORKER_POLL_SECONDS = float(os.environ.get("STOCKFLOW_WORKER_POLL", "0.1"))

# Webhooks. A delivery is retried after each of these delays (seconds, with +-10% jitter):
# 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h: the last attempt comes more than 27 h after the
# event. An endpoint whose every attempt failed for WEBHOOK_DISABLE_AFTER_SECONDS is disabled.
WEBHOOK_RETRY_SCHEDULE = [
    float(value)
    for value in env_list(
        "STOCKFLOW_WEBHOOK_RETRY_SCHEDULE", ["5", "300", "1800", "7200", "18000", "36000", "36000"]
    )
]
WEBHOOK_TIMEOUT_SECONDS = float(os.environ.get("STOCKFLOW_WEBHOOK_TIMEOUT", "10"))
# A claimed attempt is another worker's to retry once timeout + this margin has passed
# without an outcome (its worker died).
WEBHOOK_LEASE_MARGIN_SECONDS = float(os.environ.get("STOCKFLOW_WEBHOOK_LEASE_MARGIN", "30"))
WEBHOOK_DISABLE_AFTER_SECONDS = float(os.environ.get("STOCKFLOW_WEBHOOK_DISABLE_AFTER", "86400"))
WEBHOOK_SECRET_ROTATION_SECONDS = 24 * 3600
# Answers are read up to this many bytes; the first KiB is kept with the attempt.
WEBHOOK_MAX_RESPONSE_BYTES = 64 * 1024
# Only for development and tests: endpoints on loopback, private or link-local addresses.
WEBHOOK_ALLOW_PRIVATE = env_bool("STOCKFLOW_WEBHOOK_ALLOW_PRIVATE", False)


def email_settings(environ) -> dict:
    """Django's EMAIL_* settings from ``EMAIL_URL`` or the EMAIL_* variables.

    ``EMAIL_URL``: ``smtp://user:password@host:587`` (STARTTLS), ``smtps://user:password@host:465``
    (TLS from the start), ``smtp://host:25?tls=0`` (plain), ``console://`` or ``locmem://``.
    Else ``EMAIL_HOST`` (with ``EMAIL_PORT``, ``EMAIL_HOST_USER``, ``EMAIL_HOST_PASSWORD``,
    ``EMAIL_USE_TLS``, ``EMAIL_USE_SSL``) means SMTP; with neither, emails are printed on the
    console. ``DEFAULT_FROM_EMAIL`` is the sender."""
    from urllib.parse import parse_qsl, unquote, urlsplit

    config: dict = {
        "DEFAULT_FROM_EMAIL": environ.get("DEFAULT_FROM_EMAIL", "StockFlow <noreply@localhost>"),
        "EMAIL_TIMEOUT": int(environ.get("EMAIL_TIMEOUT") or 10),
    }
    smtp = "django.core.mail.backends.smtp.EmailBackend"
    url = environ.get("EMAIL_URL", "")
    if url:
        parts = urlsplit(url)
        scheme = parts.scheme.lower()
        named = {"console": "console", "locmem": "locmem", "dummy": "dummy"}
        if scheme in named:
            config["EMAIL_BACKEND"] = f"django.core.mail.backends.{named[scheme]}.EmailBackend"
            return config
        if scheme not in {"smtp", "smtps"}:
            raise ImproperlyConfigured(f"EMAIL_URL: unsupported scheme {scheme!r}")
        query = dict(parse_qsl(parts.query))
        ssl = scheme == "smtps"
        config.update(
            EMAIL_BACKEND=smtp,
            EMAIL_HOST=unquote(parts.hostname or "localhost"),
            EMAIL_PORT=parts.port or (465 if ssl else 587),
            EMAIL_HOST_USER=unquote(parts.username or ""),
            EMAIL_HOST_PASSWORD=unquote(parts.password or ""),
            EMAIL_USE_SSL=ssl,
            EMAIL_USE_TLS=not ssl and query.get("tls", "1") not in {"0", "false", "no"},
        )
    elif environ.get("EMAIL_HOST"):
        yes = {"1", "true", "yes", "on"}
        config.update(
            EMAIL_BACKEND=smtp,
            EMAIL_HOST=environ["EMAIL_HOST"],
            EMAIL_PORT=int(environ.get("EMAIL_PORT") or 587),
            EMAIL_HOST_USER=environ.get("EMAIL_HOST_USER", ""),
            EMAIL_HOST_PASSWORD=environ.get("EMAIL_HOST_PASSWORD", ""),
            EMAIL_USE_TLS=environ.get("EMAIL_USE_TLS", "1").lower() in yes,
            EMAIL_USE_SSL=environ.get("EMAIL_USE_SSL", "0").lower() in yes,
        )
    else:
        config["EMAIL_BACKEND"] = "django.core.mail.backends.console.EmailBackend"
    return config


globals().update(email_settings(os.environ))

# Accounts: self-service sign-up (creates a company) can be turned off; links in emails
# point at STOCKFLOW_PUBLIC_URL; the worker sends the account emails (accounts/emails.py).
STOCKFLOW_SIGNUP = env_bool("STOCKFLOW_SIGNUP", True)

# A worker process is part of the deployment (``make serve`` sets this when it starts one):
# /readyz then requires its heartbeat to be younger than the max age (seconds).
STOCKFLOW_WORKER = env_bool("STOCKFLOW_WORKER", False)
STOCKFLOW_WORKER_HEARTBEAT_MAX_AGE = env_int("STOCKFLOW_WORKER_HEARTBEAT_MAX_AGE", 60)
STOCKFLOW_PUBLIC_URL = os.environ.get("STOCKFLOW_PUBLIC_URL", "http://127.0.0.1:8000")

# Row-level security on PostgreSQL (tenancy/dbcontext.py): each request and worker task
# sees only its companies' rows, whatever its SQL. Off only to measure what it costs (the
# database then relies on the application's scoping alone; connect as a role that bypasses
# row security).
STOCKFLOW_RLS = env_bool("STOCKFLOW_RLS", True)

# A sale of a plain product first tries the one-statement fast path of
# ``inventory.sales.sell``; False sends every sale the complete way. Both give the same
# answers: the tests switch this to prove it.
SALE_FAST_PATH = True

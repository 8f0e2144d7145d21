"""twincity settings: one module, read top to bottom, every deploy-specific value from the environment."""

import os
from pathlib import Path

import dj_database_url

BASE_DIR = Path(__file__).resolve().parent.parent


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_int(name: str, default: int) -> int:
    return int(os.environ.get(name, default))


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = env_bool("DEBUG", False)
# Development keeps a fixed, obviously insecure key so `runserver` works out of the box;
# `check --deploy` (twincity.W001 below and security.W009) refuses it in production.
SECRET_KEY = env_str("SECRET_KEY", "django-insecure-twincity-development-key-do-not-deploy")
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost,testserver")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "ninja",  # serves the API docs (Swagger UI) from our own static files, not a CDN
    "django_tasks_db",  # the database task queue (TASKS below) and its worker
    # The layers, bottom to top (import-linter's layers contract in pyproject.toml enforces the order):
    "twincity.core",  # the kernel: audit, errors, access answers, navigation registry
    "twincity.accounts",
    "twincity.notifications",  # generic, called by every domain: in-app notifications, e-mail and SMS channels
    "twincity.webhooks",  # generic, called by every domain: signed webhooks to institutions' systems
    "twincity.enterprises",
    "twincity.audit",
    "twincity.points",
    "twincity.finance",  # tech finance: products, matching, consent (builds on points)
    "twincity.riskpool",  # guarantees, the risk pool and its ledger (builds on finance)
    "twincity.instruments",  # large-instrument sharing: catalogue, booking rules, bookings
    "twincity.vouchers",  # innovation vouchers: batches, issuing, redemptions, evidence, the once-only claim registry
    "twincity.talent",  # talent cards of both cities, mutual recognition, service entitlements
    "twincity.govservices",  # public services of both cities: catalogue, cases on legal clocks (川渝通办)
    "twincity.licences",  # 一业一证 industry packages and licences (builds on govservices)
    "twincity.home",  # above the domains: the home page, composed from them
    "twincity.demo",  # above the domains: demo data (manage.py seed_demo)
    "twincity.ops",  # above the domains: operators' pages (schedules, workers)
]

MIDDLEWARE = [
    # First: every request gets an id (X-Request-ID in and out, in every log line) and is counted in /metrics.
    "twincity.core.observability.RequestObservabilityMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "twincity.core.middleware.ApiErrorShapeMiddleware",
    # A database lock that outlasts its timeout answers 503 with Retry-After (API: the one error shape), never 500.
    "twincity.core.middleware.DatabaseBusyMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
AUTH_USER_MODEL = "accounts.User"
# Django's model backend, loading the person's organisation with the person (one query a request, not two).
AUTHENTICATION_BACKENDS = ["twincity.accounts.backends.OrganisationModelBackend"]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "home:home"
LOGOUT_REDIRECT_URL = "home:home"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "twincity.core.context_processors.navigation",
                "twincity.notifications.context_processors.unread_notifications",
            ],
        },
    },
]

# --- Database: SQLite by default, PostgreSQL (or anything dj-database-url knows) through DATABASE_URL.
SQLITE_PATH = BASE_DIR / env_str("SQLITE_NAME", "db.sqlite3")
DATABASE_URL = env_str("DATABASE_URL")
if DATABASE_URL:
    DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=env_int("DB_CONN_MAX_AGE", 60))}
    if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
        # Like SQLite's busy timeout below: a lock not granted within this answers 503 (Retry-After), not a hang.
        DATABASES["default"].setdefault("OPTIONS", {})["options"] = (
            f"-c lock_timeout={env_int('DB_LOCK_TIMEOUT_MS', 20000)}"
        )
    if env_str("DATABASE_TEST_NAME"):  # the test database's name (default: "test_" + the database's)
        DATABASES["default"]["TEST"] = {"NAME": env_str("DATABASE_TEST_NAME")}
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": str(SQLITE_PATH),
            "OPTIONS": {
                # IMMEDIATE takes the write lock when a transaction starts, so two writers queue
                # instead of one failing with "database is locked" half-way through.
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=20000;",
            },
            # A file, not the in-memory default, so tests with real threads see real SQLite locking.
            "TEST": {"NAME": env_str("SQLITE_TEST_NAME") or str(BASE_DIR / ".test-db.sqlite3")},
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

CACHES = {
    "default": (
        {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": env_str("REDIS_URL")}
        if env_str("REDIS_URL")
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "twincity"}
    )
}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Reverse proxies in front of the platform that append to X-Forwarded-For; the client address (login throttle,
# logs) is read from that header only when this is set (see twincity.core.http.client_address).
TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 0)

# Failed logins per (username, client address) before the login form refuses further tries.
LOGIN_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 5)
LOGIN_FAILURE_WINDOW_SECONDS = env_int("LOGIN_FAILURE_WINDOW_SECONDS", 15 * 60)

# --- Internationalisation: Chinese first, English as a switch; stored in UTC, shown in Asia/Shanghai.
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
# Production (scripts/serve --production sets STATIC_MANIFEST=1 and runs collectstatic): WhiteNoise serves the
# collected files under content-hashed names, compressed, with a year's immutable cache headers. Without it (the
# development server, tests, DEBUG=0 without collectstatic) the files are served from the app folders as they are.
STATIC_MANIFEST = env_bool("STATIC_MANIFEST", False)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if STATIC_MANIFEST
            else "whitenoise.storage.CompressedStaticFilesStorage"
        )
    },
}
WHITENOISE_USE_FINDERS = not STATIC_MANIFEST
MEDIA_ROOT = BASE_DIR / env_str("MEDIA_DIR", "media")
# The largest import file accepted (a 100,000-row declarations CSV is ~20 MB); larger uploads answer 413.
IMPORT_MAX_BYTES = env_int("IMPORT_MAX_BYTES", 50 * 1024 * 1024)
# The first pass of a declarations import of at least IMPORT_PARALLEL_ROWS rows is planned by IMPORT_PLANNERS
# worker processes (default: one per core, at most 2; 1 = in the importing process).
IMPORT_PLANNERS = env_int("IMPORT_PLANNERS", min(2, os.cpu_count() or 1))
IMPORT_PARALLEL_ROWS = env_int("IMPORT_PARALLEL_ROWS", 10_000)
# With planners, each planned chunk is written (inside the import's one transaction) while they plan the next ones:
# IMPORT_PIPELINE = 1/0; unset: on PostgreSQL only (on SQLite it would hold the one write lock through pass 1 too).
IMPORT_PIPELINE = env_bool("IMPORT_PIPELINE", False) if env_str("IMPORT_PIPELINE") else None
# Files up to this size are kept in memory while uploading, larger ones spool to a temporary file.
DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("DATA_UPLOAD_MAX_MEMORY_SIZE", 5 * 1024 * 1024)
FILE_UPLOAD_MAX_MEMORY_SIZE = env_int("FILE_UPLOAD_MAX_MEMORY_SIZE", 5 * 1024 * 1024)

# --- Background work (django.tasks): imports, scoring runs, schedules. See docs/deployment.md.
# TASKS_BACKEND=database (default): a queue table in the platform's own database (SQLite or PostgreSQL), run by
#   `manage.py run_worker` (scripts/serve starts one beside the web server).
# TASKS_BACKEND=redis: RQ on Redis at TASKS_REDIS_URL (default REDIS_URL); `manage.py run_worker` runs an RQ worker.
# TASKS_BACKEND=immediate: every task runs inside the request that enqueues it (no worker; a debugging aid).
TASKS_BACKEND = env_str("TASKS_BACKEND", "database")
TASKS_REDIS_URL = env_str("TASKS_REDIS_URL") or env_str("REDIS_URL") or "redis://127.0.0.1:6379/0"
if TASKS_BACKEND == "redis":
    INSTALLED_APPS.append("django_rq")
    RQ_QUEUES = {"default": {"URL": TASKS_REDIS_URL, "DEFAULT_TIMEOUT": env_int("TASKS_TIMEOUT_SECONDS", 6 * 3600)}}
    TASKS = {"default": {"BACKEND": "twincity.core.task_backends.RQBackend", "QUEUES": ["default"]}}
elif TASKS_BACKEND == "immediate":
    TASKS = {"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"}}
elif TASKS_BACKEND == "database":
    TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
else:
    raise ValueError(f"TASKS_BACKEND must be database, redis or immediate, not {TASKS_BACKEND!r}")
# A worker checks in every TASKS_HEARTBEAT_SECONDS (and runs the scheduler's tick); one that has not checked in
# for TASKS_WORKER_LOST_SECONDS is lost: /healthz turns unhealthy and the task it was running is retried or failed.
TASKS_HEARTBEAT_SECONDS = float(env_str("TASKS_HEARTBEAT_SECONDS", "5"))
TASKS_WORKER_LOST_SECONDS = float(env_str("TASKS_WORKER_LOST_SECONDS", "60"))
# The first retry of a task that declares retries waits this long, each further one twice as long.
TASKS_RETRY_BACKOFF_SECONDS = float(env_str("TASKS_RETRY_BACKOFF_SECONDS", "30"))
# Extra modules that declare schedules in code (besides the apps' own), e.g. for tests.
SCHEDULE_MODULES = env_list("SCHEDULE_MODULES")
# The work that pages poll (an import, a scoring run) runs in the request instead of as a task when these are set:
# tests that check a page's outcome in one request, and the command line. Off in every deployment.
IMPORT_RUN_INLINE = env_bool("IMPORT_RUN_INLINE", False)
POINTS_RUN_INLINE = env_bool("POINTS_RUN_INLINE", False)
# Connections that write the results of runs executed together on PostgreSQL (1: one, as on SQLite).
POINTS_RUN_WRITERS = env_int("POINTS_RUN_WRITERS", 2)
# /metrics answers only with `Authorization: Bearer <METRICS_TOKEN>` when this is set (else to anyone).
METRICS_TOKEN = env_str("METRICS_TOKEN")

# --- Notifications (twincity.notifications): the inbox always; these extra channels for people who switch them on.
NOTIFICATION_CHANNELS = env_list("NOTIFICATION_CHANNELS", "email,sms")
# The SMS gateway: a class with send(phone, text). The default is a DEVELOPMENT backend that sends nothing (it
# stores the text in the SmsOutbox table and logs it); set a real gateway's class in production.
NOTIFICATION_SMS_BACKEND = env_str("NOTIFICATION_SMS_BACKEND",
                                   "twincity.notifications.channels.DevelopmentSmsBackend")
NOTIFICATION_DELIVERY_RETRIES = env_int("NOTIFICATION_DELIVERY_RETRIES", 4)
# The platform's public address, put in front of links in e-mails and text messages ("https://twincity.example").
PLATFORM_URL = env_str("PLATFORM_URL")
# E-mail (Django 6.1 mailers): SMTP at EMAIL_HOST; EMAIL_BACKEND may name another backend (console, file, …).
MAILERS = {
    "default": {
        "BACKEND": env_str("EMAIL_BACKEND", "django.core.mail.backends.smtp.EmailBackend"),
        "OPTIONS": (
            {
                "host": env_str("EMAIL_HOST", "localhost"),
                "port": env_int("EMAIL_PORT", 25),
                "username": env_str("EMAIL_HOST_USER"),
                "password": env_str("EMAIL_HOST_PASSWORD"),
                "use_tls": env_bool("EMAIL_USE_TLS", False),
                "timeout": env_int("EMAIL_TIMEOUT", 10),
            }
            if env_str("EMAIL_BACKEND", "django.core.mail.backends.smtp.EmailBackend").endswith("smtp.EmailBackend")
            else {}
        ),
    }
}
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "twincity <noreply@localhost>")

# --- Webhooks (twincity.webhooks): attempts per delivery (backoff as TASKS_RETRY_BACKOFF_SECONDS, doubling), the
# request timeout, and whether endpoints may be private or loopback addresses (development and tests only).
WEBHOOK_MAX_ATTEMPTS = env_int("WEBHOOK_MAX_ATTEMPTS", 6)
WEBHOOK_TIMEOUT_SECONDS = float(env_str("WEBHOOK_TIMEOUT_SECONDS", "10"))
WEBHOOK_ALLOW_PRIVATE = env_bool("WEBHOOK_ALLOW_PRIVATE", DEBUG)

# --- Security: strict when DEBUG is off; `manage.py check --deploy` reports nothing then.
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = not DEBUG and env_bool("SECURE_COOKIES", True)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_SSL_REDIRECT = not DEBUG and env_bool("SECURE_SSL_REDIRECT", True)
SECURE_HSTS_SECONDS = 0 if DEBUG else env_int("SECURE_HSTS_SECONDS", 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = not DEBUG
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if env_bool("BEHIND_PROXY", False) else None
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

# Structured logs: one JSON object per line on stderr (LOG_FORMAT=json, the default) or key=value pairs
# (LOG_FORMAT=text), each with the request id of the request (or the task) it belongs to.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "twincity.core.observability.RequestIdFilter"}},
    "formatters": {
        "json": {"()": "twincity.core.observability.JsonFormatter"},
        "text": {"()": "twincity.core.observability.KeyValueFormatter"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "filters": ["request_id"],
            "formatter": "text" if env_str("LOG_FORMAT", "json") == "text" else "json",
        }
    },
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "WARNING")},
    "loggers": {
        # One line per request (method, path, view, status, duration) and per task.
        "twincity.requests": {"level": env_str("ACCESS_LOG_LEVEL", "INFO")},
        "twincity.tasks": {"level": env_str("TASK_LOG_LEVEL", "INFO")},
    },
}

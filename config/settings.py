"""Settings for the supplier confidentiality-breach tracker.

One module, read from the environment (django-environ). Without any environment
it is a development setup that just works: SQLite file, an embedded filesystem
Celery broker, console email. Production sets DJANGO_DEBUG off (the default),
DJANGO_SECRET_KEY, DATABASE_URL, CELERY_BROKER_URL and EMAIL_URL.
"""

from datetime import timedelta
from pathlib import Path

import environ
from celery.schedules import crontab

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(environ.Env().str("DJANGO_VAR_DIR", default=str(BASE_DIR / "var")))

env = environ.Env()
env_file = BASE_DIR / ".env"
if env_file.exists():
    env.read_env(str(env_file))

# The test suite runs on config.settings_test, which sets TESTING and what tests need.
TESTING = False
DEBUG = env.bool("DJANGO_DEBUG", default=False)

# Management commands (migrate, makemigrations --check, collectstatic) run without secrets;
# serving requests without DEBUG does not: config/wsgi.py and config/asgi.py refuse to start
# on this key, and `check --deploy` reports it as an error (config/checks.py).
DEV_SECRET_KEY = "django-insecure-dev-only-key-never-serve-production-with-it-0123456789"  # noqa: S105
SECRET_KEY = env.str("DJANGO_SECRET_KEY", default=DEV_SECRET_KEY)

ALLOWED_HOSTS = env.list(
    "DJANGO_ALLOWED_HOSTS",
    default=["localhost", "127.0.0.1", "[::1]", "testserver"] if DEBUG else [],
)
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])
SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000").rstrip("/")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "simple_history",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "csp",
    "suppliers",
    "breaches",
    "notifications",
    "documents",
    "tracing",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "config.middleware.PersonalLocaleMiddleware",
    "config.middleware.PrivateAnswersMiddleware",
    # request.user.is_verified(): has this session passed the second factor (django-otp)?
    "django_otp.middleware.OTPMiddleware",
    # A session that owes its second factor (or, staff, an enrolment) reaches nothing else.
    "suppliers.mfa.SecondFactorMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    # Last, as django-axes asks: it turns lockouts raised by authentication into responses.
    "axes.middleware.AxesMiddleware",
    # Under DEBUG (`make run`), the site's 404 page rather than Django's technical one,
    # unless SITE_ERROR_PAGES=0 (config.middleware.SiteNotFoundPageMiddleware).
    *(
        ["config.middleware.SiteNotFoundPageMiddleware"]
        if DEBUG and env.bool("SITE_ERROR_PAGES", default=True)
        else []
    ),
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

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
                "notifications.context_processors.notifications",
            ],
        },
    },
]

DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("DJANGO_CONN_MAX_AGE", default=0))
# A kept connection is checked before a request reuses it (a restarted database server).
DATABASES["default"].setdefault("CONN_HEALTH_CHECKS", True)
# Server-side parameter binding on PostgreSQL: psycopg then prepares a statement it has
# run five times on a connection, and PostgreSQL stops planning it again. Planning the
# incidents page (a five-table join) cost about 0.9 ms of its 1.1 ms of SQL. Pays off with
# kept connections (DJANGO_CONN_MAX_AGE); turn it off behind a transaction-pooling
# PgBouncer (DATABASE_PREPARED_STATEMENTS=0).
# A prepared statement with parameters is still planned for its values each time
# (plan_cache_mode = force_custom_plan): a generic plan, made for an average supplier,
# took the biggest supplier's dashboard from 10 ms to 130 ms. Statements without
# parameters (the first page of a list) keep their one plan.
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql" and env.bool(
    "DATABASE_PREPARED_STATEMENTS", default=True
):
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "server_side_binding": True,
            "prepare_threshold": 5,
            "options": "-c plan_cache_mode=force_custom_plan",
        }
    )
# Parallel workers for one statement (PostgreSQL's max_parallel_workers_per_gather). The
# web service sets 0 (config/gunicorn.py): its requests read a few rows along indexes, and
# a worker took longer to start than the statement it helped (docs/benchmarks.md, session
# 12). Unset, PostgreSQL's own, which Celery's sweeps and aggregates keep.
DATABASE_PARALLEL_WORKERS = env.int("DATABASE_PARALLEL_WORKERS", default=None)
if (
    DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql"
    and DATABASE_PARALLEL_WORKERS is not None
):
    _options = DATABASES["default"].setdefault("OPTIONS", {})
    _options["options"] = (
        f"{_options.get('options', '')} -c max_parallel_workers_per_gather="
        f"{DATABASE_PARALLEL_WORKERS}"
    ).strip()
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The embedded default serves a web process, a worker and beat at once.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"timeout": 20, "transaction_mode": "IMMEDIATE", "init_command": "PRAGMA journal_mode=WAL;"}
    )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# redis://host:6379/1 (compose, CI, production) is django-redis's backend
# (django_redis.cache.RedisCache, which django-environ names when django-redis is
# installed); any other URL is whatever django-environ makes of it.
CACHES = {"default": env.cache("CACHE_URL", default="locmemcache://")}
# Whole-scope aggregates (summary report, dashboard) are reused this long; 0 turns it off
# (tests and development see every change at once).
REPORT_CACHE_SECONDS = env.int("REPORT_CACHE_SECONDS", default=0 if DEBUG else 60)
# Report figures (everyone's, and big suppliers') come from a snapshot beat refreshes this often
# (breaches.report_snapshot), read instead of counted whenever REPORT_CACHE_SECONDS > 0.
# Older than REPORT_SNAPSHOT_MAX_AGE, a request still serves it and queues one refresh.
REPORT_SNAPSHOT_SECONDS = env.int("REPORT_SNAPSHOT_SECONDS", default=60)
REPORT_SNAPSHOT_MAX_AGE = env.int("REPORT_SNAPSHOT_MAX_AGE", default=600)
# A supplier whose world holds at least this many incidents gets its own snapshot row;
# a smaller one's figures are counted live (cheap: bounded by this number).
REPORT_SNAPSHOT_MIN_INCIDENTS = env.int("REPORT_SNAPSHOT_MIN_INCIDENTS", default=500)

AUTH_USER_MODEL = "suppliers.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "login"

# The client's address: REMOTE_ADDR behind no proxy (the default: a forged
# X-Forwarded-For is ignored); behind N proxies that each append to X-Forwarded-For, the
# Nth address from its right. One rule for the sign-in lockout (axes, through
# config.security.client_address), DRF's throttles (NUM_PROXIES, the same rule) and the
# security log.
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)

# Login throttling and lockout (django-axes): per user name and address (5 failures), and
# per address whatever the user names tried (AXES_ADDRESS_FAILURE_LIMIT, 15), for
# AXES_COOLOFF_MINUTES. Each parameter has its own limit (config.security.LockoutHandler).
AXES_ENABLED = env.bool("AXES_ENABLED", default=True)
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_ADDRESS_FAILURE_LIMIT = env.int("AXES_ADDRESS_FAILURE_LIMIT", default=15)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("AXES_COOLOFF_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = ["ip_address", ["username", "ip_address"]]
AXES_HANDLER = "config.security.LockoutHandler"
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "config.security.lockout_response"
AXES_CLIENT_IP_CALLABLE = "config.security.client_address"

# API tokens (suppliers.tokens): each lives TOKEN_TTL_DAYS; a user keeps at most
# TOKEN_MAX_PER_USER (issuing one more revokes the oldest).
TOKEN_TTL_DAYS = env.int("TOKEN_TTL_DAYS", default=30)
TOKEN_MAX_PER_USER = env.int("TOKEN_MAX_PER_USER", default=10)

# Second factor (django-otp: a TOTP authenticator app, and recovery codes). Anyone may
# enrol; admins and compliance staff must when STAFF_MFA_REQUIRED is on (production).
# Off in development (DJANGO_DEBUG=1), so that the demo logins sign in with a password.
STAFF_MFA_REQUIRED = env.bool("STAFF_MFA_REQUIRED", default=not DEBUG)
OTP_TOTP_ISSUER = env.str("OTP_TOTP_ISSUER", default="Breach tracker")
OTP_ADMIN_HIDE_SENSITIVE_DATA = True

# DESIGN section 11: English and Simplified Chinese. A page speaks the signed-in person's
# language (User.language) and shows instants in its time zone (User.time_zone); before
# sign-in, the language switch's cookie or the browser's Accept-Language decides, and the
# API follows Accept-Language. Instants are stored in UTC (TIME_ZONE is the server's).
LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("zh-hans", "简体中文")]
TIME_ZONE = "UTC"
# The time zone of a person who has not chosen one, and of pages before sign-in.
DEFAULT_USER_TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True
# One catalogue per app (each app's strings beside it), the project's own templates and
# config last; `make messages` extracts and compiles them all.
LOCALE_PATHS = [
    *(
        BASE_DIR / app / "locale"
        for app in ("breaches", "suppliers", "notifications", "tracing", "documents")
    ),
    BASE_DIR / "locale",
]

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # WhiteNoise warns on every request otherwise
WHITENOISE_USE_FINDERS = DEBUG
MEDIA_URL = "media/"
MEDIA_ROOT = Path(env.str("MEDIA_ROOT", default=str(VAR_DIR / "media")))
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
EVIDENCE_MAX_BYTES = env.int("EVIDENCE_MAX_BYTES", default=20 * 1024 * 1024)
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
# Leak tracing (DESIGN section 10): master files and leaked copies may be large images.
# TRACING_KEY keys the derivation of each disclosure's watermark code from its secret
# fingerprint; unset, it is derived from SECRET_KEY (changing either changes every code,
# so copies handed out before can no longer be traced: set it once and keep it).
TRACING_MAX_BYTES = env.int("TRACING_MAX_BYTES", default=100 * 1024 * 1024)
TRACING_KEY = env.str("TRACING_KEY", default="")
# A copy or trace still pending this long after it was queued (the broker was down) is
# queued again by the beat task tracing.tasks.requeue_pending.
TRACING_REQUEUE_AFTER_MINUTES = env.int("TRACING_REQUEUE_AFTER_MINUTES", default=15)
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024

# Email: console in development, SMTP (smtp+tls://user:pass@host:587) in production.
EMAIL_CONFIG = env.email_url("EMAIL_URL", default="consolemail://")
vars().update(EMAIL_CONFIG)
if EMAIL_CONFIG["EMAIL_BACKEND"] == "django.core.mail.backends.filebased.EmailBackend":
    EMAIL_FILE_PATH = env.str("EMAIL_FILE_PATH", default=str(VAR_DIR / "mail"))
# A stalled mail server must not hold a worker: the send fails and is retried.
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=20)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="compliance@breach-tracker.local")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# Security. Production (DEBUG off) passes `manage.py check --deploy`.
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = False
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
_SECURE = not DEBUG
SESSION_COOKIE_SECURE = env.bool("DJANGO_SECURE_COOKIES", default=_SECURE)
CSRF_COOKIE_SECURE = env.bool("DJANGO_SECURE_COOKIES", default=_SECURE)
SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=_SECURE)
SECURE_HSTS_SECONDS = env.int("DJANGO_SECURE_HSTS_SECONDS", default=31536000 if _SECURE else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = _SECURE
SECURE_HSTS_PRELOAD = _SECURE
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]

# No inline script anywhere: every script and style is a file served by the app.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
        "base-uri": ["'self'"],
        "object-src": ["'none'"],
    }
}

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # Token first: its WWW-Authenticate header makes a missing credential a 401.
        # DRF's TokenAuthentication, reading suppliers.ApiToken and checking expiry.
        "suppliers.tokens.ExpiringTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PARSER_CLASSES": [
        "config.parsers.JSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    # The browsable API only in development: its forms list related rows (up to 1,000 per
    # select), which big tables should not pay for in production.
    "DEFAULT_RENDERER_CLASSES": [
        "config.renderers.JSONRenderer",
        *(["rest_framework.renderers.BrowsableAPIRenderer"] if DEBUG else []),
    ],
    "DEFAULT_FILTER_BACKENDS": [
        "config.pagination.FilterBackend",
        "config.pagination.CursorSafeOrdering",
    ],
    # Cursor pages, newest first: no COUNT(*) over big tables (DESIGN 8).
    "DEFAULT_PAGINATION_CLASS": "config.pagination.NewestFirstCursorPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "COERCE_DECIMAL_TO_STRING": True,
    "EXCEPTION_HANDLER": "config.exceptions.api_exception_handler",
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
    "DEFAULT_THROTTLE_CLASSES": [
        "rest_framework.throttling.AnonRateThrottle",
        "rest_framework.throttling.UserRateThrottle",
    ],
    # The client address of the anonymous and token throttles: the same rule as axes'.
    "NUM_PROXIES": TRUSTED_PROXY_COUNT,
    "DEFAULT_THROTTLE_RATES": {
        "anon": env.str("THROTTLE_ANON", default="60/minute"),
        "user": env.str("THROTTLE_USER", default="6000/minute"),
        "token": env.str("THROTTLE_TOKEN", default="10/minute"),
    },
}
SPECTACULAR_SETTINGS = {
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "config.schema.optional_secrets",
        "config.schema.empty_query_values",
    ],
    "TITLE": "Supplier confidentiality-breach tracker API",
    "DESCRIPTION": "Suppliers, NDAs, disclosures, incidents, penalties and rectification.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": "/api/v1",
    "ENUM_NAME_OVERRIDES": {
        "IncidentStatusEnum": "breaches.choices.IncidentStatus",
        "PenaltyStatusEnum": "breaches.choices.PenaltyStatus",
        "PlanStatusEnum": "breaches.choices.PlanStatus",
        "ActionStatusEnum": "breaches.choices.ActionStatus",
        "SupplierStatusEnum": "suppliers.choices.SupplierStatus",
        "NDAStatusEnum": "suppliers.choices.NDAStatus",
        "ContactRoleEnum": "suppliers.choices.ContactRole",
        "UserRoleEnum": "suppliers.choices.Role",
        "DeliveryStateEnum": "breaches.choices.DeliveryState",
        "EventTypeEnum": "notifications.choices.EventType",
    },
}

# Celery. Embedded filesystem broker by default (make run); Redis in production.
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="filesystem://")
if CELERY_BROKER_URL.startswith("filesystem://"):
    _broker_dir = VAR_DIR / "broker"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir / "queue"),
        "data_folder_out": str(_broker_dir / "queue"),
        "control_folder": str(_broker_dir / "control"),
        "store_processed": False,
    }
    for _sub in ("queue", "control"):
        (_broker_dir / _sub).mkdir(parents=True, exist_ok=True)
else:
    # Retries back off well below the visibility timeout, so a task is never redelivered
    # while its first delivery is still being retried.
    # A broker that is down must not hang the request or sweep that enqueues: connect
    # and socket timeouts bound it, and the sweep leaves the send for the next run.
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "visibility_timeout": 3600,
        "socket_connect_timeout": 5,
        "socket_timeout": 10,
    }
# Publishing retries briefly, then gives up (kombu OperationalError); what was not
# enqueued stays pending in the database and the next reminder sweep enqueues it.
CELERY_TASK_PUBLISH_RETRY_POLICY = {
    "max_retries": 2,
    "interval_start": 0,
    "interval_step": 0.5,
    "interval_max": 1,
}
# One queue unless told otherwise (the worker end-to-end test uses a queue of its own).
CELERY_TASK_DEFAULT_QUEUE = env.str("CELERY_TASK_DEFAULT_QUEUE", default="celery")
# With acks_late, a task cut off by a lost broker connection is redelivered, not lost
# (sends are claimed in the database, so a redelivery never mails twice).
CELERY_WORKER_CANCEL_LONG_RUNNING_TASKS_ON_CONNECTION_LOSS = True
CELERY_TASK_IGNORE_RESULT = True
CELERY_RESULT_BACKEND = None
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = "UTC"
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
# No task holds a worker for ever: the soft limit raises inside the task (a send is then
# retried, a sweep resumes on its next run), the hard one ends the process.
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", default=600)
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=660)
REMINDER_SWEEP_HOUR = env.int("REMINDER_SWEEP_HOUR", default=6)
CELERY_BEAT_SCHEDULE = {
    "reminder-sweep": {
        "task": "breaches.tasks.run_reminder_sweep",
        "schedule": crontab(
            minute=env.int("REMINDER_SWEEP_MINUTE", default=0), hour=REMINDER_SWEEP_HOUR
        ),
        "options": {"expires": 6 * 3600},
    },
    "weekly-overdue-digest": {
        "task": "breaches.tasks.send_weekly_digest",
        "schedule": crontab(minute=30, hour=REMINDER_SWEEP_HOUR, day_of_week="mon"),
        "options": {"expires": 6 * 3600},
    },
    # A run queued behind a slow one is worthless once the next is due: it expires.
    "report-snapshot": {
        "task": "breaches.tasks.refresh_report_snapshot",
        "schedule": float(REPORT_SNAPSHOT_SECONDS),
        "options": {"expires": REPORT_SNAPSHOT_SECONDS},
    },
    # Notifications (notifications.fanout.sweep): the mail batch window and webhook retries.
    "notifications-sweep": {
        "task": "notifications.tasks.run_notifications_sweep",
        "schedule": float(env.int("NOTIFICATIONS_SWEEP_SECONDS", default=60)),
        "options": {"expires": env.int("NOTIFICATIONS_SWEEP_SECONDS", default=60)},
    },
    # Leak tracing: copies and traces left pending when the broker was down, queued again
    # (tracing.services.pending_work_requeue, after TRACING_REQUEUE_AFTER_MINUTES).
    "tracing-requeue-pending": {
        "task": "tracing.tasks.requeue_pending",
        "schedule": 300.0,
        "options": {"expires": 300},
    },
}
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
COMPLIANCE_MANAGERS_GROUP = "compliance managers"
# Webhooks (notifications.webhooks): private, loopback and link-local targets are refused
# unless this is on (SSRF); timeouts in seconds; how long a delivery is retried.
WEBHOOK_ALLOW_PRIVATE = env.bool("WEBHOOK_ALLOW_PRIVATE", default=False)
WEBHOOK_CONNECT_TIMEOUT = env.float("WEBHOOK_CONNECT_TIMEOUT", default=5.0)
WEBHOOK_READ_TIMEOUT = env.float("WEBHOOK_READ_TIMEOUT", default=10.0)
WEBHOOK_RETRY_HOURS = env.int("WEBHOOK_RETRY_HOURS", default=24)
WEBHOOK_SWEEP_LIMIT = env.int("WEBHOOK_SWEEP_LIMIT", default=500)
# The buyer's name, as supplier users see the buyer's staff ("Compliance, Xiaomi Auto").
BUYER_NAME = env.str("BUYER_NAME", default="Xiaomi Auto")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "filters": {"one_line_refusals": {"()": "config.logging.OneLineRefusals"}},
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "plain",
            "filters": ["one_line_refusals"],
        }
    },
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        "axes": {"level": "WARNING"},
    },
}

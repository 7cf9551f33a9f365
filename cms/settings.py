"""Keyline settings.

One settings module for every environment. Configuration comes from the environment
(django-environ); the defaults are the embedded set-up that `make run` needs and nothing else:
SQLite under var/, a filesystem Celery broker and a file cache under var/ (the rate limits count in
memory). Set DATABASE_URL and REDIS_URL to run the same code on PostgreSQL and Redis.
"""

from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"
VAR_DIR.mkdir(exist_ok=True)

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

# Off unless said otherwise: `make` (run, test, demo) and pytest's configuration turn it on.
DEBUG = env.bool("DJANGO_DEBUG", default=False)
_DEVELOPMENT_KEY = "dev-only-insecure-key-change-me"
SECRET_KEY = env.str("DJANGO_SECRET_KEY", default=_DEVELOPMENT_KEY)
if not DEBUG and SECRET_KEY == _DEVELOPMENT_KEY:
    # Sessions, signed links and password resets made with a published key can be forged.
    raise ImproperlyConfigured(
        "DJANGO_SECRET_KEY is not set, and with DJANGO_DEBUG off Keyline refuses its built-in development "
        "key. Set DJANGO_SECRET_KEY to a long random value, the same on every machine "
        "(python -c 'import secrets; print(secrets.token_urlsafe(50))'), or DJANGO_DEBUG=true for development."
    )
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

# --- HTTPS and the proxies in front ---------------------------------------------------------
# How many proxies stand in front (nginx alone: 1; a load balancer and nginx: 2). The client is the
# address the outermost one saw, the n-th from the right of X-Forwarded-For (0: REMOTE_ADDR); the
# addresses left of it are the client's own say. cms.web.addresses.client_address reads it through
# DRF's NUM_PROXIES, for the audit log, the rate limits and django-axes alike.
KEYLINE_TRUSTED_PROXIES = env.int("KEYLINE_TRUSTED_PROXIES", default=0)
if KEYLINE_TRUSTED_PROXIES:
    # The proxy says whether the client came over HTTPS; nginx: `X-Forwarded-Proto $scheme`.
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# Off by default so `make run` serves plain HTTP; production turns them on (README, docs/DEPLOY.md).
SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=False)
SECURE_HSTS_SECONDS = env.int("DJANGO_SECURE_HSTS_SECONDS", default=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("DJANGO_SECURE_HSTS_INCLUDE_SUBDOMAINS", default=False)
SECURE_HSTS_PRELOAD = env.bool("DJANGO_SECURE_HSTS_PRELOAD", default=False)
SESSION_COOKIE_SECURE = env.bool("DJANGO_SESSION_COOKIE_SECURE", default=False)
CSRF_COOKIE_SECURE = env.bool("DJANGO_CSRF_COOKIE_SECURE", default=False)
SECURE_REFERRER_POLICY = env.str("DJANGO_SECURE_REFERRER_POLICY", default="same-origin")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "treebeard",
    "django_filters",
    "django_tables2",
    "django_htmx",
    "crispy_forms",
    "crispy_bootstrap5",
    "axes",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "cms",
    "units",
    "codes",
    "audit",
]

MIDDLEWARE = [
    # First: a load balancer's /healthz and /readyz pass no host check, session or sign-in (cms/health.py).
    "cms.health.HealthEndpointsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "cms.middleware.AccountTimezoneMiddleware",
    # Axes last: it must see the outcome of authentication.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "cms.urls"
WSGI_APPLICATION = "cms.wsgi.application"

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
            ],
        },
    },
    {
        # The few templates on the window's hot path (ADR 32): found in each app's jinja2/ folder.
        "BACKEND": "django.template.backends.jinja2.Jinja2",
        "APP_DIRS": True,
        "OPTIONS": {"environment": "cms.web.jinja.environment"},
    },
]

# --- Database -------------------------------------------------------------------------------
# The embedded default is SQLite in WAL mode with IMMEDIATE transactions, so the web process and
# the Celery worker can write side by side without "database is locked" surprises.
DATABASES = {
    "default": env.db_url("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'keyline.sqlite3'}"),
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "timeout": 30,
            "transaction_mode": "IMMEDIATE",
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
    )
USING_POSTGRES = DATABASES["default"]["ENGINE"].startswith("django.db.backends.postgresql")
if USING_POSTGRES:
    _options = DATABASES["default"].setdefault("OPTIONS", {})
    # Django's connection pool (psycopg-pool): a request borrows an open connection and gives it
    # back. DB_POOL=false: persistent connections with Django's health checks instead (behind
    # PgBouncer, say). ADR 25.
    if env.bool("DB_POOL", default=True):
        _options["pool"] = {
            "min_size": env.int("DB_POOL_MIN_SIZE", default=1),
            "max_size": env.int("DB_POOL_MAX_SIZE", default=20),
            "timeout": env.int("DB_POOL_TIMEOUT", default=10),
        }
    else:
        DATABASES["default"]["CONN_MAX_AGE"] = env.int("DB_CONN_MAX_AGE", default=60)
    # A connection the server ended (a restart) is replaced before a request gets it: the pool's
    # check, or Django's health check of a persistent connection.
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = env.bool("DB_HEALTH_CHECKS", default=True)
    # No parallel query: Keyline's reads are short pages served side by side, and a plan that
    # starts worker processes competes with the other requests for the same cores (ADR 11).
    _parallel = env.int("DB_PARALLEL_WORKERS_PER_GATHER", default=0)
    _options["options"] = " ".join(filter(None, [_options.get("options"), f"-c max_parallel_workers_per_gather={_parallel}"]))

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "cms.User"

# --- Redis, cache, Celery -------------------------------------------------------------------
REDIS_URL = env.str("REDIS_URL", default="")

if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": env.str("CACHE_KEY_PREFIX", default="keyline"),
        }
    }
    # Lookups the database can always answer instead (sessions, API tokens, unit-status answers):
    # with Redis unreachable they miss rather than fail (django-redis's IGNORE_EXCEPTIONS).
    CACHES["lookups"] = {**CACHES["default"], "OPTIONS": {"IGNORE_EXCEPTIONS": True}}
    CELERY_BROKER_URL = REDIS_URL
else:
    # A file cache is shared by the web process and the worker (a per-process memory cache is
    # not), so an entry one of them drops (a unit's status answer) is gone for the other too.
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(VAR_DIR / "cache"),
        }
    }
    CACHES["lookups"] = CACHES["default"]
    CELERY_BROKER_URL = "filesystem://"
    _broker_dir = VAR_DIR / "broker"
    for sub in ("queue", "processed", "control"):
        (_broker_dir / sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir / "queue"),
        "data_folder_out": str(_broker_dir / "queue"),
        "processed_folder": str(_broker_dir / "processed"),
        "control_folder": str(_broker_dir / "control"),
        "store_processed": False,
    }

CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
# The queue's name: several Keylines (or a benchmark) can share one Redis.
CELERY_TASK_DEFAULT_QUEUE = env.str("CELERY_QUEUE", default="celery")
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_IGNORE_RESULT = True
CELERY_TIMEZONE = "UTC"
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
CELERY_WORKER_HIJACK_ROOT_LOGGER = False

# --- Auth -----------------------------------------------------------------------------------
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    # ModelBackend, and a session ends when its user's account is disabled.
    "cms.auth_backends.ActiveAccountBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "dashboard"
LOGOUT_REDIRECT_URL = "login"
# Sessions are read on every signed-in request: from the cache (Redis in production), written
# through to the database so that they outlive a cache restart. From the lookups' alias: with Redis
# unreachable a session is read from the database, and people still sign in (cached_db itself
# lets a cache error through on sign-in and sign-out).
SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
SESSION_CACHE_ALIAS = "lookups"
SESSION_COOKIE_AGE = env.int("SESSION_COOKIE_AGE", default=60 * 60 * 8)
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = 0.25  # hours: a locked-out user may try again after 15 minutes
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
# A lock lasts its 15 minutes from the try that locked: tries while locked neither prolong it nor
# count, so the audit log's one `locked_out` entry per lock-out is exact (ADR 34).
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_ENABLED = env.bool("AXES_ENABLED", default=True)
AXES_LOCKOUT_TEMPLATE = "registration/lockout.html"
# Lock-outs count the client behind the proxies, as the rate limits and the audit log do.
AXES_CLIENT_IP_CALLABLE = "cms.web.addresses.client_address"

# --- Internationalisation -------------------------------------------------------------------
LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("fr", "Français"), ("es", "Español")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# --- Static files ---------------------------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": env.str(
            "STATICFILES_BACKEND",
            default="django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage",
        )
    },
}

# --- E-mail ---------------------------------------------------------------------------------
# The embedded default writes each mail to a file under var/mail so a demo user can read it.
if env.str("EMAIL_URL", default=""):
    vars().update(env.email_url("EMAIL_URL"))
else:
    EMAIL_BACKEND = env.str("EMAIL_BACKEND", default="django.core.mail.backends.filebased.EmailBackend")
    EMAIL_FILE_PATH = str(VAR_DIR / "mail")
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Keyline <codes@keyline.invalid>")
# Absolute address used in e-mailed links to the redemption page: by default the address `make run`
# serves on, which it passes to every process it starts (their PORT differs: honcho gives the worker,
# which sends the mails, a port of its own).
SITE_URL = env.str("SITE_URL", default=env.str("KEYLINE_RUN_URL", default="http://127.0.0.1:8000"))

# --- Tables, forms --------------------------------------------------------------------------
DJANGO_TABLES2_TEMPLATE = "django_tables2/bootstrap5.html"
CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

# --- Domain tuning --------------------------------------------------------------------------
# How many codes the expiry job handles per transaction: bounded so a backlog never holds
# long locks.
KEYLINE_EXPIRY_CHUNK = env.int("KEYLINE_EXPIRY_CHUNK", default=5000)
# Into how many disjoint partitions the minute's expiry job splits the due codes, run by the Celery
# workers side by side (PostgreSQL only; SQLite has one writer and always runs one).
KEYLINE_EXPIRY_PARTITIONS = env.int("KEYLINE_EXPIRY_PARTITIONS", default=1)
# Batches larger than this are generated by a Celery task with a progress bar.
KEYLINE_SYNC_BATCH_LIMIT = env.int("KEYLINE_SYNC_BATCH_LIMIT", default=2000)
# Fills of one large batch the worker runs side by side (PostgreSQL only), ADR 16.
KEYLINE_BATCH_FILL_TASKS = env.int("KEYLINE_BATCH_FILL_TASKS", default=2)
# Codes a fill writes and counts in one transaction: a killed worker loses at most one chunk.
KEYLINE_BATCH_CHUNK = env.int("KEYLINE_BATCH_CHUNK", default=5000)
KEYLINE_MAX_BATCH = 100_000
# Longest the unit-status call keeps an answer (units.status_cache): changes drop it, this bounds a
# read that raced one. Over a tracking server's minute, so its next question is a hit (ADR 26).
KEYLINE_STATUS_CACHE_SECONDS = env.int("KEYLINE_STATUS_CACHE_SECONDS", default=300)
# Longest an API token's lookup stays in the cache (cms.authentication): the services drop it when
# they change the token, its user or its account; this bounds changes made elsewhere.
KEYLINE_TOKEN_CACHE_SECONDS = env.int("KEYLINE_TOKEN_CACHE_SECONDS", default=60)
# `make bench` mounts a bare JSON view beside the API to measure the framework's floor.
KEYLINE_BENCH_ROUTES = env.bool("KEYLINE_BENCH_ROUTES", default=False)

_LOG_LEVEL = env.str("LOG_LEVEL", default="INFO")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"refusals_on_one_line": {"()": "cms.logs.RefusalsOnOneLine"}},
    "formatters": {
        "django.server": {"()": "django.utils.log.ServerFormatter", "format": "[{server_time}] {message}", "style": "{"},
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler"},
        "django.server": {"class": "logging.StreamHandler", "formatter": "django.server"},
    },
    "root": {"handlers": ["console"], "level": _LOG_LEVEL},
    "loggers": {
        # Named without handlers, so Django's own console handler (DEBUG only) is taken off and its
        # records reach the root's handler once, not twice. Naming it resets the loggers below it:
        # runserver's request lines get their handler back here.
        "django": {"level": _LOG_LEVEL},
        "django.server": {"handlers": ["django.server"], "level": "INFO", "propagate": False},
        "django.request": {"filters": ["refusals_on_one_line"]},
        "django.db.backends": {"level": "INFO"},
    },
}

# --- Redemption page and codes sent by e-mail -----------------------------------------------
# Rate limits of the public redemption page and the API's redemption (`codes.ratelimits`, counted
# by django-ratelimit): "count/period" per client address and per hardware id; every attempt counts.
if "django_ratelimit" not in INSTALLED_APPS:
    INSTALLED_APPS.append("django_ratelimit")
RATELIMIT_USE_CACHE = "ratelimit"
RATELIMIT_FAIL_OPEN = False  # the library's default, said out loud: when the cache cannot count, refuse
# The "ip" key counts the client behind the proxies (KEYLINE_TRUSTED_PROXIES), never the proxy.
RATELIMIT_IP_META_KEY = "cms.web.addresses.client_address_for_limits"
KEYLINE_REDEEM_RATE_ADDRESS = env.str("KEYLINE_REDEEM_RATE_ADDRESS", default="20/15m")
KEYLINE_REDEEM_RATE_HARDWARE_ID = env.str("KEYLINE_REDEEM_RATE_HARDWARE_ID", default="10/15m")
# How long the confirmation step of the redemption page stays valid (seconds).
KEYLINE_REDEEM_CONFIRM_MAX_AGE = env.int("KEYLINE_REDEEM_CONFIRM_MAX_AGE", default=15 * 60)
# Most codes one "send by e-mail" action may send.
KEYLINE_MAIL_MAX_CODES = env.int("KEYLINE_MAIL_MAX_CODES", default=500)
# E-mails of codes one user may send, and one address may receive, per period (`codes.ratelimits`,
# django-ratelimit's counters): a send that would go over is refused whole (ADR 50).
KEYLINE_MAIL_RATE_USER = env.str("KEYLINE_MAIL_RATE_USER", default="60/h")
KEYLINE_MAIL_RATE_RECIPIENT = env.str("KEYLINE_MAIL_RATE_RECIPIENT", default="20/h")
# Expiry-notice mails go out once a day from this hour, in each account's time zone (the job runs hourly).
KEYLINE_NOTICE_MAIL_HOUR = env.int("KEYLINE_NOTICE_MAIL_HOUR", default=7)
if REDIS_URL:
    # The counters live in the shared Redis. When it cannot be reached, this alias answers None
    # instead of raising (django-redis's IGNORE_EXCEPTIONS, logged), so django-ratelimit sees a
    # failed count and refuses the attempt rather than the request failing with a 500.
    CACHES["ratelimit"] = {**CACHES["default"], "OPTIONS": {"IGNORE_EXCEPTIONS": True}}
    DJANGO_REDIS_LOG_IGNORED_EXCEPTIONS = True
else:
    # No Redis: the file cache's `incr` resets the entry's expiry, so a limit would lapse early.
    # A memory cache counts right for the embedded set-up's one web process; it is not shared
    # between processes, hence django-ratelimit's E003 (production sets REDIS_URL).
    CACHES["ratelimit"] = {
        "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
        "LOCATION": "keyline-ratelimit",
    }
    SILENCED_SYSTEM_CHECKS = [*globals().get("SILENCED_SYSTEM_CHECKS", []), "django_ratelimit.E003"]

# --- REST API -------------------------------------------------------------------------------
# Personal tokens (`Authorization: Token <key>`) first, so an anonymous call gets 401 with
# WWW-Authenticate; the session works for the browser. JSON only in; one error shape out
# (cms.api.errors). Times in and out are UTC.
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "cms.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_RENDERER_CLASSES": [
        "rest_framework.renderers.JSONRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "cms.api.pagination.Cursor",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "cms.api.errors.exception_handler",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
    # Throttles' get_ident, and with it cms.web.addresses.client_address.
    "NUM_PROXIES": KEYLINE_TRUSTED_PROXIES,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Keyline API",
    "DESCRIPTION": (
        "Prepaid activation codes for telematics units. Authenticate with a personal token from your "
        "profile page: `Authorization: Token <key>`. Every resource is limited to your part of the "
        "account tree; errors share one shape: `{\"error\": {\"code\", \"message\", \"details\"}}`."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    "COMPONENT_SPLIT_REQUEST": True,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "ENUM_NAME_OVERRIDES": {
        "CodeStateEnum": "codes.models.CodeState",
        "ActionEnum": "audit.models.Action",
        "UnitStateEnum": "units.api.serializers.UNIT_STATES",
    },
}

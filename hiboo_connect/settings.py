"""Settings of the share centre, read from environment variables (see the table in README.md)."""

from pathlib import Path

import dj_database_url
from csp.constants import NONCE
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from .environment import env_bool, env_int, env_list, env_proxy_header, env_rate, env_str, env_url

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("VAR_DIR", str(BASE_DIR / "var")))
VAR_DIR.mkdir(parents=True, exist_ok=True)

DEBUG = env_bool("DEBUG", False)
SECRET_KEY = env_str("SECRET_KEY")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off.")
    SECRET_KEY = "insecure-development-key-set-SECRET_KEY-in-production"

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])
SITE_URL = env_url("SITE_URL", "http://127.0.0.1:8000", schemes=("http", "https")).rstrip("/")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django.forms",  # Django's widget templates, for the form renderer below
    "allauth",
    "allauth.account",
    "django_htmx",
    "django_filters",
    "template_partials",
    "rest_framework",
    "drf_spectacular",
    "hiboo_connect",
    "audit",
    "outbox",
    "accounts",
    "fleet",
    "sharing",
    "telematics",
    "events",
    "contracts",
    "aemp",
    "demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "hiboo_connect.middleware.PrivateResponsesMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "accounts.middleware.OrganisationRequiredMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]

ROOT_URLCONF = "hiboo_connect.urls"
WSGI_APPLICATION = "hiboo_connect.wsgi.application"

# Every form renders through the project's templates, with the portal's field template: one way to show a field.
FORM_RENDERER = "hiboo_connect.pages.FormRenderer"

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
                "django.template.context_processors.i18n",
                "hiboo_connect.context_processors.csp_nonce",
            ],
        },
    },
]

# Database: an SQLite file under var/ by default, PostgreSQL in production and CI.
_database_url = env_url(
    "DATABASE_URL", f"sqlite:///{VAR_DIR / 'db.sqlite3'}", schemes=("sqlite", "postgres", "postgresql", "pgsql")
)
# In production a connection is kept for a minute and checked before each request reuses it, instead of one new
# connection per request (issue 10: +69 % creates per second); under DEBUG (runserver, tests) one per request.
try:
    DATABASES = {
        "default": dj_database_url.parse(
            _database_url,
            conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 0 if DEBUG else 60),
            conn_health_checks=env_bool("DATABASE_CONN_HEALTH_CHECKS", True),
        )
    }
except ValueError as error:
    raise ImproperlyConfigured(f"DATABASE_URL could not be read: {error}") from None
DATABASES["default"]["TEST"] = {"NAME": env_str("TEST_DATABASE_NAME") or None}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The web process and the Celery worker write concurrently: IMMEDIATE transactions take the write lock up front
    # and wait for it (timeout, seconds), instead of failing with "database is locked" when a reading transaction
    # tries to start writing while another holds the lock.
    DATABASES["default"]["OPTIONS"] = {"transaction_mode": "IMMEDIATE", "timeout": 20}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env_url("REDIS_URL", "", schemes=("redis", "rediss"))

if REDIS_URL:
    # The shared cache holds allauth's rate limits (and the API's): nothing that must survive, nothing worth a failed
    # request. With Redis down every read misses and every write is dropped (django-redis's IGNORE_EXCEPTIONS), so
    # log-in and every page keep working, without rate limits until Redis is back. Short socket timeouts keep a
    # Redis that does not answer from holding a request.
    CACHES = {
        "default": {
            "BACKEND": "hiboo_connect.cache.SharedCache",
            "LOCATION": REDIS_URL,
            "OPTIONS": {
                "IGNORE_EXCEPTIONS": True,
                "SOCKET_CONNECT_TIMEOUT": 0.25,
                "SOCKET_TIMEOUT": 0.5,
            },
        }
    }
    DJANGO_REDIS_LOG_IGNORED_EXCEPTIONS = True
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# Accounts: e-mail is the login.
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_EMAIL_VERIFICATION = env_str("ACCOUNT_EMAIL_VERIFICATION", "mandatory")
ACCOUNT_UNIQUE_EMAIL = True
# The adapter sends new users to name their organisation and lets colleague invitations skip e-mail verification.
ACCOUNT_ADAPTER = "accounts.adapter.AccountAdapter"
# Confirming the address in the browser that signed up logs the user in (allauth checks the session: a leaked link
# alone logs nobody in).
ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION = True
ACCOUNT_FORMS = {
    "login": "accounts.forms.LoginForm",
    "signup": "accounts.forms.SignupForm",
    "reset_password": "accounts.forms.ResetPasswordForm",
}
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "/"
ACCOUNT_LOGOUT_REDIRECT_URL = "/"

# Internationalisation: English and French, UTC in storage.
LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("fr", _("French"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
# One date style per language for every page, e-mail and chart (hiboo_connect/formats).
FORMAT_MODULE_PATH = ["hiboo_connect.formats"]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# Static files: the app serves its own assets (whitenoise), never a CDN.
STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(VAR_DIR / "staticfiles")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}

# E-mail: SMTP when EMAIL_HOST is set, otherwise every message is written as a file under var/mail/.
EMAIL_HOST = env_str("EMAIL_HOST")
if EMAIL_HOST:
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    EMAIL_PORT = env_int("EMAIL_PORT", 587)
    EMAIL_HOST_USER = env_str("EMAIL_HOST_USER")
    EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD")
    EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", True)
    EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 20)
else:
    EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    EMAIL_FILE_PATH = VAR_DIR / "mail"
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "Share centre <no-reply@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# Content security policy: only the app's own assets; htmx runs with a nonce.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'", NONCE],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "connect-src": ["'self'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
    }
}

SESSION_COOKIE_SECURE = env_bool("SECURE_COOKIES", not DEBUG)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
# HTTPS, set by the deployment (README, Production): these are off by default because the wrong value behind a proxy
# loops redirects, and HSTS, once a browser has seen it, cannot be taken back before it expires.
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", False)
SECURE_PROXY_SSL_HEADER = env_proxy_header("SECURE_PROXY_SSL_HEADER")
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", False)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", False)

# Calls to other organisations' servers (telematics feeds, webhook receivers; hiboo_connect/outbound.py) are refused
# on private and loopback addresses unless the deployment allows them: `make run` does, so the demo can call itself.
OUTBOUND_ALLOW_PRIVATE_TARGETS = env_bool("OUTBOUND_ALLOW_PRIVATE_TARGETS", False)

# Celery: Redis when REDIS_URL is set; otherwise kombu's filesystem transport under var/, which needs no server.
# The filesystem transport ignores the host, but kombu warns "No hostname was supplied" at every connection without one.
FILESYSTEM_BROKER_URL = "filesystem://localhost/"
CELERY_BROKER_URL = REDIS_URL or FILESYSTEM_BROKER_URL
if REDIS_URL:
    # With the broker down, queueing a task fails at the first refused connection (kombu otherwise retries for 4 s
    # and more) and a host that does not answer is given up on after 0.3 s. The outbox keeps the message and its
    # re-dispatch job queues it once Redis is back. The worker's own connection retries in its loop, unaffected.
    CELERY_BROKER_TRANSPORT_OPTIONS: dict[str, object] = {"max_retries": 0, "socket_connect_timeout": 0.3}
else:
    _celery_dir = VAR_DIR / "celery"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_celery_dir / "queue"),
        "data_folder_out": str(_celery_dir / "queue"),
        "processed_folder": str(_celery_dir / "processed"),
        "control_folder": str(_celery_dir / "control"),
        "store_processed": False,
    }
    # kombu's filesystem transport does not create its folders, and a task may be queued (seed_demo, a web request)
    # before the worker ever started.
    for _folder in ("queue", "processed", "control"):
        (_celery_dir / _folder).mkdir(parents=True, exist_ok=True)
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
CELERY_TIMEZONE = "UTC"
# Several deployments (or test runs) can share one Redis by giving each its own queue.
CELERY_TASK_DEFAULT_QUEUE = env_str("CELERY_QUEUE", "celery")

# The public API (/api/v1/): organisation API keys, JSON only, one error shape (hiboo_connect/api/).
# DRF reads a JSON body whole, within this bound: a push of 10,000 readings (POST /api/v1/readings, DESIGN §8) with
# long fault descriptions is a few MB, so 16 MB, not Django's 2.5 MB. Larger bodies answer 413.
DATA_UPLOAD_MAX_MEMORY_SIZE = 16 * 1024 * 1024

REST_FRAMEWORK = {
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_AUTHENTICATION_CLASSES": ["accounts.authentication.ApiKeyAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["accounts.authentication.ApiKeyPermission"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["hiboo_connect.api.parsers.JsonParser"],
    "EXCEPTION_HANDLER": "hiboo_connect.api.errors.api_exception_handler",
    "UNAUTHENTICATED_USER": None,
}
# Each API key may make this many requests (DRF throttling, counted in the shared cache; README, docs/api.md). A
# contract sync or a telemetry feed stays far below it; a runaway loop meets 429 with Retry-After.
API_RATE_LIMIT = env_rate("API_RATE_LIMIT", "1200/minute")
SPECTACULAR_SETTINGS = {
    "TITLE": "Share centre API",
    "DESCRIPTION": (
        "Share machines' telematics data with other organisations, from your rental system. "
        "Authenticate with an organisation API key in the x-access-token header. Guide: docs/api.md."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # The schema and the docs are public; every operation needs a key.
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "SERVE_AUTHENTICATION": [],
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": "/api/v1",
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "hiboo_connect.api.schema.forbid_unknown_request_fields",
        "hiboo_connect.api.schema.document_rate_limits",
    ],
    # Two lists' "status" are different choices: each keeps its own name in the schema.
    "ENUM_NAME_OVERRIDES": {
        "SharingStatusEnum": "sharing.lifecycle.SharingStatus",
        "ContractStatusEnum": "contracts.models.ContractStatus",
        "EventTypeEnum": "sharing.changes.ChangeType",
    },
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"refusals_without_traceback": {"()": "hiboo_connect.error_pages.RefusalsWithoutTraceback"}},
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {
        # Django's own console handler (under DEBUG) on top of the root's printed every line twice: the root's only.
        "django": {"handlers": [], "propagate": True},
        "django.request": {"filters": ["refusals_without_traceback"]},
    },
}

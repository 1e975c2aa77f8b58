"""Settings for the test suite: the real settings, with a test secret, plain static storage and a fast hasher."""

import os

os.environ.setdefault("SECRET_KEY", "tests-only-secret-key")

from .settings import *  # noqa: F403

# Under live_server the manifest storage answers 404 for assets that were never collected.
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
# Nothing is collected before the tests: whitenoise serves the assets from the finders, as in development. Without
# this it looks for STATIC_ROOT (var/staticfiles/, absent) and warns "No directory at" for every request handler.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True

# A cache of the test process only: with REDIS_URL set (CI), a shared Redis cache would carry allauth's rate limits
# (one verification e-mail per address every few minutes) from one run into the next and silently drop e-mails.
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
# Every browser test logs in from 127.0.0.1: allauth's per-IP login limit (30 a minute) would make a fast suite flaky.
ACCOUNT_RATE_LIMITS = False

# Feeds and webhook receivers in the tests are local servers (tests/test_outbound.py turns this off).
OUTBOUND_ALLOW_PRIVATE_TARGETS = True

# Tasks run in the test process: nothing reaches a broker, e-mails land in the locmem outbox.
CELERY_TASK_ALWAYS_EAGER = True
CELERY_TASK_EAGER_PROPAGATES = True

# SQLite tests use a file, not memory, so that a real Celery worker started by a test (tests/sharing/
# test_celery_worker.py) sees the same database. One file per test process: parallel runs never share one.
_database = DATABASES["default"]  # noqa: F405
if _database["ENGINE"] == "django.db.backends.sqlite3" and not _database["TEST"]["NAME"]:
    import tempfile

    _database["TEST"]["NAME"] = os.path.join(tempfile.gettempdir(), f"hiboo-test-{os.getpid()}.sqlite3")

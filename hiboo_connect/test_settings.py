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

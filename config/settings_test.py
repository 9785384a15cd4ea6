"""Settings for the test suite (pytest-django loads this module, see pyproject.toml).

The production settings with what tests need stated here rather than guessed: a
test-only secret key, development hosts, fast password hashing, in-memory mail, live
report figures, plain HTTP. Nothing here depends on the caller's environment but the
service URLs (DATABASE_URL, CACHE_URL, CELERY_BROKER_URL), which CI sets for its
PostgreSQL and Redis run and a newcomer leaves unset (SQLite, local memory, the
filesystem broker).
"""

import os

from config.settings import *  # noqa: F403
from config.settings import CACHES, STORAGES

TESTING = True
DEBUG = False
SECRET_KEY = "test-only-secret-key-never-used-outside-the-test-suite-0123456789"  # noqa: S105
ALLOWED_HOSTS = ["localhost", "127.0.0.1", "[::1]", "testserver"]

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"

# Each pytest-xdist worker (the runner sets PYTEST_XDIST_WORKER) keeps its cache keys
# apart, so that clearing its own never empties another's in a shared Redis.
CACHES["default"]["KEY_PREFIX"] = "test-" + os.environ.get("PYTEST_XDIST_WORKER", "main")

# Passwords alone sign in, as in development: the second-factor tests turn it on.
STAFF_MFA_REQUIRED = False

# Every change visible at once; the cached and snapshot paths have tests that turn them on.
REPORT_CACHE_SECONDS = 0

WHITENOISE_USE_FINDERS = True
STORAGES = {
    **STORAGES,
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

SESSION_COOKIE_SECURE = False
CSRF_COOKIE_SECURE = False
SECURE_SSL_REDIRECT = False
SECURE_HSTS_SECONDS = 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = False
SECURE_HSTS_PRELOAD = False

"""Settings for the test suite: the service's own, with a fast password hasher."""

from stockflow.settings import *  # noqa: F403
from tests.parallel import QUEUE_DATABASES, redis_database, with_database

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

# The API reads JSON bodies only: the test client sends JSON unless told otherwise.
REST_FRAMEWORK = {**REST_FRAMEWORK, "TEST_REQUEST_DEFAULT_FORMAT": "json"}  # noqa: F405
# Webhooks to the receivers the tests start on 127.0.0.1.
WEBHOOK_ALLOW_PRIVATE = True

# The RQ backend, when a test switches to it (tests/notifications/test_worker.py): a Redis
# database of the worker's own on the local server.
RQ_QUEUES = {"default": {"URL": f"redis://127.0.0.1:6379/{redis_database(QUEUE_DATABASES)}"}}

# Each pytest-xdist worker has Redis databases of its own, for the cache (when REDIS_URL
# asks for one) and for the RQ queue.
if REDIS_URL:  # noqa: F405
    CACHES = {
        "default": {
            **CACHES["default"],  # noqa: F405
            "LOCATION": with_database(REDIS_URL, redis_database()),  # noqa: F405
        }
    }

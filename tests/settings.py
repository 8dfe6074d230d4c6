"""Settings for the test suite: the service's own, with a fast password hasher."""

from stockflow.settings import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

# The API reads JSON bodies only: the test client sends JSON unless told otherwise.
REST_FRAMEWORK = {**REST_FRAMEWORK, "TEST_REQUEST_DEFAULT_FORMAT": "json"}  # noqa: F405
# Webhooks to the receivers the tests start on 127.0.0.1.
WEBHOOK_ALLOW_PRIVATE = True

# The RQ backend, when a test switches to it (tests/notifications/test_worker.py): a Redis
# database of its own on the local server.
RQ_QUEUES = {"default": {"URL": "redis://127.0.0.1:6379/15"}}

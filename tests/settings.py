"""Settings for the test suite: the service's own, with a fast password hasher."""

from stockflow.settings import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

# Webhooks to the receivers the tests start on 127.0.0.1.
WEBHOOK_ALLOW_PRIVATE = True

"""Email settings come from EMAIL_URL or the EMAIL_* variables (settings.email_settings)."""

from __future__ import annotations

import pytest
from django.core.exceptions import ImproperlyConfigured

from stockflow.settings import email_settings

SMTP = "django.core.mail.backends.smtp.EmailBackend"


def test_console_when_nothing_is_configured():
    config = email_settings({})
    assert config["EMAIL_BACKEND"] == "django.core.mail.backends.console.EmailBackend"


def test_an_smtp_url_with_starttls():
    config = email_settings(
        {
            "EMAIL_URL": "smtp://mailer%40example.com:p%40ss@smtp.example.com:587",
            "DEFAULT_FROM_EMAIL": "x@example.com",
        }
    )
    assert config["EMAIL_BACKEND"] == SMTP
    assert (config["EMAIL_HOST"], config["EMAIL_PORT"]) == ("smtp.example.com", 587)
    assert (config["EMAIL_HOST_USER"], config["EMAIL_HOST_PASSWORD"]) == (
        "mailer@example.com",
        "p@ss",
    )
    assert config["EMAIL_USE_TLS"] and not config["EMAIL_USE_SSL"]
    assert config["DEFAULT_FROM_EMAIL"] == "x@example.com"


def test_smtps_and_plain_smtp():
    ssl = email_settings({"EMAIL_URL": "smtps://u:p@mail.example.com"})
    assert (ssl["EMAIL_PORT"], ssl["EMAIL_USE_SSL"], ssl["EMAIL_USE_TLS"]) == (465, True, False)
    plain = email_settings({"EMAIL_URL": "smtp://relay:25?tls=0"})
    assert (plain["EMAIL_PORT"], plain["EMAIL_USE_SSL"], plain["EMAIL_USE_TLS"]) == (
        25,
        False,
        False,
    )


def test_the_email_variables():
    config = email_settings(
        {
            "EMAIL_HOST": "relay.internal",
            "EMAIL_PORT": "2525",
            "EMAIL_USE_TLS": "0",
            "EMAIL_HOST_USER": "u",
        }
    )
    assert config["EMAIL_BACKEND"] == SMTP
    assert (config["EMAIL_HOST"], config["EMAIL_PORT"], config["EMAIL_USE_TLS"]) == (
        "relay.internal",
        2525,
        False,
    )


def test_an_unknown_scheme_is_refused():
    with pytest.raises(ImproperlyConfigured, match="EMAIL_URL"):
        email_settings({"EMAIL_URL": "http://mail.example.com"})

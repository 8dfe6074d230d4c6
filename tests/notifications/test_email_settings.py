"""SMTP settings from EMAIL_URL."""

from __future__ import annotations

import pytest

from stockflow.emailurl import parse_email_url


def test_an_smtp_url_gives_django_its_smtp_settings():
    assert parse_email_url("smtp+tls://alerts%40shop.example:p%2Fss@mail.example:2525") == {
        "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "EMAIL_HOST": "mail.example",
        "EMAIL_PORT": 2525,
        "EMAIL_HOST_USER": "alerts@shop.example",
        "EMAIL_HOST_PASSWORD": "p/ss",
        "EMAIL_USE_TLS": True,
        "EMAIL_USE_SSL": False,
    }
    assert parse_email_url("smtps://mail.example")["EMAIL_PORT"] == 465
    assert parse_email_url("smtp://127.0.0.1")["EMAIL_USE_TLS"] is False


@pytest.mark.parametrize("url", ["http://mail.example", "smtp://", "mail.example:25"])
def test_anything_else_is_refused(url):
    with pytest.raises(ValueError, match="EMAIL_URL"):
        parse_email_url(url)

"""Turn ``EMAIL_URL`` into Django's SMTP settings.

``smtp://user:password@host:port`` (plain, or STARTTLS with ``smtp+tls://``), ``smtps://``
(TLS from the start). The user and password are URL-decoded.
"""

from __future__ import annotations

from urllib.parse import unquote, urlsplit

SCHEMES = {"smtp": (False, False, 25), "smtp+tls": (True, False, 587), "smtps": (False, True, 465)}


def parse_email_url(url: str) -> dict:
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in SCHEMES or not parts.hostname:
        raise ValueError(f"EMAIL_URL must be smtp://, smtp+tls:// or smtps:// with a host: {url!r}")
    use_tls, use_ssl, default_port = SCHEMES[scheme]
    return {
        "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "EMAIL_HOST": parts.hostname,
        "EMAIL_PORT": parts.port or default_port,
        "EMAIL_HOST_USER": unquote(parts.username or ""),
        "EMAIL_HOST_PASSWORD": unquote(parts.password or ""),
        "EMAIL_USE_TLS": use_tls,
        "EMAIL_USE_SSL": use_ssl,
    }

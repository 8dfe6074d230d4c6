from __future__ import annotations

from django.utils import timezone
from rest_framework import authentication, exceptions

from stockflow.tenancy.models import ApiToken
from stockflow.tenancy.tokens import split_prefix, token_matches

KEYWORDS = {"bearer", "token"}


class ApiTokenAuthentication(authentication.BaseAuthentication):
    """``Authorization: Bearer sf_…`` (``Token sf_…`` is accepted too)."""

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).split()
        if not header or header[0].decode(errors="replace").lower() not in KEYWORDS:
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed("Invalid Authorization header.")
        try:
            raw = header[1].decode()
        except UnicodeError as exc:
            raise exceptions.AuthenticationFailed("Invalid token.") from exc
        prefix = split_prefix(raw)
        if prefix is None:
            raise exceptions.AuthenticationFailed("Invalid token.")
        token = ApiToken.objects.select_related("user").filter(prefix=prefix).first()
        if token is None or not token_matches(raw, token.token_hash):
            raise exceptions.AuthenticationFailed("Invalid token.")
        if token.revoked_at is not None:
            raise exceptions.AuthenticationFailed("Token has been revoked.")
        if token.expires_at is not None and token.expires_at <= timezone.now():
            raise exceptions.AuthenticationFailed("Token has expired.")
        if not token.user.is_active:
            raise exceptions.AuthenticationFailed("User is inactive.")
        return token.user, token

    def authenticate_header(self, request):
        return 'Bearer realm="api"'

from __future__ import annotations

from django.utils import timezone
from rest_framework import authentication, exceptions

from stockflow.tenancy import dbcontext
from stockflow.tenancy.selectors import token_with_roles
from stockflow.tenancy.tokens import split_prefix, token_matches

KEYWORDS = {"bearer", "token"}


class ApiTokenAuthentication(authentication.BaseAuthentication):
    """``Authorization: Bearer sf_…`` (``Token sf_…`` is accepted too).

    One statement loads the token, its user and the user's memberships
    (``selectors.token_with_roles``); the memberships are kept on the token as
    ``member_roles`` ({company id: role}), where ``TenantScope`` takes them instead of
    querying them again. They are read on every request, never cached across requests."""

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
        with dbcontext.platform():
            found = token_with_roles(prefix)
        if found is None or not token_matches(raw, found[0].token_hash):
            raise exceptions.AuthenticationFailed("Invalid token.")
        token, roles = found
        if token.revoked_at is not None:
            raise exceptions.AuthenticationFailed("Token has been revoked.")
        if token.expires_at is not None and token.expires_at <= timezone.now():
            raise exceptions.AuthenticationFailed("Token has expired.")
        if not token.user.is_active:
            raise exceptions.AuthenticationFailed("User is inactive.")
        token.member_roles = roles
        return token.user, token

    def authenticate_header(self, request):
        return 'Bearer realm="api"'

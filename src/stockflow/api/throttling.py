import hashlib

from rest_framework.throttling import SimpleRateThrottle


class TokenRateThrottle(SimpleRateThrottle):
    """Rate limit per API token (per user for session logins); rate from settings."""

    scope = "token"

    def get_cache_key(self, request, view):
        if not request.user or not request.user.is_authenticated:
            return None
        token = getattr(request, "auth", None)
        ident = f"t{token.pk}" if getattr(token, "pk", None) else f"u{request.user.pk}"
        return self.cache_format % {"scope": self.scope, "ident": ident}


class LoginRateThrottle(SimpleRateThrottle):
    """Failed-login protection: attempts per client address and per username."""

    scope = "login"

    def get_cache_key(self, request, view):
        username = str(request.data.get("username", "")).lower()[:150] if request.data else ""
        # Hashed: the username is client input, and a cache key must stay short and printable
        # (memcached refuses control characters, spaces and keys over 250 bytes).
        digest = hashlib.sha256(username.encode("utf-8", "surrogatepass")).hexdigest()[:32]
        ident = f"{self.get_ident(request)}:{digest}"
        return self.cache_format % {"scope": self.scope, "ident": ident}

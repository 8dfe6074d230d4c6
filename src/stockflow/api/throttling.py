"""Rate limits with O(1) state per key, shared by every process through the cache.

Each limit counts requests in fixed windows of its period (two integers per key: this window
and the one before) and estimates the last period as the previous window's count, weighted
by how much of it is still inside the period, plus the current one's (a sliding window
counter). The count goes up with an atomic increment before the decision and back down
when the request is refused, so concurrent processes never let more than the limit through
in one window, and refused requests do not count.

With ``REDIS_URL`` the cache is Redis and the limits hold across processes and machines
(the increment, the expiry and the read of the previous window are one script, one round
trip); else
each process counts on its own (the in-process cache). A cache that cannot be reached lets
the request through: a rate limit is not worth an outage.
"""

from __future__ import annotations

import hashlib
import logging
import math

from django.core.cache import DEFAULT_CACHE_ALIAS, caches
from django.core.cache.backends.redis import RedisCache
from django.utils.connection import ConnectionProxy
from rest_framework.throttling import SimpleRateThrottle

logger = logging.getLogger("stockflow.api")


# One statement: increment this window's counter (setting its expiry when it is new) and
# read the previous window's, in one round trip.
_COUNT_SCRIPT = """
local count = redis.call('INCR', KEYS[1])
if count == 1 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end
return {count, tonumber(redis.call('GET', KEYS[2]) or '0')}
"""
# Per cache instance (one per thread): its Redis client and the registered script. Django
# builds a new client object on every cache call, which costs more than the round trip.
_clients: dict[int, tuple[object, tuple]] = {}


def _redis_client(cache):
    """(the cache, its Redis client and script), or (the cache, None) for another backend."""
    if isinstance(cache, ConnectionProxy):  # django.core.cache.cache: the real one
        cache = caches[DEFAULT_CACHE_ALIAS]
    if not isinstance(cache, RedisCache):
        return cache, None
    found = _clients.get(id(cache))
    if found is None or found[0] is not cache:
        # Django's cache API has no "increment and set the expiry" in one call (its incr
        # is two round trips); its Redis client runs a script in one.
        client = cache._cache.get_client(write=True)
        found = _clients[id(cache)] = (cache, (client, client.register_script(_COUNT_SCRIPT)))
    return cache, found[1]


def count_in_window(cache, current: str, previous: str, ttl: int) -> tuple[int, int]:
    """Add one to the ``current`` counter (created with ``ttl`` seconds to live); return it
    and the ``previous`` counter (0 when absent)."""
    cache, redis = _redis_client(cache)
    if redis is not None:
        client, script = redis
        keys = [cache.make_key(current), cache.make_key(previous)]
        count, before = script(keys=keys, args=[ttl], client=client)
        return int(count), int(before)
    cache.add(current, 0, ttl)
    try:
        count = cache.incr(current)
    except ValueError:  # expired between the two calls
        cache.add(current, 1, ttl)
        count = 1
    return count, int(cache.get(previous) or 0)


def uncount(cache, current: str) -> None:
    cache, redis = _redis_client(cache)
    try:
        if redis is not None:
            redis[0].decr(cache.make_key(current))
        else:
            cache.decr(current)
    except ValueError:
        pass


class WindowRateThrottle(SimpleRateThrottle):
    """DRF's ``SimpleRateThrottle`` interface (``scope``, ``rate``, ``get_cache_key``), with
    a sliding window counter instead of a list of every request time."""

    def allow_request(self, request, view):
        if self.rate is None:
            return True
        self.key = self.get_cache_key(request, view)
        if self.key is None:
            return True
        self.now = self.timer()
        window = int(self.now // self.duration)
        current, previous = f"{self.key}:{window}", f"{self.key}:{window - 1}"
        try:
            count, before = count_in_window(self.cache, current, previous, 2 * self.duration)
        except Exception:
            logger.warning("Rate limit not applied: the cache is unreachable", exc_info=True)
            return True
        # The share of the previous window still inside the period ending now.
        self.elapsed = self.now / self.duration - window
        self.before, self.count = before, count - 1
        if before * (1 - self.elapsed) + count <= self.num_requests:
            return True
        try:
            uncount(self.cache, current)
        except Exception:
            logger.warning("Rate limit: the cache is unreachable", exc_info=True)
        return False

    def wait(self):
        """Seconds until a request would be allowed (``Retry-After``)."""
        room = self.num_requests - self.count - 1  # room left in this window's own count
        if room >= 0 and self.before:
            # Allowed once the previous window's weight falls to ``room``.
            return max(0.0, (1 - room / self.before - self.elapsed) * self.duration)
        remaining = (1 - self.elapsed) * self.duration
        if self.count == 0:
            return remaining
        # Next window: this window's count, weighted, must leave room for one more.
        share = max(0.0, 1 - (self.num_requests - 1) / self.count)
        return remaining + math.ceil(share * self.duration * 1000) / 1000


class TokenRateThrottle(WindowRateThrottle):
    """Rate limit per API token (per user for session logins); rate from settings."""

    scope = "token"

    def get_cache_key(self, request, view):
        if not request.user or not request.user.is_authenticated:
            return None
        token = getattr(request, "auth", None)
        ident = f"t{token.pk}" if getattr(token, "pk", None) else f"u{request.user.pk}"
        return self.cache_format % {"scope": self.scope, "ident": ident}


class AnonRateThrottle(WindowRateThrottle):
    """Unauthenticated requests per client address."""

    scope = "anon"

    def get_cache_key(self, request, view):
        if request.user and request.user.is_authenticated:
            return None
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


class LoginRateThrottle(WindowRateThrottle):
    """Failed-login protection: attempts per client address and per username."""

    scope = "login"

    def get_cache_key(self, request, view):
        username = str(request.data.get("username", "")).lower()[:150] if request.data else ""
        # Hashed: the username is client input, and a cache key must stay short and printable
        # (memcached refuses control characters, spaces and keys over 250 bytes).
        digest = hashlib.sha256(username.encode("utf-8", "surrogatepass")).hexdigest()[:32]
        ident = f"{self.get_ident(request)}:{digest}"
        return self.cache_format % {"scope": self.scope, "ident": ident}


class AccountRateThrottle(WindowRateThrottle):
    """Sign-up, invitation acceptance, password reset and change: attempts per client
    address."""

    scope = "account"

    def get_cache_key(self, request, view):
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}

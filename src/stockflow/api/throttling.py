"""Rate limits with O(1) state per key, shared by every process through the cache.

Each limit counts requests in fixed windows of its period (two integers per key: this window
and the one before) and estimates the last period as the previous window's count, weighted
by how much of it is still inside the period, plus the current one's (a sliding window
counter). The count goes up with an atomic increment before the decision and back down
when the request is refused, so concurrent processes never let more than the limit through
in one window, and refused requests do not count.

With ``REDIS_URL`` the cache is Redis and the limits hold across processes and machines:
the increment, the expiry and the read of the previous window are one script, sent on a
connection each thread keeps for it (one write and one read on the socket per request, see
``_RedisCounter``); else each process counts on its own (the in-process cache). A cache that
cannot be reached lets the request through: a rate limit is not worth an outage.
"""

from __future__ import annotations

import hashlib
import logging
import math
import os
import threading

from django.core.cache import DEFAULT_CACHE_ALIAS, caches
from django.core.cache.backends.redis import RedisCache
from django.utils.connection import ConnectionProxy
from redis.exceptions import NoScriptError, ResponseError
from rest_framework.throttling import SimpleRateThrottle

logger = logging.getLogger("stockflow.api")


# One statement: increment this window's counter (setting its expiry when it is new) and
# read the previous window's, in one round trip.
_COUNT_SCRIPT = """
local count = redis.call('INCR', KEYS[1])
if count == 1 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end
return {count, tonumber(redis.call('GET', KEYS[2]) or '0')}
"""
# Redis names a loaded script by the SHA-1 of its text.
_COUNT_SHA = hashlib.sha1(_COUNT_SCRIPT.encode()).hexdigest()


class _RedisCounter:
    """This thread's connection to one Redis cache, for the counters only.

    Django's cache calls (``add``, ``incr``, ``get``: four round trips) and even one call
    through redis-py's client (a connection taken from the pool and given back, with a
    check that it has nothing left to read: one more system call) cost several times the
    round trip itself; a sale pays it on every request. A connection of its own, opened
    lazily in the process and thread that use it, is one ``sendall`` and one ``recv``."""

    def __init__(self, cache: RedisCache) -> None:
        pool = cache._cache.get_client(write=True).connection_pool
        self.cache = cache
        self.pid = os.getpid()
        self.connection = pool.connection_class(**pool.connection_kwargs)

    def command(self, *args):
        try:
            self.connection.send_command(*args)
            return self.connection.read_response()
        except ResponseError:  # an answer, read whole: the connection is still in step
            raise
        except BaseException:
            # A reply may be left half read: the next call starts on a new connection.
            self.connection.disconnect()
            raise

    def count(self, current: str, previous: str, ttl: int) -> tuple[int, int]:
        keys = (self.cache.make_key(current), self.cache.make_key(previous))
        try:
            count, before = self.command("EVALSHA", _COUNT_SHA, 2, *keys, ttl)
        except NoScriptError:  # a restarted or flushed server: EVAL loads the script again
            count, before = self.command("EVAL", _COUNT_SCRIPT, 2, *keys, ttl)
        return int(count), int(before)


_local = threading.local()


def _redis_counter(cache) -> tuple[object, _RedisCounter | None]:
    """(the cache, this thread's counter connection), or (the cache, None) for a cache that
    is not Redis."""
    if isinstance(cache, ConnectionProxy):  # django.core.cache.cache: the real one
        cache = caches[DEFAULT_CACHE_ALIAS]
    if not isinstance(cache, RedisCache):
        return cache, None
    counters = _local.__dict__.setdefault("counters", {})
    counter = counters.get(id(cache))
    # A forked child never shares its parent's socket.
    if counter is None or counter.cache is not cache or counter.pid != os.getpid():
        counter = counters[id(cache)] = _RedisCounter(cache)
    return cache, counter


def count_in_window(cache, current: str, previous: str, ttl: int) -> tuple[int, int]:
    """Add one to the ``current`` counter (created with ``ttl`` seconds to live); return it
    and the ``previous`` counter (0 when absent)."""
    cache, counter = _redis_counter(cache)
    if counter is not None:
        return counter.count(current, previous, ttl)
    cache.add(current, 0, ttl)
    try:
        count = cache.incr(current)
    except ValueError:  # expired between the two calls
        cache.add(current, 1, ttl)
        count = 1
    return count, int(cache.get(previous) or 0)


def uncount(cache, current: str) -> None:
    cache, counter = _redis_counter(cache)
    try:
        if counter is not None:
            counter.command("DECR", cache.make_key(current))
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

"""The rate limits on Redis (``REDIS_URL``): the same sliding window counter, two integers per
key with an expiry, one command on one socket per request, and a lost connection or a
flushed script costs one request its count, never an error."""

from __future__ import annotations

import secrets

import pytest
from django.core.cache.backends.redis import RedisCache

from stockflow.api import throttling
from tests.api.test_throttling import Clock, allowed, make_throttle
from tests.ops.servers import redis_server


@pytest.fixture
def redis_cache():
    with redis_server() as url:
        prefix = f"throttle-test-{secrets.token_hex(4)}"
        redis_cache = RedisCache(url, {"KEY_PREFIX": prefix})
        yield redis_cache
        client = redis_cache._cache.get_client(write=True)
        keys = client.keys(f"{prefix}:*")
        if keys:
            client.delete(*keys)


def on(redis_cache, clock: Clock, rate: str):
    throttle = make_throttle(clock, rate)
    throttle.cache = redis_cache
    return throttle


def stored(redis_cache) -> dict[str, tuple[bytes, int]]:
    """Every key of this cache in Redis: (value, seconds to live)."""
    client = redis_cache._cache.get_client(write=True)
    prefix = redis_cache.make_key("")
    return {
        key.decode().removeprefix(prefix): (client.get(key), client.ttl(key))
        for key in client.keys(f"{prefix}*")
    }


def test_the_limit_holds_with_two_integers_per_key_that_expire(redis_cache):
    clock = Clock()
    throttle = on(redis_cache, clock, "10/minute")
    assert allowed(throttle, 25) == 10
    clock.now += 60 + 30  # half-way into the next window: 10 x 0.5 still count
    assert allowed(throttle, 10) == 5
    keys = stored(redis_cache)
    window = int(clock.now // 60)
    # This window and the previous one, plain integers (refusals taken back), each kept for
    # two periods at most.
    assert {key: value for key, (value, _) in keys.items()} == {
        f"throttle_probe:{window - 1}": b"10",
        f"throttle_probe:{window}": b"5",
    }
    assert all(0 < ttl <= 120 for _, ttl in keys.values())


def test_one_command_per_request(redis_cache, monkeypatch):
    throttle = on(redis_cache, Clock(), "100/minute")
    allowed(throttle, 1)  # the connection is opened
    sent = []
    counter = throttling._redis_counter(redis_cache)[1]
    real = counter.connection.send_command
    monkeypatch.setattr(
        counter.connection, "send_command", lambda *a, **k: sent.append(a[0]) or real(*a, **k)
    )
    assert allowed(throttle, 20) == 20
    assert sent == ["EVALSHA"] * 20


def test_a_flushed_script_is_loaded_again(redis_cache, monkeypatch):
    # A server restarted (or SCRIPT FLUSH) no longer knows the script's SHA-1.
    monkeypatch.setattr(throttling, "_COUNT_SHA", "0" * 40)
    assert allowed(on(redis_cache, Clock(), "3/minute"), 5) == 3


def test_a_lost_connection_lets_one_request_through_then_counts_again(redis_cache, caplog):
    clock = Clock()
    throttle = on(redis_cache, clock, "3/minute")
    assert allowed(throttle, 2) == 2
    counter = throttling._redis_counter(redis_cache)[1]
    own_id = counter.command("CLIENT", "ID")
    redis_cache._cache.get_client(write=True).client_kill_filter(_id=own_id)
    assert allowed(throttle, 1) == 1  # not counted: the cache could not be reached
    assert "the cache is unreachable" in caplog.text
    assert allowed(throttle, 5) == 1  # a new connection: the limit holds again

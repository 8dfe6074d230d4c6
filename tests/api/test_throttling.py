"""The rate limits: a sliding window counter, two integers per key, refused requests not
counted, Retry-After that is exact (tests/ops/test_shared_throttle.py: across processes)."""

from __future__ import annotations

from types import SimpleNamespace

from django.core.cache import cache

from stockflow.api.throttling import TokenRateThrottle, WindowRateThrottle


class Clock:
    def __init__(self) -> None:
        self.now = 1_700_000_040.0  # the start of a minute

    def __call__(self) -> float:
        return self.now


def make_throttle(clock: Clock, rate: str) -> type[WindowRateThrottle]:
    class Probe(WindowRateThrottle):
        scope = "probe"
        timer = clock

        def get_cache_key(self, request, view):
            return "throttle_probe"

    Probe.rate = rate
    return Probe


def allowed(throttle_class, times: int) -> int:
    return sum(throttle_class().allow_request(SimpleNamespace(), None) for _ in range(times))


def test_the_limit_holds_in_a_window_and_refusals_do_not_count():
    clock = Clock()
    throttle = make_throttle(clock, "10/minute")
    assert allowed(throttle, 25) == 10
    clock.now += 30  # still the same window
    assert allowed(throttle, 5) == 0
    # One full period later the previous window weighs nothing: 10 again.
    clock.now += 90
    assert allowed(throttle, 25) == 10


def test_the_previous_window_weighs_by_its_share_still_inside_the_period():
    clock = Clock()
    throttle = make_throttle(clock, "10/minute")
    assert allowed(throttle, 10) == 10
    clock.now += 60 + 30  # half-way into the next window: 10 x 0.5 still count
    assert allowed(throttle, 10) == 5
    clock.now += 15  # three quarters: 10 x 0.25 + 5
    assert allowed(throttle, 10) == 2


def test_retry_after_is_when_the_next_request_passes():
    clock = Clock()
    throttle = make_throttle(clock, "10/minute")
    for offset in (0.0, 12.5, 47.0):
        cache.clear()
        clock.now = 1_700_000_040.0 + offset
        allowed(throttle, 10)
        refused = throttle()
        assert not refused.allow_request(SimpleNamespace(), None)
        wait = refused.wait()
        assert wait > 0
        clock.now += wait - 0.01
        assert allowed(throttle, 1) == 0, offset
        clock.now += 0.02
        assert allowed(throttle, 1) == 1, offset


def test_the_state_per_key_is_two_integers_whatever_the_traffic():
    clock = Clock()
    throttle = make_throttle(clock, "100000/hour")
    for _ in range(3):
        assert allowed(throttle, 2000) == 2000
        clock.now += 1800
    keys = [key for key in cache._cache if "throttle_probe" in key]
    assert len(keys) == 2  # this window and the previous one (expiring)
    assert all(isinstance(cache.get(key.split(":", 2)[-1]), int) for key in keys)


def test_an_unreachable_cache_lets_requests_through(monkeypatch):
    def broken(*args, **kwargs):
        raise ConnectionError("cache down")

    monkeypatch.setattr(cache, "incr", broken)
    throttle = make_throttle(Clock(), "1/minute")
    assert allowed(throttle, 3) == 3


def test_the_token_throttle_is_a_window_counter():
    assert issubclass(TokenRateThrottle, WindowRateThrottle)

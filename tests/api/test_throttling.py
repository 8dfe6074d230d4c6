"""The token throttle keeps DRF's sliding window exactly, in a cheaper history."""

from __future__ import annotations

import random
from types import SimpleNamespace

import pytest
from rest_framework.throttling import SimpleRateThrottle

from stockflow.api.throttling import TokenRateThrottle


class Clock:
    def __init__(self) -> None:
        self.now = 1_700_000_000.0

    def __call__(self) -> float:
        return self.now


def throttles(clock: Clock, rate: str):
    class Reference(SimpleRateThrottle):
        scope = "token"
        timer = clock

        def get_cache_key(self, request, view):
            return "reference"

    class Ours(TokenRateThrottle):
        timer = clock

        def get_cache_key(self, request, view):
            return "ours"

    Reference.rate = Ours.rate = rate
    return Reference, Ours


@pytest.mark.parametrize("seed", range(5))
def test_same_decisions_and_retry_after_as_drf(seed):
    rng = random.Random(seed)
    clock = Clock()
    reference, ours = throttles(clock, "5/minute")
    request = SimpleNamespace()
    decisions = []
    for _ in range(400):
        # Bursts and pauses, including requests exactly one period apart.
        clock.now += rng.choice([0, 0.5, 1, 3, 10, 30, 60])
        expected, actual = reference(), ours()
        allowed = expected.allow_request(request, None)
        assert actual.allow_request(request, None) == allowed
        if not allowed:
            assert actual.wait() == pytest.approx(expected.wait())
        decisions.append(allowed)
    assert True in decisions and False in decisions

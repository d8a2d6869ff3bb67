"""Reconnect backoff: exponential cap, full jitter inside [min, cap], reset after success."""

from __future__ import annotations

import random

import pytest

from agent.backoff import Backoff


def test_cap_doubles_up_to_max() -> None:
    backoff = Backoff(1.0, 10.0, rand=lambda _lo, hi: hi)
    assert [backoff.next_delay() for _ in range(6)] == [1.0, 2.0, 4.0, 8.0, 10.0, 10.0]


def test_reset_starts_over() -> None:
    backoff = Backoff(0.5, 60.0, rand=lambda _lo, hi: hi)
    for _ in range(5):
        backoff.next_delay()
    backoff.reset()
    assert backoff.next_delay() == 0.5


def test_full_jitter_stays_within_bounds_and_spreads() -> None:
    rng = random.Random(7)
    backoff = Backoff(1.0, 120.0, rand=rng.uniform)
    delays = [backoff.next_delay() for _ in range(200)]
    assert all(1.0 <= d <= 120.0 for d in delays)
    late = delays[20:]
    assert max(late) - min(late) > 60  # spread out, not a lockstep wave


def test_many_attempts_do_not_overflow() -> None:
    backoff = Backoff(1.0, 5.0)
    backoff.attempt = 10_000
    assert 1.0 <= backoff.next_delay() <= 5.0


def test_bad_bounds_are_refused() -> None:
    with pytest.raises(ValueError):
        Backoff(5.0, 1.0)
    with pytest.raises(ValueError):
        Backoff(0.0, 1.0)

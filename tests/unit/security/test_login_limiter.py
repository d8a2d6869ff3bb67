"""Hole 6: throttling per (account, real address), growing delays, never a global lockout,
bounded memory; and the real client address only from trusted proxies."""

from __future__ import annotations

import tracemalloc
from datetime import UTC, datetime

import pytest

from controller.auth.client_address import parse_networks, real_client
from controller.auth.rate_limit import LoginRateLimiter
from protocol.clock import FakeClock

PROXIES = parse_networks(("10.9.0.0/16", "127.0.0.1"))


def _limiter(**kw: float) -> tuple[FakeClock, LoginRateLimiter]:
    clock = FakeClock(datetime(2026, 1, 1, tzinfo=UTC))
    return clock, LoginRateLimiter(clock, 3, 300, first_delay_s=30, max_delay_s=240, **kw)  # type: ignore[arg-type]


def test_delay_starts_after_the_free_failures_and_doubles_up_to_the_cap() -> None:
    clock, limiter = _limiter()
    for _ in range(2):
        limiter.failed("admin", "203.0.113.7")
    assert limiter.retry_after_s("admin", "203.0.113.7") == 0
    waits = []
    for _ in range(6):
        limiter.failed("Admin ", "203.0.113.7")  # same account, however typed
        waits.append(limiter.retry_after_s("admin", "203.0.113.7"))
        clock.advance(waits[-1])  # the guesser waits out each refusal
    assert waits == [30, 60, 120, 240, 240, 240]


def test_a_guesser_never_locks_the_account_for_another_address() -> None:
    _, limiter = _limiter()
    for _ in range(50):
        limiter.failed("admin", "203.0.113.7")
    assert limiter.retry_after_s("admin", "203.0.113.7") > 0
    assert limiter.retry_after_s("admin", "198.51.100.20") == 0  # the admin at the office
    assert limiter.retry_after_s("operator", "203.0.113.7") == 0


def test_a_pair_is_forgotten_after_a_quiet_window_and_on_success() -> None:
    clock, limiter = _limiter()
    for _ in range(3):
        limiter.failed("lan", "1.2.3.4")
    assert limiter.retry_after_s("lan", "1.2.3.4") == 30
    clock.advance(30 + 299)
    limiter.failed("lan", "1.2.3.4")  # still remembered: the fourth failure doubles
    assert limiter.retry_after_s("lan", "1.2.3.4") == 60
    clock.advance(60 + 300)
    assert limiter.retry_after_s("lan", "1.2.3.4") == 0 and len(limiter) == 0
    limiter.failed("lan", "1.2.3.4")
    limiter.succeeded("LAN", "1.2.3.4")
    assert len(limiter) == 0


def test_memory_stays_bounded_under_100k_addresses() -> None:
    _, limiter = _limiter(max_entries=1000)
    tracemalloc.start()
    try:
        for i in range(100_000):
            limiter.failed("admin", f"10.{i >> 16 & 255}.{i >> 8 & 255}.{i & 255}")
            if i == 1_999:
                baseline, _ = tracemalloc.get_traced_memory()
        after, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert len(limiter) == 1000
    assert after - baseline < 256 * 1024  # no growth once the table is full
    # the least recently touched pairs went first: two more failures block the newest
    # address (1 + 2 = 3) but not the oldest, whose first failure was evicted
    for address in ("10.1.134.159", "10.0.0.0"):  # i = 99_999 and i = 0
        limiter.failed("admin", address)
        limiter.failed("admin", address)
    assert limiter.retry_after_s("admin", "10.1.134.159") > 0
    assert limiter.retry_after_s("admin", "10.0.0.0") == 0


@pytest.mark.parametrize(
    ("peer", "forwarded", "client"),
    [
        # a direct client: its own X-Forwarded-For is ignored
        ("203.0.113.7", ["1.1.1.1"], "203.0.113.7"),
        # through the proxy: the address the proxy saw
        ("10.9.0.1", ["198.51.100.20"], "198.51.100.20"),
        # the client prepends a fake hop: only the proxy's (rightmost) entry counts
        ("10.9.0.1", ["6.6.6.6, 198.51.100.20"], "198.51.100.20"),
        # two trusted hops are skipped right to left, over several headers
        ("127.0.0.1", ["6.6.6.6, 198.51.100.20", "10.9.3.4"], "198.51.100.20"),
        # garbage written by an untrusted party: stop at the last trusted hop
        ("10.9.0.1", ["198.51.100.20, not-an-ip"], "10.9.0.1"),
        # IPv6 in brackets, and no header at all
        ("10.9.0.1", ["[2001:db8::5]"], "2001:db8::5"),
        ("10.9.0.1", [], "10.9.0.1"),
        ("testclient", ["1.1.1.1"], "testclient"),
    ],
)
def test_real_client_believes_only_trusted_proxies(
    peer: str, forwarded: list[str], client: str
) -> None:
    assert real_client(peer, forwarded, PROXIES) == client

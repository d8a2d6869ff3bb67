"""The online check answers fast and is remembered for its TTL (driven by a fake clock)."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest

from audio.engines.connectivity import ConnectivityProbe


class FakeMonotonic:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def listener() -> Iterator[socket.socket]:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(8)
    yield sock
    sock.close()


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
    return port


def test_reachable_host(listener: socket.socket) -> None:
    probe = ConnectivityProbe("127.0.0.1", listener.getsockname()[1], timeout_s=0.5)
    assert probe.unreachable_reason() is None


def test_answer_is_remembered_until_the_ttl_runs_out(listener: socket.socket) -> None:
    clock = FakeMonotonic()
    port = _closed_port()
    probe = ConnectivityProbe("127.0.0.1", port, timeout_s=0.5, ttl_s=60, monotonic=clock)
    assert probe.unreachable_reason() is not None
    probe.port = listener.getsockname()[1]  # the network comes back...
    clock.now += 59
    assert probe.unreachable_reason() is not None  # ...but the answer is still remembered
    clock.now += 2
    assert probe.unreachable_reason() is None


def test_mark_down_holds_for_the_ttl(listener: socket.socket) -> None:
    clock = FakeMonotonic()
    probe = ConnectivityProbe("127.0.0.1", listener.getsockname()[1], monotonic=clock)
    probe.mark_down("gTTS timed out")
    assert probe.unreachable_reason() == "gTTS timed out"
    clock.now += 61
    assert probe.unreachable_reason() is None


def test_unresolvable_name_fails_fast() -> None:
    probe = ConnectivityProbe("no-such-host.invalid", timeout_s=0.5)
    assert "no-such-host.invalid" in (probe.unreachable_reason() or "")

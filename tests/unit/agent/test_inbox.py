"""The inbox hands broker messages from the network thread to a worker, stamped on arrival."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from agent.inbox import Inbox
from protocol.clock import FakeClock


def test_messages_keep_arrival_time_and_order_and_survive_a_bad_handler() -> None:
    clock = FakeClock(datetime(2026, 11, 29, 1, 0, tzinfo=UTC))
    inbox = Inbox(clock)
    seen: list[tuple[bytes, datetime]] = []

    def record(raw: bytes, arrived: datetime) -> None:
        if raw == b"bad":
            raise ValueError("handler bug")
        seen.append((raw, arrived))

    deliver = inbox.route(record)
    deliver(b"one")
    clock.advance(2)
    deliver(b"bad")
    deliver(b"two")
    clock.advance(5)  # handled later: the stamps stay the arrival times
    inbox.step()
    t0 = datetime(2026, 11, 29, 1, 0, tzinfo=UTC)
    assert seen == [(b"one", t0), (b"two", t0 + timedelta(seconds=2))]
    inbox.step()
    assert len(seen) == 2

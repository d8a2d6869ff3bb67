"""The slow link's model of one direction: serialised at the rate, then delayed, some lost."""

from __future__ import annotations

import random

from loadsim.bench._netns import LinkShape, _Direction


def test_packets_queue_behind_each_other_at_the_rate_then_take_the_delay() -> None:
    way = _Direction(LinkShape(rate_bps=100_000, delay_ms=150, loss_pct=0), random.Random(1))
    first = way.admit(0.0, 125)  # 1,000 bits: 10 ms on the air at 100 kbit/s
    second = way.admit(0.0, 125)  # waits for the first
    assert first is not None and second is not None
    assert abs(first - 0.160) < 1e-9 and abs(second - 0.170) < 1e-9
    later = way.admit(5.0, 125)  # the radio was idle: no queue
    assert later is not None and abs(later - 5.160) < 1e-9
    assert way.bytes == 375 and way.lost == 0


def test_about_the_loss_rate_is_dropped_and_still_counted_as_sent() -> None:
    way = _Direction(LinkShape(loss_pct=1.0), random.Random(7))
    arrivals = [way.admit(float(n), 100) for n in range(20_000)]
    lost = arrivals.count(None)
    assert 120 < lost < 280 and way.lost == lost and way.bytes == 2_000_000

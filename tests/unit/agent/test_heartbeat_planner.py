"""The heartbeat planner: a full snapshot first, then only news, at once; silence doubles
up to the longest interval; a full snapshot again on schedule and on request."""

from __future__ import annotations

from typing import Any

from agent.heartbeat import HeartbeatPlanner, HeartbeatPolicy, changed_fields

POLICY = HeartbeatPolicy(check_s=30, max_interval_s=150, full_every_s=1800)
BASE: dict[str, Any] = {"volume": 70, "load1": 0.2, "uptime_s": 10.0, "current_item": None}


def test_first_look_sends_everything_then_nothing_until_the_interval() -> None:
    planner = HeartbeatPlanner(POLICY)
    assert planner.plan(0, dict(BASE)) == (BASE, False)
    assert planner.plan(10, {**BASE, "uptime_s": 20.0}) is None  # uptime is not news
    assert planner.plan(29, dict(BASE)) is None


def test_a_change_goes_out_at_once_as_a_delta_of_that_field_only() -> None:
    planner = HeartbeatPlanner(POLICY)
    planner.plan(0, dict(BASE))
    assert planner.plan(1, {**BASE, "volume": 40, "uptime_s": 11.0}) == ({"volume": 40}, True)
    assert planner.plan(2, {**BASE, "volume": 40}) is None  # already told


def test_silence_doubles_up_to_the_longest_interval_and_news_resets_it() -> None:
    planner = HeartbeatPlanner(POLICY)
    planner.plan(0, dict(BASE))
    sends = [t for t in range(1, 1000) if planner.plan(t, dict(BASE)) is not None]
    gaps = [b - a for a, b in zip([0, *sends], sends, strict=False)]
    assert gaps[:4] == [30, 60, 120, 150] and set(gaps[4:]) == {150}
    assert all(planner.plan(t, dict(BASE)) is None for t in range(sends[-1] + 1, sends[-1] + 150))
    t = sends[-1] + 5
    assert planner.plan(t, {**BASE, "current_item": "a"}) == ({"current_item": "a"}, True)
    assert planner.interval_s == POLICY.check_s


def test_noise_in_measured_values_is_not_news_but_a_real_move_is() -> None:
    last = {"load1": 0.2, "disk_free_mb": 5000.0, "cpu_temp_c": 50.0}
    assert changed_fields(last, {"load1": 0.9, "disk_free_mb": 4950.0, "cpu_temp_c": 51.0}) == {}
    moved = changed_fields(last, {"load1": 1.5, "disk_free_mb": 4000.0, "cpu_temp_c": 60.0})
    assert moved == {"load1": 1.5, "disk_free_mb": 4000.0, "cpu_temp_c": 60.0}
    assert changed_fields(last, {**last, "ip": "10.0.0.2"}) == {"ip": "10.0.0.2"}  # new field


def test_full_snapshot_on_schedule_and_on_request() -> None:
    planner = HeartbeatPlanner(POLICY)
    planner.plan(0, dict(BASE))
    planner.request_full()
    assert planner.plan(1, dict(BASE)) == (BASE, False)
    full = [t for t in range(2, 4000) if (p := planner.plan(t, dict(BASE))) and not p[1]]
    assert full == [1801, 3601]

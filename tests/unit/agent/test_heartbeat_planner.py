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


def test_silence_lasts_the_longest_interval_and_news_does_not_shorten_it() -> None:
    planner = HeartbeatPlanner(POLICY)
    planner.plan(0, dict(BASE))
    looks = range(30, 1000, 30)  # the agent looks every check_s
    sends = [t for t in looks if planner.plan(t, dict(BASE)) is not None]
    assert sends == [150, 300, 450, 600, 750, 900]  # only signs of life, one per interval
    t = sends[-1] + 5
    assert planner.plan(t, {**BASE, "current_item": "a"}) == ({"current_item": "a"}, True)
    after = {**BASE, "current_item": "a"}
    # the next sign of life is one whole interval after the news, not 30 s (that cost ~2
    # extra exchanges per change)
    assert all(planner.plan(u, dict(after)) is None for u in range(t + 30, t + 150, 30))
    assert planner.plan(t + 150, dict(after)) == ({}, True)
    assert planner.interval_s == planner.next_within_s() == POLICY.max_interval_s


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


def test_a_look_a_little_early_still_sends_the_sign_of_life() -> None:
    """Looks come every 30 s but the time of the last send may be later than its look (a
    slow health read): the look at ~120 s must send, not the one at ~150 s, which would
    be past the keep-alive (135 s) and the announced gap."""
    planner = HeartbeatPlanner(HeartbeatPolicy(check_s=30, max_interval_s=120))
    planner.plan(0.8, dict(BASE))  # look at 0, sent 0.8 s later
    assert all(planner.plan(t + 0.1, dict(BASE)) is None for t in (30, 60, 90))
    assert planner.plan(120.1, dict(BASE)) == ({}, True)  # 119.3 s after the send


def test_a_moved_measurement_waits_for_the_next_qos1_heartbeat_but_a_state_change_does_not() -> (
    None
):
    planner = HeartbeatPlanner(POLICY)  # confirm_every 10
    planner.plan(0, dict(BASE))
    busy = {**BASE, "load1": 3.0}  # moved past its threshold: reported, not urgent
    assert all(planner.plan(t, dict(busy)) is None for t in range(30, 150, 30))
    # the QoS 0 signs of life stay one byte; the move rides on the next QoS 1 heartbeat
    assert planner.plan(150, dict(busy)) == ({}, True) and planner.qos == 0
    sent = [(t, planner.plan(t, dict(busy)), planner.qos) for t in range(180, 1560, 30)]
    sent = [(t, p, q) for t, p, q in sent if p is not None]
    assert [q for _t, _p, q in sent] == [0] * 8 + [1]  # the 10th after the full snapshot
    assert sent[-1][1] == ({"load1": 3.0}, True)  # ... carries the moved value
    assert all(p == ({}, True) for _t, p, _q in sent[:-1])
    assert planner.plan(1510, {**busy, "volume": 10}) == ({"volume": 10}, True)  # at once


def test_a_state_change_takes_the_moved_measurements_along() -> None:
    planner = HeartbeatPlanner(POLICY)
    planner.plan(0, dict(BASE))
    assert planner.plan(30, {**BASE, "load1": 3.0, "volume": 5}) == (
        {"load1": 3.0, "volume": 5},
        True,
    )


def test_signs_of_life_go_qos0_but_every_nth_news_and_full_snapshots_go_qos1() -> None:
    planner = HeartbeatPlanner(HeartbeatPolicy(check_s=30, max_interval_s=60, confirm_every=3))

    def look(t: float, fields: dict[str, Any]) -> int | None:
        return None if planner.plan(t, fields) is None else planner.qos

    assert look(0, dict(BASE)) == 1  # the full snapshot must arrive
    sent = [(t, q) for t in range(30, 421, 30) if (q := look(t, dict(BASE))) is not None]
    # one sign of life a minute, every third QoS 1 (its PUBACK proves the way back)
    assert sent == [(60, 0), (120, 0), (180, 1), (240, 0), (300, 0), (360, 1), (420, 0)]
    assert look(425, {**BASE, "volume": 10}) == 1  # news: QoS 1, and it counts as the answer
    assert [look(t, {**BASE, "volume": 10}) for t in (485, 545, 605)] == [0, 0, 1]
    planner.request_full()
    assert look(606, {**BASE, "volume": 10}) == 1


def test_confirm_every_one_sends_every_heartbeat_qos1() -> None:
    planner = HeartbeatPlanner(HeartbeatPolicy(check_s=30, max_interval_s=60, confirm_every=1))
    planner.plan(0, dict(BASE))
    assert all(planner.plan(t, dict(BASE)) is not None and planner.qos for t in (60, 120, 180))

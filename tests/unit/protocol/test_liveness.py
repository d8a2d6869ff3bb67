"""The liveness arithmetic both sides share: what a sign of life costs on the wire, the
keep-alive just above the heartbeat gap, and how long a silence may last."""

from __future__ import annotations

import itertools
import math

import pytest

from agent.config import AgentSettings
from agent.heartbeat import HeartbeatPlanner, HeartbeatPolicy
from protocol import liveness
from protocol.compact import SIGN_OF_LIFE
from protocol.liveness import (
    MONTH_S,
    detection_bound_s,
    exchange_bytes,
    idle_bytes_per_month,
    keepalive_for,
    lwt_after_s,
    mixed_exchange_bytes,
    publish_bytes,
    qos0_exchange_bytes,
    silence_allowed_s,
    user_timeout_s,
)

HEARTBEAT_TOPIC = len("loa/v1/node/field-new/heartbeat")  # 31


def test_publish_bytes_counts_every_mqtt_field() -> None:
    # type+flags, remaining length, topic length, topic, packet id, properties length, payload
    assert publish_bytes(31, 1) == 1 + 1 + 2 + 31 + 2 + 1 + 1
    # an aliased topic: empty topic, the Topic Alias property (id + 2 bytes)
    assert publish_bytes(0, 1, props_len=3) == 1 + 1 + 2 + 0 + 2 + 1 + 3 + 1
    assert publish_bytes(0, 200) == 1 + 2 + 2 + 2 + 1 + 200  # two-byte remaining length


def test_one_sign_of_life_is_three_segments() -> None:
    aliased = exchange_bytes(0, len(SIGN_OF_LIFE), props_len=3)
    assert aliased == (52 + 11) + (52 + 4) + 52 == 171
    assert exchange_bytes(HEARTBEAT_TOPIC, 1) == 199
    assert exchange_bytes(0, 1, header=40, props_len=3) == 171 - 3 * 12  # no TCP timestamps


def test_a_qos0_sign_of_life_is_two_segments() -> None:
    # PUBLISH without packet id: type, length, topic length, no topic, properties length,
    # the Topic Alias property, the 1-byte payload; then the broker's pure TCP ACK
    assert publish_bytes(0, 1, qos=0, props_len=3) == 1 + 1 + 2 + 0 + 1 + 3 + 1
    assert qos0_exchange_bytes(0, len(SIGN_OF_LIFE), props_len=3) == (52 + 9) + 52 == 113
    assert qos0_exchange_bytes(0, 1, header=40, props_len=3) == 89  # no TCP timestamps
    # every 10th QoS 1: its PUBACK and the ACK of it are 58 bytes more
    assert mixed_exchange_bytes(0, 1, 10, props_len=3) == (9 * 113 + 171) / 10 == 118.8
    assert mixed_exchange_bytes(0, 1, 1, props_len=3) == 171


def test_the_defaults_meet_five_mb_a_month_and_90_s_detection() -> None:
    settings = AgentSettings()
    interval = settings.heartbeat_max_interval_s
    assert interval == 60 and settings.heartbeat_confirm_every == 10
    full_extra = 400  # a 6-hourly full CBOR snapshot is ~300-400 bytes more than a sign of life
    full_every = settings.heartbeat_full_every_s
    # as the installer leaves the node: TCP timestamps off (40-byte headers)
    mean = mixed_exchange_bytes(0, 1, 10, header=liveness.TCP_IP_HEADER_NO_TIMESTAMPS, props_len=3)
    month = idle_bytes_per_month(interval, mean, full_every, full_extra)
    assert 3.9e6 < month <= 5e6
    assert detection_bound_s(interval) == 90  # 60 + 15 grace + one 15 s liveness check
    # with the kernel's timestamps the same design is just over (5.1 MB): hence the sysctl
    with_ts = idle_bytes_per_month(interval, mixed_exchange_bytes(0, 1, 10, props_len=3))
    assert 5e6 < with_ts < 5.2e6
    # and all QoS 1 (the previous design) cannot fit a 60 s gap even without timestamps
    assert idle_bytes_per_month(60, exchange_bytes(0, 1, header=40, props_len=3)) > 5e6
    assert MONTH_S / 60 * 3 * liveness.TCP_IP_HEADER > 5e6


def test_keepalive_sits_just_above_the_answered_period() -> None:
    assert keepalive_for(120) == 135 and keepalive_for(2) == 5
    for gap in (2, 30, 60, 90, 120, 180, 600):
        assert gap < keepalive_for(gap) <= gap * 1.125 + 3 + 1
    # QoS 1 every 10th of 60 s: paho reads a PUBACK every 600 s, so the keep-alive is above
    assert keepalive_for(60, 10) == 675 and keepalive_for(2, 2) == 7
    assert lwt_after_s(60, 10) == 1012.5
    assert AgentSettings().keepalive_s == 675
    assert AgentSettings(heartbeat_confirm_every=1).keepalive_s == 68
    assert AgentSettings(heartbeat_max_interval_s=120, heartbeat_confirm_every=1).keepalive_s == 135
    assert AgentSettings(mqtt_keepalive_s=240).keepalive_s == 240  # an explicit setting wins
    assert AgentSettings(heartbeat_delta=False).keepalive_s == liveness.LEGACY_KEEPALIVE_S


def test_keepalive_never_pings_between_qos1_heartbeats() -> None:
    """paho pings when nothing was *read* for a keep-alive: the longest wait for a PUBACK is
    confirm_every signs of life, each sent at the look nearest the gap (agent.heartbeat)."""
    assert liveness.spacing_s(60, 30) == 60 and liveness.spacing_s(110, 30) == 120
    assert liveness.spacing_s(100, 30) == 100  # sent at 90 s, never shorter than the gap
    assert keepalive_for(110, 10, 30) == math.ceil(1200 * 1.125)
    for gap, look, n in ((60, 30, 10), (110, 30, 10), (60, 30, 1), (2, 1, 2), (300, 45, 5)):
        policy = HeartbeatPolicy(check_s=look, max_interval_s=gap, confirm_every=n)
        planner = HeartbeatPlanner(policy)
        answered = [0.0]  # the first full snapshot is QoS 1
        planner.plan(0, {})
        t = 0.0
        while t < 40 * gap:
            t += look
            if planner.plan(t, {}) is not None and planner.qos:
                answered.append(t)
        longest = max(b - a for a, b in itertools.pairwise(answered))
        assert longest <= n * liveness.spacing_s(gap, look)
        assert keepalive_for(gap, n, look) > longest + 1  # plus a round trip on a slow link


def test_user_timeout_is_two_gaps() -> None:
    assert user_timeout_s(60) == 120
    assert AgentSettings().user_timeout_s == 120
    assert AgentSettings(mqtt_user_timeout_s=0).user_timeout_s == 0
    assert AgentSettings(heartbeat_interval_s=1, heartbeat_max_interval_s=2).user_timeout_s == 4


@pytest.mark.parametrize(
    ("announced", "allowed"),
    [(None, 60.0), (0, 60.0), (True, 60.0), ("120", 60.0), (120, 135.0), (180, 202.5), (20, 60.0)],
)
def test_silence_allowed_is_the_announced_gap_plus_a_grace(
    announced: object, allowed: float
) -> None:
    assert silence_allowed_s(announced, 30) == allowed  # type: ignore[arg-type]


def test_small_intervals_and_grace_for_tests_and_labs() -> None:
    assert silence_allowed_s(2, 0.5, grace_s=1) == 3
    assert silence_allowed_s(2, 0.5, grace_s=0) == 2.25

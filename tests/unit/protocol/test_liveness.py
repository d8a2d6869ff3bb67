"""The liveness arithmetic both sides share: what a sign of life costs on the wire, the
keep-alive just above the heartbeat gap, and how long a silence may last."""

from __future__ import annotations

import pytest

from agent.config import AgentSettings
from protocol import liveness
from protocol.compact import SIGN_OF_LIFE
from protocol.liveness import (
    MONTH_S,
    detection_bound_s,
    exchange_bytes,
    idle_bytes_per_month,
    keepalive_for,
    lwt_after_s,
    publish_bytes,
    silence_allowed_s,
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


def test_the_default_interval_meets_five_mb_a_month_and_150_s_detection() -> None:
    interval = AgentSettings().heartbeat_max_interval_s
    full_extra = 400  # an hourly full CBOR snapshot is ~300-400 bytes more than a sign of life
    month = idle_bytes_per_month(interval, exchange_bytes(0, 1, props_len=3), 3600, full_extra)
    assert month <= 5e6
    assert detection_bound_s(interval) <= 150
    # a 60 s heartbeat (today's ~90 s detection) cannot fit: over TCP even the bare three
    # segments of one exchange cost more than the budget allows per minute
    assert idle_bytes_per_month(60, exchange_bytes(0, 1, props_len=3)) > 5e6
    assert MONTH_S / 60 * 3 * liveness.TCP_IP_HEADER > 5e6


def test_keepalive_sits_just_above_the_heartbeat_gap() -> None:
    assert keepalive_for(120) == 135 and keepalive_for(2) == 7
    for gap in (2, 30, 60, 90, 120, 180, 600):
        assert gap < keepalive_for(gap) <= gap * 1.125 + 5 + 1
    assert lwt_after_s(120) == 202.5
    assert AgentSettings().keepalive_s == 135
    assert AgentSettings(heartbeat_max_interval_s=60).keepalive_s == 68
    assert AgentSettings(mqtt_keepalive_s=240).keepalive_s == 240  # an explicit setting wins
    assert AgentSettings(heartbeat_delta=False).keepalive_s == liveness.LEGACY_KEEPALIVE_S


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

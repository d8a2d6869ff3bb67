"""CBOR beside JSON: told apart by the first byte, decoded to plain data only, bounded."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import cbor2
import pytest

from protocol.codec import encode
from protocol.compact import MAX_DEPTH, decode_any, encode_model, is_cbor, load_any
from protocol.errors import InvalidMessage
from protocol.models import Heartbeat

T0 = datetime(2026, 3, 1, 5, 0, tzinfo=UTC)


def test_a_heartbeat_round_trips_in_cbor_and_json_alike_and_cbor_is_smaller() -> None:
    hb = Heartbeat(node_id="n1", sent_at=T0, uptime_s=12.5, volume=70, amplifier_on=False)
    compact, text = encode_model(hb), encode(hb)
    assert is_cbor(compact) and not is_cbor(text)
    assert decode_any(Heartbeat, compact) == decode_any(Heartbeat, text) == hb
    assert len(compact) < len(text)


def test_a_delta_carries_only_the_fields_given() -> None:
    delta = Heartbeat(node_id="n1", sent_at=T0, volume=40, delta=True)
    data = cbor2.loads(encode_model(delta, only_set=True))
    assert set(data) == {"node_id", "sent_at", "volume", "delta"}


def test_json_with_leading_whitespace_is_still_json() -> None:
    raw = b'  {"node_id": "n1", "sent_at": "2026-03-01T05:00:00Z"}'
    assert decode_any(Heartbeat, raw).node_id == "n1"


@pytest.mark.parametrize(
    "value",
    [
        cbor2.CBORTag(35, "a+b"),  # a regex: never compiled
        cbor2.CBORTag(1, 0),  # an epoch date
        cbor2.CBORTag(999, 1),  # an unknown tag
        b"bytes",
        float("nan"),
        {1: "int key"},
    ],
)
def test_anything_but_plain_data_is_refused(value: object) -> None:
    raw = cbor2.dumps({"node_id": "n1", "x": value})
    with pytest.raises(InvalidMessage):
        load_any(raw)


def test_size_and_depth_are_bounded() -> None:
    with pytest.raises(InvalidMessage, match="exceeds"):
        load_any(cbor2.dumps({"x": "a" * 100}), max_bytes=50)
    nested: object = 1
    for _ in range(MAX_DEPTH + 5):
        nested = [nested]
    with pytest.raises(InvalidMessage):
        load_any(cbor2.dumps({"x": nested}))


def test_a_cbor_array_or_scalar_is_not_a_message() -> None:
    with pytest.raises(InvalidMessage):
        decode_any(Heartbeat, b"\x83\x01\x02\x03")  # an array: first byte is JSON's problem
    with pytest.raises(InvalidMessage):
        decode_any(Heartbeat, json.dumps([1]).encode())


def test_an_agent_takes_the_first_encoding_it_prefers_among_those_offered() -> None:
    from protocol.models import MediaAlt, MediaRef

    alt = MediaAlt(sha256="b" * 64, ext="opus", size=10)
    ref = MediaRef(sha256="a" * 64, ext="mp3", size=30, duration_s=5, alternatives=[alt])
    opus = ref.in_format(["opus", "mp3"])
    assert (opus.sha256, opus.ext, opus.size, opus.duration_s) == ("b" * 64, "opus", 10, 5)
    assert ref.in_format(["mp3"]) is ref  # an MP3-only player keeps the MP3
    assert ref.in_format(["wav"]) is ref  # nothing it prefers: the main file
    plain = MediaRef(sha256="a" * 64, ext="mp3", size=30, duration_s=5)
    assert plain.in_format(["opus", "mp3"]) is plain  # an older controller offered no Opus

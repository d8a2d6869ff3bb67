"""The compact (CBOR) decoder under hostile bytes: only InvalidMessage, never anything else,
and whatever passes is plain data; every heartbeat round-trips through CBOR."""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime
from typing import Any

import cbor2
from fuzz.budget import fuzz_settings
from hypothesis import given
from hypothesis import strategies as st

from protocol.compact import decode_any, encode_model, load_any
from protocol.errors import InvalidMessage
from protocol.models import Heartbeat

PLAIN = (type(None), bool, int, float, str, list, dict)


def _plain(value: Any) -> bool:
    if isinstance(value, dict):
        return all(isinstance(k, str) and _plain(v) for k, v in value.items())
    if isinstance(value, list):
        return all(_plain(v) for v in value)
    return isinstance(value, PLAIN)


@fuzz_settings(400)
@given(st.binary(max_size=256).map(lambda b: b"\xa1" + b))
def test_random_bytes_after_a_map_head_fail_cleanly_or_decode_to_plain_data(raw: bytes) -> None:
    try:
        data = load_any(raw)
    except InvalidMessage:
        return
    assert _plain(data)


cbor_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()
    | st.text(max_size=8)
    | st.binary(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(st.text(max_size=4) | st.integers(), inner, max_size=4)
        | st.builds(cbor2.CBORTag, st.integers(0, 2**16), inner)
    ),
    max_leaves=20,
)


@fuzz_settings(300)
@given(st.dictionaries(st.text(max_size=6), cbor_values, max_size=5))
def test_structured_cbor_with_tags_and_bytes_fails_cleanly(value: dict[str, Any]) -> None:
    try:
        raw = cbor2.dumps(value)
    except (ValueError, TypeError, OverflowError):
        return  # not encodable: nothing to decode
    with contextlib.suppress(InvalidMessage):
        decode_any(Heartbeat, raw)


@fuzz_settings(200)
@given(
    st.integers(0, 100),
    st.floats(0, 1e7, allow_nan=False),
    st.one_of(st.none(), st.text(max_size=128)),
    st.booleans(),
)
def test_heartbeats_round_trip(volume: int, uptime: float, item: str | None, delta: bool) -> None:
    hb = Heartbeat(
        node_id="n1", sent_at=datetime(2026, 3, 1, tzinfo=UTC), volume=volume, uptime_s=uptime,
        current_item=item, delta=delta,
    )  # fmt: skip
    assert decode_any(Heartbeat, encode_model(hb)) == hb

"""Round trips, bad payloads and signatures for the wire contract."""

from __future__ import annotations

import contextlib
import json
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from protocol import topics
from protocol.codec import decode, encode
from protocol.errors import BadSignature, InvalidMessage
from protocol.models import (
    Command,
    CommandAction,
    EventAck,
    EventBatch,
    EventKind,
    Heartbeat,
    ItemKind,
    MediaRef,
    PlaybackEvent,
    Playlist,
    PlaylistItem,
    Priority,
)
from protocol.signing import Signer, Verifier

T0 = datetime(2026, 11, 30, 22, 30, tzinfo=UTC)
SHA = "a" * 64


def make_item(i: int = 0, start: datetime = T0) -> PlaylistItem:
    return PlaylistItem(
        id=f"ann-{i}",
        kind=ItemKind.TTS,
        start=start + timedelta(minutes=i),
        duration_s=42.5,
        title="Thông báo tiêm chủng",
        media=MediaRef(sha256=SHA, size=1000, duration_s=42.5),
    )


def make_playlist(version: int = 1, n: int = 3) -> Playlist:
    return Playlist(
        node_id="thon-na-lang",
        version=version,
        generated_at=T0,
        window_start=T0,
        window_end=T0 + timedelta(hours=48),
        items=[make_item(i) for i in range(n)],
    )


def test_topics_follow_the_design_table() -> None:
    assert topics.node_playlist("thon-na-lang") == "loa/v1/node/thon-na-lang/playlist"
    assert topics.node_events_ack("n1") == "loa/v1/node/n1/events/ack"
    assert topics.zone_cmd("xa-vi-huong") == "loa/v1/zone/xa-vi-huong/cmd"
    assert (
        topics.shared(topics.all_nodes("heartbeat")) == "$share/controller/loa/v1/node/+/heartbeat"
    )
    assert topics.parse_node_topic("loa/v1/node/n1/events/ack") == ("n1", "events/ack")


@pytest.mark.parametrize("bad", ["", "A", "a/b", "#", "+", "a b", "-a", "a-", "x" * 65, "thôn"])
def test_topic_ids_refuse_wildcards_and_separators(bad: str) -> None:
    with pytest.raises(InvalidMessage):
        topics.node_cmd(bad)


@pytest.mark.parametrize("topic", ["loa/v1/zone/z/cmd", "loa/v1/node/n1", "loa/v1/node/n1/x"])
def test_parse_node_topic_rejects_unknown(topic: str) -> None:
    with pytest.raises(InvalidMessage):
        topics.parse_node_topic(topic)


def test_unsigned_models_round_trip() -> None:
    hb = Heartbeat(node_id="n1", sent_at=T0, uptime_s=12.5, volume=80, amplifier_on=True)
    assert decode(Heartbeat, encode(hb)) == hb
    batch = EventBatch(
        node_id="n1",
        sent_at=T0,
        events=[PlaybackEvent(seq=1, kind=EventKind.STARTED, at=T0, item_id="ann-0")],
    )
    assert decode(EventBatch, encode(batch)) == batch
    ack = EventAck(node_id="n1", seqs=[1, 2, 3])
    assert decode(EventAck, encode(ack)) == ack


def test_wire_models_ignore_unknown_fields_from_newer_senders() -> None:
    raw = json.loads(encode(Heartbeat(node_id="n1", sent_at=T0)))
    raw["field_from_the_future"] = {"x": 1}
    assert decode(Heartbeat, json.dumps(raw).encode()).node_id == "n1"


@pytest.mark.parametrize(
    ("raw", "needle"),
    [
        (b"\xff\xfe", "UTF-8"),
        (b"{not json", "not JSON"),
        (b"[]", "Heartbeat"),
        (b'{"node_id": "n1"}', "sent_at"),
        (b'{"node_id": "N 1", "sent_at": "2026-01-01T00:00:00Z"}', "node_id"),
        (b'{"node_id": "n1", "sent_at": "2026-01-01T00:00:00"}', "offset"),
        (b"{" + b" " * 70_000 + b"}", "exceeds"),
    ],
)
def test_bad_payloads_raise_one_typed_error(raw: bytes, needle: str) -> None:
    with pytest.raises(InvalidMessage) as info:
        decode(Heartbeat, raw, max_bytes=65_536)
    assert needle in info.value.reason


def test_item_content_must_match_kind() -> None:
    with pytest.raises(ValueError, match="needs media"):
        PlaylistItem(id="x", kind=ItemKind.AUDIO, start=T0, duration_s=1)
    with pytest.raises(ValueError, match="stream_url"):
        PlaylistItem(id="x", kind=ItemKind.STREAM, start=T0, duration_s=1)


def test_playlist_items_must_be_ordered() -> None:
    with pytest.raises(ValueError, match="ordered"):
        Playlist(
            node_id="n1",
            version=1,
            generated_at=T0,
            window_start=T0,
            window_end=T0,
            items=[make_item(2), make_item(1)],
        )


def test_command_validation() -> None:
    base = {"id": "c1", "issued_at": T0, "expires_at": T0 + timedelta(minutes=5)}
    Command(action=CommandAction.VOLUME, node_id="n1", volume=70, **base)
    with pytest.raises(ValueError, match="exactly one"):
        Command(action=CommandAction.STOP, node_id="n1", zone_id="z", **base)
    with pytest.raises(ValueError, match="needs an item"):
        Command(action=CommandAction.PLAY_NOW, zone_id="z", **base)
    with pytest.raises(ValueError, match="after issued_at"):
        Command(id="c", action="stop", node_id="n", issued_at=T0, expires_at=T0)


def test_signed_playlist_round_trip_and_priority_survives() -> None:
    signer = Signer.generate()
    verifier = Verifier([signer.public_key])
    playlist = make_playlist()
    got = verifier.verify(Playlist, signer.sign(playlist))
    assert got == playlist
    assert got.items[0].priority is Priority.ANNOUNCEMENT


def test_tampered_payload_is_refused() -> None:
    signer = Signer.generate()
    envelope = json.loads(signer.sign(make_playlist()))
    envelope["payload"]["items"][0]["start"] = "2026-12-01T00:00:00Z"
    with pytest.raises(BadSignature, match="does not match"):
        Verifier([signer.public_key]).verify(Playlist, json.dumps(envelope).encode())


def test_unknown_key_is_refused_and_rotation_accepts_both() -> None:
    old, new, stranger = Signer.generate(), Signer.generate(), Signer.generate()
    verifier = Verifier.from_b64([old.public_key_b64, new.public_key_b64])
    playlist = make_playlist()
    assert verifier.verify(Playlist, old.sign(playlist)) == playlist
    assert verifier.verify(Playlist, new.sign(playlist)) == playlist
    with pytest.raises(BadSignature, match="unknown signing key"):
        verifier.verify(Playlist, stranger.sign(playlist))


def test_signature_from_another_key_with_same_id_is_refused() -> None:
    real, forger = Signer.generate(), Signer.generate()
    envelope = json.loads(forger.sign(make_playlist()))
    envelope["key_id"] = real.key_id
    with pytest.raises(BadSignature):
        Verifier([real.public_key]).verify(Playlist, json.dumps(envelope).encode())


def test_signer_key_file_is_private_and_reloads(tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "keys" / "k.pem"
    first = Signer.load_or_create(path)
    assert path.stat().st_mode & 0o777 == 0o600
    assert Signer.load_or_create(path).key_id == first.key_id


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=20,
)


# 400 cases each: nested JSON is slow to generate (2,000 took ~100 s of a loaded CI worker),
# and tests/fuzz runs these decoders again, through the ingest and agent paths, by thousands
@settings(max_examples=400, deadline=None)
@given(st.one_of(st.binary(max_size=300), json_values.map(lambda v: json.dumps(v).encode())))
def test_fuzz_verify_only_ever_raises_protocol_errors(raw: bytes) -> None:
    with pytest.raises((InvalidMessage, BadSignature)):
        _VERIFIER.verify(Playlist, raw)


_VERIFIER = Verifier([Signer.generate().public_key])


@settings(max_examples=400, deadline=None)
@given(json_values)
def test_fuzz_decode_heartbeat_never_crashes(value: object) -> None:
    with contextlib.suppress(InvalidMessage):
        decode(Heartbeat, json.dumps(value).encode())

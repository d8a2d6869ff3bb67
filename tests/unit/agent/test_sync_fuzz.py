"""Random and tampered payloads: the sync handlers never raise, and every reject is counted."""

from __future__ import annotations

import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from agent.sync import SyncHandler
from protocol.clock import FakeClock
from protocol.models import Command, CommandAction, ItemKind, Playlist, PlaylistItem
from protocol.signing import Signer, Verifier

T0 = datetime(2026, 3, 1, 5, 0, tzinfo=UTC)
SIGNER = Signer.generate()
GENUINE_PLAYLIST = Playlist(
    node_id="n1",
    version=1,
    generated_at=T0,
    window_start=T0,
    window_end=T0 + timedelta(hours=1),
    items=[PlaylistItem(id="s", kind=ItemKind.SILENCE, start=T0, duration_s=1)],
)
PLAYLIST = SIGNER.sign(GENUINE_PLAYLIST)
GENUINE_COMMAND = Command(
    id="c1",
    action=CommandAction.STOP,
    issued_at=T0,
    expires_at=T0 + timedelta(minutes=5),
    node_id="n1",
)
COMMAND = SIGNER.sign(GENUINE_COMMAND)


def handler(directory: Path) -> SyncHandler:
    return SyncHandler("n1", ["xa-a"], Verifier([SIGNER.public_key]), directory, FakeClock(T0))


def tampered(raw: bytes, position: int, flip: int) -> bytes:
    data = bytearray(raw)
    data[position % len(data)] ^= flip
    return bytes(data)


@settings(max_examples=150, deadline=None)
@given(st.binary(max_size=2000))
def test_random_bytes_are_rejected_and_counted(payload: bytes) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        sync = handler(Path(tmp))
        assert sync.handle_playlist(payload) is None
        assert not sync.handle_command(payload).accepted
        assert sync.rejects.total == 2


@settings(max_examples=300, deadline=None)
@given(st.integers(min_value=0), st.integers(min_value=1, max_value=255))
def test_single_byte_tampering_never_yields_forged_content(position: int, flip: int) -> None:
    """Rejected and counted, or (base64 slack bits in the last signature character) the
    genuine content unchanged: a flip never produces an accepted message that differs."""
    with tempfile.TemporaryDirectory() as tmp:
        sync = handler(Path(tmp))
        playlist = sync.handle_playlist(tampered(PLAYLIST, position, flip))
        outcome = sync.handle_command(tampered(COMMAND, position, flip))
        if playlist is not None:
            assert playlist == GENUINE_PLAYLIST
        if outcome.accepted:
            assert outcome.command == GENUINE_COMMAND
        assert sync.rejects.total == (playlist is None) + (not outcome.accepted)


@settings(max_examples=100, deadline=None)
@given(
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
        lambda children: (
            st.lists(children, max_size=4)
            | st.dictionaries(st.text(max_size=8), children, max_size=4)
        ),
        max_leaves=20,
    )
)
def test_signed_garbage_payloads_are_rejected_as_invalid(payload: object) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        sync = handler(Path(tmp))
        body = payload if isinstance(payload, dict) else {"x": payload}
        raw = SIGNER.sign_dict(body)
        assert sync.handle_playlist(raw) is None
        assert not sync.handle_command(raw).accepted
        assert sync.rejects.snapshot() == {"invalid": 2}

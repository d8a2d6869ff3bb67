"""Playlist deltas under fuzzing: any two playlists round-trip exactly through a delta, and
a *signed* hostile delta (the controller's key over garbage: the worst case) never crashes
the agent, never changes its playlist unless the result is exactly what was signed."""

from __future__ import annotations

import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from fuzz.budget import fuzz_settings
from fuzz.payloads import json_values
from hypothesis import given
from hypothesis import strategies as st

from agent.sync import SyncHandler
from protocol.clock import FakeClock
from protocol.models import ItemKind, Playlist, PlaylistItem
from protocol.playlist_delta import PlaylistDelta, apply_delta, make_delta
from protocol.signing import Signer, Verifier

T0 = datetime(2026, 3, 1, 5, 0, tzinfo=UTC)
SCRATCH = "/dev/shm" if Path("/dev/shm").is_dir() else None
KEY = Signer.generate()


def payload(version: int, slots: list[tuple[int, int]]) -> dict[str, Any]:
    """Items from (minute, title) pairs: duplicates and equal starts included."""
    items = [
        PlaylistItem(
            id=f"i{m % 7}",
            kind=ItemKind.SILENCE,
            start=T0 + timedelta(minutes=m),
            duration_s=5,
            title=f"t{t}",
        )
        for m, t in sorted(slots)
    ]
    playlist = Playlist(
        node_id="n1", version=version, generated_at=T0, window_start=T0,
        window_end=T0 + timedelta(hours=48), items=items,
    )  # fmt: skip
    return playlist.model_dump(mode="json", exclude_none=True)


slots = st.lists(st.tuples(st.integers(0, 40), st.integers(0, 3)), max_size=25)


@fuzz_settings(300)
@given(slots, slots)
def test_any_two_playlists_round_trip_through_a_delta(a: list[Any], b: list[Any]) -> None:
    old, new = payload(1, a), payload(2, b)
    assert apply_delta(old, PlaylistDelta.model_validate(make_delta(old, new))) == new


edit = st.fixed_dictionaries(
    {"at": st.integers(-2, 8)},
    optional={
        "drop": st.integers(-1, 8) | json_values,
        "add": st.lists(st.dictionaries(st.sampled_from(["id", "kind", "start"]), json_values)),
    },
)


@fuzz_settings(300)
@given(
    st.lists(edit | json_values, max_size=5),
    st.sampled_from(["keep", "bad_hash", "junk_head"]),
    st.booleans(),
)
def test_signed_hostile_deltas_never_crash_nor_change_the_playlist(
    edits: list[Any], variant: str, cbor: bool
) -> None:
    base, new = payload(1, [(1, 0), (2, 1), (3, 2)]), payload(2, [(2, 1), (4, 0)])
    delta = make_delta(base, new)
    honest_result = apply_delta(base, PlaylistDelta.model_validate(delta)) == new
    delta["edits"] = edits
    if variant == "bad_hash":
        delta["result_sha256"] = "0" * 64
    elif variant == "junk_head":
        delta["head"] = {**delta["head"], "window_end": "yesterday"}
    with tempfile.TemporaryDirectory(dir=SCRATCH) as tmp:
        sync = SyncHandler("n1", [], Verifier([KEY.public_key]), Path(tmp), FakeClock(T0))
        sync.request_snapshot = lambda _reason: None
        assert sync.handle_playlist(KEY.sign_dict(base)) is not None
        raw = (KEY.sign_dict_cbor if cbor else KEY.sign_dict)(delta)
        got = sync.handle_playlist(raw)
    assert honest_result
    if got is None:
        assert sync.current == Playlist.model_validate(base)
        assert sync.rejects.total == 1
    else:  # only edits that happen to rebuild exactly the signed result may pass
        assert got == Playlist.model_validate(new)

"""The agent's side of playlist deltas: applied only on the exact base, persisted so a
restart re-verifies them, gaps ask for a snapshot, tampered and replayed deltas refused."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from agent.sync import SyncHandler
from protocol.clock import FakeClock
from protocol.compact import load_any
from protocol.models import ItemKind, Playlist, PlaylistItem
from protocol.playlist_delta import make_delta
from protocol.signing import Signer, Verifier

T0 = datetime(2026, 3, 1, 5, 0, tzinfo=UTC)


def payload(version: int, starts: list[int]) -> dict[str, Any]:
    items = [
        PlaylistItem(id=f"i{h}", kind=ItemKind.SILENCE, start=T0 + timedelta(hours=h), duration_s=5)
        for h in starts
    ]
    playlist = Playlist(
        node_id="n1",
        version=version,
        generated_at=T0,
        window_start=T0,
        window_end=T0 + timedelta(hours=48),
        items=items,
    )
    return playlist.model_dump(mode="json", exclude_none=True)


P1, P2, P3 = payload(1, [1, 2, 3]), payload(2, [2, 3, 4]), payload(3, [3, 4, 5])


@pytest.fixture
def signer() -> Signer:
    return Signer.generate()


@pytest.fixture
def sync(tmp_path: Path, signer: Signer) -> SyncHandler:
    handler = SyncHandler("n1", [], Verifier([signer.public_key]), tmp_path, FakeClock(T0))
    asked: list[str] = []
    handler.request_snapshot = asked.append
    handler.asked = asked  # type: ignore[attr-defined]
    return handler


def asked(sync: SyncHandler) -> list[str]:
    return sync.asked  # type: ignore[attr-defined,no-any-return]


@pytest.mark.parametrize("cbor", [True, False])
def test_delta_on_the_held_version_applies_and_survives_a_restart(
    sync: SyncHandler, signer: Signer, tmp_path: Path, cbor: bool
) -> None:
    assert sync.handle_playlist(signer.sign_dict(P1)) is not None
    sign = signer.sign_dict_cbor if cbor else signer.sign_dict
    got = sync.handle_playlist(sign(make_delta(P1, P2)))
    assert got is not None and got == Playlist.model_validate(P2)
    restarted = SyncHandler("n1", [], Verifier([signer.public_key]), tmp_path, FakeClock(T0))
    assert restarted.load_saved() == Playlist.model_validate(P2)
    # and the next delta applies on the restarted agent too (its base is the saved payload)
    assert restarted.handle_playlist(signer.sign_dict_cbor(make_delta(P2, P3))) is not None
    assert restarted.current == Playlist.model_validate(P3)


def test_gap_changes_nothing_and_asks_once_per_delta(sync: SyncHandler, signer: Signer) -> None:
    sync.handle_playlist(signer.sign_dict(P1))
    gapped = signer.sign_dict_cbor(make_delta(P2, P3))
    assert sync.handle_playlist(gapped) is None
    assert sync.handle_playlist(gapped) is None  # redelivered (retained): no second ask
    assert sync.current is not None and sync.current.version == 1
    assert len(asked(sync)) == 1 and sync.rejects.snapshot() == {"gap": 2}
    assert sync.handle_playlist(signer.sign_dict(P3)) is not None  # the snapshot heals it
    assert sync.current is not None and sync.current.version == 3


def test_delta_with_no_playlist_held_asks_for_a_snapshot(sync: SyncHandler, signer: Signer) -> None:
    assert sync.handle_playlist(signer.sign_dict(make_delta(P1, P2))) is None
    assert len(asked(sync)) == 1


def test_replayed_delta_is_refused_as_stale(sync: SyncHandler, signer: Signer) -> None:
    first = signer.sign_dict_cbor(make_delta(P1, P2))
    sync.handle_playlist(signer.sign_dict(P1))
    sync.handle_playlist(first)
    sync.handle_playlist(signer.sign_dict(make_delta(P2, P3)))
    assert sync.handle_playlist(first) is None
    assert sync.rejects.snapshot() == {"stale": 1}
    assert sync.current is not None and sync.current.version == 3 and not asked(sync)


def test_tampered_delta_is_refused_and_counted(sync: SyncHandler, signer: Signer) -> None:
    sync.handle_playlist(signer.sign_dict(P1))
    envelope = load_any(signer.sign_dict_cbor(make_delta(P1, P2)))
    envelope["payload"]["edits"][-1]["add"][0]["duration_s"] = 3600
    raw = json.dumps(envelope).encode()
    assert sync.handle_playlist(raw) is None
    forged = Signer.generate().sign_dict_cbor(make_delta(P1, P2))
    assert sync.handle_playlist(forged) is None
    assert sync.rejects.snapshot() == {"signature": 2}
    assert sync.current is not None and sync.current.version == 1


def test_saved_delta_result_edited_on_disk_is_refused(
    sync: SyncHandler, signer: Signer, tmp_path: Path
) -> None:
    sync.handle_playlist(signer.sign_dict(P1))
    sync.handle_playlist(signer.sign_dict_cbor(make_delta(P1, P2)))
    saved = json.loads(sync.playlist_path.read_bytes())
    saved["payload"]["items"][0]["duration_s"] = 99
    sync.playlist_path.write_text(json.dumps(saved))
    restarted = SyncHandler("n1", [], Verifier([signer.public_key]), tmp_path, FakeClock(T0))
    assert restarted.load_saved() is None
    assert restarted.rejects.snapshot() == {"invalid": 1}


def test_full_playlist_in_cbor_is_accepted_and_reloads(
    sync: SyncHandler, signer: Signer, tmp_path: Path
) -> None:
    assert sync.handle_playlist(signer.sign_dict_cbor(P2)) is not None
    restarted = SyncHandler("n1", [], Verifier([signer.public_key]), tmp_path, FakeClock(T0))
    assert restarted.load_saved() == Playlist.model_validate(P2)

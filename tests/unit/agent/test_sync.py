"""Playlist and command verification: signatures, targets, versions, expiry, replays."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from agent.sync import SyncHandler
from protocol.clock import FakeClock
from protocol.models import Command, CommandAction, ItemKind, Playlist, PlaylistItem
from protocol.signing import Signer, Verifier

T0 = datetime(2026, 3, 1, 5, 0, tzinfo=UTC)


def make_playlist(version: int, node_id: str = "n1") -> Playlist:
    item = PlaylistItem(id="s1", kind=ItemKind.SILENCE, start=T0, duration_s=5)
    return Playlist(
        node_id=node_id,
        version=version,
        generated_at=T0,
        window_start=T0,
        window_end=T0 + timedelta(hours=48),
        items=[item],
    )


def make_command(n: int = 1, **kw: Any) -> Command:
    values: dict[str, object] = dict(
        id=f"c{n}",
        action=CommandAction.VOLUME,
        volume=50,
        issued_at=T0,
        expires_at=T0 + timedelta(minutes=10),
        node_id="n1",
    )
    values.update(kw)
    return Command.model_validate(values)


@pytest.fixture
def signer() -> Signer:
    return Signer.generate()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(T0)


@pytest.fixture
def sync(tmp_path: Path, signer: Signer, clock: FakeClock) -> SyncHandler:
    verifier = Verifier([signer.public_key])
    return SyncHandler("n1", ["xa-a"], verifier, tmp_path, clock)


def test_accepts_newer_playlist_and_persists_signed_bytes(
    sync: SyncHandler, signer: Signer, tmp_path: Path, clock: FakeClock
) -> None:
    raw = signer.sign(make_playlist(3))
    accepted = sync.handle_playlist(raw)
    assert accepted is not None and accepted.version == 3
    assert sync.playlist_path.read_bytes() == raw
    fresh = SyncHandler("n1", [], Verifier([signer.public_key]), tmp_path, clock)
    loaded = fresh.load_saved()
    assert loaded is not None and loaded.version == 3


def test_equal_version_is_a_silent_no_op_and_older_is_rejected(
    sync: SyncHandler, signer: Signer
) -> None:
    assert sync.handle_playlist(signer.sign(make_playlist(3))) is not None
    assert sync.handle_playlist(signer.sign(make_playlist(3))) is None
    assert sync.rejects.total == 0
    assert sync.handle_playlist(signer.sign(make_playlist(2))) is None
    assert sync.rejects.snapshot() == {"stale": 1}
    assert sync.current is not None and sync.current.version == 3


def test_playlist_for_another_node_or_from_untrusted_key_is_rejected(
    sync: SyncHandler, signer: Signer
) -> None:
    assert sync.handle_playlist(signer.sign(make_playlist(1, node_id="n2"))) is None
    assert sync.handle_playlist(Signer.generate().sign(make_playlist(1))) is None
    assert sync.rejects.snapshot() == {"target": 1, "signature": 1}
    assert not sync.playlist_path.exists()


def test_saved_playlist_signed_by_a_key_no_longer_trusted_is_not_played(
    tmp_path: Path, signer: Signer, clock: FakeClock
) -> None:
    old = SyncHandler("n1", [], Verifier([signer.public_key]), tmp_path, clock)
    old.handle_playlist(signer.sign(make_playlist(1)))
    rotated = SyncHandler("n1", [], Verifier([Signer.generate().public_key]), tmp_path, clock)
    assert rotated.load_saved() is None
    assert rotated.rejects.snapshot() == {"signature": 1}


def test_valid_command_is_accepted_once(sync: SyncHandler, signer: Signer) -> None:
    raw = signer.sign(make_command())
    first = sync.handle_command(raw)
    assert first.accepted and first.command is not None
    again = sync.handle_command(raw)
    assert not again.accepted and "replay" in again.reason
    assert again.command is not None and again.command.id == "c1"


def test_replay_guard_survives_restart(
    sync: SyncHandler, signer: Signer, tmp_path: Path, clock: FakeClock
) -> None:
    raw = signer.sign(make_command())
    assert sync.handle_command(raw).accepted
    restarted = SyncHandler("n1", ["xa-a"], Verifier([signer.public_key]), tmp_path, clock)
    assert not restarted.handle_command(raw).accepted


@pytest.mark.parametrize(
    ("overrides", "reason"),
    [
        ({"node_id": "n2"}, "for node"),
        ({"node_id": None, "zone_id": "xa-b"}, "not one of ours"),
        ({"expires_at": T0}, "expired"),
        ({"issued_at": T0 - timedelta(hours=2), "expires_at": T0 - timedelta(hours=1)}, "expired"),
    ],
)
def test_command_rejections_carry_a_reason(
    sync: SyncHandler, signer: Signer, overrides: dict[str, Any], reason: str
) -> None:
    if overrides.get("expires_at") == T0:
        overrides = {**overrides, "issued_at": T0 - timedelta(minutes=1)}
    outcome = sync.handle_command(signer.sign(make_command(**overrides)))
    assert not outcome.accepted
    assert reason in outcome.reason
    assert sync.rejects.total == 1


def test_zone_command_for_our_zone_is_accepted(sync: SyncHandler, signer: Signer) -> None:
    outcome = sync.handle_command(signer.sign(make_command(node_id=None, zone_id="xa-a")))
    assert outcome.accepted


def test_unverifiable_command_has_no_command(sync: SyncHandler, signer: Signer) -> None:
    outcome = sync.handle_command(b'{"key_id": "x", "sig": "y", "payload": {}}')
    assert outcome.command is None and not outcome.accepted
    assert sync.rejects.snapshot() == {"signature": 1}


def test_seen_ids_live_in_sqlite_and_an_old_json_file_is_taken_over(
    tmp_path: Path, signer: Signer, clock: FakeClock
) -> None:
    expiry = (T0 + timedelta(minutes=10)).isoformat()
    (tmp_path / "seen_commands.json").write_text(json.dumps({"c1": expiry}))
    upgraded = SyncHandler("n1", ["xa-a"], Verifier([signer.public_key]), tmp_path, clock)
    assert not (tmp_path / "seen_commands.json").exists()
    assert (tmp_path / "seen_commands.sqlite").exists()
    outcome = upgraded.handle_command(signer.sign(make_command(1)))
    assert not outcome.accepted and "replay" in outcome.reason
    assert upgraded.handle_command(signer.sign(make_command(2))).accepted


def test_a_command_that_cannot_be_recorded_is_refused_not_raised(
    sync: SyncHandler, signer: Signer
) -> None:
    sync.close()
    outcome = sync.handle_command(signer.sign(make_command()))
    assert not outcome.accepted and "cannot record command" in outcome.reason
    assert sync.rejects.snapshot() == {"invalid": 1}


def test_an_expired_id_may_come_again_with_a_new_expiry(
    sync: SyncHandler, signer: Signer, clock: FakeClock
) -> None:
    assert sync.handle_command(signer.sign(make_command())).accepted
    clock.advance(600)  # c1 has expired; the controller reissues the same id later
    reissued = make_command(
        issued_at=T0 + timedelta(minutes=10), expires_at=T0 + timedelta(hours=1)
    )
    assert sync.handle_command(signer.sign(reissued)).accepted
    assert not sync.handle_command(signer.sign(reissued)).accepted

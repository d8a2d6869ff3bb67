"""Where an item plays from: verified cached bytes only, never a download URL (issue 14,
hole 5); streams are the one kind played from a URL."""

from __future__ import annotations

import hashlib
import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest

from agent.config import AgentSettings, PlayerName
from agent.playout import Source
from agent.runtime import AgentRuntime
from protocol.models import ItemKind, MediaRef, PlaylistItem
from protocol.signing import Signer

BODY = b"verified announcement bytes"
FALLBACK_BODY = b"verified fallback chime"


def ref(data: bytes) -> MediaRef:
    return MediaRef(
        sha256=hashlib.sha256(data).hexdigest(), ext="mp3", size=len(data), duration_s=1
    )


MEDIA, FALLBACK = ref(BODY), ref(FALLBACK_BODY)
ITEM = PlaylistItem(
    id="i", kind=ItemKind.AUDIO, start=datetime(2026, 3, 1, tzinfo=UTC), duration_s=1, media=MEDIA
)


def runtime(tmp_path: Path, player: PlayerName = "null") -> AgentRuntime:
    settings = AgentSettings(
        node_id="n1",
        data_dir=tmp_path,
        controller_url="http://ctl:8080/",
        trusted_keys=[Signer.generate().public_key_b64],
        player=player,
    )
    return AgentRuntime(settings)


@pytest.mark.parametrize("player", ["mpv", "ffplay", "null", "tap"])
def test_uncached_media_is_never_played_from_the_controller_url(
    tmp_path: Path, player: PlayerName
) -> None:
    """Before the fix, mpv/ffplay were handed http://ctl:8080/media/<sha>.mp3: bytes nobody
    had checked against the signed hash."""
    if player in ("mpv", "ffplay") and shutil.which(player) is None:
        pytest.skip(f"{player} not installed")
    assert runtime(tmp_path, player)._resolve(ITEM) is None


def test_verified_media_plays_from_disk(tmp_path: Path) -> None:
    agent = runtime(tmp_path)
    agent.cache.path_for(MEDIA).write_bytes(BODY)  # left by an earlier run: hashed once
    assert agent._resolve(ITEM) == Source(str(agent.cache.path_for(MEDIA)))


def test_tampered_cached_file_is_deleted_not_played(tmp_path: Path) -> None:
    agent = runtime(tmp_path)
    agent.cache.path_for(MEDIA).write_bytes(b"not what the playlist signed")
    assert agent._resolve(ITEM) is None
    assert not agent.cache.path_for(MEDIA).exists()


def test_verified_fallback_plays_with_a_note(tmp_path: Path) -> None:
    agent = runtime(tmp_path)
    agent.cache.path_for(FALLBACK).write_bytes(FALLBACK_BODY)
    item = ITEM.model_copy(update={"fallback": FALLBACK})
    assert agent._resolve(item) == Source(
        str(agent.cache.path_for(FALLBACK)),
        f"fallback played: {MEDIA.filename} not downloaded and verified",
    )


def test_streams_still_play_from_their_url(tmp_path: Path) -> None:
    stream = PlaylistItem(
        id="live",
        kind=ItemKind.STREAM,
        start=ITEM.start,
        duration_s=60,
        stream_url="http://icecast:8000/live.mp3",
    )
    assert runtime(tmp_path)._resolve(stream) == Source("http://icecast:8000/live.mp3")

"""Where an item plays from: the cache first, a network stream only for players that can."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest

from agent.config import AgentSettings, PlayerName
from agent.runtime import AgentRuntime
from protocol.models import ItemKind, MediaRef, PlaylistItem
from protocol.signing import Signer

MEDIA = MediaRef(sha256="b" * 64, ext="mp3", size=3, duration_s=1)
ITEM = PlaylistItem(
    id="i", kind=ItemKind.AUDIO, start=datetime(2026, 3, 1, tzinfo=UTC), duration_s=1, media=MEDIA
)


def runtime(tmp_path: Path, player: PlayerName) -> AgentRuntime:
    settings = AgentSettings(
        node_id="n1",
        data_dir=tmp_path,
        controller_url="http://ctl:8080/",
        trusted_keys=[Signer.generate().public_key_b64],
        player=player,
    )
    return AgentRuntime(settings)


@pytest.mark.parametrize(
    ("player", "expected"),
    [("ffplay", "http://ctl:8080/media/" + MEDIA.filename), ("null", None), ("tap", None)],
)
def test_uncached_media(tmp_path: Path, player: PlayerName, expected: str | None) -> None:
    if player == "ffplay" and shutil.which("ffplay") is None:
        pytest.skip("ffplay not installed")
    assert runtime(tmp_path, player)._resolve(ITEM) == expected


def test_cached_media_plays_from_disk(tmp_path: Path) -> None:
    agent = runtime(tmp_path, "null")
    agent.cache.path_for(MEDIA).write_bytes(b"abc")
    assert agent._resolve(ITEM) == str(agent.cache.path_for(MEDIA))

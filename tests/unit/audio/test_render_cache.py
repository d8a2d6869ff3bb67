from __future__ import annotations

from pathlib import Path

import pytest

from audio.render_cache import RenderIndex, cache_key


def test_key_depends_on_every_part() -> None:
    base = {"text": "xin chào", "engine": "espeak-ng", "voice": "vi", "rate": 145}
    keys = {cache_key(**base)} | {cache_key(**{**base, k: "other"}) for k in base}
    assert len(keys) == 1 + len(base)
    assert cache_key(**base) == cache_key(**dict(reversed(base.items())))


def test_index_round_trip_and_misses(tmp_path: Path) -> None:
    index = RenderIndex(tmp_path / "index")
    key = cache_key(text="a")
    assert index.get(key) is None
    index.put(key, {"sha256": "f" * 64, "ext": "mp3"})
    assert index.get(key) == {"sha256": "f" * 64, "ext": "mp3"}
    assert not list((tmp_path / "index").glob("*.part"))
    (tmp_path / "index" / f"{key}.json").write_text("{broken")
    assert index.get(key) is None


def test_index_refuses_path_like_keys(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        RenderIndex(tmp_path).get("../../etc/passwd")

"""Text to stored speech with real espeak-ng and ffmpeg: duration, loudness, cache."""

from __future__ import annotations

import pytest

from audio.errors import AudioRejected
from audio.ffmpeg import ffprobe_json
from audio.mastering import measure_loudness
from audio.media_store import MediaStore
from audio.pipeline import SpeechRenderer
from loadsim.bench._notices import load_notices

from .conftest import CountingEspeak, store_files

pytestmark = pytest.mark.integration


def test_a_600_char_notice_is_30_to_70_s_at_target_loudness(
    renderer: SpeechRenderer, store: MediaStore
) -> None:
    notice = min(load_notices(), key=lambda n: abs(len(n.text) - 600))
    assert 550 <= len(notice.text) <= 650
    media = renderer.render_text(notice.text)
    path = store.path_for(media.sha256, media.ext)
    assert media.engine == "espeak-ng" and media.ext == "mp3" and not media.cached
    assert 30 <= media.duration_s <= 70
    assert media.size == path.stat().st_size
    loudness = measure_loudness(path)
    assert abs(loudness.integrated_lufs - (-16.0)) <= 1.0, loudness
    assert loudness.true_peak_dbtp <= -1.0, loudness
    stream = ffprobe_json(path)["streams"][0]
    assert stream["codec_name"] == "mp3" and stream["channels"] == 1
    assert 48_000 <= int(stream["bit_rate"]) <= 64_000
    assert abs(float(ffprobe_json(path)["format"]["duration"]) - media.duration_s) < 0.3


def test_same_text_is_synthesised_once(
    renderer: SpeechRenderer, espeak: CountingEspeak, store: MediaStore
) -> None:
    first = renderer.render_text("UBND xã thông báo họp thôn lúc 19h30.")
    files = store_files(store)
    again = renderer.render_text("UBND  xã thông báo họp thôn lúc 19h30. ")  # same words
    assert again.cached and (again.sha256, again.size) == (first.sha256, first.size)
    assert len(espeak.calls) == 1 and store_files(store) == files
    other_rate = renderer.render_text("UBND xã thông báo họp thôn lúc 19h30.", rate_wpm=150)
    assert not other_rate.cached and other_rate.sha256 != first.sha256
    assert len(espeak.calls) == 2


def test_cache_survives_a_new_renderer_but_not_a_deleted_file(
    store: MediaStore, renderer: SpeechRenderer
) -> None:
    first = renderer.render_text("Kính thưa bà con.")
    fresh = SpeechRenderer(store, engines=[CountingEspeak()])
    assert fresh.render_text("Kính thưa bà con.").cached
    store.path_for(first.sha256, first.ext).unlink()
    assert not fresh.render_text("Kính thưa bà con.").cached


def test_opus_output_and_southern_voice(renderer: SpeechRenderer, store: MediaStore) -> None:
    media = renderer.render_text("Xin chào bà con.", voice="vi-vn-x-south", output="opus")
    stream = ffprobe_json(store.path_for(media.sha256, media.ext))["streams"][0]
    assert (media.ext, media.mime, media.voice) == ("opus", "audio/ogg", "vi-vn-x-south")
    assert stream["codec_name"] == "opus" and stream["channels"] == 1


def test_chimes_and_trimming_shape_the_file(store: MediaStore) -> None:
    plain = SpeechRenderer(store, engines=[CountingEspeak()], chimes=False)
    chimed = SpeechRenderer(store, engines=[CountingEspeak()])
    bare = plain.render_text("Xin chào.")
    full = chimed.render_text("Xin chào.")
    assert bare.duration_s < 2.0  # espeak's own leading/trailing silence is cut
    assert full.duration_s == pytest.approx(bare.duration_s + 1.4 * 2 + 0.85, abs=0.05)


def test_preview_returns_the_stored_bytes(renderer: SpeechRenderer, store: MediaStore) -> None:
    data, mime = renderer.preview("Thử loa.")
    assert mime == "audio/mpeg" and data[:3] in (b"ID3", b"\xff\xfb", b"\xff\xf3")
    assert store.resolve(f"{renderer.render_text('Thử loa.').sha256}.mp3") is not None


@pytest.mark.parametrize(
    ("text", "options", "reason"),
    [
        ("   ", {}, "empty"),
        ("x" * 10_001, {}, "limit"),
        ("Xin chào", {"voice": "en-us"}, "voice"),
        ("Xin chào", {"engine": "festival"}, "unknown engine"),
        ("Xin chào", {"rate_wpm": 500}, "rate"),
        ("Xin chào", {"output": "flac"}, "format"),
    ],
)
def test_bad_requests_are_rejected_with_a_reason(
    renderer: SpeechRenderer, store: MediaStore, text: str, options: dict[str, object], reason: str
) -> None:
    with pytest.raises(AudioRejected, match=reason):
        renderer.render_text(text, **options)  # type: ignore[arg-type]
    assert store_files(store) == []

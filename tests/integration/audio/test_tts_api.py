"""The TTS preview, normalise and upload routes on the real app (SQLite, Mosquitto,
espeak-ng, ffmpeg). The renderer is swapped for an espeak-only one so the test never
looks for Google on the network."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from urllib.parse import unquote

import pytest
from fastapi.testclient import TestClient
from support.audio_files import lying_mp3, tone

from audio.engines.espeak import EspeakEngine
from audio.pipeline import SpeechRenderer
from audio.uploads import UploadLimits
from controller.app import create_app
from controller.broker.process import MosquittoProcess
from controller.config import ControllerSettings
from controller.db.models import Media

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def client(
    tmp_path_factory: pytest.TempPathFactory, module_broker: MosquittoProcess
) -> Iterator[TestClient]:
    """One controller for the module: every test here only adds content-addressed files."""
    settings = ControllerSettings(
        data_dir=tmp_path_factory.mktemp("tts-api") / "ctl",
        mqtt_port=module_broker.port,
        mqtt_client_id="ctl-tts-test",
    )
    with TestClient(create_app(settings)) as c:
        ctl = c.app.state.controller  # type: ignore[attr-defined]
        ctl.renderer = SpeechRenderer(
            ctl.media_store,
            engines=[EspeakEngine()],
            upload_limits=UploadLimits(max_bytes=1024 * 1024, max_duration_s=60),
        )
        yield c


def test_preview_returns_playable_audio_and_the_spoken_words(client: TestClient) -> None:
    r = client.post("/api/v1/tts/preview", json={"text": "UBND xã họp lúc 7h30."})
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "audio/mpeg" and len(r.content) > 10_000
    assert r.headers["x-loa-engine"] == "espeak-ng"
    assert unquote(r.headers["x-loa-normalised-text"]) == (
        "ủy ban nhân dân xã họp lúc bảy giờ ba mươi."
    )
    media = client.get(f"/media/{r.headers['x-loa-media']}")
    assert media.status_code == 200 and media.content == r.content


def test_preview_in_opus(client: TestClient) -> None:
    r = client.post("/api/v1/tts/preview", json={"text": "Xin chào.", "format": "opus"})
    assert r.status_code == 200 and r.headers["content-type"] == "audio/ogg"
    assert r.content[:4] == b"OggS"


@pytest.mark.parametrize(
    "body",
    [{"text": "   "}, {"text": "Xin chào", "voice": "klingon"}, {"text": "a", "extra": 1}],
)
def test_bad_preview_requests_are_422(client: TestClient, body: dict[str, object]) -> None:
    r = client.post("/api/v1/tts/preview", json=body)
    assert r.status_code == 422, r.text


def test_normalise_shows_the_reading(client: TestClient) -> None:
    r = client.post("/api/v1/tts/normalise", json={"text": "Gia hạn thẻ BHYT trước 31/12."})
    assert r.status_code == 200
    assert r.json()["normalised"] == (
        "Gia hạn thẻ bảo hiểm y tế trước ngày ba mươi mốt tháng mười hai."
    )


def _tone_wav(seconds: int) -> bytes:
    return tone(seconds, "wav", "-ar", "16000", frequency=500)


def test_upload_is_stored_and_served(client: TestClient) -> None:
    r = client.post(
        "/api/v1/uploads/audio", files={"file": ("ban-tin.wav", _tone_wav(3), "audio/wav")}
    )
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["engine"] == "upload" and body["ext"] == "mp3"
    assert abs(body["duration_s"] - 3) < 0.1
    assert client.get(f"/media/{body['sha256']}.mp3").status_code == 200
    ctl = client.app.state.controller  # type: ignore[attr-defined]
    with ctl.sessions() as session:  # the same row the panel's upload stores
        row = session.get(Media, body["sha256"])
        assert row is not None and row.source == "upload" and row.size == body["size"]
        assert row.duration_s == pytest.approx(body["duration_s"], abs=0.01)


def test_bad_uploads_get_a_reason(client: TestClient) -> None:
    media_dir = client.app.state.controller.media_store.root  # type: ignore[attr-defined]
    before = sorted(p.name for p in media_dir.iterdir())
    text = client.post("/api/v1/uploads/audio", files={"file": ("x.mp3", b"hello", "audio/mpeg")})
    assert text.status_code == 422 and "not an audio file" in text.json()["detail"]
    big = client.post(
        "/api/v1/uploads/audio", files={"file": ("big.wav", _tone_wav(40), "audio/wav")}
    )
    assert big.status_code == 413 and "limit is 1 MB" in big.json()["detail"]
    assert sorted(p.name for p in media_dir.iterdir()) == before


def test_upload_longer_than_its_header_says_gets_a_422_reason(
    client: TestClient, tmp_path: Path
) -> None:
    """An MP3 whose header claims 1 s but holds 10 minutes: refused once decoding passes the
    60 s limit, with a reason an operator can read, and nothing stored."""
    media_dir = client.app.state.controller.media_store.root  # type: ignore[attr-defined]
    before = sorted(p.name for p in media_dir.iterdir())
    data = lying_mp3(tmp_path, minutes=10)
    r = client.post("/api/v1/uploads/audio", files={"file": ("dai.mp3", data, "audio/mpeg")})
    assert r.status_code == 422, r.text
    assert r.json()["detail"] == "dai.mp3: the recording is longer than the limit of 1.0 min"
    assert sorted(p.name for p in media_dir.iterdir()) == before

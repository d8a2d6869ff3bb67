"""The live API over real servers: browser-like Opus/WebM chunks → ffmpeg → a real Icecast 2;
the chosen zone gets a signed play_now stream command once audio flows, and stop ends both.
The controller runs on a FakeClock, so "audio has flowed for a second" needs no sleeping."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from integration.emergency.icecast_server import IcecastServer
from sqlalchemy import select

from controller.app import create_app
from controller.broker.process import MosquittoProcess
from controller.config import ControllerSettings
from controller.db.models import Command as CommandRow
from protocol.clock import FakeClock
from protocol.models import Command, CommandAction, ItemKind
from protocol.signing import Verifier

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(shutil.which("icecast2") is None, reason="icecast2 is not installed"),
]


@pytest.fixture
def icecast() -> Iterator[IcecastServer]:
    workdir = Path(tempfile.mkdtemp(prefix="loa-icecast-"))  # Icecast (as nobody) needs access
    server = IcecastServer(workdir)
    try:
        server.start()
        yield server
    finally:
        server.stop()
        shutil.rmtree(workdir, ignore_errors=True)


def webm_opus(seconds: float) -> bytes:
    """What Chromium's MediaRecorder sends: Opus in WebM (here a 440 Hz tone)."""
    return subprocess.run(
        ["ffmpeg", "-hide_banner", "-loglevel", "error", "-f", "lavfi", "-i",
         f"sine=frequency=440:duration={seconds}", "-c:a", "libopus", "-b:a", "32k",
         "-f", "webm", "pipe:1"],
        check=True, capture_output=True,
    ).stdout  # fmt: skip


def test_live_chunks_reach_icecast_and_the_zone_gets_play_now_then_stop(
    tmp_path: Path, mosquitto: MosquittoProcess, icecast: IcecastServer
) -> None:
    clock = FakeClock(datetime.now(UTC))
    settings = ControllerSettings(
        data_dir=tmp_path / "ctl",
        mqtt_port=mosquitto.port,
        mqtt_client_id="ctl-live",
        icecast_host="127.0.0.1",
        icecast_port=icecast.port,
        icecast_source_password=icecast.password,  # type: ignore[arg-type]
    )
    audio = webm_opus(4.0)
    with TestClient(create_app(settings, clock)) as api:
        assert api.post("/api/v1/zones", json={"id": "xa-live", "name": "Xã"}).status_code == 201
        node = {"id": "live-1", "name": "Loa", "zone_id": "xa-live"}
        assert api.post("/api/v1/nodes", json=node).status_code == 201
        assert api.get("/api/v1/live").json() == {"enabled": True, "reason": None, "current": None}
        r = api.post("/api/v1/live", json={"zones": ["xa-live"]})
        assert r.status_code == 201, r.text
        live_id = r.json()["id"]
        again = api.post("/api/v1/live", json={"zones": ["xa-live"]})
        assert again.status_code == 409 and "already on air" in again.text

        chunks = [audio[i : i + 2000] for i in range(0, len(audio), 2000)]
        first = api.post(f"/api/v1/live/{live_id}/audio", content=chunks[0])
        assert first.status_code == 200 and first.json()["on_air"] is False
        clock.advance(1.2)  # audio has flowed for more than a second
        for chunk in chunks[1:]:
            r = api.post(f"/api/v1/live/{live_id}/audio", content=chunk)
            assert r.status_code == 200, r.text
        assert r.json()["on_air"] is True and r.json()["bytes_in"] == len(audio)
        deadline = time.monotonic() + 15  # a real server: poll its status
        while not icecast.has_source("/live.mp3") and time.monotonic() < deadline:
            time.sleep(0.1)
        assert icecast.has_source("/live.mp3"), icecast.error_log()

        status = api.get("/api/v1/live").json()["current"]
        assert status["id"] == live_id and status["on_air_at"] is not None
        stopped = api.post(f"/api/v1/live/{live_id}/stop")
        assert stopped.status_code == 200 and stopped.json()["ended_at"] is not None
        assert api.get("/api/v1/live").json()["current"] is None
        assert api.post(f"/api/v1/live/{live_id}/audio", content=b"x").status_code == 404
        # a second "end" (or one after the feed ended by itself) says it ended, stops nothing
        again = api.post(f"/api/v1/live/{live_id}/stop")
        assert again.status_code == 200 and again.json()["ended_at"] is not None

        verifier = Verifier.from_b64(api.get("/api/v1/signing-keys").json()["keys"])
        ctl = api.app.state.controller  # type: ignore[attr-defined]
        with ctl.sessions() as session:
            rows = session.scalars(select(CommandRow).order_by(CommandRow.issued_at)).all()
            sent = [verifier.verify(Command, row.payload.encode()) for row in rows]
    assert [c.action for c in sent] == [CommandAction.PLAY_NOW, CommandAction.STOP]
    play = sent[0]
    assert play.zone_id == "xa-live" and play.item is not None
    assert play.item.kind is ItemKind.STREAM
    assert play.item.stream_url == f"http://127.0.0.1:{icecast.port}/live.mp3"

"""A fresh emergency text plays while it downloads, and only from verified chunks: the real
controller (espeak-ng, ffmpeg, signing), a real Mosquitto and a real agent, with a man in the
middle on the agent's media link that can change one byte of one chunk.

The agent's player here drains whatever it is handed (the pipe of verified chunks or a cached
file) into memory, like a sound card would take it, so the test sees every byte played.
"""

from __future__ import annotations

import http.server
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime

import httpx
import pytest
from support.processes import wait_until
from support.served_controller import ServedController

from agent.backends.player import Playback, Player, PlayRequest, SilentPlayback, require_local_file
from agent.config import AgentSettings
from agent.runtime import AgentRuntime
from audio.engines.chain import EngineChain
from audio.errors import EngineFailed
from controller.broker.process import MosquittoProcess, free_port
from controller.config import ControllerSettings
from controller.db.models import Command as CommandRow
from controller.db.models import Node, PlaybackEvent, Zone
from controller.services.container import Controller
from controller.services.emergency import EmergencyRequest, cancel_emergency, issue_emergency
from protocol.clock import SystemClock
from protocol.models import Command

pytestmark = pytest.mark.integration

ZONE, NODE = "xa-song-cau", "song-cau-1"
CHUNK_KB = 1
TAMPERED_CHUNK = 2


class Recorder(Player):
    """Takes every byte of what it is told to play (file or pipe), as a sound card would."""

    name = "recorder"

    def __init__(self) -> None:
        self.plays: list[tuple[str, str, bytearray, threading.Thread]] = []

    def play(self, request: PlayRequest) -> Playback:
        require_local_file(request)  # the agent's own guard, as every player applies it
        heard = bytearray()

        def drain() -> None:
            with open(request.source, "rb") as fh:
                while block := fh.read(4096):
                    heard.extend(block)

        thread = threading.Thread(target=drain, daemon=True)
        thread.start()
        self.plays.append((request.item_id, request.source, heard, thread))
        return SilentPlayback()


@dataclass
class Mitm:
    """Forwards ``/media/...`` to the controller (``Range`` included); ``tamper`` flips one
    byte at that file offset in every answer for a name ending in ``suffix``."""

    upstream: str
    tamper: int | None = None
    suffix: str = ".opus"
    ranges: list[str | None] = field(default_factory=list)

    def serve(self) -> tuple[http.server.ThreadingHTTPServer, str]:
        mitm = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                rng = self.headers.get("Range")
                mitm.ranges.append(rng)
                headers = {"Range": rng} if rng else {}
                resp = httpx.get(mitm.upstream + self.path, headers=headers, timeout=30)
                body = bytearray(resp.content)
                start = int(rng.removeprefix("bytes=").split("-")[0]) if rng else 0
                if mitm.tamper is not None and self.path.endswith(mitm.suffix):
                    at = mitm.tamper - (start if resp.status_code == 206 else 0)
                    if 0 <= at < len(body):
                        body[at] ^= 0xFF
                self.send_response(resp.status_code)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(bytes(body))

            def log_message(self, *_: object) -> None:
                pass

        httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=httpd.serve_forever, daemon=True).start()
        return httpd, f"http://127.0.0.1:{httpd.server_address[1]}"


@dataclass
class System:
    ctl: Controller
    agent: AgentRuntime
    player: Recorder
    mitm: Mitm


@pytest.fixture(scope="module")
def system(tmp_path_factory: pytest.TempPathFactory) -> Iterator[System]:
    root = tmp_path_factory.mktemp("progressive")
    broker = MosquittoProcess(root / "mosquitto")
    broker.start()
    port = free_port()
    settings = ControllerSettings(
        data_dir=root / "controller",
        http_port=port,
        mqtt_port=broker.port,
        mqtt_client_id=f"ctl-{root.name}",
        tts_engine_order=["espeak-ng"],
        emergency_chunk_kb=CHUNK_KB,
        scheduler_enabled=False,
    )
    try:
        with ServedController(settings, SystemClock(), port=port) as served:
            ctl = served.ctl
            now = datetime.now(UTC)
            with ctl.sessions.begin() as session:
                session.add(Zone(id=ZONE, name=ZONE, created_at=now))
                session.flush()
                session.add(Node(id=NODE, name=NODE, zone_id=ZONE, created_at=now))
            mitm = Mitm(served.url)
            httpd, url = mitm.serve()
            agent = AgentRuntime(
                AgentSettings(
                    node_id=NODE,
                    zones=[ZONE],
                    data_dir=root / "agent",
                    controller_url=url,
                    mqtt_host=broker.host,
                    mqtt_port=broker.port,
                    trusted_keys=[ctl.signer.public_key_b64],
                    player="tap",
                    tap_file=root / "tap.jsonl",
                    heartbeat_interval_s=0.5,
                    reconnect_min_s=0.1,
                    outbox_resend_s=1.0,
                )
            )
            recorder = Recorder()
            agent.playout.player = recorder
            agent.start()
            try:
                assert wait_until(lambda: _online(ctl), 30)
                yield System(ctl, agent, recorder, mitm)
            finally:
                agent.stop()
                httpd.shutdown()
                httpd.server_close()
    finally:
        broker.stop()


def _online(ctl: Controller) -> bool:
    with ctl.sessions() as session:
        node = session.get(Node, NODE)
        return bool(node is not None and node.online)


def _events(ctl: Controller, item_id: str) -> list[tuple[str, str]]:
    with ctl.sessions() as session:
        rows = session.query(PlaybackEvent).filter(PlaybackEvent.item_id == item_id)
        return [(e.kind, e.detail) for e in rows.order_by(PlaybackEvent.seq)]


def _issue(system: System, text: str) -> tuple[str, Command, bytes]:
    view = issue_emergency(system.ctl, EmergencyRequest([ZONE], text=text))
    with system.ctl.sessions() as session:
        payload = session.get_one(CommandRow, view.row.command_ids[0]).payload
    command = Command.model_validate(json.loads(payload)["payload"])
    assert command.chunks is not None
    path = system.ctl.media_store.resolve(command.chunks.filename)
    assert path is not None
    return view.row.id, command, path.read_bytes()


class OnlineEngine:
    """Stands in for gTTS at the head of the chain: counts every time it is consulted (each
    is an online round trip, or a probe and a timeout when the commune is offline)."""

    name = "gtts"
    default_voice = "vi"

    def __init__(self) -> None:
        self.asked = 0

    def voices(self) -> tuple[str, ...]:
        return ("vi",)

    def unavailable_reason(self) -> str | None:
        self.asked += 1
        return "offline (test stand-in)"

    def synthesise(self, text: str, voice: str, rate_wpm: int) -> bytes:
        raise EngineFailed("never reached")


def test_a_fresh_emergency_starts_from_its_first_verified_chunk(system: System) -> None:
    renderer = system.ctl.renderer
    online, chain = OnlineEngine(), renderer.chain
    renderer.chain = EngineChain([online, *chain.engines])
    try:
        emergency_id, command, opus = _issue(system, "Khẩn cấp. Nước lũ đang lên, sơ tán ngay.")
        assert online.asked == 0  # emergency speech goes straight to espeak-ng
        renderer.render_text("Thông báo thường.")
        assert online.asked == 1  # (an ordinary notice still tries the online engine first)
    finally:
        renderer.chain = chain
    assert command.chunks is not None and command.chunks.count > TAMPERED_CHUNK + 1
    assert command.chunks.head_bytes() == opus[: CHUNK_KB * 1024]  # the first chunk inline
    item = command.item
    assert item is not None
    assert wait_until(lambda: any(k == "started" for k, _ in _events(system.ctl, item.id)), 30)
    [(_kind, detail)] = [e for e in _events(system.ctl, item.id) if e[0] == "started"]
    assert "progressive: started after 1 of" in detail
    [(_played_item, source, heard, drain)] = [p for p in system.player.plays if p[0] == item.id]
    drain.join(30)
    assert source.endswith(".pipe")
    assert bytes(heard) == opus  # every byte, in order, all of them verified
    media = command.chunks.filename
    assert wait_until(lambda: (system.agent.cache.dir / media).is_file(), 10)  # cached after
    assert not any(k == "failed" for k, _ in _events(system.ctl, item.id))
    cancel_emergency(system.ctl, emergency_id)


def test_a_chunk_changed_in_transit_is_never_played_and_the_fallback_is_reported(
    system: System,
) -> None:
    system.mitm.tamper = TAMPERED_CHUNK * CHUNK_KB * 1024 + 17
    try:
        emergency_id, command, opus = _issue(system, "Khẩn cấp. Đê sông Cầu có nguy cơ vỡ.")
        item = command.item
        assert item is not None

        def failures() -> list[str]:
            return [d for k, d in _events(system.ctl, item.id) if k == "failed"]

        assert wait_until(lambda: len(failures()) >= 2, 60)
        stopped, unverified = failures()[:2]
        assert f"chunk {TAMPERED_CHUNK}: hash mismatch" in stopped
        assert "falling back to the full verified download" in stopped
        assert "not downloaded and verified" in unverified  # the whole file failed its hash
        plays = [p for p in system.player.plays if p[0] == item.id]
        assert len(plays) == 1  # the progressive start only; nothing after the fallback
        _, _source, heard, drain = plays[0]
        drain.join(30)
        # exactly the chunks verified before the bad one: not one byte of it reached the player
        assert bytes(heard) == opus[: TAMPERED_CHUNK * CHUNK_KB * 1024]
        assert not (system.agent.cache.dir / command.chunks.filename).exists()  # type: ignore[union-attr]
        assert None in system.mitm.ranges  # the fallback fetched the whole file
        cancel_emergency(system.ctl, emergency_id)
    finally:
        system.mitm.tamper = None

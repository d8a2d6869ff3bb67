"""Only bytes whose SHA-256 matched reach the player (security issue 14, hole 5): the real
agent against a real Mosquitto, a fake controller and a media server that delays, serves
wrong bytes or has nothing."""

from __future__ import annotations

import hashlib
import http.server
import shutil
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from agent.config import AgentSettings
from agent.runtime import AgentRuntime
from controller.broker.process import MosquittoProcess
from protocol import topics
from protocol.models import MediaRef
from protocol.signing import Signer

pytestmark = pytest.mark.integration

SIGNED = b"RIFF-the-announcement-the-controller-signed" * 200


class HostileMedia:
    """``/media/<name>``: answers after ``delay_s``, with ``body`` (may differ from what the
    playlist's hash says), or 404; records (path, user agent, when the answer was sent)."""

    def __init__(self, body: bytes | None, delay_s: float = 0.0) -> None:
        self.requests: list[tuple[str, str, float]] = []
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                time.sleep(delay_s)
                if body is None:
                    self.send_error(404)
                else:
                    self.send_response(200)
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                    self.wfile.flush()
                agent = self.headers.get("User-Agent", "")
                outer.requests.append((self.path, agent, time.time()))

            def log_message(self, *_: object) -> None:
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def start_agent(
    tmp_path: Path, mosquitto: MosquittoProcess, signer: Signer
) -> Iterator[Callable[..., tuple[AgentRuntime, AgentSettings]]]:
    made: list[AgentRuntime] = []
    servers: list[HostileMedia] = []

    def start(server: HostileMedia, **extra: Any) -> tuple[AgentRuntime, AgentSettings]:
        servers.append(server)
        settings = AgentSettings(
            node_id="xa-a-loa-1",
            zones=["xa-a"],
            data_dir=tmp_path / "agent",
            controller_url=server.url,
            mqtt_host=mosquitto.host,
            mqtt_port=mosquitto.port,
            trusted_keys=[signer.public_key_b64],
            tap_file=tmp_path / "tap.jsonl",
            heartbeat_interval_s=0.5,
            reconnect_min_s=0.1,
            outbox_resend_s=1.0,
            **{"player": "tap", **extra},
        )
        runtime = AgentRuntime(settings)
        made.append(runtime)
        runtime.start()
        return runtime, settings

    yield start
    for runtime in made:
        runtime.stop()
    for server in servers:
        server.close()


def _publish_one_item(
    ctl: Any,
    signer: Signer,
    node: str,
    playlist_factory: Callable[..., Any],
    lead_s: float,
    duration_s: float = 10.0,
) -> datetime:
    media = MediaRef(
        sha256=hashlib.sha256(SIGNED).hexdigest(), ext="wav", size=len(SIGNED), duration_s=1
    )
    start = datetime.now(UTC) + timedelta(seconds=lead_s)
    playlist = playlist_factory(node, 1, [start], media, duration_s=duration_s)
    ctl.publish(topics.node_playlist(node), signer.sign(playlist), retain=True)
    return start


def test_a_delayed_download_starts_playing_only_after_it_is_verified(
    start_agent: Callable[..., tuple[AgentRuntime, AgentSettings]],
    mosquitto: MosquittoProcess,
    signer: Signer,
    controller_factory: Callable[..., Any],
    playlist_factory: Callable[..., Any],
    tap_reader: Callable[[Path], list[dict[str, Any]]],
) -> None:
    """The file arrives 1.5 s after the item's start: the item waits (within the grace) and
    starts from its beginning, from the verified cached file, after the bytes arrived."""
    server = HostileMedia(SIGNED, delay_s=2.5)
    ctl = controller_factory(mosquitto.host, mosquitto.port)
    runtime, settings = start_agent(server, late_grace_s=6.0)
    start = _publish_one_item(ctl, signer, settings.node_id, playlist_factory, lead_s=1.0)
    assert ctl.wait_for(lambda: ctl.events_of(settings.node_id, "started"), 15)
    assert settings.tap_file is not None
    [tap] = tap_reader(settings.tap_file)
    served_at = server.requests[0][2]
    started_at = datetime.fromisoformat(tap["started_at"])
    assert started_at.timestamp() >= served_at > start.timestamp()
    assert tap["media"] == str(runtime.cache.dir / f"{hashlib.sha256(SIGNED).hexdigest()}.wav")
    assert tap["offset_s"] == 0
    assert ctl.events_of(settings.node_id, "failed") == []


@pytest.mark.skipif(shutil.which("ffplay") is None, reason="ffplay not installed")
def test_tampered_media_is_never_played_and_the_failure_is_reported(
    start_agent: Callable[..., tuple[AgentRuntime, AgentSettings]],
    mosquitto: MosquittoProcess,
    signer: Signer,
    controller_factory: Callable[..., Any],
    playlist_factory: Callable[..., Any],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The media server answers with other bytes than the playlist signed. Before the fix the
    agent gave ffplay the controller URL and ffplay played those bytes (seen here as a request
    from ffmpeg's "Lavf" user agent); now only the agent's own, hash-checked download runs."""
    monkeypatch.setenv("SDL_AUDIODRIVER", "dummy")  # a real ffplay, with no sound card
    server = HostileMedia(b"RIFF-a-false-evacuation-order" * 200)
    ctl = controller_factory(mosquitto.host, mosquitto.port)
    _, settings = start_agent(server, player="ffplay", late_grace_s=1.0)
    _publish_one_item(ctl, signer, settings.node_id, playlist_factory, 1.5, duration_s=3.0)
    assert ctl.wait_for(lambda: ctl.events_of(settings.node_id, "failed"), 15)
    time.sleep(1.5)  # room for a player that would fetch the URL itself
    [failed] = ctl.events_of(settings.node_id, "failed")
    assert "not downloaded and verified by its start" in failed["detail"]
    assert ctl.events_of(settings.node_id, "started") == []
    agents = {agent.split("/")[0] for _path, agent, _at in server.requests}
    assert agents == {"python-httpx"}, server.requests


def test_media_missing_at_start_is_reported_and_skipped(
    start_agent: Callable[..., tuple[AgentRuntime, AgentSettings]],
    mosquitto: MosquittoProcess,
    signer: Signer,
    controller_factory: Callable[..., Any],
    playlist_factory: Callable[..., Any],
    tap_reader: Callable[[Path], list[dict[str, Any]]],
) -> None:
    server = HostileMedia(None)
    ctl = controller_factory(mosquitto.host, mosquitto.port)
    _, settings = start_agent(server, late_grace_s=0.5)
    _publish_one_item(ctl, signer, settings.node_id, playlist_factory, 1.0, duration_s=3.0)
    assert ctl.wait_for(lambda: ctl.events_of(settings.node_id, "failed"), 15)
    [failed] = ctl.events_of(settings.node_id, "failed")
    assert failed["detail"].endswith(": skipped, nothing played")
    assert settings.tap_file is not None and tap_reader(settings.tap_file) == []
    assert ctl.events_of(settings.node_id, "started") == []

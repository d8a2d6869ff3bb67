"""Fixtures for agent integration tests: a tiny fake controller (real paho client), a media
HTTP server with Range support, and a signer with playlist builders."""

from __future__ import annotations

import hashlib
import http.server
import json
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from protocol import topics
from protocol.codec import encode
from protocol.compact import load_any
from protocol.models import (
    EventAck,
    EventBatch,
    ItemKind,
    MediaRef,
    Playlist,
    PlaylistItem,
)
from protocol.signing import Signer


class FakeController:
    """Stores every event under (node, seq), counts duplicates, acks what it stored."""

    def __init__(self, host: str, port: int, ack: bool = True) -> None:
        self.events: dict[tuple[str, int], dict[str, Any]] = {}
        self.deliveries: dict[tuple[str, int], int] = {}
        self.heartbeats: list[dict[str, Any]] = []
        self._snapshots: dict[str, dict[str, Any]] = {}
        self.status: dict[str, str] = {}
        self.conflicts = 0  # the same (node, seq) arriving with different content
        self.ack = ack
        self._lock = threading.Lock()
        self.client = mqtt.Client(
            CallbackAPIVersion.VERSION2,
            client_id=f"fake-controller-{port}",
            protocol=mqtt.MQTTv5,
        )
        self.client.on_connect = self._on_connect
        self.client.on_message = self._on_message
        self.client.reconnect_delay_set(1, 2)
        self.client.connect(host, port)
        self.client.loop_start()

    def _on_connect(self, client: mqtt.Client, *_: object) -> None:
        client.subscribe(
            [
                (topics.all_nodes("events"), 1),
                (topics.all_nodes("heartbeat"), 0),
                (topics.all_nodes("status"), 1),
            ]
        )

    def _on_message(self, client: mqtt.Client, _u: object, msg: mqtt.MQTTMessage) -> None:
        node, kind = topics.parse_node_topic(msg.topic)
        if kind == "status":
            self.status[node] = msg.payload.decode()
            return
        data = load_any(msg.payload)  # heartbeats come as CBOR (deltas), events as JSON
        if kind == "heartbeat":
            # a delta carries only what changed: keep each node's merged snapshot, as the
            # controller's ingest does (an empty map is a sign of life: nothing changed)
            base = self._snapshots.get(node, {}) if data.get("delta") or not data else {}
            merged = {k: v for k, v in {**base, **data}.items() if k != "delta"}
            self._snapshots[node] = merged
            self.heartbeats.append(merged)
            return
        batch = EventBatch.model_validate(data)
        with self._lock:
            for event in batch.events:
                key = (batch.node_id, event.seq)
                self.deliveries[key] = self.deliveries.get(key, 0) + 1
                stored = self.events.setdefault(key, event.model_dump(mode="json"))
                if stored != event.model_dump(mode="json"):
                    self.conflicts += 1
        if self.ack:
            ack = EventAck(node_id=batch.node_id, seqs=[e.seq for e in batch.events])
            client.publish(topics.node_events_ack(batch.node_id), encode(ack), qos=1)

    def publish(self, topic: str, payload: bytes, retain: bool = False) -> None:
        self.client.publish(topic, payload, qos=1, retain=retain).wait_for_publish(5)

    def events_of(self, node: str, kind: str | None = None) -> list[dict[str, Any]]:
        with self._lock:
            found = [e for (n, _s), e in sorted(self.events.items()) if n == node]
        return [e for e in found if kind is None or e["kind"] == kind]

    def wait_for(self, predicate: Callable[[], bool], timeout: float = 15.0) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if predicate():
                return True
            time.sleep(0.05)
        return predicate()

    def close(self) -> None:
        self.client.loop_stop()
        self.client.disconnect()


class MediaServer:
    """Serves ``/media/<name>`` from a directory, honouring ``Range: bytes=N-``."""

    def __init__(self, directory: Path) -> None:
        self.dir = directory
        self.requests: list[tuple[str, str | None]] = []
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                name = self.path.removeprefix("/media/")
                rng = self.headers.get("Range")
                server.requests.append((name, rng))
                path = server.dir / name
                if "/" in name or not path.is_file():
                    self.send_error(404)
                    return
                data = path.read_bytes()
                start = int(rng.split("=")[1].rstrip("-")) if rng else 0
                if start >= len(data) and rng:
                    self.send_error(416)
                    return
                self.send_response(206 if rng else 200)
                self.send_header("Content-Length", str(len(data) - start))
                self.end_headers()
                self.wfile.write(data[start:])

            def log_message(self, *_: object) -> None:
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def add(self, data: bytes, duration_s: float = 1.0) -> MediaRef:
        digest = hashlib.sha256(data).hexdigest()
        (self.dir / f"{digest}.wav").write_bytes(data)
        return MediaRef(sha256=digest, ext="wav", size=len(data), duration_s=duration_s)

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def signer() -> Signer:
    return Signer.generate()


@pytest.fixture
def media_server(tmp_path: Path) -> Iterator[MediaServer]:
    directory = tmp_path / "served"
    directory.mkdir()
    server = MediaServer(directory)
    yield server
    server.close()


def make_playlist(
    node_id: str,
    version: int,
    starts: list[datetime],
    media: MediaRef,
    duration_s: float = 1.0,
    prefix: str = "it",
) -> Playlist:
    items = [
        PlaylistItem(
            id=f"{prefix}-{n}",
            kind=ItemKind.AUDIO,
            start=start,
            duration_s=duration_s,
            media=media,
        )
        for n, start in enumerate(starts)
    ]
    now = datetime.now(UTC)
    return Playlist(
        node_id=node_id,
        version=version,
        generated_at=now,
        window_start=now - timedelta(minutes=1),
        window_end=now + timedelta(hours=48),
        items=items,
    )


@pytest.fixture
def playlist_factory() -> Callable[..., Playlist]:
    return make_playlist


def read_tap(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


@pytest.fixture
def tap_reader() -> Callable[[Path], list[dict[str, Any]]]:
    return read_tap


@pytest.fixture
def controller_factory() -> Iterator[Callable[..., FakeController]]:
    made: list[FakeController] = []

    def factory(host: str, port: int, ack: bool = True) -> FakeController:
        ctl = FakeController(host, port, ack)
        made.append(ctl)
        return ctl

    yield factory
    for ctl in made:
        ctl.close()

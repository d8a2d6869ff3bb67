"""Playlist deltas end to end: real Mosquitto, the controller's publisher and ingest (fake
clock: a day of calendar passes in a step) and a real agent runtime. A recurring item rolls
in: a signed delta (not the whole window) goes out and the agent's playlist equals the
controller's; an agent that missed deltas asks and gets the full playlist; tampered and
replayed deltas are refused and counted."""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from agent.config import AgentSettings
from agent.runtime import AgentRuntime
from controller.broker.process import MosquittoProcess
from controller.db.models import Node, PlaybackEvent, PublishedPlaylist, Zone
from controller.services.container import Controller
from controller.services.schedule_store import save_entry
from protocol import topics
from protocol.clock import FakeClock
from protocol.compact import is_cbor, load_any
from protocol.models import Playlist
from protocol.signing import Verifier
from schedules import ScheduleEntry
from tests.support.processes import wait_until

from .conftest import settings_for

pytestmark = pytest.mark.integration

START = datetime(2026, 12, 1, 1, 0, tzinfo=UTC)
NODE = "loa-delta"
DAY = 24 * 3600


class Watcher:
    """A plain MQTT client on the node's playlist topic: what actually crossed the wire."""

    def __init__(self, port: int) -> None:
        self.seen: list[bytes] = []
        self._lock = threading.Lock()
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"watch-{port}")
        self.client.on_message = lambda _c, _u, msg: self._add(msg.payload)
        self.client.connect("127.0.0.1", port)
        self.client.subscribe(topics.node_playlist(NODE), 1)
        self.client.loop_start()

    def _add(self, payload: bytes) -> None:
        with self._lock:
            self.seen.append(payload)

    def last(self) -> bytes:
        with self._lock:
            return self.seen[-1]

    def close(self) -> None:
        self.client.loop_stop()
        self.client.disconnect()


@pytest.fixture
def ctl(tmp_path: Path, mosquitto: MosquittoProcess) -> Iterator[Controller]:
    controller = Controller.build(
        settings_for(tmp_path, mosquitto.port, client_id="ctl-delta"), FakeClock(START)
    )
    with controller.sessions.begin() as session:
        session.add(Zone(id="vi-huong", name="Vi Hương", created_at=START))
        session.flush()
        session.add(Node(id=NODE, name="Loa", zone_id="vi-huong", created_at=START))
        sha = hashlib.sha256(b"ban-tin").hexdigest()
        entry = ScheduleEntry.model_validate(
            {
                "id": "ban-tin-sang",
                "kind": "audio",
                "title": "Bản tin sáng",
                "media": {"sha256": sha, "size": 1000, "duration_s": 60},
                "targets": {"nodes": [NODE]},
                "rule": {"freq": "daily", "start_date": "2026-11-01", "time": "05:30"},
            }
        )
        save_entry(session, entry, START)
    controller.start()
    try:
        yield controller
    finally:
        controller.stop()


def agent_for(tmp_path: Path, port: int, ctl: Controller) -> AgentRuntime:
    settings = AgentSettings(
        node_id=NODE,
        zones=["vi-huong"],
        data_dir=tmp_path / "agent",
        controller_url="http://127.0.0.1:9",  # no media server: downloads fail, no matter
        mqtt_host="127.0.0.1",
        mqtt_port=port,
        trusted_keys=[ctl.signer.public_key_b64],
        player="null",
        heartbeat_interval_s=0.5,
        reconnect_min_s=0.1,
        reconnect_max_s=0.5,
        outbox_resend_s=1.0,
        session_expiry_s=0,  # what it misses while stopped is gone: the gap case
    )
    runtime = AgentRuntime(settings)
    runtime.start()
    return runtime


def published(ctl: Controller) -> Playlist:
    with ctl.sessions() as session:
        row = session.get(PublishedPlaylist, NODE)
        assert row is not None
        return Verifier([ctl.signer.public_key]).verify(Playlist, row.payload.encode())


def full_wire(ctl: Controller) -> bytes:
    """The full signed playlist of the newest version (what was sent before deltas)."""
    with ctl.sessions() as session:
        row = session.get(PublishedPlaylist, NODE)
        assert row is not None
        return row.payload.encode()


def holds(agent: AgentRuntime, playlist: Playlist) -> bool:
    return agent.sync.current == playlist


def says_it_takes_deltas(ctl: Controller) -> bool:
    with ctl.sessions() as session:
        node = session.get(Node, NODE)
        return node is not None and (node.last_heartbeat or {}).get("playlist_delta") is True


def test_rolls_go_out_as_deltas_gaps_heal_and_bad_deltas_are_refused(
    ctl: Controller, mosquitto: MosquittoProcess, tmp_path: Path
) -> None:
    clock = ctl.clock
    assert isinstance(clock, FakeClock)
    watcher = Watcher(mosquitto.port)
    agent = agent_for(tmp_path, mosquitto.port, ctl)
    try:
        assert ctl.publisher.refresh().published == 1  # first: a full playlist
        first = published(ctl)
        wait_until(lambda: holds(agent, first), 20)
        wait_until(lambda: says_it_takes_deltas(ctl), 20)
        first_wire = watcher.last()
        assert first_wire == full_wire(ctl)

        clock.advance(DAY)  # tomorrow's occurrence rolls into the 48 h window
        report = ctl.publisher.refresh()
        assert (report.published, report.deltas) == (1, 1)
        second = published(ctl)
        wait_until(lambda: holds(agent, second), 20)
        delta_wire = watcher.last()
        sent = load_any(delta_wire)["payload"]
        assert is_cbor(delta_wire) and sent["base_version"] == first.version
        assert "items" not in sent and "items" not in sent["head"]  # not the window again
        added = [item["id"] for e in sent["edits"] for item in e.get("add", [])]
        assert added == [second.items[-1].id]  # only the occurrence that rolled in
        assert sum(e.get("drop", 0) for e in sent["edits"]) == 1  # and the one that left
        assert len(delta_wire) < len(full_wire(ctl)) < len(first_wire) * 2

        # the agent stops and misses two deltas; only the newest one is retained
        agent.stop()
        clock.advance(DAY)
        assert ctl.publisher.refresh().deltas == 1
        clock.advance(DAY)
        assert ctl.publisher.refresh().deltas == 1
        fourth = published(ctl)
        agent = agent_for(tmp_path, mosquitto.port, ctl)
        assert agent.sync.current == second  # the delta's result was kept across the restart
        wait_until(lambda: holds(agent, fourth), 30)  # gap -> asked -> the full playlist
        assert agent.sync.rejects.snapshot() == {"gap": 1}
        assert ctl.publisher.resent == 1
        with ctl.sessions() as session:
            kinds = [e.kind for e in session.query(PlaybackEvent).filter_by(node_id=NODE)]
        assert kinds.count("playlist_resync") == 1

        # a replayed (older) delta and a tampered one: refused, counted, nothing changes
        envelope = load_any(delta_wire)
        envelope["payload"]["head"]["volume_cap"] = 100
        topic = topics.node_playlist(NODE)
        watcher.client.publish(topic, delta_wire, 1).wait_for_publish(5)
        watcher.client.publish(topic, json.dumps(envelope).encode(), 1).wait_for_publish(5)
        wait_until(lambda: agent.sync.rejects.total == 3, 20)
        assert agent.sync.rejects.snapshot() == {"gap": 1, "stale": 1, "signature": 1}
        assert holds(agent, fourth)

        # a node asking again at once for the same version is not answered again
        assert ctl.publisher.resend_full(NODE) is False
        clock.advance(11)
        assert ctl.publisher.resend_full(NODE) is True
    finally:
        agent.stop()
        watcher.close()

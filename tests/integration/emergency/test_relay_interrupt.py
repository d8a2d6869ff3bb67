"""An emergency interrupts a radio relay in progress; the relay then resumes for the rest of
its slot. Real broker, in-process controller, the real agent runtime with the ``tap`` player
(which writes one line per start, with the offset it started at)."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from support.api_client import controller_settings
from support.processes import wait_until

from agent.config import AgentSettings
from agent.runtime import AgentRuntime
from controller.broker.process import MosquittoProcess
from controller.db.models import Node, PlaybackEvent, Zone
from controller.services.announcements import ensure_media
from controller.services.container import Controller
from controller.services.emergency import EmergencyRequest, get_emergency, issue_emergency
from protocol import topics
from protocol.models import ItemKind, Playlist, PlaylistItem, Priority

pytestmark = pytest.mark.integration

ZONE, NODE = "xa-vi-huong", "na-lang-1"
SLOT_S = 16.0
NOTICE = "Khẩn cấp. Đề nghị bà con di dời ngay."


@pytest.fixture
def ctl(tmp_path: Path, mosquitto: MosquittoProcess) -> Iterator[Controller]:
    controller = Controller.build(controller_settings(tmp_path, mosquitto))
    now = controller.clock.now()
    with controller.sessions.begin() as session:
        session.add(Zone(id=ZONE, name="Xã Vi Hương", created_at=now))
        session.flush()
        session.add(Node(id=NODE, name=NODE, zone_id=ZONE, created_at=now))
    controller.start()
    try:
        yield controller
    finally:
        controller.stop()


def tap_lines(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_emergency_interrupts_a_relay_which_resumes_for_the_rest_of_its_slot(
    ctl: Controller, mosquitto: MosquittoProcess, tmp_path: Path
) -> None:
    # the standard notice is pre-rendered and already in the agent's cache
    rendered = ctl.renderer.render_text(NOTICE)
    with ctl.sessions.begin() as session:
        ensure_media(session, rendered, "tts", ctl.clock.now())
    agent_dir, tap = tmp_path / NODE, tmp_path / "tap.jsonl"
    cached = agent_dir / "media" / f"{rendered.sha256}.{rendered.ext}"
    cached.parent.mkdir(parents=True)
    source = ctl.media_store.resolve(cached.name)
    assert source is not None
    shutil.copyfile(source, cached)

    agent = AgentRuntime(
        AgentSettings(
            node_id=NODE,
            zones=[ZONE],
            data_dir=agent_dir,
            controller_url="http://127.0.0.1:9",
            mqtt_port=mosquitto.port,
            trusted_keys=[ctl.signer.public_key_b64],
            player="tap",
            tap_file=tap,
            heartbeat_interval_s=60,
            outbox_resend_s=1,
        )
    )
    agent.start()
    try:
        now = ctl.clock.now()
        relay = PlaylistItem(
            id="vov1-0600",
            kind=ItemKind.STREAM,
            start=now + timedelta(seconds=1),
            duration_s=SLOT_S,
            priority=Priority.RELAY,
            title="Tiếp sóng VOV1",
            stream_url="http://127.0.0.1:9/vov1",
        )
        playlist = Playlist(
            node_id=NODE,
            # newer than anything the controller's own horizon job may publish for this node
            # (its versions are epoch milliseconds), so the agent never prefers that one
            version=2**53,
            generated_at=now,
            window_start=now - timedelta(hours=1),
            window_end=now + timedelta(hours=1),
            items=[relay],
        )
        ctl.mqtt.publish(topics.node_playlist(NODE), ctl.signer.sign(playlist), 1, True)
        wait_until(lambda: [t["item_id"] for t in tap_lines(tap)] == ["vov1-0600"], 30)

        view = issue_emergency(ctl, EmergencyRequest([ZONE], media_sha256=rendered.sha256))
        item_id = view.row.item_id

        def resumed() -> list[dict[str, Any]]:
            lines = tap_lines(tap)
            return lines if len(lines) >= 3 else []

        lines = wait_until(resumed, 30 + rendered.duration_s)
        assert [t["item_id"] for t in lines] == ["vov1-0600", item_id, "vov1-0600"]
        assert lines[1]["media"] == str(cached)  # played from the cache, no download
        assert lines[2]["kind"] == "stream" and lines[2]["offset_s"] >= rendered.duration_s
        # the relay picks up where its slot is now, not from its beginning
        slot_start = relay.start.timestamp()
        resumed_at = ctl.clock.now().timestamp()
        assert lines[2]["offset_s"] == pytest.approx(resumed_at - slot_start, abs=2.0)

        def relay_done() -> list[tuple[str, str, str]]:
            with ctl.sessions() as session:
                rows = session.query(PlaybackEvent).order_by(PlaybackEvent.seq).all()
                got = [(e.kind, e.item_id or "", e.detail) for e in rows if e.item_id]
            done = any(k == "finished" and i == relay.id and not d for k, i, d in got)
            return got if done else []

        events = wait_until(relay_done, SLOT_S + 10)
        kinds = [(k, i) for k, i, _ in events]
        assert kinds == [
            ("started", relay.id),
            ("finished", relay.id),  # interrupted by the emergency command
            ("started", item_id),
            ("finished", item_id),
            ("started", relay.id),  # joined at its current offset
            ("finished", relay.id),  # at the end of its slot
        ]
        assert events[1][2].startswith("interrupted")
        assert events[4][2].startswith("joined at +")
        statuses = get_emergency(ctl, view.row.id).nodes
        assert [(s.node_id, s.state, s.plays) for s in statuses] == [(NODE, "finished", 1)]
    finally:
        agent.stop()

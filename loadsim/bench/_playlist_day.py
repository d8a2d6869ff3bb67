"""Playlist bytes for one node over a day of rolls: full playlists (before) vs deltas (now).

Why a separate, in-process measurement: a day of rolls needs a day of calendar time, so the
real :class:`PlaylistPublisher` runs on a throwaway SQLite database with a fake clock, a
node with six daily audio items (MP3 + Opus renditions, like a commune's usual programme)
and the horizon job's 10-minute pass; every publish is captured instead of crossing a
broker. ``baseline`` is the controller before deltas (a full signed JSON playlist on each
change); ``new`` sends deltas (CBOR) to an agent that says it applies them. Wire bytes add
to each payload the MQTT PUBLISH and PUBACK and one TCP/IP header per 1448-byte segment
(plus the PUBACK's), the overhead a mobile link carries too.
"""

from __future__ import annotations

import hashlib
import math
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, cast

import paho.mqtt.client as mqtt

from protocol import topics

START = datetime(2026, 12, 1, 0, 0, tzinfo=UTC)  # 07:00 in Vietnam
NODE = "bench-pl-1"
DAILY = ["05:30", "06:30", "11:00", "11:45", "17:00", "19:30"]  # Vietnam local times
PASS = timedelta(minutes=10)  # the horizon job's default interval
TCPIP_HEADERS = 52  # IPv4 20 + TCP 20 + timestamps 12
MSS = 1448


class _Sent:
    """What the publisher needs of paho's message info: the broker confirmed it."""

    def wait_for_publish(self, _timeout: float | None = None) -> None:
        return None

    def is_published(self) -> bool:
        return True


def wire_bytes(topic: str, payload: bytes) -> int:
    """One QoS 1 PUBLISH (MQTT 5) and its PUBACK, with TCP/IP headers, on the link."""
    body = 2 + len(topic.encode()) + 2 + 1 + len(payload)  # topic, packet id, properties
    publish = 1 + (1 if body < 128 else 2 if body < 16_384 else 3) + body
    puback = 4
    segments = math.ceil(publish / MSS)
    return publish + puback + TCPIP_HEADERS * (segments + 1)


def _entries() -> list[Any]:
    from schedules import ScheduleEntry

    entries = []
    for n, at in enumerate(DAILY):
        sha = hashlib.sha256(f"item-{n}".encode()).hexdigest()
        opus = hashlib.sha256(f"item-{n}-opus".encode()).hexdigest()
        media = {
            "sha256": sha, "size": 400_000 + n, "duration_s": 57.0 + n,
            "alternatives": [{"sha256": opus, "ext": "opus", "size": 120_000 + n}],
        }  # fmt: skip
        entries.append(
            ScheduleEntry.model_validate(
                {
                    "id": f"ban-tin-{n}",
                    "kind": "audio",
                    "title": f"Bản tin hằng ngày số {n}",
                    "media": media,
                    "targets": {"nodes": [NODE]},
                    "rule": {"freq": "daily", "start_date": "2026-11-01", "time": at},
                }
            )
        )
    return entries


def _day(deltas: bool) -> dict[str, int]:
    from controller.bridge.playlist_publisher import PlaylistPublisher, Publish
    from controller.db.engine import make_engine, make_session_factory
    from controller.db.migrate import upgrade
    from controller.db.models import Node, Zone
    from controller.services.schedule_store import save_entry
    from protocol.clock import FakeClock
    from protocol.signing import Signer

    sent: list[bytes] = []

    def publish(topic: str, payload: bytes, _qos: int, _retain: bool) -> mqtt.MQTTMessageInfo:
        assert topic == topics.node_playlist(NODE)
        sent.append(payload)
        return cast(mqtt.MQTTMessageInfo, _Sent())

    clock = FakeClock(START)
    with tempfile.TemporaryDirectory(prefix="loa-bench-playlist-") as tmp:
        url = f"sqlite:///{Path(tmp) / 'ctl.sqlite'}"
        upgrade(url)
        engine = make_engine(url)
        sessions = make_session_factory(engine)
        with sessions.begin() as session:
            session.add(Zone(id="bench-zone", name="Bench", created_at=START))
            session.flush()
            session.add(
                Node(
                    id=NODE, name=NODE, zone_id="bench-zone", created_at=START,
                    last_heartbeat={"node_id": NODE, "playlist_delta": deltas},
                )
            )  # fmt: skip
            for entry in _entries():
                save_entry(session, entry, START)
        publisher = PlaylistPublisher(
            sessions, Signer.generate(), cast(Publish, publish), clock, timedelta(hours=48)
        )
        publisher.refresh()  # the first full playlist: not part of a day of rolls
        sent.clear()
        for _ in range(int(timedelta(days=1) / PASS)):
            clock.advance(PASS.total_seconds())
            publisher.refresh()
        engine.dispose()
    topic = topics.node_playlist(NODE)
    return {
        "messages": len(sent),
        "payload_bytes": sum(len(p) for p in sent),
        "wire_bytes": sum(wire_bytes(topic, p) for p in sent),
    }


def playlist_day() -> dict[str, Any]:
    """The field bench's playlist figures (new and baseline)."""
    before, after = _day(deltas=False), _day(deltas=True)
    return {
        "playlist_bytes_per_day": after["wire_bytes"],
        "playlist_bytes_per_day_baseline": before["wire_bytes"],
        "playlist_messages_per_day": after["messages"],
        "playlist_payload_bytes_per_day": after["payload_bytes"],
        "playlist_payload_bytes_per_day_baseline": before["payload_bytes"],
        "playlist_daily_items": len(DAILY),
    }


if __name__ == "__main__":
    print(playlist_day())

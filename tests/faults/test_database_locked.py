"""SQLite held under an EXCLUSIVE lock by another connection for longer than the busy
timeout: ingestion logs a clear error, retries, and stores every event exactly once, with
its acknowledgement only after the commit. Nothing is visible half-written meanwhile."""

from __future__ import annotations

import logging
import os
import sqlite3
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from sqlalchemy import func, select
from support.api_client import controller_settings
from support.processes import wait_until

from controller.broker.process import MosquittoProcess
from controller.db.models import Heartbeat, PlaybackEvent
from controller.services.container import Controller
from protocol import topics
from protocol.codec import decode, encode
from protocol.models import EventAck, EventBatch, EventKind
from protocol.models import Heartbeat as HeartbeatMsg
from protocol.models import PlaybackEvent as EventMsg

pytestmark = [
    pytest.mark.integration,
    pytest.mark.slow,
    pytest.mark.skipif(
        os.environ.get("LOA_TEST_POSTGRES") == "1", reason="an SQLite file lock, by design"
    ),
]
T0 = datetime(2026, 6, 1, 1, 0, tzinfo=UTC)
LOCK_S = 12.0  # longer than the engine's 10 s busy timeout: the first attempt must fail


@pytest.fixture
def ctl(tmp_path: Path, mosquitto: MosquittoProcess) -> Iterator[Controller]:
    settings = controller_settings(tmp_path, mosquitto, scheduler_enabled=False)
    controller = Controller.build(settings)
    controller.start()
    yield controller
    controller.stop()


def counts(ctl: Controller) -> tuple[int, int]:
    with ctl.sessions() as s:
        events = s.scalar(select(func.count()).select_from(PlaybackEvent)) or 0
        beats = s.scalar(select(func.count()).select_from(Heartbeat)) or 0
    return events, beats


def test_locked_database_delays_but_never_loses_or_half_writes(
    ctl: Controller, mosquitto: MosquittoProcess, caplog: pytest.LogCaptureFixture
) -> None:
    acks: list[EventAck] = []
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, "n1", protocol=mqtt.MQTTv5)
    client.on_message = lambda _c, _u, m: acks.append(decode(EventAck, m.payload))
    client.connect(mosquitto.host, mosquitto.port)
    client.loop_start()
    client.subscribe(topics.node_events_ack("n1"), qos=1)
    time.sleep(0.3)

    db_path = ctl.settings.data_dir / "loa.sqlite3"
    locker = sqlite3.connect(db_path, isolation_level=None, check_same_thread=False)
    locker.execute("BEGIN EXCLUSIVE")
    released = threading.Event()

    def release() -> None:
        time.sleep(LOCK_S)
        locker.execute("COMMIT")
        locker.close()
        released.set()

    threading.Thread(target=release, daemon=True).start()
    events = [
        EventMsg(seq=s, kind=EventKind.FINISHED, at=T0 + timedelta(seconds=s), item_id="x")
        for s in range(1, 41)
    ]
    with caplog.at_level(logging.ERROR, logger="controller.bridge.ingest"):
        for start in range(0, 40, 10):
            batch = EventBatch(node_id="n1", sent_at=T0, events=events[start : start + 10])
            client.publish(topics.node_events("n1"), encode(batch), qos=1).wait_for_publish(5)
            client.publish(
                topics.node_heartbeat("n1"), encode(HeartbeatMsg(node_id="n1", sent_at=T0)), 1
            )
        time.sleep(1)
        assert acks == [], "acknowledged before it was stored"
        wait_until(released.is_set, LOCK_S + 5)
        wait_until(lambda: counts(ctl) == (40, 4), 30)
        # an agent resends what it saw unacknowledged: still stored once
        client.publish(topics.node_events("n1"), encode(batch), qos=1).wait_for_publish(5)
        wait_until(lambda: {s for a in acks for s in a.seqs} == set(range(1, 41)), 15)
    client.loop_stop()
    assert counts(ctl) == (40, 4)
    assert ctl.ingestor.stats.events == 40
    assert any("database is locked" in r.getMessage() for r in caplog.records), caplog.text

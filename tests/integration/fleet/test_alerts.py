"""Alerts open once while a condition holds, close when it clears, and reach a webhook."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pytest
from sqlalchemy import select

from controller.config import ControllerSettings
from controller.db.models import Alert, Node, PlaybackEvent, Zone
from controller.services.alerts import evaluate
from controller.services.container import Controller
from protocol.clock import FakeClock

T0 = datetime(2026, 12, 1, 0, 0, tzinfo=UTC)


@pytest.fixture
def webhook() -> Iterator[tuple[str, list[dict]]]:  # type: ignore[type-arg]
    received: list[dict] = []  # type: ignore[type-arg]

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            received.append(json.loads(self.rfile.read(int(self.headers["content-length"]))))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}/hook", received
    server.shutdown()


@pytest.fixture
def ctl(tmp_path: Path, webhook: tuple[str, list[dict]]) -> Controller:  # type: ignore[type-arg]
    clock = FakeClock(T0)
    settings = ControllerSettings(
        data_dir=tmp_path / "ctl", alert_webhook_url=webhook[0], alert_offline_after_min=10
    )
    controller = Controller.build(settings, clock)
    with controller.sessions.begin() as s:
        s.add(Zone(id="xa", name="Xã", created_at=T0))
        s.flush()
        s.add(
            Node(
                id="n1",
                name="Loa 1",
                zone_id="xa",
                created_at=T0,
                online=True,
                status_changed_at=T0,
            )
        )
    return controller


def open_alerts(ctl: Controller) -> set[tuple[str | None, str]]:
    with ctl.sessions() as s:
        return {
            (a.node_id, a.kind) for a in s.scalars(select(Alert).where(Alert.closed_at.is_(None)))
        }


def set_node(ctl: Controller, **values: object) -> None:
    with ctl.sessions.begin() as s:
        node = s.get(Node, "n1")
        assert node is not None
        for k, v in values.items():
            setattr(node, k, v)


def test_offline_alert_after_limit_once_then_closed(ctl: Controller, webhook) -> None:  # type: ignore[no-untyped-def]
    clock = ctl.clock
    assert isinstance(clock, FakeClock)
    set_node(ctl, online=False, status_changed_at=T0)
    clock.advance(9 * 60)
    assert evaluate(ctl) == [] and open_alerts(ctl) == set()
    clock.advance(2 * 60)
    assert [a.kind for a in evaluate(ctl)] == ["offline"]
    assert evaluate(ctl) == []  # still offline: no second alert
    assert webhook[1] == [
        {
            "node_id": "n1",
            "kind": "offline",
            "message": "silent for 11 min",
            "opened_at": (T0 + timedelta(minutes=11)).isoformat(),
        }
    ]
    set_node(ctl, online=True, status_changed_at=clock.now())
    evaluate(ctl)
    assert open_alerts(ctl) == set()


def test_failure_drift_and_disk(ctl: Controller) -> None:
    set_node(ctl, last_heartbeat={"clock_offset_ms": -3500, "disk_free_mb": 50})
    with ctl.sessions.begin() as s:
        s.add(
            PlaybackEvent(
                node_id="n1",
                seq=1,
                kind="failed",
                at=T0,
                item_id="ann-1",
                detail="player exited 1",
                received_at=T0,
            )
        )
    evaluate(ctl)
    assert open_alerts(ctl) == {
        ("n1", "clock_drift"),
        ("n1", "disk_low"),
        ("n1", "playback_failed"),
    }
    set_node(ctl, last_heartbeat={"clock_offset_ms": 10, "disk_free_mb": 5000})
    with ctl.sessions.begin() as s:
        s.add(
            PlaybackEvent(
                node_id="n1",
                seq=2,
                kind="finished",
                at=T0 + timedelta(minutes=1),
                item_id="ann-2",
                received_at=T0,
            )
        )
    evaluate(ctl)
    assert open_alerts(ctl) == set()


def test_dead_webhook_does_not_stop_alerting(tmp_path: Path) -> None:
    settings = ControllerSettings(data_dir=tmp_path / "c", alert_webhook_url="http://127.0.0.1:9/x")
    controller = Controller.build(settings, FakeClock(T0 + timedelta(hours=1)))
    with controller.sessions.begin() as s:
        s.add(Zone(id="xa", name="Xã", created_at=T0))
        s.flush()
        s.add(Node(id="n1", name="Loa 1", zone_id="xa", created_at=T0))
    assert [a.kind for a in evaluate(controller)] == ["offline"]

"""The fleet page flags nodes whose clock would make neighbouring speakers echo: heartbeats
go through the real broker and the controller's ingest, the page is rendered by the app."""

from __future__ import annotations

import json
import re
import time
from datetime import UTC, datetime

import paho.mqtt.client as mqtt
import pytest
from integration.panel.panel_support import Panel
from paho.mqtt.enums import CallbackAPIVersion

from controller.db.models import Node
from protocol import topics

pytestmark = pytest.mark.integration

# node -> heartbeat clock fields; the default limit is 50 ms (echo_clock_offset_ms)
BEATS = {
    "dong-an-1": {"clock_offset_ms": 180.0, "clock_source": "chrony", "clock_synced": True},
    "cay-thi-1": {"clock_offset_ms": 3.5, "clock_source": "chrony", "clock_synced": False},
    "khe-ngo-1": {"clock_offset_ms": -12.0, "clock_source": "timesyncd", "clock_synced": True},
}


def send_heartbeats(panel: Panel) -> None:
    ctl = panel.client.app.state.controller  # type: ignore[attr-defined]
    client = mqtt.Client(CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
    client.connect("127.0.0.1", ctl.settings.mqtt_port)
    client.loop_start()
    sent_at = datetime.now(UTC).isoformat()
    for node_id, fields in BEATS.items():
        body = {"node_id": node_id, "sent_at": sent_at, **fields}
        client.publish(topics.node_heartbeat(node_id), json.dumps(body), qos=1).wait_for_publish(5)
    client.loop_stop()
    client.disconnect()

    def stored() -> bool:
        with ctl.sessions() as s:
            return all(
                (s.get(Node, n).last_heartbeat or {}).get("clock_source") == f["clock_source"]
                for n, f in BEATS.items()
            )

    deadline = time.monotonic() + 20
    while not stored() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert stored(), "the controller did not store the heartbeats"


def row_of(html: str, node_id: str) -> str:
    match = re.search(r"<tr>(?:(?!</tr>).)*?" + re.escape(node_id) + r".*?</tr>", html, re.S)
    assert match, node_id
    return match.group(0)


def test_fleet_page_flags_clocks_that_would_echo(panel: Panel) -> None:
    send_heartbeats(panel)
    html = panel.as_("viewer").get("/panel/nodes").text
    far = row_of(html, "dong-an-1")
    assert 'data-clock="echo"' in far and "180 ms" in far
    assert 'data-clock="unsynced"' in row_of(html, "cay-thi-1")
    assert "data-clock" not in row_of(html, "khe-ngo-1")  # 12 ms: within the limit

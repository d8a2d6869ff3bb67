"""A simulated fleet: N full agents in one process, each with its own data dir and session."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from agent.config import AgentSettings
from controller.broker.process import MosquittoProcess
from loadsim.fleet import Fleet, fleet_node_ids
from protocol import topics
from protocol.signing import Signer

pytestmark = pytest.mark.integration


def test_fleet_agents_each_play_and_report(
    tmp_path: Path,
    mosquitto: MosquittoProcess,
    media_server: Any,
    signer: Signer,
    controller_factory: Callable[..., Any],
    playlist_factory: Callable[..., Any],
) -> None:
    ids = fleet_node_ids(5)
    base = AgentSettings(
        data_dir=tmp_path / "fleet",
        controller_url=media_server.url,
        mqtt_host=mosquitto.host,
        mqtt_port=mosquitto.port,
        trusted_keys=[signer.public_key_b64],
        player="tap",  # the fleet forces null: nothing is written
        tap_file=tmp_path / "never.jsonl",
        heartbeat_interval_s=0.5,
        outbox_resend_s=1,
    )
    ctl = controller_factory(mosquitto.host, mosquitto.port)
    media = media_server.add(b"fleet" * 100)
    start = datetime.now(UTC) + timedelta(seconds=2)
    for node in ids:
        playlist = playlist_factory(node, 1, [start], media, duration_s=0.5)
        ctl.publish(topics.node_playlist(node), signer.sign(playlist), retain=True)
    fleet = Fleet(base, ids)
    fleet.start()
    try:
        assert ctl.wait_for(lambda: all(ctl.status.get(n) == "online" for n in ids), 10)
        assert ctl.wait_for(lambda: all(len(ctl.events_of(n, "finished")) == 1 for n in ids), 15)
        assert {h["node_id"] for h in ctl.heartbeats} >= set(ids)
        assert {a.settings.data_dir for a in fleet.agents} == {tmp_path / "fleet" / n for n in ids}
    finally:
        fleet.stop()
    assert ctl.wait_for(lambda: all(ctl.status.get(n) == "offline" for n in ids), 10)
    assert not (tmp_path / "never.jsonl").exists()

"""A real agent process keeps its commanded volume across a power cut, starts sound on a
cold amplifier with a soft ramp (never at maximum), and obeys the playlist's cap."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from support.processes import AgentProcess, wait_until

from controller.broker.process import MosquittoProcess
from protocol import topics
from protocol.models import Command, CommandAction, ItemKind, Playlist, PlaylistItem
from protocol.signing import Signer

pytestmark = pytest.mark.integration
NODE = "xa-h-loa-1"


def _playlist(version: int, items: list[PlaylistItem], cap: int | None = None) -> Playlist:
    now = datetime.now(UTC)
    return Playlist(
        node_id=NODE,
        version=version,
        generated_at=now,
        window_start=now - timedelta(minutes=1),
        window_end=now + timedelta(hours=1),
        items=items,
        volume_cap=cap,
    )


def test_volume_survives_a_power_cut_and_sound_ramps_up_under_the_cap(
    tmp_path: Path,
    mosquitto: MosquittoProcess,
    media_server: Any,
    signer: Signer,
    controller_factory: Callable[..., Any],
    tap_reader: Callable[[Path], list[dict[str, Any]]],
) -> None:
    tap = tmp_path / "tap.jsonl"
    agent = AgentProcess(
        tmp_path / NODE,
        NODE,
        mosquitto.port,
        media_server.url,
        [signer.public_key_b64],
        player="tap",
        tap_file=str(tap),
        heartbeat_interval_s="0.3",
        soft_start_s="2.0",
        soft_start_floor="10",
        amp_tail_s="1",
        reconnect_min_s="0.1",
        reconnect_max_s="0.5",
        outbox_resend_s="1",
    )
    ctl = controller_factory(mosquitto.host, mosquitto.port)
    media = media_server.add(b"thong bao" * 2000, duration_s=5.0)
    agent.start()
    try:
        assert ctl.wait_for(lambda: ctl.heartbeats, 20), agent.log()  # subscribed by now
        now = datetime.now(UTC)
        volume = Command(
            id="vol-40",
            action=CommandAction.VOLUME,
            issued_at=now,
            expires_at=now + timedelta(minutes=1),
            node_id=NODE,
            volume=40,
        )
        ctl.publish(topics.node_cmd(NODE), signer.sign(volume))
        assert ctl.wait_for(lambda: ctl.events_of(NODE, "command_ack"), 20), agent.log()
        agent.kill()  # a power cut: nothing is flushed on the way down

        start = datetime.now(UTC) + timedelta(seconds=5)
        first = PlaylistItem(id="a", kind=ItemKind.AUDIO, start=start, duration_s=5, media=media)
        ctl.publish(topics.node_playlist(NODE), signer.sign(_playlist(1, [first])), retain=True)
        ctl.heartbeats.clear()
        agent.start()
        taps = wait_until(lambda: tap_reader(tap), 20)
        assert taps[0]["item_id"] == "a" and taps[0]["volume"] == 10, taps  # the floor, not 100
        wait_until(lambda: datetime.now(UTC) > start + timedelta(seconds=3.5), 10)
        levels = [h["volume"] for h in ctl.heartbeats if h.get("volume") is not None]
        assert levels and max(levels) == 40, levels  # ramped up to the remembered level only
        assert any(10 < v < 40 for v in levels), levels  # and passed through the ramp

        later = datetime.now(UTC) + timedelta(seconds=3)
        loud = PlaylistItem(
            id="b", kind=ItemKind.AUDIO, start=later, duration_s=2, media=media, volume=90
        )
        ctl.publish(
            topics.node_playlist(NODE),
            signer.sign(_playlist(2, [first, loud], cap=25)),
            retain=True,
        )
        taps = wait_until(lambda: [t for t in tap_reader(tap) if t["item_id"] == "b"], 20)
        assert taps[0]["volume"] <= 25, taps
        time.sleep(1.0)  # a few heartbeats while it plays
        assert max(h["volume"] for h in ctl.heartbeats[-3:]) <= 25
    finally:
        agent.stop()

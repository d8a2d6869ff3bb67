"""One in-process agent against a real Mosquitto, a fake controller and a media server."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from agent.config import AgentSettings
from agent.runtime import AgentConfigError, AgentRuntime
from controller.broker.process import MosquittoProcess
from protocol import topics
from protocol.models import Command, CommandAction, ItemKind, PlaylistItem
from protocol.signing import Signer

pytestmark = pytest.mark.integration


@pytest.fixture
def settings_for(
    tmp_path: Path, mosquitto: MosquittoProcess, media_server: Any, signer: Signer
) -> Callable[..., AgentSettings]:
    def make(node_id: str = "xa-a-loa-1", **extra: Any) -> AgentSettings:
        values: dict[str, Any] = dict(
            node_id=node_id,
            zones=["xa-a"],
            data_dir=tmp_path / node_id,
            controller_url=media_server.url,
            mqtt_host=mosquitto.host,
            mqtt_port=mosquitto.port,
            trusted_keys=[signer.public_key_b64],
            player="tap",
            tap_file=tmp_path / f"{node_id}.tap.jsonl",
            heartbeat_interval_s=0.5,
            reconnect_min_s=0.1,
            reconnect_max_s=0.5,
            outbox_resend_s=1.0,
        )
        values.update(extra)
        return AgentSettings(**values)

    return make


@pytest.fixture
def runtimes() -> Iterator[list[AgentRuntime]]:
    made: list[AgentRuntime] = []
    yield made
    for runtime in made:
        runtime.stop()


def test_refuses_to_start_without_trusted_keys(tmp_path: Path) -> None:
    with pytest.raises(AgentConfigError, match="trusted_keys"):
        AgentRuntime(AgentSettings(node_id="n1", data_dir=tmp_path, player="null"))


def test_plays_on_time_and_delivers_events_once(
    settings_for: Callable[..., AgentSettings],
    runtimes: list[AgentRuntime],
    mosquitto: MosquittoProcess,
    media_server: Any,
    signer: Signer,
    controller_factory: Callable[..., Any],
    playlist_factory: Callable[..., Any],
    tap_reader: Callable[[Path], list[dict[str, Any]]],
) -> None:
    settings = settings_for()
    tap_file = settings.tap_file
    assert tap_file is not None
    ctl = controller_factory(mosquitto.host, mosquitto.port)
    media = media_server.add(b"RIFF-fake-wave-data" * 100)
    base = datetime.now(UTC) + timedelta(seconds=2)
    starts = [base + timedelta(seconds=1.2 * n) for n in range(3)]
    playlist = playlist_factory(settings.node_id, 1, starts, media, duration_s=0.8)
    ctl.publish(topics.node_playlist(settings.node_id), signer.sign(playlist), retain=True)

    runtime = AgentRuntime(settings)
    runtimes.append(runtime)
    runtime.start()

    assert ctl.wait_for(lambda: len(ctl.events_of(settings.node_id, "finished")) == 3, 15)
    assert ctl.status.get(settings.node_id) == "online"
    taps = tap_reader(tap_file)
    assert [t["item_id"] for t in taps] == ["it-0", "it-1", "it-2"]
    for tap, start in zip(taps, starts, strict=True):
        error_ms = (datetime.fromisoformat(tap["started_at"]) - start).total_seconds() * 1000
        assert -5 < error_ms < 50, error_ms
    assert ctl.wait_for(lambda: runtime.outbox.count() == 0, 10)
    seqs = sorted(s for (n, s) in ctl.events if n == settings.node_id)
    assert seqs == list(range(1, len(seqs) + 1))  # no gaps: nothing lost, none reused
    beats = [h for h in ctl.heartbeats if h["node_id"] == settings.node_id]
    assert beats and beats[-1]["playlist_version"] == 1


def test_zone_emergency_preempts_and_scheduled_item_resumes(
    settings_for: Callable[..., AgentSettings],
    runtimes: list[AgentRuntime],
    mosquitto: MosquittoProcess,
    media_server: Any,
    signer: Signer,
    controller_factory: Callable[..., Any],
    playlist_factory: Callable[..., Any],
    tap_reader: Callable[[Path], list[dict[str, Any]]],
) -> None:
    settings = settings_for()
    tap_file = settings.tap_file
    assert tap_file is not None
    ctl = controller_factory(mosquitto.host, mosquitto.port)
    media = media_server.add(b"long programme" * 50)
    alarm = media_server.add(b"emergency siren" * 50)
    start = datetime.now(UTC) + timedelta(seconds=1.5)
    playlist = playlist_factory(settings.node_id, 1, [start], media, duration_s=6.0)
    runtime = AgentRuntime(settings)
    runtimes.append(runtime)
    runtime.start()
    ctl.publish(topics.node_playlist(settings.node_id), signer.sign(playlist), retain=True)
    assert ctl.wait_for(lambda: len(ctl.events_of(settings.node_id, "started")) == 1, 10)

    now = datetime.now(UTC)
    emergency = Command(
        id="cmd-em-1",
        action=CommandAction.EMERGENCY,
        issued_at=now,
        expires_at=now + timedelta(minutes=5),
        zone_id="xa-a",
        item=PlaylistItem(id="em-1", kind=ItemKind.AUDIO, start=now, duration_s=1.0, media=alarm),
    )
    ctl.publish(topics.zone_cmd("xa-a"), signer.sign(emergency))
    ctl.publish(topics.zone_cmd("xa-a"), signer.sign(emergency))  # replayed copy

    def resumed() -> bool:
        return [t["item_id"] for t in tap_reader(tap_file)] == ["it-0", "em-1", "it-0"]

    assert ctl.wait_for(resumed, 10)
    assert tap_reader(tap_file)[2]["offset_s"] > 1.0
    acks = ctl.events_of(settings.node_id, "command_ack")
    rejected = ctl.events_of(settings.node_id, "command_rejected")
    assert [a["command_id"] for a in acks] == ["cmd-em-1"]
    assert [r["command_id"] for r in rejected] == ["cmd-em-1"]
    assert "replay" in rejected[0]["detail"]

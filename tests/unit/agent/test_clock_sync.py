"""The clock sync state the heartbeat carries: chrony's and timedatectl's answers parsed, and
``unknown`` where neither daemon answers (this container: no chrony, no systemd as PID 1)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from agent.clock_health import (
    SyncMonitor,
    SyncState,
    parse_chrony_tracking,
    parse_timedatectl,
    read_sync_state,
)
from protocol.models import Heartbeat

# chronyc -c tracking, chrony 4.3 (Debian bookworm): synchronised 12.3 ms fast, then lost
CHRONY_SYNCED = (
    "C0A80001,192.168.0.1,3,1764590000.123456789,0.012345678,-0.000123,0.000456,"
    "-12.345,0.010,0.100,0.020000,0.001000,64.5,Normal\n"
)
CHRONY_LOST = (
    "00000000,,0,0.000000000,0.000000000,0.000000000,0.000000000,"
    "0.000,0.000,0.000,1.000000,1.000000,0.0,Not synchronised\n"
)


def test_chrony_tracking_gives_offset_and_state() -> None:
    assert parse_chrony_tracking(CHRONY_SYNCED) == SyncState("chrony", True, 12.346)
    assert parse_chrony_tracking(CHRONY_LOST) == SyncState("chrony", False, 0.0)
    assert parse_chrony_tracking("506 Cannot talk to daemon") is None


def test_timedatectl_show_gives_the_state() -> None:
    text = "Timezone=Asia/Ho_Chi_Minh\nNTP=yes\nNTPSynchronized=no\nTimeUSec=...\n"
    assert parse_timedatectl(text) == SyncState("timesyncd", False)
    assert parse_timedatectl(text.replace("NTPSynchronized=no", "NTPSynchronized=yes")) == (
        SyncState("timesyncd", True)
    )
    assert parse_timedatectl("Failed to connect to bus") is None


def test_no_answering_daemon_is_reported_unknown() -> None:
    answers = shutil.which("chronyc") is not None or (
        shutil.which("timedatectl") is not None
        and subprocess.run(["timedatectl", "show"], capture_output=True).returncode == 0
    )
    state = read_sync_state()
    if answers:
        assert state.source in ("chrony", "timesyncd")
    else:
        assert state == SyncState("unknown", None, None)


def test_the_daemon_is_asked_at_most_every_period() -> None:
    monitor = SyncMonitor(every_s=3600)
    assert monitor.state() == read_sync_state()
    monitor._state = SyncState("chrony", True, 1.0)  # a second ask within the hour: cached
    assert monitor.state() == SyncState("chrony", True, 1.0)
    monitor.every_s = 0
    assert monitor.state() == read_sync_state()  # period over: asked again


def test_old_heartbeats_without_the_fields_still_parse() -> None:
    hb = Heartbeat.model_validate({"node_id": "n1", "sent_at": "2026-03-01T05:00:00Z"})
    assert hb.clock_source is None and hb.clock_synced is None
    new = Heartbeat.model_validate(
        {
            "node_id": "n1",
            "sent_at": "2026-03-01T05:00:00Z",
            "clock_source": "chrony",
            "clock_synced": True,
            "clock_offset_ms": 3.2,
        }
    )
    assert new.clock_synced is True


def test_the_agent_heartbeat_carries_the_sync_state(tmp_path: Path) -> None:
    from agent.config import AgentSettings
    from agent.runtime import AgentRuntime
    from protocol.signing import Signer

    settings = AgentSettings(
        node_id="n1",
        data_dir=tmp_path,
        trusted_keys=[Signer.generate().public_key_b64],
        player="null",
    )
    runtime = AgentRuntime(settings)
    fields = runtime._heartbeat_fields()
    state = read_sync_state()
    assert fields["clock_source"] == state.source
    assert fields["clock_synced"] == state.synced
    hb = Heartbeat.model_validate({"node_id": "n1", "sent_at": "2026-03-01T05:00:00Z", **fields})
    assert hb.clock_source == state.source

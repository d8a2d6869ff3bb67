"""Faults: the broker goes away during scheduled items; the agent is SIGKILLed mid-playback.

Both must end with every item played on time (checked on the wall clock via the tap file)
and every event stored by the controller exactly once.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from agent.config import AgentSettings
from agent.runtime import AgentRuntime
from controller.broker.process import MosquittoProcess
from protocol import topics
from protocol.signing import Signer

pytestmark = pytest.mark.integration

MAX_START_ERROR_MS = 50


def start_errors_ms(taps: list[dict[str, Any]], starts: dict[str, datetime]) -> list[float]:
    return [
        (datetime.fromisoformat(t["started_at"]) - starts[t["item_id"]]).total_seconds() * 1000
        for t in taps
        if t["offset_s"] == 0
    ]


def assert_exactly_once(ctl: Any, node: str, items: list[str]) -> None:
    seqs = sorted(s for (n, s) in ctl.events if n == node)
    assert seqs == list(range(1, len(seqs) + 1)), "a sequence number is missing"
    assert ctl.conflicts == 0, "a sequence number was reused for a different event"
    finished = Counter(e["item_id"] for e in ctl.events_of(node, "finished"))
    assert finished == Counter(items), finished


def test_broker_outage_covering_several_items(
    tmp_path: Path,
    mosquitto: MosquittoProcess,
    media_server: Any,
    signer: Signer,
    controller_factory: Callable[..., Any],
    playlist_factory: Callable[..., Any],
    tap_reader: Callable[[Path], list[dict[str, Any]]],
) -> None:
    node = "xa-b-loa-2"
    tap = tmp_path / "tap.jsonl"
    settings = AgentSettings(
        node_id=node,
        data_dir=tmp_path / node,
        controller_url=media_server.url,
        mqtt_host=mosquitto.host,
        mqtt_port=mosquitto.port,
        trusted_keys=[signer.public_key_b64],
        player="tap",
        tap_file=tap,
        heartbeat_interval_s=1,
        reconnect_min_s=0.1,
        reconnect_max_s=0.5,
        outbox_resend_s=1,
    )
    ctl = controller_factory(mosquitto.host, mosquitto.port)
    media = media_server.add(b"ban tin xa" * 200)
    base = datetime.now(UTC) + timedelta(seconds=3)
    starts = [base + timedelta(seconds=1.2 * n) for n in range(6)]
    playlist = playlist_factory(node, 7, starts, media, duration_s=0.7)
    ctl.publish(topics.node_playlist(node), signer.sign(playlist), retain=True)
    runtime = AgentRuntime(settings)
    runtime.start()
    try:
        assert ctl.wait_for(lambda: runtime.cache.has(media), 10)
        mosquitto.stop()  # the whole outage covers items 0..5
        deadline = starts[-1] + timedelta(seconds=1.5)
        while datetime.now(UTC) < deadline:
            time.sleep(0.1)
        assert runtime.outbox.count() >= 12  # started + finished for 6 items, all held
        mosquitto.start()
        ids = [f"it-{n}" for n in range(6)]
        assert ctl.wait_for(lambda: len(ctl.events_of(node, "finished")) == 6, 20)
        assert ctl.wait_for(lambda: runtime.outbox.count() == 0, 10)
    finally:
        runtime.stop()
    taps = tap_reader(tap)
    assert [t["item_id"] for t in taps] == ids
    errors = start_errors_ms(taps, dict(zip(ids, starts, strict=True)))
    assert len(errors) == 6 and max(abs(e) for e in errors) < MAX_START_ERROR_MS, errors
    assert_exactly_once(ctl, node, ids)


@pytest.fixture
def agent_process(
    tmp_path: Path,
) -> Iterator[Callable[[dict[str, str]], subprocess.Popen[bytes]]]:
    procs: list[subprocess.Popen[bytes]] = []

    def launch(env: dict[str, str]) -> subprocess.Popen[bytes]:
        full = {**os.environ, **env}
        log = open(tmp_path / f"agent-{len(procs)}.log", "wb")  # noqa: SIM115
        proc = subprocess.Popen(
            [sys.executable, "-m", "cli.main", "-v", "agent"],
            env=full,
            stdout=subprocess.DEVNULL,
            stderr=log,
        )
        procs.append(proc)
        return proc

    yield launch
    for proc in procs:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()


def test_power_cut_mid_playback_then_restart_without_broker(
    tmp_path: Path,
    mosquitto: MosquittoProcess,
    media_server: Any,
    signer: Signer,
    controller_factory: Callable[..., Any],
    playlist_factory: Callable[..., Any],
    tap_reader: Callable[[Path], list[dict[str, Any]]],
    agent_process: Callable[[dict[str, str]], subprocess.Popen[bytes]],
) -> None:
    node = "xa-c-loa-3"
    tap = tmp_path / "tap.jsonl"
    env = {
        "LOA_NODE_ID": node,
        "LOA_ZONES": '["xa-c"]',
        "LOA_DATA_DIR": str(tmp_path / node),
        "LOA_CONTROLLER_URL": media_server.url,
        "LOA_MQTT_HOST": mosquitto.host,
        "LOA_MQTT_PORT": str(mosquitto.port),
        "LOA_TRUSTED_KEYS": f'["{signer.public_key_b64}"]',
        "LOA_PLAYER": "tap",
        "LOA_TAP_FILE": str(tap),
        "LOA_HEARTBEAT_INTERVAL_S": "1",
        "LOA_RECONNECT_MIN_S": "0.1",
        "LOA_RECONNECT_MAX_S": "0.5",
        "LOA_OUTBOX_RESEND_S": "1",
    }
    ctl = controller_factory(mosquitto.host, mosquitto.port)
    media = media_server.add(b"thong bao mat dien" * 300)
    # Room for a Python start-up on a loaded CI machine (2+ s): the first agent before item
    # 0, the restarted one (killed during item 2) before item 3. What is tested is that the
    # restart plays on from the playlist on disk, not how fast the interpreter starts.
    base = datetime.now(UTC) + timedelta(seconds=6)
    starts = [base + timedelta(seconds=2.5 * n + (4.0 if n >= 3 else 0.0)) for n in range(7)]
    ids = [f"it-{n}" for n in range(7)]
    playlist = playlist_factory(node, 3, starts, media, duration_s=2.0)
    ctl.publish(topics.node_playlist(node), signer.sign(playlist), retain=True)

    first = agent_process(env)
    # SIGKILL in the middle of item 2 (a power cut), then take the broker down too.
    kill_at = starts[2] + timedelta(seconds=0.5)
    while datetime.now(UTC) < kill_at:
        assert first.poll() is None, (tmp_path / "agent-0.log").read_text()
        time.sleep(0.02)
    first.kill()
    first.wait()
    mosquitto.stop()
    assert [t["item_id"] for t in tap_reader(tap)] == ids[:3]

    agent_process(env)  # restarts with no broker: plays on from the playlist on disk
    while datetime.now(UTC) < starts[-1] + timedelta(seconds=1.5):
        time.sleep(0.1)
    taps = tap_reader(tap)
    played = [t["item_id"] for t in taps]
    assert played[:3] == ids[:3] and played[-4:] == ids[3:], played
    errors = start_errors_ms(taps, dict(zip(ids, starts, strict=True)))
    assert max(abs(e) for e in errors) < MAX_START_ERROR_MS, errors

    mosquitto.start()
    assert ctl.wait_for(lambda: len(ctl.events_of(node, "finished")) >= 6, 20)
    time.sleep(1.5)  # let any duplicate resend arrive too
    finished = {e["item_id"] for e in ctl.events_of(node, "finished")}
    assert finished == set(ids) - {"it-2"} or finished == set(ids)
    assert_exactly_once(ctl, node, sorted(finished))

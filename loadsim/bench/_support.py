"""Shared plumbing for the fleet benchmarks: a private broker, a controller, bare clients.

Underscore module: not a benchmark itself (discovery skips it).
"""

from __future__ import annotations

import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from controller.broker.process import MosquittoProcess
from controller.config import ControllerSettings
from controller.db.models import Node, Zone
from controller.services.container import Controller
from loadsim.bench._report import BenchError


def percentiles(values: list[float]) -> dict[str, float]:
    if not values:
        return {"p50": 0.0, "p99": 0.0, "max": 0.0}
    ordered = sorted(values)

    def pick(q: float) -> float:
        return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))], 2)

    return {"p50": pick(0.50), "p99": pick(0.99), "max": round(ordered[-1], 2)}


def round_summary(per_round: list[list[float]]) -> dict[str, Any]:
    """Median over rounds of each round's p50/p99/max (one noisy round cannot decide), the
    per-round p99s, and the fewest receipts of any round."""
    stats = [percentiles(values) for values in per_round] or [percentiles([])]

    def median(key: str) -> float:
        return float(statistics.median(s[key] for s in stats))

    return {
        "p50": median("p50"),
        "p99": median("p99"),
        "max": median("max"),
        "p99_per_round": [s["p99"] for s in stats],
        "p99_spread": [min(s["p99"] for s in stats), max(s["p99"] for s in stats)],
        "received": min((len(v) for v in per_round), default=0),
    }


def ratio(value: float, baseline: float) -> float | None:
    return round(value / baseline, 2) if baseline else None


def peak_rss_mb() -> float:
    """Peak RSS of this process (the in-process controller) in MiB."""
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


Fleet = subprocess.Popen[bytes]  # a running ``python -m loadsim`` (see start_fleet)


@dataclass
class BenchEnv:
    root: Path
    broker: MosquittoProcess
    ctl: Controller


@contextmanager
def bench_env(zone: str, node_ids: list[str]) -> Iterator[BenchEnv]:
    """A private Mosquitto and an in-process controller on SQLite with ``node_ids`` in ``zone``."""
    with tempfile.TemporaryDirectory(prefix="loa-bench-") as tmp:
        root = Path(tmp)
        broker = MosquittoProcess(root / "mosquitto")
        broker.start()
        try:
            settings = ControllerSettings(
                data_dir=root / "controller",
                mqtt_port=broker.port,
                tts_engine_order=["espeak-ng"],
                mqtt_client_id=f"bench-controller-{time.time_ns()}",
                # the benchmarks measure messaging; periodic jobs would only add noise
                scheduler_enabled=False,
            )
            ctl = Controller.build(settings)
            now = datetime.now(UTC)
            with ctl.sessions.begin() as session:
                session.add(Zone(id=zone, name=zone, created_at=now))
                session.flush()
                session.add_all(Node(id=n, name=n, zone_id=zone, created_at=now) for n in node_ids)
            ctl.start()
            try:
                yield BenchEnv(root, broker, ctl)
            finally:
                ctl.stop()
        finally:
            broker.stop()


def bare_client(
    broker: MosquittoProcess,
    client_id: str,
    on_message: Callable[[mqtt.MQTTMessage], Any] | None = None,
) -> mqtt.Client:
    """A paho client with no project code, connected and looping."""
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv5)
    connected = threading.Event()
    client.on_connect = lambda *_a: connected.set()
    if on_message is not None:
        client.on_message = lambda _c, _u, msg: on_message(msg)
    client.max_inflight_messages_set(1000)
    client.max_queued_messages_set(0)
    client.connect(broker.host, broker.port, keepalive=120)
    client.loop_start()
    if not connected.wait(20):
        raise RuntimeError(f"{client_id} could not connect to the broker")
    return client


def wait_for(predicate: Callable[[], bool], timeout: float, interval: float = 0.05) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return predicate()


def online_count(env: BenchEnv) -> int:
    from sqlalchemy import func, select

    with env.ctl.sessions() as s:
        return s.scalar(select(func.count()).where(Node.online.is_(True))) or 0


def _check_running(env: BenchEnv, fleet: Fleet) -> None:
    """A BenchError with the end of the fleet's log if its process has exited."""
    if fleet.poll() is not None:
        tail = (env.root / "fleet.log").read_text(errors="replace")[-2000:]
        raise BenchError(f"the simulated fleet exited:\n{tail}")


def wait_for_fleet_online(env: BenchEnv, fleet: Fleet, n: int, timeout: float = 600) -> float:
    """Seconds until all ``n`` simulated agents are online; a BenchError if they never are."""

    began = time.monotonic()
    if not wait_for(lambda: online_count(env) >= n or fleet.poll() is not None, timeout, 0.5):
        raise BenchError(f"only {online_count(env)} of {n} agents came online")
    _check_running(env, fleet)
    return time.monotonic() - began


SETTLE_S = 1.0
"""Waited after the last first heartbeat: each fleet process freezes its heap (one full
collection of 500 agents' objects, ~0.1-0.2 s holding the GIL) within its 0.5 s poll
after its last connect."""


def heartbeated_count(env: BenchEnv) -> int:
    from sqlalchemy import func, select

    with env.ctl.sessions() as s:
        query = select(func.count()).where(Node.last_heartbeat_at.is_not(None))
        return s.scalar(query) or 0


def wait_for_fleet_ready(
    env: BenchEnv, fleet: Fleet, n: int, timeout: float = 600, settle_s: float = SETTLE_S
) -> float:
    """Seconds until every simulated agent has also sent (and the controller stored) its
    first heartbeat, plus ``settle_s``; call after :func:`wait_for_fleet_online`.

    Why "online" is not enough: it is each session's retained status, sent by a fleet
    process's network thread as it connects, while the agents' first steps (the first
    heartbeat among them) run on the process's one shared step thread, which works through
    500 agents' start-up in order, seconds behind the connects on two cores. A command
    issued at "online" waits behind that backlog on the agents' side, and behind the
    controller's ingest of hundreds of first heartbeats on its side (measured with 500
    agents: the publish 0.8-1.4 s after ``issued_at`` instead of 0.1-0.25 s, and the p99
    1.7-2.7 s higher; docs/benchmarks.md, 2026-12-02). It is the harness starting up, not
    the product: a real agent starts on its own Pi in milliseconds, and a command there
    never queues behind another agent's start-up.
    """
    began = time.monotonic()
    if not wait_for(lambda: heartbeated_count(env) >= n or fleet.poll() is not None, timeout):
        raise BenchError(f"only {heartbeated_count(env)} of {n} agents sent a heartbeat")
    _check_running(env, fleet)
    time.sleep(settle_s)
    return time.monotonic() - began


def start_fleet(env: BenchEnv, n: int, prefix: str, zone: str, data_dir: Path) -> Fleet:
    """``python -m loadsim --agents n`` in ``zone`` against this env's broker and key.

    The agents need no controller HTTP (media are pre-cached or absent) and send a
    heartbeat every 10 minutes only, so the broker carries the measured traffic alone.
    Output goes to ``<root>/fleet.log`` (shown when the fleet dies early).
    """
    environ = {k: v for k, v in os.environ.items() if not k.startswith("LOA_")}
    environ.update(
        {
            "LOA_DATA_DIR": str(data_dir),
            "LOA_MQTT_PORT": str(env.broker.port),
            "LOA_CONTROLLER_URL": "http://127.0.0.1:9",
            "LOA_TRUSTED_KEYS": json.dumps([env.ctl.signer.public_key_b64]),
            "LOA_ZONES": json.dumps([zone]),
            "LOA_PLAYER": "null",
            "LOA_HEARTBEAT_INTERVAL_S": "600",
        }
    )
    log = (env.root / "fleet.log").open("wb")
    return subprocess.Popen(
        [sys.executable, "-m", "loadsim", "--agents", str(n), "--prefix", prefix],
        env=environ,
        stdout=log,
        stderr=subprocess.STDOUT,
    )


def stop_fleet(fleet: Fleet) -> None:
    """SIGTERM (the fleet stops its children), then SIGKILL after a minute."""
    fleet.terminate()
    try:
        fleet.wait(60)
    except subprocess.TimeoutExpired:
        fleet.kill()

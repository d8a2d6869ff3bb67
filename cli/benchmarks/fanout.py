"""``loa bench fanout``: a zone "play now" from the controller to every simulated agent.

Project path: ``issue_command`` signs one zone command and publishes it once; the broker fans
it out; each agent (the real ``AgentRuntime``, run as ``loa agent --simulate N`` in its own
process) verifies the signature and acknowledges; latency is the ack's timestamp minus the
command's ``issued_at``. Baseline, same run: the same fan-out to the same number of bare paho
clients with no project code, latency measured at receipt.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select

from cli.benchmarks.support import (
    BenchEnv,
    bench_env,
    online_count,
    peak_rss_mb,
    percentiles,
    wait_for,
    wait_for_fleet_online,
)
from cli.errors import CliError
from controller.db.models import PlaybackEvent
from controller.services.commands import issue_command
from protocol import topics
from protocol.models import CommandAction, ItemKind, PlaylistItem, Priority

ZONE = "xa-fanout"


def _baseline_fleet_main(port: int, n: int, topic: str, out_path: str, first: int = 0) -> None:
    """N bare paho subscribers; writes the receive latencies (ms) of one message to out_path."""
    import threading

    import paho.mqtt.client as mqtt
    from paho.mqtt.enums import CallbackAPIVersion

    latencies: list[float] = []
    subscribed: set[int] = set()
    lock = threading.Lock()
    clients = []
    for i in range(n):
        c = mqtt.Client(
            CallbackAPIVersion.VERSION2, client_id=f"bare-{first + i}", protocol=mqtt.MQTTv5
        )

        def on_message(_c: Any, _u: Any, msg: Any) -> None:
            now = time.time()
            with lock:
                latencies.append((now - float(msg.payload)) * 1000)

        def on_subscribe(*_a: Any, index: int = i) -> None:
            with lock:
                subscribed.add(index)

        c.on_message = on_message
        c.on_subscribe = on_subscribe
        c.on_connect = lambda cl, *_a: cl.subscribe(topic, qos=1)
        c.connect_async("127.0.0.1", port, keepalive=300)
        c.loop_start()
        clients.append(c)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and len(subscribed) < n:
        time.sleep(0.05)
    Path(out_path + ".ready").write_text(str(len(subscribed)))
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and len(latencies) < len(subscribed):
        time.sleep(0.05)
    Path(out_path).write_text(json.dumps(latencies))
    for c in clients:
        c.disconnect()
        c.loop_stop()


BARE_PER_PROCESS = 300  # a bare paho client holds ~3 fds; its select() loop stops at fd 1024


def _baseline(env: BenchEnv, n: int) -> dict[str, float]:
    import multiprocessing

    import paho.mqtt.client as mqtt
    from paho.mqtt.enums import CallbackAPIVersion

    topic = "bench/bare/zone"
    ctx = multiprocessing.get_context("spawn")
    shards = []
    for first in range(0, n, BARE_PER_PROCESS):
        out = str(env.root / f"baseline-{first}.json")
        size = min(BARE_PER_PROCESS, n - first)
        proc = ctx.Process(
            target=_baseline_fleet_main, args=(env.broker.port, size, topic, out, first)
        )
        proc.start()
        shards.append((proc, out))

    def all_ready() -> bool:
        return all(Path(o + ".ready").exists() or not p.is_alive() for p, o in shards)

    if not wait_for(all_ready, 300):
        raise CliError("the bare baseline fleet did not subscribe in time")
    pub = mqtt.Client(CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
    pub.connect("127.0.0.1", env.broker.port)
    pub.loop_start()
    pub.publish(topic, str(time.time()).encode(), qos=1).wait_for_publish(10)
    values: list[float] = []
    for proc, out in shards:
        proc.join(120)
        if Path(out).exists():
            values += json.loads(Path(out).read_text())
    pub.disconnect()
    pub.loop_stop()
    return {**percentiles(values), "received": len(values)}


def _start_fleet(env: BenchEnv, n: int) -> subprocess.Popen[bytes]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("LOA_")}
    environ.update(
        {
            "LOA_DATA_DIR": str(env.root / "fleet"),
            "LOA_MQTT_PORT": str(env.broker.port),
            "LOA_CONTROLLER_URL": "http://127.0.0.1:9",
            "LOA_TRUSTED_KEYS": json.dumps([env.ctl.signer.public_key_b64]),
            "LOA_ZONES": json.dumps([ZONE]),
            "LOA_PLAYER": "null",
            "LOA_HEARTBEAT_INTERVAL_S": "600",
        }
    )
    log = (env.root / "fleet.log").open("wb")
    return subprocess.Popen(
        [sys.executable, "-m", "cli.main", "agent", "--simulate", str(n), "--prefix", "fan"],
        env=environ,
        stdout=log,
        stderr=subprocess.STDOUT,
    )


def _mass_disconnect(fleet: subprocess.Popen[bytes], online: Any) -> float | None:
    """SIGKILL every simulated agent at once; seconds until the fleet view shows none online.

    The broker publishes each dead session's Last Will (``offline``, retained) and the
    controller applies them; this is the "village went silent" path, not a clean shutdown.
    """
    import signal

    children = subprocess.run(
        ["pgrep", "-P", str(fleet.pid)], capture_output=True, text=True, check=False
    ).stdout.split()
    started = time.monotonic()
    for pid in [*children, str(fleet.pid)]:
        with contextlib.suppress(ProcessLookupError):
            os.kill(int(pid), signal.SIGKILL)
    if not wait_for(lambda: online() == 0, 60, interval=0.1):
        return None
    return round(time.monotonic() - started, 2)


def run(args: argparse.Namespace) -> int:
    n = args.agents
    width = max(3, len(str(n)))
    node_ids = [f"fan-{i:0{width}d}" for i in range(1, n + 1)]
    with bench_env(ZONE, node_ids) as env:
        baseline = _baseline(env, n)
        fleet = _start_fleet(env, n)
        try:
            startup_s = wait_for_fleet_online(env, fleet, n)
            online_before_issue = online_count(env)
            now = env.ctl.clock.now()
            item = PlaylistItem(
                id=f"fanout-{int(now.timestamp())}",
                kind=ItemKind.SILENCE,
                start=now,
                duration_s=1.0,
                priority=Priority.ANNOUNCEMENT,
                title="bench",
            )
            issued = issue_command(
                env.ctl,
                action=CommandAction.PLAY_NOW,
                zone_id=ZONE,
                item=item,
                ttl=timedelta(minutes=5),
            )
            command_id = issued.command.id

            def acks() -> list[float]:
                with env.ctl.sessions() as s:
                    rows = s.scalars(
                        select(PlaybackEvent.at).where(
                            PlaybackEvent.command_id == command_id,
                            PlaybackEvent.kind == "command_ack",
                        )
                    ).all()
                return [(at - issued.command.issued_at).total_seconds() * 1000 for at in rows]

            wait_for(lambda: len(acks()) >= n, 120, interval=0.25)
            latencies = acks()
            offline_s = _mass_disconnect(fleet, lambda: online_count(env))
        finally:
            fleet.terminate()
            try:
                fleet.wait(60)
            except subprocess.TimeoutExpired:
                fleet.kill()
        stats = percentiles(latencies)
        report = {
            "agents": n,
            "online_before_issue": online_before_issue,
            "fleet_startup_s": round(startup_s, 1),
            "received": len(latencies),
            "p50_ms": stats["p50"],
            "p99_ms": stats["p99"],
            "max_ms": stats["max"],
            "baseline_received": baseline["received"],
            "baseline_p50_ms": baseline["p50"],
            "baseline_p99_ms": baseline["p99"],
            "baseline_max_ms": baseline["max"],
            "mass_disconnect_to_all_offline_s": offline_s,
            "ratio_p99": round(stats["p99"] / baseline["p99"], 2) if baseline["p99"] else None,
            "zone_topic": topics.zone_cmd(ZONE),
            "controller_peak_rss_mb": peak_rss_mb(),
        }
    print(json.dumps(report))
    return 0

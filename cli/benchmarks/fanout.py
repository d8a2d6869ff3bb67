"""``loa bench fanout``: a zone "play now" from the controller to every simulated agent.

Project path: ``issue_command`` signs one zone command and publishes it once; the broker fans
it out; each agent (the real ``AgentRuntime``, run as ``python -m loadsim --agents N`` in
its own process) verifies the signature and acknowledges; latency is the ack's timestamp minus the
command's ``issued_at``. Baselines, same run (:mod:`cli.benchmarks.bare_fleet`): the same
fan-out to the same number of bare paho clients with no project code, latency measured at
receipt — ``baseline_*`` on the fleet's own layout (epoll, 500 per process, its rounds
alternating with the project's while both fleets stay connected), so the ratio is what the
project's code adds; ``baseline_threaded_*`` with paho's thread-per-client loop, beforehand.
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
from typing import Any

from sqlalchemy import select

from cli.benchmarks.bare_fleet import ROUND_GAP_S, BareFleet, measure
from cli.benchmarks.support import (
    BenchEnv,
    bench_env,
    online_count,
    peak_rss_mb,
    ratio,
    round_summary,
    wait_for,
    wait_for_fleet_online,
)
from cli.errors import CliError
from controller.db.models import PlaybackEvent
from controller.services.commands import issue_command
from protocol import topics
from protocol.models import CommandAction, ItemKind, PlaylistItem, Priority

ZONE = "xa-fanout"


def _one_round(env: BenchEnv, n: int, index: int) -> list[float]:
    """Issue one zone "play now"; latencies (ms) from ``issued_at`` to each agent's arrival."""
    now = env.ctl.clock.now()
    item = PlaylistItem(
        id=f"fanout-{int(now.timestamp())}-{index}",
        kind=ItemKind.SILENCE,
        start=now,
        duration_s=1.0,
        priority=Priority.ANNOUNCEMENT,
        title="bench",
    )
    issued = issue_command(
        env.ctl, action=CommandAction.PLAY_NOW, zone_id=ZONE, item=item, ttl=timedelta(minutes=5)
    )

    def acks() -> list[float]:
        with env.ctl.sessions() as s:
            rows = s.scalars(
                select(PlaybackEvent.at).where(
                    PlaybackEvent.command_id == issued.command.id,
                    PlaybackEvent.kind == "command_ack",
                )
            ).all()
        return [(at - issued.command.issued_at).total_seconds() * 1000 for at in rows]

    wait_for(lambda: len(acks()) >= n, 120, interval=0.25)
    return acks()


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
        [sys.executable, "-m", "loadsim", "--agents", str(n), "--prefix", "fan"],
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
    n, rounds = args.agents, args.rounds
    if n < 1 or rounds < 1:
        raise CliError("--agents and --rounds must be at least 1")
    width = max(3, len(str(n)))
    node_ids = [f"fan-{i:0{width}d}" for i in range(1, n + 1)]
    with bench_env(ZONE, node_ids) as env:
        bare_threaded = measure(env.broker.port, env.root, n, "threads", rounds)
        fleet = _start_fleet(env, n)
        try:
            startup_s = wait_for_fleet_online(env, fleet, n)
            online_before_issue = online_count(env)
            latencies: list[list[float]] = []
            # baseline and project rounds alternate, so both see the same minute of this
            # shared machine; the bare clients idle (another topic) during project rounds
            with BareFleet(env.broker.port, env.root, n, "epoll", rounds) as bare_fleet:
                for index in range(rounds):
                    bare_fleet.publish_round(index)
                    time.sleep(ROUND_GAP_S)  # also lets the previous item finish and settle
                    latencies.append(_one_round(env, n, index))
                    time.sleep(ROUND_GAP_S)
            bare = bare_fleet.results()
            offline_s = _mass_disconnect(fleet, lambda: online_count(env))
        finally:
            fleet.terminate()
            try:
                fleet.wait(60)
            except subprocess.TimeoutExpired:
                fleet.kill()
        stats, baseline, threaded = (round_summary(v) for v in (latencies, bare, bare_threaded))
        report = {
            "agents": n,
            "rounds": rounds,
            "online_before_issue": online_before_issue,
            "fleet_startup_s": round(startup_s, 1),
            "received": stats["received"],
            "p50_ms": stats["p50"],
            "p99_ms": stats["p99"],
            "max_ms": stats["max"],
            "p99_ms_per_round": stats["p99_per_round"],
            "baseline": "bare paho clients, no project code, on the fleet's epoll layout;"
            " its rounds alternate with the project's",
            "baseline_received": baseline["received"],
            "baseline_p50_ms": baseline["p50"],
            "baseline_p99_ms": baseline["p99"],
            "baseline_max_ms": baseline["max"],
            "baseline_p99_ms_per_round": baseline["p99_per_round"],
            "ratio_p99": ratio(stats["p99"], baseline["p99"]),
            "baseline_threaded_received": threaded["received"],
            "baseline_threaded_p99_ms": threaded["p99"],
            "ratio_p99_threaded": ratio(stats["p99"], threaded["p99"]),
            "statistic": "median over rounds of each round's p50 / p99 / max",
            "target": "p99 < 1000 ms and ratio_p99 <= 1.5",
            "mass_disconnect_to_all_offline_s": offline_s,
            "zone_topic": topics.zone_cmd(ZONE),
            "controller_peak_rss_mb": peak_rss_mb(),
        }
    print(json.dumps(report))
    return 0

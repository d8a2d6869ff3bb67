"""``loa bench fanout``: a zone "play now" from the controller to every simulated agent.

Project path: ``issue_command`` signs one zone command and publishes it once; the broker fans
it out; each agent (the real ``AgentRuntime``, run as ``python -m loadsim --agents N`` in
its own process) verifies the signature and acknowledges; latency is the ack's timestamp minus the
command's ``issued_at``. Baselines, same run (:mod:`loadsim.bench._bare_fleet`): the same
fan-out to the same number of bare paho clients with no project code, latency measured at
receipt — ``baseline_*`` on the fleet's own layout (epoll, 500 per process, its rounds
alternating with the project's while both fleets stay connected), so the ratio is what the
project's code adds; ``baseline_threaded_*`` with paho's thread-per-client loop, beforehand.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import subprocess
import time
from datetime import timedelta
from typing import Any

from sqlalchemy import select

from controller.db.models import PlaybackEvent
from controller.services.commands import issue_command
from loadsim.bench._bare_fleet import ROUND_GAP_S, BareFleet, measure
from loadsim.bench._report import BenchError, add_json_flag, emit
from loadsim.bench._support import (
    BenchEnv,
    Fleet,
    bench_env,
    online_count,
    peak_rss_mb,
    ratio,
    round_summary,
    start_fleet,
    stop_fleet,
    wait_for,
    wait_for_fleet_online,
)
from loadsim.fleet import fleet_node_ids
from protocol import topics
from protocol.models import CommandAction, ItemKind, PlaylistItem, Priority

ZONE = "xa-fanout"
PREFIX = "fan"


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


def _mass_disconnect(fleet: Fleet, online: Any) -> float | None:
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


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = subparsers.add_parser("fanout", help="zone command fan-out vs bare paho clients")
    parser.add_argument("--agents", type=int, default=2000)
    parser.add_argument(
        "--rounds",
        type=int,
        default=9,
        help="zone commands, each after a bare publish (2 s apart); medians over the rounds",
    )
    add_json_flag(parser)
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    n, rounds = args.agents, args.rounds
    if n < 1 or rounds < 1:
        raise BenchError("--agents and --rounds must be at least 1")
    node_ids = fleet_node_ids(n, PREFIX)
    with bench_env(ZONE, node_ids) as env:
        bare_threaded = measure(env.broker.port, env.root, n, "threads", rounds)
        fleet = start_fleet(env, n, PREFIX, ZONE, env.root / "fleet")
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
            stop_fleet(fleet)
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
    emit(report, args.json)
    return 0

"""``loa bench fanout``: a zone "play now" from the controller, as three figures per round.

* **product path** (``product_path_*``): ``issue_command`` stores a delivery per node of a
  zone as big as the fleet, signs one zone command and publishes it once; the broker fans it
  out to N *light* paho subscribers, which take latency at receipt from ``issued_at``. The
  same subscribers receive the bare baseline's publishes (``baseline_*``, no project code),
  rounds alternating, so ``product_path_ratio_p99`` isolates what the controller and the
  protocol add — the bar is 1.5.
* **end to end** (``p99_ms``): N real agents (``AgentRuntime``, ``python -m loadsim``,
  500 per process on one epoll loop) verify and acknowledge; latency is the ack's time (the
  arrival, as the protocol defines it) minus ``issued_at``. A smoke test of the whole fleet:
  p99 < 1 s. Its ratio to the bare subscribers (``ratio_p99``) is shown but is bound by 2,000
  simulated agents sharing the machine's cores with the broker.
* ``baseline_threaded_*``: paho's thread-per-client loop, beforehand.

Each figure is the median over rounds of the round's p99, with the per-round values and
their spread.
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

from controller.db.models import Node, PlaybackEvent, Zone
from controller.services.commands import IssuedCommand, issue_command
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
# the product path's own zone: as many nodes as the fleet (so the controller stores as many
# deliveries), received by the light subscribers of the bare baseline, not by agents
LIGHT_ZONE = "xa-fanout-light"
LIGHT_PREFIX = "light"


def _add_light_zone(env: BenchEnv, n: int) -> None:
    now = env.ctl.clock.now()
    with env.ctl.sessions.begin() as session:
        session.add(Zone(id=LIGHT_ZONE, name=LIGHT_ZONE, created_at=now))
        session.flush()
        session.add_all(
            Node(id=node, name=node, zone_id=LIGHT_ZONE, created_at=now)
            for node in fleet_node_ids(n, LIGHT_PREFIX)
        )


def _play_now(env: BenchEnv, zone: str, item_id: str) -> IssuedCommand:
    """Issue a zone "play now" of one second of silence through the product's issue path."""
    item = PlaylistItem(
        id=item_id,
        kind=ItemKind.SILENCE,
        start=env.ctl.clock.now(),
        duration_s=1.0,
        priority=Priority.ANNOUNCEMENT,
        title="bench",
    )
    return issue_command(
        env.ctl, action=CommandAction.PLAY_NOW, zone_id=zone, item=item, ttl=timedelta(minutes=5)
    )


def _product_path_round(env: BenchEnv, index: int) -> None:
    """The product's issue path to the light subscribers: controller → signed command →
    broker; each subscriber takes its latency from the command's ``issued_at`` (the item id
    ends in the round ``index``)."""
    _play_now(env, LIGHT_ZONE, f"light-{index}")


def _one_round(env: BenchEnv, n: int, index: int) -> list[float]:
    """Issue one zone "play now"; latencies (ms) from ``issued_at`` to each agent's arrival."""
    stamp = int(env.ctl.clock.now().timestamp())
    issued = _play_now(env, ZONE, f"fanout-{stamp}-{index}")

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
            _add_light_zone(env, n)
            # bare, product-path and end-to-end rounds alternate, so all see the same minute
            # of this shared machine; the light subscribers receive the bare publishes (rounds
            # 0..R-1) and the product path's signed commands (rounds R..2R-1)
            light = (topics.zone_cmd(LIGHT_ZONE),)
            with BareFleet(env.broker.port, env.root, n, "epoll", 2 * rounds, light) as subs:
                for index in range(rounds):
                    subs.publish_round(index)
                    time.sleep(ROUND_GAP_S)
                    _product_path_round(env, rounds + index)
                    time.sleep(ROUND_GAP_S)  # also lets the previous item finish and settle
                    latencies.append(_one_round(env, n, index))
                    time.sleep(ROUND_GAP_S)
            received = subs.results()
            bare, product_path = received[:rounds], received[rounds:]
            offline_s = _mass_disconnect(fleet, lambda: online_count(env))
        finally:
            stop_fleet(fleet)
        stats, baseline, threaded, product = (
            round_summary(v) for v in (latencies, bare, bare_threaded, product_path)
        )
        report = {
            "agents": n,
            "rounds": rounds,
            "product_path": "controller issue -> signed zone command -> broker -> receipt, by"
            " the same light subscribers as the bare baseline (rounds alternating)",
            "product_path_received": product["received"],
            "product_path_p50_ms": product["p50"],
            "product_path_p99_ms": product["p99"],
            "product_path_p99_ms_per_round": product["p99_per_round"],
            "product_path_p99_ms_spread": product["p99_spread"],
            "product_path_ratio_p99": ratio(product["p99"], baseline["p99"]),
            "end_to_end": "real agents (python -m loadsim): issued_at -> each agent's ack"
            " (stamped on arrival); a smoke test of the whole fleet, target p99 < 1000 ms",
            "online_before_issue": online_before_issue,
            "fleet_startup_s": round(startup_s, 1),
            "received": stats["received"],
            "p50_ms": stats["p50"],
            "p99_ms": stats["p99"],
            "max_ms": stats["max"],
            "p99_ms_per_round": stats["p99_per_round"],
            "p99_ms_spread": stats["p99_spread"],
            "baseline": "bare paho clients, no project code, on the fleet's epoll layout;"
            " its rounds alternate with the project's",
            "baseline_received": baseline["received"],
            "baseline_p50_ms": baseline["p50"],
            "baseline_p99_ms": baseline["p99"],
            "baseline_max_ms": baseline["max"],
            "baseline_p99_ms_per_round": baseline["p99_per_round"],
            "baseline_p99_ms_spread": baseline["p99_spread"],
            "ratio_p99": ratio(stats["p99"], baseline["p99"]),
            "baseline_threaded_received": threaded["received"],
            "baseline_threaded_p99_ms": threaded["p99"],
            "ratio_p99_threaded": ratio(stats["p99"], threaded["p99"]),
            "statistic": "median over rounds of each round's p50 / p99 / max",
            "target": "product_path_ratio_p99 <= 1.5 (controller + protocol overhead);"
            " end-to-end p99_ms < 1000 (smoke); ratio_p99 (fleet vs bare) is shown, noise-bound",
            "mass_disconnect_to_all_offline_s": offline_s,
            "zone_topic": topics.zone_cmd(ZONE),
            "controller_peak_rss_mb": peak_rss_mb(),
        }
    emit(report, args.json)
    return 0

"""Fault scenarios with real processes; one JSON report (``loa bench faults --json``).

Each scenario builds a fresh rig (Mosquitto, ``loa controller``, N ``loa agent`` with the
tap player), announces to the whole zone, breaks something at the worst moment, repairs it,
waits until the counts settle, and reports ``sent`` (agents' outbox counters), ``stored``
(distinct (node_id, seq) in the controller DB), ``lost``, ``duplicated`` (extra DB rows plus
items started twice from the beginning) and ``unaccounted_items`` (scheduled items with no
finished/failed/skipped/missed event on some node). The pass mark is zero for all three.
"""

from __future__ import annotations

import argparse
import logging
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from loadsim.bench._fault_rig import POLL_S, FaultRig
from loadsim.bench._report import BenchError, add_json_flag, emit
from loadsim.bench._support import wait_for

TEXT = "Thông báo thử nghiệm số {n}: bà con chú ý nghe."
SETTLE_S = 60


def _announce_all(rig: FaultRig, count: int, gap_s: float) -> int:
    made = 0
    for n in range(count):
        made += rig.announce(TEXT.format(n=n + 1)) is not None
        time.sleep(gap_s)
    return made


def broker_killed_during_fanout(rig: FaultRig) -> int:
    """SIGKILL the broker right after the controller published; restart 3 s later."""
    made = rig.announce(TEXT.format(n=1)) is not None
    rig.broker.kill()
    time.sleep(3)
    rig.broker.start()
    return int(made)


def broker_killed_during_ingestion(rig: FaultRig) -> int:
    """Items are playing and events flowing when the broker is SIGKILLed for 4 s."""
    made = _announce_all(rig, 2, 1.0)
    wait_for(lambda: sum(a.sent() for a in rig.agents) >= len(rig.agents), 30, POLL_S)
    rig.broker.kill()
    time.sleep(4)
    rig.broker.start()
    return made


def controller_killed_mid_publish(rig: FaultRig) -> int:
    """SIGKILL the controller while it answers an announcement, then start it again: the
    publish it may not have confirmed is made by the restarted one (horizon job)."""
    made = int(rig.announce(TEXT.format(n=1)) is not None)
    rig.controller.kill()
    time.sleep(1)
    rig.controller.start()
    made += _announce_all(rig, 1, 0)
    return made


def long_link_cut(rig: FaultRig) -> int:
    """The broker stops for 25 s while three announcements play from the agents' caches."""
    made = _announce_all(rig, 3, 0.5)
    wait_for(lambda: all(a.data.joinpath("media").is_dir() for a in rig.agents), 20, POLL_S)
    time.sleep(2)  # media fetched over HTTP before the cut
    rig.broker.stop()
    time.sleep(25)
    rig.broker.start()
    return made


def agent_killed_mid_playback(rig: FaultRig) -> int:
    """SIGKILL one agent while its item plays; it restarts and resumes, reporting once."""
    made = rig.announce(TEXT.format(n=1) * 3) is not None
    victim = rig.agents[0]
    wait_for(lambda: victim.tap.exists(), 30, 0.05)
    time.sleep(0.5)
    victim.kill()
    time.sleep(1)
    victim.start()
    return int(made)


SCENARIOS: dict[str, Callable[[FaultRig], int]] = {
    "broker-killed-during-fanout": broker_killed_during_fanout,
    "broker-killed-during-ingestion": broker_killed_during_ingestion,
    "controller-killed-mid-publish": controller_killed_mid_publish,
    "long-link-cut": long_link_cut,
    "agent-killed-mid-playback": agent_killed_mid_playback,
}


def run_scenario(name: str, root: Path, agents: int) -> dict[str, Any]:
    rig = FaultRig(root, agents)
    try:
        started = time.monotonic()
        announced = SCENARIOS[name](rig)
        # every item ends (played, failed or missed) and every event reaches the database
        wait_for(lambda: rig.report(name, announced)["unaccounted_items"] == 0, SETTLE_S, POLL_S)
        wait_for(rig.settled, SETTLE_S, POLL_S)
        time.sleep(3)  # a late duplicate resend would show up now
        report = rig.report(name, announced)
        report["seconds"] = round(time.monotonic() - started, 1)
        return report
    finally:
        rig.close()


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = subparsers.add_parser(
        "faults", help="kill broker/controller/agent mid-work; count events sent/stored/lost"
    )
    parser.add_argument("--agents", type=int, default=3, help="agent processes per scenario")
    parser.add_argument("--only", action="append", help="run only this scenario (repeatable)")
    add_json_flag(parser)
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    logging.getLogger("httpx").setLevel(logging.WARNING)  # stdout/stderr: the report only
    names = args.only or list(SCENARIOS)
    unknown = set(names) - set(SCENARIOS)
    if unknown:
        raise BenchError(f"unknown scenario(s) {sorted(unknown)}; choose from {list(SCENARIOS)}")
    with tempfile.TemporaryDirectory(prefix="loa-faults-") as tmp:
        scenarios = [run_scenario(n, Path(tmp) / n, args.agents) for n in names]
    ok = all(s["lost"] == s["duplicated"] == s["unaccounted_items"] == 0 for s in scenarios)
    emit({"scenarios": scenarios, "ok": ok}, args.json)
    return 0 if ok else 1

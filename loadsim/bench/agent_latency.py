"""``loa bench agent-latency``: one real agent's receive -> ack and receive -> playback start.

One real ``python -m agent`` process (the production runtime at default settings, ``tap``
player) and ``--fleet`` light simulated agents (``python -m loadsim``, null player) are in
one zone on a private Mosquitto; the in-process controller issues ``--commands`` signed
``play_now`` commands to that zone per run (``issue_command``, the API's path), ``--spacing``
seconds apart, so the real agent receives each one in the same broker fan-out as the fleet.
The item's media is in every agent's cache first (a play-now never waits for a download).
Nothing in ``agent/`` knows it is measured; the instants are read from outside:

- *receive*: the ``at`` of the agent's ``command_ack`` event. The protocol defines it as the
  command's arrival on the node (stamped when the MQTT message was read off the socket,
  ``protocol.models.PlaybackEvent``);
- *ack*: when the ``EventBatch`` carrying that ``command_ack`` reached a plain paho
  subscriber on the node's events topic in this process (what the controller's own
  subscriber sees: it includes the durable outbox write, the reporter's ``report_linger_s``
  batching wait, by default 0.25 s, and the broker hop);
- *playback start*: the ``started_at`` the ``tap`` player wrote when the playout clock
  called ``play()`` for the command's item (the player backend interface: with ``mpv`` the
  same call unpauses or loads the item).

``receive_to_ack_ms`` and ``receive_to_playback_start_ms`` are {p50, p99, max} over all runs,
with each run's p99 and their spread; ``issue_to_receive_ms`` (the controller's sign, store
and the broker's fan-out) is reported beside them for context. One machine, one wall clock.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from loadsim.bench._report import BenchError, add_json_flag, emit

if TYPE_CHECKING:
    import paho.mqtt.client as mqtt

    from loadsim.bench._support import BenchEnv
    from protocol.models import PlaylistItem

ZONE = "lat-zone"
NODE = "lat-real"
PREFIX = "latf"
TEXT = "Thử loa."


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = subparsers.add_parser(
        "agent-latency", help="one real agent: receive -> ack / playback start, under fleet load"
    )
    add_json_flag(parser)
    parser.add_argument("--fleet", type=int, default=300, help="simulated agents beside it")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--commands", type=int, default=30, help="play_now commands per run")
    parser.add_argument("--spacing", type=float, default=1.5, help="seconds between commands")
    parser.set_defaults(handler=run)


class _Acks:
    """A bare paho subscriber on the real node's events topic: first arrival of each ack."""

    def __init__(self) -> None:
        self.seen: dict[str, tuple[float, datetime]] = {}  # command id -> (arrival, ack at)
        self._lock = threading.Lock()

    def on_message(self, msg: mqtt.MQTTMessage) -> None:
        arrived = time.time()
        try:
            events = json.loads(msg.payload)["events"]
        except (ValueError, KeyError, TypeError):
            return
        with self._lock:
            for event in events:
                cid = event.get("command_id")
                if event.get("kind") == "command_ack" and cid and cid not in self.seen:
                    self.seen[cid] = (arrived, datetime.fromisoformat(event["at"]))

    def get(self, command_id: str) -> tuple[float, datetime] | None:
        with self._lock:
            return self.seen.get(command_id)


def _tap_starts(path: Path) -> dict[str, datetime]:
    starts: dict[str, datetime] = {}
    if path.exists():
        for line in path.read_text(encoding="utf-8").splitlines():
            row = json.loads(line)
            starts.setdefault(row["item_id"], datetime.fromisoformat(row["started_at"]))
    return starts


def _media_item(env: BenchEnv, dirs: list[Path]) -> PlaylistItem:
    """The play-now item the controller renders, copied into every agent's media cache."""
    from controller.services.commands import play_now_item

    item = play_now_item(env.ctl, TEXT)
    assert item.media is not None
    source = env.ctl.media_store.resolve(item.media.filename)
    if source is None:
        raise BenchError("the rendered item is missing from the media store")
    for directory in dirs:
        target = directory / "media" / item.media.filename
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target)
    return item


def _start_agent(env: BenchEnv, data: Path) -> subprocess.Popen[bytes]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("LOA_")}
    environ.update(
        {
            "LOA_NODE_ID": NODE,
            "LOA_ZONES": json.dumps([ZONE]),
            "LOA_DATA_DIR": str(data),
            "LOA_MQTT_PORT": str(env.broker.port),
            "LOA_CONTROLLER_URL": "http://127.0.0.1:9",  # media are cached: nothing to fetch
            "LOA_TRUSTED_KEYS": json.dumps([env.ctl.signer.public_key_b64]),
            "LOA_PLAYER": "tap",
        }
    )
    log = (env.root / "agent.log").open("wb")
    return subprocess.Popen(
        [sys.executable, "-m", "agent"], env=environ, stdout=log, stderr=subprocess.STDOUT
    )


def _one_run(
    env: BenchEnv, item: PlaylistItem, acks: _Acks, tap: Path, commands: int, spacing: float
) -> dict[str, list[float]]:
    from controller.services.commands import issue_command
    from loadsim.bench._support import wait_for
    from protocol.models import CommandAction

    issued: list[tuple[str, str, datetime]] = []  # (command id, item id, issued_at)
    began = time.monotonic()
    for n in range(commands):
        time.sleep(max(0.0, began + n * spacing - time.monotonic()))
        now = env.ctl.clock.now()
        this = item.model_copy(update={"id": f"lat-{time.time_ns()}", "start": now})
        done = issue_command(env.ctl, action=CommandAction.PLAY_NOW, zone_id=ZONE, item=this)
        issued.append((done.command.id, this.id, done.command.issued_at))

    def complete() -> bool:
        starts = _tap_starts(tap)
        return all(acks.get(c) and i in starts for c, i, _ in issued)

    wait_for(complete, 30, interval=0.1)
    starts = _tap_starts(tap)
    out: dict[str, list[float]] = {"ack": [], "start": [], "issue": [], "lost": []}
    for cid, iid, issued_at in issued:
        seen = acks.get(cid)
        if seen is None or iid not in starts:
            out["lost"].append(1.0)
            continue
        arrived, received = seen
        out["ack"].append((arrived - received.timestamp()) * 1000)
        out["start"].append((starts[iid] - received).total_seconds() * 1000)
        out["issue"].append((received - issued_at).total_seconds() * 1000)
    return out


def _summary(per_run: list[list[float]]) -> dict[str, Any]:
    from loadsim.bench._support import percentiles

    every = [v for run in per_run for v in run]
    p99s = [percentiles(run)["p99"] for run in per_run]
    return {**percentiles(every), "p99_per_run": p99s, "p99_spread": [min(p99s), max(p99s)]}


def measure(fleet_n: int, runs: int, commands: int, spacing: float) -> dict[str, Any]:
    from loadsim.bench._support import (
        bare_client,
        bench_env,
        online_count,
        start_fleet,
        stop_fleet,
        wait_for,
    )
    from loadsim.fleet import fleet_node_ids
    from protocol import topics

    fleet_ids = fleet_node_ids(fleet_n, PREFIX)
    shm = Path("/dev/shm")  # noqa: S108 - only the parent of a private mkdtemp
    with (
        bench_env(ZONE, [NODE, *fleet_ids]) as env,
        tempfile.TemporaryDirectory(
            prefix="loa-fleet-", dir=shm if shm.is_dir() else env.root
        ) as tmp,
    ):
        fleet_dir, agent_dir = Path(tmp), env.root / "agent"
        item = _media_item(env, [agent_dir, *(fleet_dir / n for n in fleet_ids)])
        acks = _Acks()
        observer = bare_client(env.broker, f"lat-observer-{os.getpid()}", acks.on_message)
        observer.subscribe(topics.node_events(NODE), qos=1)
        fleet = start_fleet(env, fleet_n, PREFIX, ZONE, fleet_dir)
        agent = _start_agent(env, agent_dir)
        try:
            env.ctl.publisher.refresh()
            everyone = fleet_n + 1
            if (
                not wait_for(
                    lambda: (
                        online_count(env) >= everyone
                        or agent.poll() is not None
                        or fleet.poll() is not None
                    ),
                    600,
                    0.5,
                )
                or agent.poll() is not None
                or fleet.poll() is not None
            ):
                tail = (env.root / "agent.log").read_text(errors="replace")[-1500:]
                raise BenchError(f"only {online_count(env)} of {everyone} came online\n{tail}")
            time.sleep(1.0)  # the fleet's start-up heartbeats and playlists settle
            results = [
                _one_run(env, item, acks, agent_dir / "tap.jsonl", commands, spacing)
                for _ in range(runs)
            ]
            load_avg = os.getloadavg()
        finally:
            agent.terminate()
            try:
                agent.wait(20)
            except subprocess.TimeoutExpired:
                agent.kill()
            stop_fleet(fleet)
            observer.loop_stop()
            observer.disconnect()
    lost = sum(len(r["lost"]) for r in results)
    ack = _summary([r["ack"] for r in results])
    start = _summary([r["start"] for r in results])
    return {
        "receive_to_ack_ms": ack,
        "receive_to_playback_start_ms": start,
        "issue_to_receive_ms": _summary([r["issue"] for r in results]),
        "runs": runs,
        "commands_per_run": commands,
        "measured": runs * commands - lost,
        "lost": lost,
        "load": {
            "simulated_agents": fleet_n,
            "what": "light agents (python -m loadsim, null player) in the same zone, receiving"
            " the same zone play_now fan-out and playing it; real Mosquitto and controller",
            "loadavg_1_5_15": [round(x, 2) for x in load_avg],
        },
        "agent": "python -m agent, default settings, tap player",
        "method": "receive = command_ack event's at (arrival on the node, per the protocol);"
        " ack = that ack's EventBatch reaching a paho subscriber (includes report_linger_s);"
        " playback start = tap player's started_at for the item (play() called)",
    }


def run(args: argparse.Namespace) -> int:
    if min(args.fleet, args.runs, args.commands) < 1 or args.spacing <= 0:
        raise BenchError("--fleet, --runs and --commands must be at least 1, --spacing > 0")
    emit(measure(args.fleet, args.runs, args.commands, args.spacing), args.json)
    return 0

"""``python -m loadsim``: run a simulated fleet of real agents (null player) until SIGTERM.

Settings come as for ``loa agent`` (``--config`` TOML and ``LOA_*`` variables); each
simulated node gets ``<data_dir>/<node_id>``. More than ``AGENTS_PER_PROCESS`` agents are
split over child processes (``--nodes`` each), one core's worth of agents per process: a
process's agents share one epoll network loop, so the limit is CPU, not descriptors (an
agent holds about 8: socket, SQLite outbox, played log and replay guard; the process raises
its soft descriptor limit to the hard one).
"""

from __future__ import annotations

import argparse
import logging
import signal
import subprocess
import sys
import threading
from pathlib import Path

from pydantic import ValidationError

from agent.config import AgentSettings
from agent.runtime import AgentConfigError
from loadsim.fleet import Fleet, fleet_node_ids
from protocol.errors import InvalidMessage
from protocol.topics import check_slug

AGENTS_PER_PROCESS = 500


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m loadsim", description=__doc__)
    parser.add_argument("--config", type=Path, help="agent TOML file (default: $LOA_CONFIG)")
    count = parser.add_mutually_exclusive_group(required=True)
    count.add_argument("--agents", type=int, metavar="N", help="run N simulated agents")
    count.add_argument("--nodes", help="comma-separated node ids to simulate")
    parser.add_argument("--prefix", default="sim", help="node id prefix for --agents")
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    return parser.parse_args(argv)


def run_sharded(config: Path | None, ids: list[str]) -> int:
    """Run ``ids`` as several ``--nodes`` children; stop them all on SIGTERM / SIGINT."""
    argv = [sys.executable, "-m", "loadsim"] + (["--config", str(config)] if config else [])
    children = [
        subprocess.Popen([*argv, "--nodes", ",".join(ids[i : i + AGENTS_PER_PROCESS])])
        for i in range(0, len(ids), AGENTS_PER_PROCESS)
    ]
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    while not stop.wait(1.0):
        if any(c.poll() is not None for c in children):
            break
    for child in children:
        if child.poll() is None:
            child.terminate()
    codes = [child.wait() for child in children]
    return 0 if stop.is_set() else max(codes)


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    try:
        if args.nodes:
            ids = [check_slug(n.strip()) for n in args.nodes.split(",") if n.strip()]
        else:
            ids = fleet_node_ids(args.agents, args.prefix)
        if not ids:
            raise ValueError("no agents to simulate")
        if len(ids) > AGENTS_PER_PROCESS:
            return run_sharded(args.config, ids)
        settings = AgentSettings.load(args.config)
        Fleet(settings, ids).run_forever()
    except (
        ValidationError,
        ValueError,
        FileNotFoundError,
        AgentConfigError,
        InvalidMessage,
    ) as exc:
        print(f"python -m loadsim: error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""``loa agent``: run the village agent (or a simulated fleet) in the foreground."""

from __future__ import annotations

import argparse
from pathlib import Path

from cli.errors import CliError


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = subparsers.add_parser("agent", help="run the village agent (systemd runs this)")
    parser.add_argument("--config", type=Path, help="TOML file (default: $LOA_CONFIG)")
    parser.add_argument("--node", help="node id (overrides the config)")
    parser.add_argument("--simulate", type=int, metavar="N", help="run N simulated agents")
    parser.add_argument("--prefix", default="sim", help="node id prefix for --simulate")
    parser.add_argument("--nodes", help="comma-separated node ids for a simulated fleet")
    enrol = parser.add_argument_group("enrolment (first boot; then exits)")
    enrol.add_argument("--enrol", action="store_true", help="enrol with a one-time token")
    enrol.add_argument("--token-file", type=Path, metavar="PATH", help="read the token from PATH")
    enrol.add_argument("--token", metavar="-", help="'-': read the token from stdin (never argv)")
    enrol.add_argument("--controller", help="controller https:// URL for --enrol")
    enrol.add_argument(
        "--insecure", action="store_true", help="allow an http:// controller (demo/tests only)"
    )
    enrol.add_argument("--mqtt-host", help="broker host (default: as the controller says)")
    enrol.add_argument(
        "--mqtt-port", type=int, help="broker port (default: as the controller says)"
    )
    enrol.add_argument(
        "--write", type=Path, default=Path("/etc/loa/agent.toml"), help="config file to write"
    )
    parser.set_defaults(handler=run)


def run_enrol(args: argparse.Namespace) -> int:
    from agent.enrol import (
        EnrolError,
        EnrolOptions,
        read_token,
        request_enrolment,
        write_enrolment,
    )

    if not args.controller:
        raise CliError("--enrol needs --controller URL")
    try:
        token = read_token(args.token, args.token_file)
        options = EnrolOptions(insecure=args.insecure)
        enrolment = request_enrolment(args.controller, token, options=options)
        write_enrolment(enrolment, args.controller, args.write, args.mqtt_host, args.mqtt_port)
    except (EnrolError, OSError) as exc:
        raise CliError(str(exc)) from None
    print(f"enrolled as {enrolment.node_id}; configuration written to {args.write}")
    return 0


# A simulated fleet's agents share one epoll network loop per process (agent.fleet), so the
# limit is CPU, not descriptors: one process is one core's worth of agents. An agent holds
# about 8 descriptors (socket, SQLite outbox, played log and replay guard), so the process
# raises its soft descriptor limit to the hard one.
AGENTS_PER_PROCESS = 500


def _run_sharded(args: argparse.Namespace, ids: list[str]) -> int:
    """Run ``ids`` as several ``loa agent --nodes ...`` children; stop them all on SIGTERM."""
    import signal
    import subprocess
    import sys
    import threading

    argv = [sys.executable, "-m", "cli.main", "agent"]
    if args.config:
        argv += ["--config", str(args.config)]
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


def run(args: argparse.Namespace) -> int:
    if args.enrol or args.token or args.token_file:
        return run_enrol(args)
    from pydantic import ValidationError

    from agent.config import AgentSettings
    from agent.fleet import Fleet, fleet_node_ids
    from agent.runtime import AgentConfigError, AgentRuntime
    from protocol.errors import InvalidMessage

    overrides = {"node_id": args.node} if args.node else {}
    try:
        settings: AgentSettings = AgentSettings.load(args.config, **overrides)
    except (ValidationError, FileNotFoundError) as exc:
        raise CliError(f"invalid agent configuration: {exc}") from None
    try:
        if args.simulate or args.nodes:
            if args.nodes:
                ids = [n.strip() for n in args.nodes.split(",") if n.strip()]
            else:
                ids = fleet_node_ids(args.simulate, args.prefix)
            if len(ids) > AGENTS_PER_PROCESS:
                return _run_sharded(args, ids)
            Fleet(settings, ids).run_forever()
        else:
            return AgentRuntime(settings).run_forever()
    except (AgentConfigError, InvalidMessage) as exc:
        raise CliError(str(exc)) from None
    return 0

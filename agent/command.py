"""The agent's command line, owned by the agent: ``python -m agent`` (what systemd runs)
and ``loa agent`` both use it. Runs the village agent in the foreground, or enrols it once.
Simulated fleets are not here: ``python -m loadsim`` (source checkout only).
"""

from __future__ import annotations

import argparse
from pathlib import Path


class CommandError(RuntimeError):
    """A bad option or configuration: printed as one line, exit status 2."""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", type=Path, help="TOML file (default: $LOA_CONFIG)")
    parser.add_argument("--node", help="node id (overrides the config)")
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


def run_enrol(args: argparse.Namespace) -> int:
    from agent.enrol import (
        EnrolError,
        EnrolOptions,
        read_token,
        request_enrolment,
        write_enrolment,
    )

    if not args.controller:
        raise CommandError("--enrol needs --controller URL")
    try:
        token = read_token(args.token, args.token_file)
        options = EnrolOptions(insecure=args.insecure)
        enrolment = request_enrolment(args.controller, token, options=options)
        write_enrolment(enrolment, args.controller, args.write, args.mqtt_host, args.mqtt_port)
    except (EnrolError, OSError) as exc:
        raise CommandError(str(exc)) from None
    print(f"enrolled as {enrolment.node_id}; configuration written to {args.write}")
    return 0


def run(args: argparse.Namespace) -> int:
    if args.enrol or args.token or args.token_file:
        return run_enrol(args)
    from pydantic import ValidationError

    from agent.config import AgentSettings
    from agent.runtime import AgentConfigError, AgentRuntime
    from protocol.errors import InvalidMessage

    overrides = {"node_id": args.node} if args.node else {}
    try:
        settings: AgentSettings = AgentSettings.load(args.config, **overrides)
    except (ValidationError, FileNotFoundError) as exc:
        raise CommandError(f"invalid agent configuration: {exc}") from None
    try:
        AgentRuntime(settings).run_forever()
    except (AgentConfigError, InvalidMessage) as exc:
        raise CommandError(str(exc)) from None
    return 0

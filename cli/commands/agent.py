"""``loa agent``: the agent's own command line (``agent.command``) under ``loa``."""

from __future__ import annotations

import argparse

from agent.command import CommandError, add_arguments
from agent.command import run as run_agent
from cli.errors import CliError


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = subparsers.add_parser("agent", help="run the village agent (systemd runs this)")
    add_arguments(parser)
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    try:
        return run_agent(args)
    except CommandError as exc:
        raise CliError(str(exc)) from None

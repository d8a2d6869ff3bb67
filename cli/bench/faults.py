"""``loa bench faults``: see :mod:`cli.benchmarks.faults` (imported only when run)."""

from __future__ import annotations

import argparse


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = subparsers.add_parser(
        "faults", help="kill broker/controller/agent mid-work; count events sent/stored/lost"
    )
    parser.add_argument("--agents", type=int, default=3, help="agent processes per scenario")
    parser.add_argument("--only", action="append", help="run only this scenario (repeatable)")
    parser.add_argument("--json", action="store_true", help="JSON output (the only format)")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from cli.benchmarks.faults import run as run_bench

    return run_bench(args)

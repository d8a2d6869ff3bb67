"""``loa bench fanout``: see :mod:`cli.benchmarks.fanout` (imported only when run)."""

from __future__ import annotations

import argparse


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = subparsers.add_parser("fanout", help="zone command fan-out vs bare paho clients")
    parser.add_argument("--agents", type=int, default=2000)
    parser.add_argument(
        "--rounds",
        type=int,
        default=9,
        help="zone commands, each after a bare publish (2 s apart); medians over the rounds",
    )
    parser.add_argument("--json", action="store_true", help="JSON output (the only format)")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from cli.benchmarks.fanout import run as run_bench

    return run_bench(args)

"""``loa bench ingest``: see :mod:`cli.benchmarks.ingest` (imported only when run)."""

from __future__ import annotations

import argparse


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = subparsers.add_parser("ingest", help="heartbeat/event ingestion rate vs bare broker")
    parser.add_argument("--agents", type=int, default=5000, help="simulated nodes")
    parser.add_argument("--rounds", type=int, default=6, help="heartbeats per node")
    parser.add_argument("--publishers", type=int, default=2, help="publisher processes")
    parser.add_argument("--events-every", type=int, default=5, help="one event batch per N hbs")
    parser.add_argument("--json", action="store_true", help="JSON output (the only format)")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from cli.benchmarks.ingest import run as run_bench

    return run_bench(args)

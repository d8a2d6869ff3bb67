"""Benchmarks (``loa bench NAME`` or ``python -m loadsim.bench NAME``): one module each.

Each public module exposes ``register(subparsers)`` and is found by listing this package;
underscore modules are the shared helpers (``_support``: private broker + in-process
controller + simulated fleet, ``_bare_fleet``: the bare paho baselines, ``_fault_rig``,
``_notices``, ``_report``: ``--json`` or a table). Part of ``loadsim``: never installed.
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys
from collections.abc import Sequence

from loadsim.bench._report import BenchError


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add every benchmark module's sub-command."""
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        if not info.name.startswith("_"):
            importlib.import_module(f"{__name__}.{info.name}").register(subparsers)


def main(argv: Sequence[str] | None = None, prog: str = "python -m loadsim.bench") -> int:
    parser = argparse.ArgumentParser(prog=prog, description="benchmarks of Loa xã")
    register(parser.add_subparsers(dest="bench", metavar="BENCH", required=True))
    args = parser.parse_args(argv)
    try:
        code: int = args.handler(args)
    except BenchError as exc:
        print(f"{prog}: error: {exc}", file=sys.stderr)
        return 2
    return code

"""``loa bench NAME ...``: the benchmarks, which live in ``loadsim.bench`` (source checkout).

The benchmarks and the load-test harness are not installed with the package (a Raspberry
Pi must not carry them), so ``loa`` forwards the rest of the command line to
``loadsim.bench`` only when it runs, and explains when the package is absent.
"""

from __future__ import annotations

import argparse

from cli.errors import CliError


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = subparsers.add_parser(
        "bench",
        help="benchmarks (from a source checkout; `loa bench --help` lists them)",
        add_help=False,
        prefix_chars="+",  # every argument, --help included, is loadsim.bench's to parse
    )
    parser.add_argument("argv", nargs="*", help="NAME and its options")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    try:
        from loadsim.bench import main
    except ModuleNotFoundError as exc:
        if exc.name is None or not exc.name.startswith("loadsim"):
            raise
        raise CliError(
            "the benchmarks are not installed: run them from a source checkout"
            " (PYTHONPATH=<checkout> loa bench ...)"
        ) from None
    return main(args.argv, prog="loa bench")

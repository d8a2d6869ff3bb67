"""``loa bench NAME ...``: the benchmarks, which live in ``loadsim.bench`` (source checkout).

The benchmarks and the load-test harness are not installed with the package (a Raspberry
Pi must not carry them), so ``loa`` forwards the rest of the command line to
``loadsim.bench`` only when it runs. From a source checkout (the development venv's editable
install maps only the product packages) ``loadsim`` is found beside ``cli/``; on an
installed product it is absent and the command says so.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from cli.errors import CliError

CHECKOUT = Path(__file__).resolve().parents[2]


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = subparsers.add_parser(
        "bench",
        help="benchmarks (from a source checkout; `loa bench --help` lists them)",
        add_help=False,
        prefix_chars="+",  # every argument, --help included, is loadsim.bench's to parse
    )
    parser.add_argument("argv", nargs="*", help="NAME and its options")
    parser.set_defaults(handler=run)


def _checkout_on_path() -> None:
    """Let ``import loadsim`` find the checkout this ``cli`` was loaded from, if it is one."""
    if (CHECKOUT / "loadsim" / "__init__.py").is_file() and str(CHECKOUT) not in sys.path:
        sys.path.append(str(CHECKOUT))


def run(args: argparse.Namespace) -> int:
    _checkout_on_path()
    try:
        from loadsim.bench import main
    except ModuleNotFoundError as exc:
        if exc.name is None or not exc.name.startswith("loadsim"):
            raise
        raise CliError(
            "the benchmarks are not installed: run `loa bench` from a source checkout"
        ) from None
    return main(args.argv, prog="loa bench")

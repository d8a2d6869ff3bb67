"""The ``loa`` command. Subcommands live one per module in ``cli/commands/``; each module
exposes ``register(subparsers)``, so adding a command never means editing this file.
(``loa bench`` forwards to ``loadsim.bench``, where each benchmark is one module.)"""

from __future__ import annotations

import argparse
import importlib
import logging
import pkgutil
import sys
from collections.abc import Callable, Sequence
from importlib.metadata import PackageNotFoundError, version

import cli.commands
from cli.errors import CliError

Handler = Callable[[argparse.Namespace], int]


def _version() -> str:
    try:
        return version("loaxa")
    except PackageNotFoundError:
        return "0+unknown"


def _register_package(package: object, subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    path = getattr(package, "__path__", [])
    prefix = getattr(package, "__name__", "") + "."
    for info in sorted(pkgutil.iter_modules(path), key=lambda m: m.name):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(prefix + info.name)
        module.register(subparsers)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="loa", description="Loa xã — truyền thanh thông minh")
    parser.add_argument("--version", action="version", version=f"loa {_version()}")
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    _register_package(cli.commands, sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    logging.getLogger("apscheduler").setLevel(logging.WARNING)  # one line per job run is noise
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)  # import-time noise
    handler: Handler | None = getattr(args, "handler", None)
    if handler is None:
        parser.print_help()
        return 2
    try:
        return handler(args)
    except CliError as exc:
        print(f"loa: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())

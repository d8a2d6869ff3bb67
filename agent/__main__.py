"""``python -m agent``: the agent's own entry point, same options as ``loa agent``.

systemd uses this rather than ``loa agent`` so that the daemon on a Raspberry Pi loads only
the agent stack: ``loa`` builds its whole command tree, including controller commands whose
dependencies the ``agent`` extra does not install.
"""

from __future__ import annotations

import argparse
import logging
import sys

from cli.commands.agent import register
from cli.errors import CliError


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m agent")
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = parser.add_subparsers(dest="command")
    register(sub)
    given = list(sys.argv[1:] if argv is None else argv)
    verbose = [a for a in given if a in ("-v", "--verbose")]
    rest = [a for a in given if a not in verbose]
    args = parser.parse_args([*verbose[:1], "agent", *rest])
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    try:
        code: int = args.handler(args)
        return code
    except CliError as exc:
        print(f"loa agent: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())

"""``python -m agent``: the agent's own entry point, same options as ``loa agent``.

systemd uses this rather than ``loa agent`` so that the daemon on a Raspberry Pi loads only
the agent stack (``loa`` builds its whole command tree, including controller commands whose
dependencies the ``agent`` extra does not install). It imports nothing outside ``agent``
and ``protocol``.
"""

from __future__ import annotations

import argparse
import logging
import sys

from agent.command import CommandError, add_arguments, run


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m agent")
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    add_arguments(parser)
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    try:
        return run(args)
    except CommandError as exc:
        print(f"loa agent: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())

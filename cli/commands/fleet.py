"""``loa fleet``: over-the-air agent updates on the running controller.

    loa fleet update --version V [--zones a,b] [--canary N] [--wave N] [--max-failed-pct P]
    loa fleet rollout [ID]            # progress: each node's state and reported version

Talks to the controller's HTTP API like ``loa emergency`` (``--url`` / ``$LOA_API_URL``,
bearer token from ``$LOA_API_TOKEN``, ``--cacert`` for a private CA); updating needs the
admin role. The release must have been built first (``loa agent-dist build --version V``).
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cli.api_client import call_and_print, default_url
from cli.errors import CliError

if TYPE_CHECKING:
    import httpx


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = subparsers.add_parser("fleet", help="update the agents over the air")
    parser.add_argument("--url", default=default_url())
    parser.add_argument("--cacert", type=Path, help="CA certificate of an https:// controller")
    sub = parser.add_subparsers(dest="fleet_command", required=True)
    update = sub.add_parser("update", help="start a staged rollout of agent release V")
    update.add_argument("--version", required=True, help="release built by agent-dist build")
    update.add_argument("--zones", default="", help="comma-separated zone ids (default: all)")
    update.add_argument("--canary", type=int, default=1, help="nodes updated first (default 1)")
    update.add_argument("--wave", type=int, default=20, help="nodes updating at once after")
    update.add_argument(
        "--max-failed-pct", type=float, default=20.0, help="halt above this share of failures"
    )
    show = sub.add_parser("rollout", help="show a rollout's progress (default: the latest)")
    show.add_argument("id", nargs="?", type=int)
    parser.set_defaults(handler=run)


def build_body(args: argparse.Namespace) -> dict[str, Any]:
    if args.canary < 0 or args.wave < 1 or not 0 <= args.max_failed_pct <= 100:
        raise CliError("--canary >= 0, --wave >= 1, --max-failed-pct within 0..100")
    zones = [z.strip() for z in args.zones.split(",") if z.strip()]
    return {
        "version": args.version,
        "zones": zones,
        "canary": args.canary,
        "wave": args.wave,
        "max_failed_pct": args.max_failed_pct,
    }


def run(args: argparse.Namespace) -> int:
    def send(client: httpx.Client) -> httpx.Response:
        if args.fleet_command == "update":
            return client.post("/api/v1/agent-rollouts", json=build_body(args))
        return client.get(f"/api/v1/agent-rollouts/{args.id or 'latest'}")

    return call_and_print(args.url, send, cacert=args.cacert)

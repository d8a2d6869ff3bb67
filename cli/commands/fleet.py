"""``loa fleet``: over-the-air agent updates on the running controller.

    loa fleet update --version V [--zones a,b] [--canary N] [--wave N] [--max-failed-pct P]
    loa fleet rollout [ID]            # progress: each node's state and reported version

Talks to the controller's HTTP API like ``loa emergency`` (``--url`` / ``$LOA_API_URL``,
bearer token from ``$LOA_API_TOKEN``, ``--cacert`` for a private CA); updating needs the
admin role. The release must have been built first (``loa agent-dist build --version V``).
"""

from __future__ import annotations

import argparse
import json
import os
import ssl
from pathlib import Path
from typing import Any

from cli.errors import CliError

DEFAULT_URL = "http://127.0.0.1:8080"


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = subparsers.add_parser("fleet", help="update the agents over the air")
    parser.add_argument("--url", default=os.environ.get("LOA_API_URL", DEFAULT_URL))
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
    import httpx

    headers = {}
    if token := os.environ.get("LOA_API_TOKEN"):
        headers["authorization"] = f"Bearer {token}"
    base = args.url.rstrip("/")
    verify: ssl.SSLContext | bool = True
    if args.cacert:
        verify = ssl.create_default_context(cafile=str(args.cacert))
    try:
        with httpx.Client(base_url=base, headers=headers, timeout=60, verify=verify) as client:
            if args.fleet_command == "update":
                r = client.post("/api/v1/agent-rollouts", json=build_body(args))
            else:
                r = client.get(f"/api/v1/agent-rollouts/{args.id or 'latest'}")
    except httpx.HTTPError as exc:
        raise CliError(f"controller at {base} not reachable: {exc}") from None
    if r.status_code >= 400:
        try:
            detail = r.json().get("detail", r.text)
        except ValueError:
            detail = r.text
        raise CliError(f"refused ({r.status_code}): {detail}")
    print(json.dumps(r.json(), ensure_ascii=False, indent=2))
    return 0

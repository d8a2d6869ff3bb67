"""``loa nodes``: provision speaker nodes from the controller's machine (works offline)."""

from __future__ import annotations

import argparse
import json
import re
import unicodedata
from datetime import datetime, timedelta
from pathlib import Path

from cli.controller_access import open_controller
from cli.errors import CliError


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = subparsers.add_parser("nodes", help="add, list, re-enrol or revoke speaker nodes")
    parser.add_argument("--config", type=Path, help="controller TOML settings file")
    sub = parser.add_subparsers(dest="nodes_command", required=True)
    add = sub.add_parser("add", help="create a node and print its one-time enrolment token")
    add.add_argument("--zone", required=True, help="home zone id (e.g. ban-dong-an)")
    add.add_argument("--name", required=True, help="human name, e.g. 'Loa nhà văn hóa Đồng An'")
    add.add_argument("--id", help="node id (default: derived from the name)")
    add.add_argument("--also", action="append", default=[], help="extra zone id (repeatable)")
    add.add_argument("--lat", type=float)
    add.add_argument("--lon", type=float)
    add.add_argument("--ttl", type=parse_ttl, default="72h", help=TTL_HELP)
    sub.add_parser("list", help="list nodes as JSON lines")
    token = sub.add_parser("token", help="issue a new enrolment token (re-install a node)")
    token.add_argument("node_id")
    token.add_argument("--ttl", type=parse_ttl, default="72h", help=TTL_HELP)
    revoke = sub.add_parser("revoke", help="revoke a node: its broker access ends at once")
    revoke.add_argument("node_id")
    parser.set_defaults(handler=run)


TTL_HELP = "token lifetime, e.g. 72h (default), 30m, 7d"
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_ttl(text: str) -> timedelta:
    """'72h' / '30m' / '7d' / '90s' -> timedelta (argparse type: a bad value exits 2)."""
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([smhd])\s*", text.lower())
    if match is None:
        raise argparse.ArgumentTypeError(f"not a duration: {text!r} (e.g. 72h, 30m, 7d)")
    return timedelta(seconds=float(match.group(1)) * _UNITS[match.group(2)])


def slugify(name: str) -> str:
    """'Loa nhà văn hóa Đồng An' -> 'loa-nha-van-hoa-dong-an' (ASCII, for topic levels)."""
    text = name.replace("Đ", "D").replace("đ", "d")
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:64].strip("-")


def _expiry(now: datetime, args: argparse.Namespace) -> dict[str, str]:
    return {"expires_at": (now + args.ttl).isoformat()}


def run(args: argparse.Namespace) -> int:
    from sqlalchemy import select

    from controller.db.models import Node
    from controller.services import provisioning
    from protocol.errors import InvalidMessage
    from protocol.topics import check_slug

    ctl = open_controller(args.config)
    now = ctl.clock.now()
    try:
        with ctl.sessions.begin() as session:
            if args.nodes_command == "add":
                node_id = check_slug(args.id or slugify(args.name))
                _, token = provisioning.create_node(
                    session,
                    node_id=node_id,
                    name=args.name,
                    zone_id=args.zone,
                    now=now,
                    extra_zone_ids=args.also,
                    lat=args.lat,
                    lon=args.lon,
                    identity=ctl.identity().pins,
                    ttl=args.ttl,
                )
                print(json.dumps({"node_id": node_id, "enrol_token": token, **_expiry(now, args)}))
            elif args.nodes_command == "token":
                token = provisioning.new_enrolment_token(
                    session, args.node_id, now=now, identity=ctl.identity().pins, ttl=args.ttl
                )
                print(json.dumps({"node_id": args.node_id, "enrol_token": token,
                                  **_expiry(now, args)}))  # fmt: skip
            elif args.nodes_command == "revoke":
                provisioning.revoke(session, args.node_id, now)
                print(json.dumps({"node_id": args.node_id, "revoked": True}))
            else:
                for node in session.scalars(select(Node).order_by(Node.id)):
                    print(
                        json.dumps(
                            {
                                "id": node.id,
                                "name": node.name,
                                "zone_id": node.zone_id,
                                "online": node.online,
                                "revoked": node.revoked_at is not None,
                                "enrolled": node.mqtt_password_hash is not None,
                            },
                            ensure_ascii=False,
                        )
                    )
    except (provisioning.ProvisioningError, InvalidMessage) as exc:
        raise CliError(str(exc)) from None
    if args.nodes_command == "revoke":
        ctl.sync_broker_access()
    ctl.engine.dispose()
    return 0

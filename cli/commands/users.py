"""``loa users``: add and list panel users from the controller's machine (works offline).

``loa users add --username lan --role operator --communes xa-dong-tien`` asks for the
password on the terminal (or reads ``--password-stdin``), never from the command line
where the shell history would keep it.
"""

from __future__ import annotations

import argparse
import getpass
import json
import sys
from pathlib import Path

from cli.controller_access import open_controller
from cli.errors import CliError


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = subparsers.add_parser("users", help="add, list, disable panel users")
    parser.add_argument("--config", type=Path, help="controller TOML settings file")
    sub = parser.add_subparsers(dest="users_command", required=True)
    add = sub.add_parser("add", help="create a user (password asked on the terminal)")
    add.add_argument("--username", required=True)
    add.add_argument("--role", required=True, choices=["admin", "approver", "operator", "viewer"])
    add.add_argument(
        "--communes", default="", help="comma-separated commune zone ids (e.g. xa-dong-tien)"
    )
    add.add_argument("--all-communes", action="store_true", help="scope: every commune")
    add.add_argument("--full-name", default="")
    add.add_argument("--password-stdin", action="store_true", help="read the password from stdin")
    add.add_argument(
        "--no-change", action="store_true", help="do not force a password change at first login"
    )
    sub.add_parser("list", help="list users as JSON lines")
    disable = sub.add_parser("disable", help="disable a user (sessions end at once)")
    disable.add_argument("username")
    parser.set_defaults(handler=run)


def _password(args: argparse.Namespace) -> str:
    if args.password_stdin:
        return sys.stdin.readline().rstrip("\n")
    first = getpass.getpass("Password: ")
    if first != getpass.getpass("Again: "):
        raise CliError("the two passwords differ")
    return first


def run(args: argparse.Namespace) -> int:
    from sqlalchemy import select

    from controller.auth.passwords import WeakPassword
    from controller.auth.users import UserError, create_user
    from controller.db.models import User

    ctl = open_controller(args.config)
    now = ctl.clock.now()
    try:
        with ctl.sessions.begin() as session:
            if args.users_command == "add":
                user = create_user(
                    session,
                    username=args.username,
                    password=_password(args),
                    role=args.role,
                    now=now,
                    communes=[c for c in args.communes.split(",") if c.strip()],
                    all_communes=args.all_communes,
                    full_name=args.full_name,
                    must_change_password=not args.no_change,
                )
                print(json.dumps({"username": user.username, "role": user.role}))
            elif args.users_command == "disable":
                found = session.scalar(select(User).where(User.username == args.username))
                if found is None:
                    raise UserError(f"no user {args.username!r}")
                found.disabled_at = now
                print(json.dumps({"username": found.username, "disabled": True}))
            else:
                for u in session.scalars(select(User).order_by(User.username)):
                    print(
                        json.dumps(
                            {
                                "username": u.username,
                                "role": u.role,
                                "communes": u.communes,
                                "all_communes": u.all_communes,
                                "disabled": u.disabled_at is not None,
                            },
                            ensure_ascii=False,
                        )
                    )
    except (UserError, WeakPassword) as exc:
        raise CliError(str(exc)) from None
    finally:
        ctl.engine.dispose()
    return 0

"""``loa emergency``: issue or cancel an emergency broadcast on the running controller.

It talks to the controller's HTTP API (so the controller signs and publishes, and the audit
log names the caller): ``--url`` (default ``$LOA_API_URL`` or http://127.0.0.1:8080) and the
bearer token from ``$LOA_API_TOKEN``. Prints the controller's JSON answer.
"""

from __future__ import annotations

import argparse
from datetime import datetime
from typing import TYPE_CHECKING, Any

from cli.api_client import call_and_print, default_url
from cli.errors import CliError

if TYPE_CHECKING:
    import httpx


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = subparsers.add_parser(
        "emergency",
        help="issue (or --cancel) an emergency broadcast: preempts every speaker in the zones",
    )
    parser.add_argument("--url", default=default_url())
    parser.add_argument("--zone", action="append", default=[], help="zone id (repeatable)")
    parser.add_argument("--text", help="what to read (Vietnamese), rendered to speech")
    parser.add_argument("--media", metavar="SHA256", help="an uploaded recording instead of text")
    parser.add_argument("--title", help="short title shown to operators")
    parser.add_argument("--repeat", type=int, default=1, help="number of plays (default 1)")
    parser.add_argument("--every", type=float, metavar="MIN", help="play again every MIN minutes")
    parser.add_argument(
        "--until", metavar="ISO", help="end time with offset, e.g. 2026-10-28T18:00+07:00"
    )
    parser.add_argument(
        "--volume", type=int, help="volume 0-100 (default: agent's emergency level)"
    )
    parser.add_argument("--cancel", metavar="ID", help="cancel this emergency instead")
    parser.add_argument("--show", metavar="ID", help="print this emergency with per-node status")
    parser.set_defaults(handler=run)


def build_body(args: argparse.Namespace) -> dict[str, Any]:
    """The POST body, checked locally first so a typo never reaches the speakers."""
    if not args.zone:
        raise CliError("give at least one --zone")
    if (args.text is None) == (args.media is None):
        raise CliError("give exactly one of --text or --media")
    body: dict[str, Any] = {"zones": args.zone, "repeat": args.repeat}
    if args.text is not None:
        body["text"] = args.text
    if args.media is not None:
        body["media_sha256"] = args.media
    if args.until is not None:
        try:
            until = datetime.fromisoformat(args.until)
        except ValueError:
            raise CliError(f"--until {args.until!r} is not an ISO date-time") from None
        if until.tzinfo is None:
            raise CliError("--until needs its UTC offset, e.g. 2026-10-28T18:00+07:00")
        body["until"] = until.isoformat()
    for key, value in (("title", args.title), ("every_min", args.every), ("volume", args.volume)):
        if value is not None:
            body[key] = value
    return body


def run(args: argparse.Namespace) -> int:
    def send(client: httpx.Client) -> httpx.Response:
        if args.cancel:
            return client.post(f"/api/v1/emergencies/{args.cancel}/cancel")
        if args.show:
            return client.get(f"/api/v1/emergencies/{args.show}")
        return client.post("/api/v1/emergencies", json=build_body(args))

    return call_and_print(args.url, send)

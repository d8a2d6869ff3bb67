"""Turning a node page's control form into a command (volume, amp, stop, play now).

Only the form's vocabulary lives here (``amp_on`` is ``power`` with ``on=True``); the command
is built and validated by the service (``services.commands``), exactly as for the API.
"""

from __future__ import annotations

from dataclasses import dataclass

from controller.services.commands import (
    CommandRequestError,
    IssuedCommand,
    issue_command,
    play_now_item,
)
from controller.services.container import Controller
from protocol.models import CommandAction

ACTIONS = ("volume", "amp_on", "amp_off", "stop", "play_now")


class ControlError(ValueError):
    """The form asked for something that is not a command."""


@dataclass(frozen=True)
class ControlRequest:
    action: str
    volume: int | None = None
    text: str = ""


def send_control(
    ctl: Controller, node_id: str, req: ControlRequest, username: str
) -> IssuedCommand:
    try:
        return _send(ctl, node_id, req, username)
    except CommandRequestError as exc:
        raise ControlError(str(exc)) from None


def _send(ctl: Controller, node_id: str, req: ControlRequest, username: str) -> IssuedCommand:
    if req.action == "volume":
        return issue_command(
            ctl,
            action=CommandAction.VOLUME,
            node_id=node_id,
            volume=req.volume,
            created_by=username,
        )
    if req.action in ("amp_on", "amp_off"):
        return issue_command(
            ctl,
            action=CommandAction.POWER,
            node_id=node_id,
            on=req.action == "amp_on",
            created_by=username,
        )
    if req.action == "stop":
        return issue_command(ctl, action=CommandAction.STOP, node_id=node_id, created_by=username)
    if req.action == "play_now":
        if not req.text.strip():
            raise ControlError("text is empty")
        item = play_now_item(ctl, req.text, node_id)
        return issue_command(
            ctl, action=CommandAction.PLAY_NOW, node_id=node_id, item=item, created_by=username
        )
    raise ControlError(f"unknown action {req.action!r}")

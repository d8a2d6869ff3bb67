"""Turning a node page's control form into a signed command (volume, amp, stop, play now).

"Play now" renders the text to speech first (cached by content), then sends the item in
the command, so the agent preempts what it plays without waiting for a playlist.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from controller.services.announcements import ensure_media
from controller.services.commands import IssuedCommand, issue_command
from controller.services.container import Controller
from controller.services.pronunciation import entries_for_targets
from protocol.models import CommandAction, ItemKind, MediaRef, PlaylistItem, Priority

ACTIONS = ("volume", "amp_on", "amp_off", "stop", "play_now")


class ControlError(ValueError):
    """The form asked for something that is not a valid command."""


@dataclass(frozen=True)
class ControlRequest:
    action: str
    volume: int | None = None
    text: str = ""


def play_now_item(ctl: Controller, text: str, node_id: str | None = None) -> PlaylistItem:
    with ctl.sessions() as session:
        entries = entries_for_targets(session, (), [node_id] if node_id else [])
    rendered = ctl.renderer.render_text(text, entries=entries)
    now = ctl.clock.now()
    with ctl.sessions.begin() as session:
        ensure_media(session, rendered, "tts", now)
    return PlaylistItem(
        id=f"now-{uuid.uuid4().hex[:12]}",
        kind=ItemKind.TTS,
        start=now,
        duration_s=rendered.duration_s,
        priority=Priority.EMERGENCY,
        title=text.strip().splitlines()[0][:120],
        media=MediaRef(
            sha256=rendered.sha256,
            ext=rendered.ext,
            size=rendered.size,
            duration_s=rendered.duration_s,
        ),
    )


def send_control(
    ctl: Controller, node_id: str, req: ControlRequest, username: str
) -> IssuedCommand:
    if req.action == "volume":
        if req.volume is None or not 0 <= req.volume <= 100:
            raise ControlError("volume must be 0-100")
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

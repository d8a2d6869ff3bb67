"""Agent event details ("nothing to stop", "late by 3.2s") as sentences people read.

The agent reports short English technical notes joined by "; ". Each known note becomes an
i18n message (numbers and named commands filled in); an unknown one stays as it is, so a
new agent message is visible rather than lost.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from controller.panel.queries.item_names import Names

Translate = Callable[..., str]

_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"nothing to stop"), "detail.nothing_to_stop"),
    (re.compile(r"removed from playlist"), "detail.removed"),
    (re.compile(r"slot passed without playing"), "detail.slot_passed"),
    (re.compile(r"interrupted: agent stopped while playing"), "detail.agent_stopped"),
    (re.compile(r"interrupted: command (?P<command>\S+)"), "detail.interrupted_by"),
    (re.compile(r"stopped by (?P<command>\S+)"), "detail.stopped_by"),
    (re.compile(r"late by (?P<seconds>[\d.]+)s"), "detail.late"),
    (re.compile(r"joined at \+(?P<seconds>[\d.]+)s"), "detail.joined"),
    (re.compile(r".* not downloaded and verified by its start.*"), "detail.not_downloaded"),
    (re.compile(r"no stream"), "detail.no_stream"),
    (re.compile(r"player failed: (?P<reason>.*)"), "detail.player_failed"),
)
ACTIONS = (
    "play_now",
    "stop",
    "volume",
    "power",
    "sync",
    "reboot",
    "emergency",
    "cancel_emergency",
    "update",
)


def action_label(t: Translate, action: str) -> str:
    return t(f"action.{action}") if action in ACTIONS else action


def human_detail(t: Translate, detail: str, names: Names) -> str:
    """The detail in the page's language; unknown notes are kept verbatim."""
    return "; ".join(_one(t, part.strip(), names) for part in detail.split(";") if part.strip())


def _one(t: Translate, note: str, names: Names) -> str:
    if note in ACTIONS:
        return t("detail.command", action=action_label(t, note))
    for pattern, key in _PATTERNS:
        match = pattern.fullmatch(note)
        if match is None:
            continue
        values = match.groupdict()
        if "command" in values:
            action = names.commands.get(values["command"])
            values["command"] = action_label(t, action) if action else t("detail.a_command")
        if "seconds" in values:
            values["seconds"] = f"{float(values['seconds']):.0f}"
        return t(key, **values)
    return note

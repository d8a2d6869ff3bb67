"""What each node was meant to play in a period, keyed the way the playback log names items.

A playlist item id is ``ann-7@20261103T000000Z#1`` (entry, occurrence, repeat index; a split
piece adds ``+…ms``); play-now and emergency items are ``now-…`` / ``emg-…``. The *occurrence
key* drops the repeat index, so an announcement repeated three times in one occurrence is one
planned item, and a daily announcement is one planned item per day. Play-now items and
emergencies are planned for every node their command reached: they are counted on both
sides of "played of planned", never only as played.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from controller.db.models import Announcement, CommandDelivery, Node
from controller.db.models import Command as CommandRow
from controller.services.multilingual import entry_languages
from controller.services.schedule_store import ANNOUNCEMENT_PREFIX, announcement_entry
from controller.services.zones import ZoneTree, node_zone_ids
from protocol.models import CommandAction
from schedules.recurrence import occurrences

AD_HOC_ACTIONS = (CommandAction.PLAY_NOW.value, CommandAction.EMERGENCY.value)
REPORTED_PREFIXES = ("ann-", "now-", "emg-")
"""Items the report is about (programme relays and pauses are not announcements)."""


def occurrence_key(item_id: str) -> str:
    """``ann-7@20261103T000000Z#1+30000ms`` → ``ann-7@20261103T000000Z``.

    A multilingual airing (``ann-7-vi-tay@…``) is the same occurrence of ``ann-7``.
    """
    key = item_id.split("#", 1)[0]
    entry, at, stamp = key.partition("@")
    parsed = entry_languages(entry)
    if parsed is not None and parsed[1]:
        return f"{ANNOUNCEMENT_PREFIX}{parsed[0]}{at}{stamp}"
    return key


def item_languages(item_id: str) -> tuple[str, ...]:
    """The languages an item aired in (``("vi", "tay")``); Vietnamese for a plain one."""
    parsed = entry_languages(item_id.split("@", 1)[0])
    return parsed[1] if parsed is not None and parsed[1] else ("vi",)


def bulletin_key(item_id: str) -> str:
    """What was aired, whatever the occurrence: ``ann-7@…#1`` → ``ann-7``; ``now-ab12`` stays."""
    return occurrence_key(item_id).split("@", 1)[0]


@dataclass(frozen=True)
class AdHocItem:
    """A play-now or emergency item as its signed command carried it."""

    title: str
    duration_s: float


@dataclass
class Plan:
    """Per node: occurrence keys planned from the calendar and those sent ad hoc
    (``items``: what each ad-hoc key was)."""

    scheduled: dict[str, set[str]]
    ad_hoc: dict[str, set[str]]
    items: dict[str, AdHocItem] = field(default_factory=dict)

    def keys(self, node_id: str) -> set[str]:
        return self.scheduled.get(node_id, set()) | self.ad_hoc.get(node_id, set())


def plan(
    session: Session, tree: ZoneTree, nodes: list[Node], start: datetime, end: datetime
) -> Plan:
    """Occurrences of announcements and ad-hoc items that fall in ``[start, end)``."""
    wanted = {n.id for n in nodes}
    scheduled: dict[str, set[str]] = defaultdict(set)
    zones_of = {n.id: node_zone_ids(session, tree, n) for n in nodes}
    for ann in session.scalars(select(Announcement).where(Announcement.start < end)):
        try:
            entry = announcement_entry(ann)
        except ValidationError:
            continue  # an announcement the calendar cannot read was never planned either
        assert entry.rule is not None
        starts = [
            s
            for s in occurrences(entry.rule, start, end)
            if entry.valid_at(s) and (ann.cancelled_at is None or s < ann.cancelled_at)
        ]
        if not starts:
            continue
        reached = [nid for nid in wanted if entry.targets.reach(nid, zones_of[nid])]
        for s in starts:
            key = f"{entry.id}@{s:%Y%m%dT%H%M%SZ}"
            for nid in reached:
                scheduled[nid].add(key)
    ad_hoc: dict[str, set[str]] = defaultdict(set)
    items: dict[str, AdHocItem] = {}
    sent = session.execute(
        select(CommandRow.payload, CommandDelivery.node_id)
        .join(CommandDelivery, CommandDelivery.command_id == CommandRow.id)
        .where(
            CommandRow.action.in_(AD_HOC_ACTIONS),
            CommandRow.issued_at >= start,
            CommandRow.issued_at < end,
            CommandDelivery.node_id.in_(sorted(wanted)),
        )
    ).all()
    for payload, node_id in sent:
        found = _item(payload)
        if found:
            key = occurrence_key(found[0])
            ad_hoc[node_id].add(key)
            items[key] = found[1]
    return Plan(dict(scheduled), dict(ad_hoc), items)


def _item(payload: str) -> tuple[str, AdHocItem] | None:
    """The item inside a stored signed command envelope (None if it carries none)."""
    try:
        item = json.loads(payload)["payload"]["item"]
        return str(item["id"]), AdHocItem(str(item.get("title") or ""), float(item["duration_s"]))
    except (ValueError, KeyError, TypeError, AttributeError):
        return None

"""Names people read for what the playback log stores as ids.

The log keeps ``ann-7@20261103T000000Z#0``, ``emg-<hex>``, ``now-<hex>``, command hashes and
node ids (they are what the agent reports). One page of rows is resolved in a handful of
queries — announcements, programme entries, emergencies, commands, nodes and their villages
— so the panel and the CSV show titles and names, with the ids kept as secondary text.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from controller.db.models import Announcement, Emergency, Node, ScheduleEntryRow, Zone
from controller.db.models import Command as CommandRow
from controller.services.multilingual import entry_languages

PLAY_NOW_PREFIX = "now-"
EMERGENCY_PREFIX = "emg-"


@dataclass(frozen=True)
class NodeName:
    name: str
    village: str


@dataclass(frozen=True)
class ItemName:
    title: str
    occurrence: datetime | None = None
    """When a scheduled occurrence was meant to start (None for ad-hoc items)."""
    kind: str = "announcement"
    """``announcement``, ``programme``, ``play_now`` or ``emergency`` (an i18n key part)."""
    author: str = ""
    approver: str = ""
    """Who wrote it and who approved it (approval before air; "" when none was needed)."""


@dataclass
class Names:
    """Resolved names; lookups fall back to None so the caller shows the id instead."""

    nodes: dict[str, NodeName] = field(default_factory=dict)
    items: dict[str, ItemName] = field(default_factory=dict)
    commands: dict[str, str] = field(default_factory=dict)
    """command id → action (``stop``, ``emergency`` …)."""

    def item(self, item_id: str | None) -> ItemName | None:
        return self.items.get(item_id) if item_id else None

    def node(self, node_id: str) -> NodeName | None:
        return self.nodes.get(node_id)


def entry_and_occurrence(item_id: str) -> tuple[str, datetime | None]:
    """``ann-7@20261103T000000Z#0+1500ms`` → (``ann-7``, 2026-11-03 00:00 UTC)."""
    entry, _, rest = item_id.partition("@")
    stamp = rest.split("#", 1)[0]
    try:
        when = datetime.strptime(stamp, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC) if stamp else None
    except ValueError:
        when = None
    return entry, when


def resolve(
    session: Session,
    node_ids: Iterable[str],
    item_ids: Iterable[str | None],
    command_ids: Iterable[str | None],
) -> Names:
    names = Names()
    wanted_nodes = sorted(set(node_ids))
    if wanted_nodes:
        node_rows = session.execute(
            select(Node.id, Node.name, Zone.name)
            .join(Zone, Zone.id == Node.zone_id)
            .where(Node.id.in_(wanted_nodes))
        ).all()
        names.nodes = {nid: NodeName(name, village) for nid, name, village in node_rows}
    items = sorted({i for i in item_ids if i})
    _scheduled(session, names, items)
    _ad_hoc(session, names, items)
    commands = sorted({c for c in command_ids if c})
    if commands:
        rows = session.execute(
            select(CommandRow.id, CommandRow.action).where(CommandRow.id.in_(commands))
        ).all()
        names.commands = {cid: action for cid, action in rows}
    return names


def _scheduled(session: Session, names: Names, items: list[str]) -> None:
    by_entry: dict[str, list[str]] = {}
    for item_id in items:
        if not item_id.startswith((PLAY_NOW_PREFIX, EMERGENCY_PREFIX)):
            by_entry.setdefault(entry_and_occurrence(item_id)[0], []).append(item_id)
    # ann-7, or ann-7-vi-tay: the same announcement aired in Vietnamese then Tày
    ann_ids: dict[int, list[tuple[str, tuple[str, ...]]]] = {}
    for e in by_entry:
        parsed = entry_languages(e)
        if parsed is not None:
            ann_ids.setdefault(parsed[0], []).append((e, parsed[1]))
    titles: dict[str, tuple[str, str]] = {}
    people: dict[str, tuple[str, str]] = {}
    if ann_ids:
        for ann in session.scalars(select(Announcement).where(Announcement.id.in_(ann_ids))):
            text_line = (ann.text or "").strip().split("\n", 1)[0][:120]
            for entry, languages in ann_ids[ann.id]:
                title = ann.title.strip() or text_line
                if languages:
                    title += f" [{' → '.join(languages)}]"
                titles[entry] = (title, "announcement")
                people[entry] = (ann.created_by or "", ann.approved_by or "")
    others = [e for e in by_entry if e not in titles]
    if others:
        rows = session.execute(
            select(ScheduleEntryRow.id, ScheduleEntryRow.title).where(
                ScheduleEntryRow.id.in_(others)
            )
        ).all()
        titles.update({eid: (title, "programme") for eid, title in rows})
    for entry, ids in by_entry.items():
        if entry in titles:
            title, kind = titles[entry]
            author, approver = people.get(entry, ("", ""))
            for item_id in ids:
                when = entry_and_occurrence(item_id)[1]
                names.items[item_id] = ItemName(title, when, kind, author, approver)


def _ad_hoc(session: Session, names: Names, items: list[str]) -> None:
    emergencies = [i for i in items if i.startswith(EMERGENCY_PREFIX)]
    if emergencies:
        rows = session.execute(
            select(Emergency.item_id, Emergency.title, Emergency.created_by).where(
                Emergency.item_id.in_(emergencies)
            )
        ).all()
        names.items.update(
            {i: ItemName(title, None, "emergency", by or "") for i, title, by in rows}
        )
    play_now = [i for i in items if i.startswith(PLAY_NOW_PREFIX)]
    if play_now:
        # The title travels only inside the signed command: look the few on this page up.
        query = select(CommandRow.payload).where(
            CommandRow.action == "play_now",
            or_(*(CommandRow.payload.contains(f'"id":"{i}"') for i in play_now)),
        )
        for payload in session.scalars(query):
            try:
                item = json.loads(payload)["payload"]["item"]
                names.items[str(item["id"])] = ItemName(str(item["title"]), None, "play_now")
            except (ValueError, KeyError, TypeError):
                continue

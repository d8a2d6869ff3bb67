"""The operators' pronunciation dictionary: entries scoped to a province or commune zone.

A text sent to some zones/nodes is read with the entries of every zone above its targets
(a commune's own entry wins over its province's for the same written form). Entries apply
at the next render; the render cache is keyed by the entries a text uses, so an edit
re-renders exactly the texts it changes.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from audio.normalise.lexicon import check_entry
from controller.db.models import Node, Pronunciation, Zone
from controller.services.zones import ZoneTree, node_zone_ids


class PronunciationError(ValueError):
    """A refused entry; ``reason`` is shown to the operator."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def entries_for_zones(session: Session, zone_ids: Iterable[str]) -> dict[str, str]:
    """Written -> spoken for texts sent to ``zone_ids`` (deeper zones override)."""
    tree = ZoneTree.load(session)
    depth: dict[str, int] = {}
    for zone in zone_ids:
        chain = tree.ancestors_and_self(zone)
        for level, ancestor in enumerate(reversed(chain)):
            depth[ancestor] = max(depth.get(ancestor, 0), level)
    if not depth:
        return {}
    rows = session.scalars(select(Pronunciation).where(Pronunciation.scope_zone_id.in_(depth)))
    ordered = sorted(rows, key=lambda r: (depth[r.scope_zone_id], r.scope_zone_id, r.written))
    return {r.written: r.spoken for r in ordered}


def entries_for_targets(
    session: Session, zone_ids: Iterable[str], node_ids: Iterable[str] = ()
) -> dict[str, str]:
    """As ``entries_for_zones``, with nodes standing for the zones they are in."""
    zones = set(zone_ids)
    nodes = list(node_ids)
    if nodes:
        tree = ZoneTree.load(session)
        for node in session.scalars(select(Node).where(Node.id.in_(nodes))):
            zones |= node_zone_ids(session, tree, node)
    return entries_for_zones(session, zones)


def _checked(session: Session, written: str, spoken: str, zone_id: str) -> str:
    reason = check_entry(written, spoken)
    if reason is not None:
        raise PronunciationError(reason)
    if session.get(Zone, zone_id) is None:
        raise PronunciationError(f"unknown zone {zone_id!r}")
    return " ".join(spoken.split())


def add_entry(
    session: Session, *, written: str, spoken: str, zone_id: str, who: str | None, now: datetime
) -> Pronunciation:
    spoken = _checked(session, written, spoken, zone_id)
    clash = session.scalars(
        select(Pronunciation).where(
            Pronunciation.scope_zone_id == zone_id, Pronunciation.written == written
        )
    ).first()
    if clash is not None:
        raise PronunciationError(f"{written!r} already has a reading in this zone")
    row = Pronunciation(
        written=written,
        spoken=spoken,
        scope_zone_id=zone_id,
        created_by=who,
        created_at=now,
        updated_by=who,
        updated_at=now,
    )
    session.add(row)
    session.flush()
    return row


def update_entry(
    session: Session, row: Pronunciation, *, spoken: str, who: str | None, now: datetime
) -> Pronunciation:
    row.spoken = _checked(session, row.written, spoken, row.scope_zone_id)
    row.updated_by = who
    row.updated_at = now
    return row


def upsert_entries(
    session: Session, entries: Iterable[tuple[str, str, str]], who: str | None, now: datetime
) -> int:
    """(zone id, written, spoken) rows added or updated (YAML import); all checked first."""
    rows = list(entries)
    for zone_id, written, spoken in rows:
        _checked(session, written, spoken, zone_id)
    for zone_id, written, spoken in rows:
        found = session.scalars(
            select(Pronunciation).where(
                Pronunciation.scope_zone_id == zone_id, Pronunciation.written == written
            )
        ).first()
        if found is None:
            add_entry(session, written=written, spoken=spoken, zone_id=zone_id, who=who, now=now)
        else:
            update_entry(session, found, spoken=spoken, who=who, now=now)
    return len(rows)


def all_entries(session: Session) -> list[Pronunciation]:
    return list(
        session.scalars(
            select(Pronunciation).order_by(Pronunciation.scope_zone_id, Pronunciation.written)
        )
    )

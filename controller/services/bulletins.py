"""Bulletins from above a commune: publish to communes at a level, the commune inbox
(schedule or decline), automatic placement of priority bulletins, and the sender's view.

* **normal**: each target commune gets a ``received`` delivery; its operator schedules it
  (an ``origin="upstream"`` announcement, into a programme slot or at a time) or declines
  it with a reason;
* **priority**: placed at once at the head of the next programme slot (or "now" when none
  starts within ``priority_slot_window_h``), ``scheduled`` without the commune's action;
* **emergency**: the existing emergency path (``issue_emergency``); nothing to decline.

Upstream content was checked where it was written, so its announcements are
``not_required`` for the commune's own approval (documented in docs/bulletins.md).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from pydantic import BaseModel
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from controller.auth.scope import Scope
from controller.db.models import (
    Announcement,
    AnnouncementTarget,
    Bulletin,
    BulletinDelivery,
    Emergency,
    Media,
    PlaybackEvent,
    ProgrammeSlotRow,
    Zone,
)
from controller.services.announcements import ensure_media
from controller.services.bulletin_rules import (
    COMMUNE_KINDS,
    LEVELS,
    BulletinRuleError,
    next_rank,
    place_priority,
    reorder_priority,
)
from controller.services.emergency import EmergencyRequest, issue_emergency
from controller.services.pronunciation import entries_for_zones
from controller.services.schedule_store import slot_model
from controller.services.zones import ZoneTree, nodes_reached
from protocol.models import EventKind, ItemKind, Priority
from schedules import occurrences

if TYPE_CHECKING:
    from controller.services.container import Controller


class BulletinError(ValueError):
    """A bulletin request or inbox action that cannot be done, with the reason to show."""


class BulletinNotFound(LookupError):
    """No such bulletin delivery (or not one the caller may see)."""


class NotASender(PermissionError):
    """The caller's scope is not above every target commune (a commune cannot send itself
    upstream bulletins), or a target lies outside the caller's scope."""


@dataclass(frozen=True)
class BulletinRequest:
    level: str
    communes: list[str]
    text: str | None = None
    media_sha256: str | None = None
    title: str | None = None
    source_zone_id: str | None = None
    source: str = "user"
    upstream_alert_id: int | None = None


class DeliveryView(BaseModel):
    """One commune's answer to a bulletin, as the sender and the commune see it (also the
    JSON API's answer)."""

    bulletin_id: int
    zone_id: str
    zone_name: str
    state: str
    announcement_id: int | None
    scheduled_for: datetime | None
    slot_id: str | None
    decline_reason: str | None
    acted_by: str | None
    aired_on: int
    speakers: int
    updated_at: datetime


def check_communes(session: Session, zone_ids: list[str]) -> list[str]:
    """Distinct commune ids in request order; raises naming what is not a commune."""
    wanted = list(dict.fromkeys(zone_ids))
    if not wanted:
        raise BulletinError("communes: give at least one target commune")
    query = select(Zone.id, Zone.kind).where(Zone.id.in_(wanted))
    kinds = {zone_id: kind for zone_id, kind in session.execute(query)}
    unknown = [z for z in wanted if z not in kinds]
    if unknown:
        raise BulletinError(f"communes: unknown zone {', '.join(unknown)}")
    not_communes = [z for z in wanted if kinds[z] not in COMMUNE_KINDS]
    if not_communes:
        raise BulletinError(f"communes: not a commune: {', '.join(not_communes)}")
    return wanted


def is_above(tree: ZoneTree, upper: str, commune: str) -> bool:
    """``upper`` is a strict ancestor of ``commune`` (a province above its communes)."""
    return upper != commune and upper in tree.ancestors_and_self(commune)


def sender_request(
    session: Session,
    scope: Scope,
    own_zones: Iterable[str],
    *,
    level: str,
    communes: list[str],
    text: str | None,
    media_sha256: str | None,
    title: str | None,
) -> BulletinRequest:
    """Check who sends what to whom (the API and the panel form share it): the targets are
    communes (BulletinError), in the caller's scope and below one of the caller's zones
    (NotASender); the request names that zone as the source (None: all-communes caller)."""
    targets = check_communes(session, communes)
    if not all(scope.allows_zone(c) for c in targets):
        raise NotASender("a commune is outside your scope")
    source = None
    if not scope.everything:
        tree = ZoneTree.load(session)
        source = next(
            (
                z
                for z in sorted(own_zones)
                if z in tree.parents and all(is_above(tree, z, c) for c in targets)
            ),
            None,
        )
        if source is None:
            raise NotASender(
                "bulletins are sent from a zone above the target communes (province or district)"
            )
    return BulletinRequest(
        level=level,
        communes=targets,
        text=text,
        media_sha256=media_sha256,
        title=title,
        source_zone_id=source,
    )


def sendable_communes(
    session: Session, scope: Scope, own_zones: Iterable[str]
) -> list[tuple[str, str]]:
    """(id, name) of every commune the caller may send bulletins to, by name: those in
    scope and strictly below one of the caller's zones (all, for an all-communes caller)."""
    tree = ZoneTree.load(session)
    mine = sorted(own_zones)
    found = []
    for zone in session.scalars(select(Zone).where(Zone.kind.in_(COMMUNE_KINDS))):
        if not scope.allows_zone(zone.id):
            continue
        if scope.everything or any(is_above(tree, z, zone.id) for z in mine):
            found.append((zone.id, zone.name))
    return sorted(found, key=lambda pair: (pair[1], pair[0]))


def publish_bulletin(ctl: Controller, req: BulletinRequest, created_by: str | None) -> int:
    """Store the bulletin and its deliveries; place priority ones, air emergency ones."""
    if req.level not in LEVELS:
        raise BulletinError(f"level: one of {', '.join(LEVELS)}")
    if bool(req.text and req.text.strip()) == bool(req.media_sha256):
        raise BulletinError("give either text (spoken) or media_sha256 (a recording)")
    now = ctl.clock.now()
    with ctl.sessions() as session:
        communes = check_communes(session, req.communes)
    emergency_id = None
    if req.level == "emergency":
        view = issue_emergency(
            ctl,
            EmergencyRequest(
                zone_ids=communes,
                text=req.text,
                media_sha256=req.media_sha256,
                title=req.title,
                source="bulletin",
            ),
            created_by,
        )
        emergency_id = view.row.id
    with ctl.sessions() as session:
        media = _media(ctl, session, req, communes, now)
        title = req.title or (req.text or "").strip().split("\n")[0][:120] or "Bản tin"
        bulletin = Bulletin(
            level=req.level,
            title=title[:500],
            text=req.text,
            media_sha256=media.sha256,
            duration_s=media.duration_s,
            source=req.source,
            upstream_alert_id=req.upstream_alert_id,
            emergency_id=emergency_id,
            source_zone_id=req.source_zone_id,
            created_by=created_by,
            created_at=now,
            deliveries=[
                BulletinDelivery(
                    zone_id=z,
                    state="scheduled" if req.level == "emergency" else "received",
                    updated_at=now,
                )
                for z in communes
            ],
        )
        session.add(bulletin)
        session.flush()
        if req.level == "priority":
            for delivery in bulletin.deliveries:
                _place_priority(ctl, session, bulletin, delivery, now)
        session.commit()
        bulletin_id = bulletin.id
    if req.level == "priority":
        ctl.publisher.refresh()
    return bulletin_id


def _media(
    ctl: Controller, session: Session, req: BulletinRequest, communes: list[str], now: datetime
) -> Media:
    if req.media_sha256:
        media = session.get(Media, req.media_sha256)
        if media is None:
            raise BulletinError(f"media_sha256: no uploaded audio {req.media_sha256}")
        return media
    assert req.text is not None
    rendered = ctl.renderer.render_text(req.text, entries=entries_for_zones(session, communes))
    media = ensure_media(session, rendered, "tts", now)
    session.flush()  # the bulletin row names it: insert the media first
    return media


def slot_runs(session: Session, now: datetime, window: timedelta) -> list[tuple[str, datetime]]:
    """Every programme slot run starting in ``[now, now + window)``."""
    runs: list[tuple[str, datetime]] = []
    for row in session.scalars(select(ProgrammeSlotRow)):
        slot = slot_model(row)
        runs.extend((slot.id, start) for start in occurrences(slot.rule, now, now + window))
    return runs


def _place_priority(
    ctl: Controller,
    session: Session,
    bulletin: Bulletin,
    delivery: BulletinDelivery,
    now: datetime,
) -> None:
    window = timedelta(hours=ctl.settings.priority_slot_window_h)
    lead = timedelta(seconds=ctl.settings.immediate_lead_s)
    placement = place_priority(slot_runs(session, now, window), now, window, lead)
    rank = None
    if placement.slot_id is not None:
        rank = next_rank(
            session.scalars(
                select(Announcement.slot_rank)
                .join(AnnouncementTarget)
                .where(
                    Announcement.slot_id == placement.slot_id,
                    Announcement.start == placement.start,
                    Announcement.cancelled_at.is_(None),
                    AnnouncementTarget.zone_id == delivery.zone_id,
                )
            )
        )
    ann = _announcement(bulletin, delivery.zone_id, placement.start, "system", now)
    ann.slot_id, ann.slot_rank = placement.slot_id, rank
    session.add(ann)
    session.flush()
    delivery.state, delivery.announcement_id, delivery.updated_at = "scheduled", ann.id, now


def _announcement(
    bulletin: Bulletin, zone_id: str, start: datetime, by: str | None, now: datetime
) -> Announcement:
    return Announcement(
        kind=ItemKind.TTS.value if bulletin.text else ItemKind.AUDIO.value,
        title=bulletin.title,
        text=bulletin.text,
        media_sha256=bulletin.media_sha256,
        duration_s=bulletin.duration_s,
        priority=int(Priority.ANNOUNCEMENT),
        start=start,
        created_at=now,
        created_by=by,
        level=bulletin.level,
        origin="upstream",
        approval="not_required",
        bulletin_id=bulletin.id,
        targets=[AnnouncementTarget(zone_id=zone_id)],
    )


def inbox_deliveries(
    session: Session, scope: Scope, state: str | None = None, limit: int = 500
) -> list[BulletinDelivery]:
    """Deliveries to the communes of ``scope``, newest bulletin first."""
    query = (
        select(BulletinDelivery)
        .join(Bulletin)
        .order_by(Bulletin.id.desc(), BulletinDelivery.zone_id)
        .limit(limit)
    )
    if not scope.everything:
        query = query.where(BulletinDelivery.zone_id.in_(scope.zone_ids))
    if state is not None:
        query = query.where(BulletinDelivery.state == state)
    return list(session.scalars(query))


def get_delivery(session: Session, bulletin_id: int, zone_id: str) -> BulletinDelivery:
    found = session.get(BulletinDelivery, (bulletin_id, zone_id))
    if found is None:
        raise BulletinNotFound(f"no bulletin {bulletin_id} for {zone_id}")
    return found


def schedule_delivery(
    ctl: Controller,
    session: Session,
    delivery: BulletinDelivery,
    *,
    slot_id: str | None,
    start: datetime | None,
    by: str,
) -> Announcement:
    """The commune operator's choice for a normal bulletin: a slot's next run, or a time."""
    now = ctl.clock.now()
    if delivery.state != "received":
        raise BulletinError(f"this bulletin is already {delivery.state} in this commune")
    bulletin = session.get_one(Bulletin, delivery.bulletin_id)
    if (slot_id is None) == (start is None):
        raise BulletinError("give either slot_id or start")
    if slot_id is not None:
        runs = [r for r in slot_runs(session, now, timedelta(days=8)) if r[0] == slot_id]
        if session.get(ProgrammeSlotRow, slot_id) is None:
            raise BulletinError(f"slot_id: no programme slot {slot_id!r}")
        lead = timedelta(seconds=ctl.settings.immediate_lead_s)
        future = sorted(s for _, s in runs if s >= now + lead)
        if not future:
            raise BulletinError(f"slot_id: {slot_id!r} has no run in the coming week")
        start = future[0]
    assert start is not None
    if start < now - timedelta(minutes=1):
        raise BulletinError("start is in the past")
    ann = _announcement(bulletin, delivery.zone_id, start, by, now)
    ann.slot_id = slot_id
    session.add(ann)
    session.flush()
    delivery.state, delivery.announcement_id = "scheduled", ann.id
    delivery.acted_by, delivery.updated_at = by, now
    return ann


def decline_delivery(
    ctl: Controller, delivery: BulletinDelivery, reason: str, by: str, level: str
) -> None:
    if level != "normal":
        raise BulletinError(f"a {level} bulletin cannot be declined")
    if delivery.state != "received":
        raise BulletinError(f"this bulletin is already {delivery.state} in this commune")
    if not reason.strip():
        raise BulletinError("reason: say why the commune declines it")
    delivery.state, delivery.decline_reason = "declined", reason.strip()[:2000]
    delivery.acted_by, delivery.updated_at = by, ctl.clock.now()


def _slot_run(session: Session, zone_id: str, slot_id: str, start: datetime) -> list[Announcement]:
    return list(
        session.scalars(
            select(Announcement)
            .join(AnnouncementTarget)
            .where(
                Announcement.slot_id == slot_id,
                Announcement.start == start,
                Announcement.cancelled_at.is_(None),
                AnnouncementTarget.zone_id == zone_id,
            )
        )
    )


def slot_head(session: Session, zone_id: str, slot_id: str, start: datetime) -> list[int]:
    """The priority items at the head of one slot run of a commune, in air order."""
    anns = [a for a in _slot_run(session, zone_id, slot_id, start) if a.slot_rank is not None]
    return [a.id for a in sorted(anns, key=lambda a: (a.slot_rank or 0, a.id))]


def reorder_slot_head(
    session: Session, zone_id: str, slot_id: str, start: datetime, wanted: list[int]
) -> None:
    """Operators reorder only the priority items at the head of one slot run."""
    anns = _slot_run(session, zone_id, slot_id, start)
    try:
        ranks = reorder_priority([(a.id, a.slot_rank is not None) for a in anns], wanted)
    except BulletinRuleError as exc:
        raise BulletinError(str(exc)) from None
    for ann in anns:
        if ann.id in ranks:
            ann.slot_rank = ranks[ann.id]


def delivery_views(
    session: Session, deliveries: Iterable[BulletinDelivery], tree: ZoneTree | None = None
) -> list[DeliveryView]:
    """Each delivery with when it is scheduled and how many speakers have aired it."""
    tree = tree or ZoneTree.load(session)
    rows = list(deliveries)
    names = {zone_id: name for zone_id, name in session.execute(select(Zone.id, Zone.name))}
    views = []
    for d in rows:
        bulletin = session.get_one(Bulletin, d.bulletin_id)
        speakers = nodes_reached(session, tree, [d.zone_id], [])
        ann = session.get(Announcement, d.announcement_id) if d.announcement_id else None
        aired = _aired_on(session, bulletin, ann, speakers)
        state = "aired" if aired and d.state == "scheduled" else d.state
        views.append(
            DeliveryView(
                bulletin_id=d.bulletin_id,
                zone_id=d.zone_id,
                zone_name=names.get(d.zone_id, d.zone_id),
                state=state,
                announcement_id=d.announcement_id,
                scheduled_for=ann.start if ann else None,
                slot_id=ann.slot_id if ann else None,
                decline_reason=d.decline_reason,
                acted_by=d.acted_by,
                aired_on=aired,
                speakers=len(speakers),
                updated_at=d.updated_at,
            )
        )
    return views


def _aired_on(
    session: Session, bulletin: Bulletin, ann: Announcement | None, speakers: set[str]
) -> int:
    """Distinct speakers of the commune with a ``finished`` play of this bulletin's item."""
    if not speakers:
        return 0
    query = select(func.count(func.distinct(PlaybackEvent.node_id))).where(
        PlaybackEvent.kind == EventKind.FINISHED.value,
        PlaybackEvent.node_id.in_(speakers),
    )
    if ann is not None:
        query = query.where(PlaybackEvent.item_id.like(f"ann-{ann.id}@%"))
    elif bulletin.emergency_id is not None:
        emergency = session.get(Emergency, bulletin.emergency_id)
        if emergency is None:
            return 0
        query = query.where(PlaybackEvent.item_id == emergency.item_id)
    else:
        return 0
    return int(session.scalar(query) or 0)


def communes_of(session: Session, zone_ids: Iterable[str]) -> list[str]:
    """The communes a set of zones lies in or covers: a village's commune, a province's
    communes, a commune itself (sorted; zones outside any commune give none)."""
    kinds = {zone_id: kind for zone_id, kind in session.execute(select(Zone.id, Zone.kind))}
    tree = ZoneTree.load(session)
    found: set[str] = set()
    for zone_id in zone_ids:
        up = [z for z in tree.ancestors_and_self(zone_id) if kinds.get(z) in COMMUNE_KINDS]
        if up:
            found.add(up[0])
        else:
            found |= {
                z for z in tree.descendants_and_self(zone_id) if kinds.get(z) in COMMUNE_KINDS
            }
    return sorted(found)


def record_upstream_alert(
    ctl: Controller,
    *,
    fmt: str,
    zone_ids: list[str],
    upstream_alert_id: int,
    announcement_id: int | None,
    emergency_id: str | None,
    by: str | None,
) -> int | None:
    """Put a broadcast CAP/JSON alert into the inbox of every commune it reaches.

    The alert has already aired the way intake decides (emergency at once; otherwise as a
    priority item at once), so each delivery is ``scheduled``; its announcement is marked
    ``origin="upstream"`` and linked, and the sender's view counts plays as for any bulletin.
    """
    now = ctl.clock.now()
    with ctl.sessions() as session:
        communes = communes_of(session, zone_ids)
        if not communes:
            return None
        ann = session.get(Announcement, announcement_id) if announcement_id else None
        emergency = session.get(Emergency, emergency_id) if emergency_id else None
        if ann is not None:
            title, text, sha, duration = ann.title, ann.text, ann.media_sha256, ann.duration_s
        elif emergency is not None:
            media = session.get_one(Media, emergency.media_sha256)
            title, text, sha, duration = (
                emergency.title,
                emergency.text,
                emergency.media_sha256,
                media.duration_s,
            )
        else:
            return None
        bulletin = Bulletin(
            level="emergency" if emergency is not None else "priority",
            title=title,
            text=text,
            media_sha256=sha,
            duration_s=duration,
            source=fmt,
            upstream_alert_id=upstream_alert_id,
            emergency_id=emergency_id,
            created_by=by,
            created_at=now,
            deliveries=[
                BulletinDelivery(
                    zone_id=z, state="scheduled", announcement_id=announcement_id, updated_at=now
                )
                for z in communes
            ],
        )
        session.add(bulletin)
        session.flush()
        if ann is not None:
            ann.origin, ann.level, ann.bulletin_id = "upstream", "priority", bulletin.id
        session.commit()
        return bulletin.id

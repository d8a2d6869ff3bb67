"""The fleet at a glance for one principal's scope."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from controller.auth.scope import Scope
from controller.db.models import Alert, Node, PlaybackEvent
from controller.panel.queries import item_names
from controller.panel.queries.announcements import Airing, airing_between
from controller.panel.queries.playing_now import Playing, playing_now
from controller.panel.timefmt import local_midnight_utc, today_local

FAILURE_KINDS = ("failed", "missed", "skipped", "command_rejected", "amp_duty_limit")


@dataclass(frozen=True)
class OnAir:
    """One item being played now, with the speakers playing it."""

    item_id: str
    title: str
    emergency: bool
    nodes: list[Playing]

    @property
    def emergency_id(self) -> str:
        return self.item_id.removeprefix(item_names.EMERGENCY_PREFIX)


@dataclass(frozen=True)
class Dashboard:
    online: int
    offline: int
    on_air: list[OnAir]
    upcoming: list[Airing]
    today: list[Airing]
    failures: list[PlaybackEvent]
    alerts: list[Alert]

    @property
    def playing(self) -> int:
        """Speakers playing now: counted from the same list the page shows."""
        return sum(len(a.nodes) for a in self.on_air)

    @property
    def emergencies(self) -> list[OnAir]:
        return [a for a in self.on_air if a.emergency]


def scoped_nodes(session: Session, scope: Scope) -> list[Node]:
    query = select(Node).where(Node.revoked_at.is_(None)).order_by(Node.id)
    if not scope.everything:
        query = query.where(Node.id.in_(scope.node_ids))
    return list(session.scalars(query))


def build(session: Session, scope: Scope, now: datetime) -> Dashboard:
    nodes = scoped_nodes(session, scope)
    online = [n for n in nodes if n.online]
    on_air = _on_air(session, playing_now(session, nodes, now))
    day_start = local_midnight_utc(today_local(now))
    today = airing_between(session, scope, day_start, day_start + timedelta(days=1))
    window = airing_between(session, scope, now, now + timedelta(days=2))
    upcoming = [a for a in window if a.start > now][:5]
    failures_q = (
        select(PlaybackEvent)
        .where(
            PlaybackEvent.kind.in_(FAILURE_KINDS),
            PlaybackEvent.at >= now - timedelta(days=1),
        )
        .order_by(PlaybackEvent.at.desc())
        .limit(10)
    )
    alerts_q = select(Alert).where(Alert.closed_at.is_(None)).order_by(Alert.opened_at.desc())
    if not scope.everything:
        failures_q = failures_q.where(PlaybackEvent.node_id.in_(scope.node_ids))
        alerts_q = alerts_q.where(Alert.node_id.in_(scope.node_ids))
    return Dashboard(
        online=len(online),
        offline=len(nodes) - len(online),
        on_air=on_air,
        upcoming=upcoming,
        today=today,
        failures=list(session.scalars(failures_q)),
        alerts=list(session.scalars(alerts_q.limit(10))),
    )


def _on_air(session: Session, playing: list[Playing]) -> list[OnAir]:
    names = item_names.resolve(session, [], [p.item_id for p in playing], [])
    grouped: dict[str, list[Playing]] = {}
    for p in playing:
        grouped.setdefault(p.item_id, []).append(p)
    out = []
    for item_id, group in grouped.items():
        name = names.item(item_id)
        out.append(OnAir(item_id, name.title if name else item_id, group[0].emergency, group))
    return out

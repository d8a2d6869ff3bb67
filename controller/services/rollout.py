"""Staged agent updates: signed ``update`` commands, canary nodes first, then waves.

``start_rollout`` picks the nodes (zones or the whole fleet), sends the update to the first
``canary`` of them and waits. ``advance`` (a job, and every status read) moves each sent node
to ``updated`` when it reports ``update_installed`` for the version (the new release is
connected and sending heartbeats) or to ``failed`` on ``update_failed`` / a rejected command.
When the canaries are all done the rest follow, at most ``wave`` in flight at a time; as soon
as more than ``max_failed_pct`` of the finished nodes failed, the rollout halts itself and
sends nothing more.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import Session

from controller.agentdist.store import AgentDist, DistNotFound
from controller.agentdist.wheel import wheel_name
from controller.db.models import AgentRollout, AgentRolloutNode, CommandDelivery, Node
from controller.db.models import PlaybackEvent as EventRow
from controller.services.commands import store_and_publish
from controller.services.zones import ZoneTree, reached_query
from protocol.models import AgentUpdate, Command, CommandAction, EventKind

if TYPE_CHECKING:
    from controller.services.container import Controller

ACTIVE = ("canary", "rolling")
UPDATE_TTL = timedelta(days=7)  # an offline node gets it from its persistent MQTT session


class RolloutError(ValueError):
    """Unknown version or zone, no nodes, or another rollout still running."""


@dataclass(frozen=True)
class RolloutPlan:
    version: str
    zones: list[str]
    canary: int = 1
    wave: int = 20
    max_failed_pct: float = 20.0


def _dist(ctl: Controller) -> AgentDist:
    return ctl.agent_dist or AgentDist(ctl.settings.resolved_agent_dist_dir)


def _targets(session: Session, zones: list[str]) -> list[str]:
    if zones:
        tree = ZoneTree.load(session)
        unknown = [z for z in zones if z not in tree.parents]
        if unknown:
            raise RolloutError(f"unknown zone(s): {', '.join(unknown)}")
        ids = {str(n) for n in session.scalars(reached_query(tree, zones))}
    else:
        ids = set(session.scalars(select(Node.id)))
    ids -= set(session.scalars(select(Node.id).where(Node.revoked_at.is_not(None))))
    online = set(session.scalars(select(Node.id).where(Node.online.is_(True))))
    return sorted(ids, key=lambda n: (n not in online, n))  # online nodes make better canaries


def start_rollout(ctl: Controller, plan: RolloutPlan, created_by: str | None = None) -> int:
    dist = _dist(ctl)
    try:
        wheel = dist.release_dir(plan.version) / wheel_name(plan.version)
    except DistNotFound as exc:
        raise RolloutError(str(exc)) from None
    from controller.agentdist.lock import file_sha256

    sha = file_sha256(wheel)
    now = ctl.clock.now()
    with ctl.sessions.begin() as session:
        running = session.scalars(select(AgentRollout).where(AgentRollout.state.in_(ACTIVE)))
        if (other := running.first()) is not None:
            raise RolloutError(f"rollout {other.id} to {other.version} is still running")
        nodes = _targets(session, plan.zones)
        if not nodes:
            raise RolloutError("no nodes to update")
        rollout = AgentRollout(
            version=plan.version,
            sha256=sha,
            state="canary" if plan.canary > 0 else "rolling",
            canary=plan.canary,
            wave=max(1, plan.wave),
            max_failed_pct=plan.max_failed_pct,
            zones=",".join(plan.zones),
            detail="",
            created_by=created_by,
            created_at=now,
        )
        session.add(rollout)
        session.flush()
        for i, node_id in enumerate(nodes):
            session.add(
                AgentRolloutNode(
                    rollout_id=rollout.id,
                    node_id=node_id,
                    stage="canary" if i < plan.canary else "main",
                    position=i,
                    state="waiting",
                    detail="",
                    updated_at=now,
                )
            )
        rollout_id = rollout.id
    advance(ctl)
    return rollout_id


@dataclass(frozen=True)
class _Send:
    rollout_id: int
    node_id: str
    version: str
    sha256: str
    created_by: str | None


def _send(ctl: Controller, send: _Send, now: datetime) -> None:
    """Issue one node's signed update command (its own transaction), then mark it sent."""
    url = f"{ctl.settings.resolved_public_url}/agent/files/{send.version}/"
    command = Command(
        id=uuid.uuid4().hex,
        action=CommandAction.UPDATE,
        issued_at=now,
        expires_at=now + UPDATE_TTL,
        node_id=send.node_id,
        update=AgentUpdate(version=send.version, url=url + wheel_name(send.version),
                           sha256=send.sha256),
    )  # fmt: skip
    store_and_publish(ctl, command, send.created_by)
    with ctl.sessions.begin() as session:
        node = session.get(AgentRolloutNode, (send.rollout_id, send.node_id))
        if node is not None:
            node.state, node.command_id, node.sent_at, node.updated_at = (
                "sent",
                command.id,
                now,
                now,
            )


def _resolve(session: Session, rollout: AgentRollout, nodes: list[AgentRolloutNode]) -> None:
    """Sent nodes whose release came back (or did not) get their outcome from events."""
    sent = {n.node_id: n for n in nodes if n.state == "sent"}
    if not sent:
        return
    kinds = (EventKind.UPDATE_INSTALLED.value, EventKind.UPDATE_FAILED.value)
    events = session.scalars(
        select(EventRow)
        .where(EventRow.node_id.in_(sent), EventRow.kind.in_(kinds))
        .order_by(EventRow.node_id, EventRow.seq)
    )
    for ev in events:
        node = sent.get(ev.node_id)
        if node is None or node.sent_at is None or ev.received_at < node.sent_at:
            continue
        if ev.kind == EventKind.UPDATE_INSTALLED.value and ev.detail == rollout.version:
            node.state, node.detail, node.updated_at = "updated", "", ev.received_at
            del sent[ev.node_id]
        elif ev.kind == EventKind.UPDATE_FAILED.value and ev.detail.startswith(rollout.version):
            node.state, node.detail, node.updated_at = "failed", ev.detail, ev.received_at
            del sent[ev.node_id]
    commands = [n.command_id for n in sent.values() if n.command_id]
    for d in session.scalars(
        select(CommandDelivery).where(
            CommandDelivery.command_id.in_(commands), CommandDelivery.state == "failed"
        )
    ):
        node = sent[d.node_id]
        node.state, node.detail, node.updated_at = "failed", f"rejected: {d.detail}", d.updated_at


def advance(ctl: Controller) -> None:
    """Move every running rollout on: record outcomes, halt on failures, send what is next."""
    now = ctl.clock.now()
    sends: list[_Send] = []
    with ctl.sessions.begin() as session:
        rollouts = list(session.scalars(select(AgentRollout).where(AgentRollout.state.in_(ACTIVE))))
        for rollout in rollouts:
            nodes = list(
                session.scalars(
                    select(AgentRolloutNode)
                    .where(AgentRolloutNode.rollout_id == rollout.id)
                    .order_by(AgentRolloutNode.position)
                )
            )
            _resolve(session, rollout, nodes)
            chosen = _step(rollout, nodes, now)
            sends += [
                _Send(rollout.id, n.node_id, rollout.version, rollout.sha256, rollout.created_by)
                for n in chosen
            ]
    for send in sends:  # after the commit: store_and_publish writes in its own transaction
        _send(ctl, send, now)


def _step(
    rollout: AgentRollout, nodes: list[AgentRolloutNode], now: datetime
) -> list[AgentRolloutNode]:
    """Halt, finish or pick the nodes to send to now (canaries first, then by waves)."""
    done = [n for n in nodes if n.state in ("updated", "failed")]
    failed = [n for n in done if n.state == "failed"]
    if done and 100.0 * len(failed) / len(done) > rollout.max_failed_pct:
        rollout.state, rollout.finished_at = "halted", now
        rollout.detail = f"{len(failed)} of {len(done)} finished nodes failed: stopped"
        return []
    if rollout.state == "canary":
        canaries = [n for n in nodes if n.stage == "canary"]
        if any(n.state in ("waiting", "sent") for n in canaries):
            return [n for n in canaries if n.state == "waiting"]
        rollout.state = "rolling"
    if all(n.state in ("updated", "failed") for n in nodes):
        rollout.state, rollout.finished_at = "done", now
        rollout.detail = f"{len(nodes) - len(failed)} updated, {len(failed)} failed"
        return []
    room = rollout.wave - sum(1 for n in nodes if n.state == "sent")
    return [n for n in nodes if n.state == "waiting"][: max(0, room)]


def status(ctl: Controller, rollout_id: int | None = None) -> dict[str, object] | None:
    """The rollout (latest if no id) with each node's state and reported version."""
    advance(ctl)
    with ctl.sessions() as session:
        query = select(AgentRollout).order_by(AgentRollout.id.desc())
        if rollout_id is not None:
            query = query.where(AgentRollout.id == rollout_id)
        rollout = session.scalars(query).first()
        if rollout is None:
            return None
        rows = session.execute(
            select(AgentRolloutNode, Node.last_heartbeat)
            .join(Node, Node.id == AgentRolloutNode.node_id, isouter=True)
            .where(AgentRolloutNode.rollout_id == rollout.id)
            .order_by(AgentRolloutNode.position)
        ).all()
        counts: dict[str, int] = {}
        nodes = []
        for node, heartbeat in rows:
            counts[node.state] = counts.get(node.state, 0) + 1
            nodes.append(
                {
                    "node_id": node.node_id,
                    "stage": node.stage,
                    "state": node.state,
                    "detail": node.detail,
                    "version": (heartbeat or {}).get("agent_version"),
                }
            )
        return {
            "id": rollout.id,
            "version": rollout.version,
            "state": rollout.state,
            "detail": rollout.detail,
            "canary": rollout.canary,
            "wave": rollout.wave,
            "max_failed_pct": rollout.max_failed_pct,
            "zones": [z for z in rollout.zones.split(",") if z],
            "created_at": rollout.created_at.isoformat(),
            "counts": counts,
            "nodes": nodes,
        }

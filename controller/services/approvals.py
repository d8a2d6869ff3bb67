"""Approval before air, on the database: which items need it, and the approver's steps.

A commune with ``needs_approval`` holds its operators' items (``pending``) until an
approver approves them; the rules themselves are in ``controller.services.approval``.
Emergencies are never held: they are flagged ``needs_review`` and an approver clears it.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from controller.db.models import Announcement, Emergency, Node, Zone
from controller.services.approval import Action, initial_state, transition
from controller.services.zones import ZoneTree


def needs_approval(session: Session, zone_ids: Iterable[str], node_ids: Iterable[str]) -> bool:
    """True when any target lies in (or is) a zone with ``needs_approval`` set."""
    flagged = set(session.scalars(select(Zone.id).where(Zone.needs_approval.is_(True))))
    if not flagged:
        return False
    tree = ZoneTree.load(session)
    homes = list(zone_ids)
    nodes = list(node_ids)
    if nodes:
        homes += list(session.scalars(select(Node.zone_id).where(Node.id.in_(nodes))))
    return any(not flagged.isdisjoint(tree.ancestors_and_self(z)) for z in homes)


def start_approval(
    session: Session,
    ann: Announcement,
    zone_ids: Iterable[str],
    node_ids: Iterable[str],
    now: datetime,
    *,
    draft: bool = False,
) -> None:
    """A new announcement's approval state (held ``pending`` from ``now`` when a target's
    commune needs approval), the same whether the API or the panel creates it."""
    ann.approval = initial_state(needs_approval(session, zone_ids, node_ids), draft=draft)
    if ann.approval == "pending":
        ann.submitted_at = now


def apply(
    ann: Announcement, action: Action, by: str, now: datetime, comment: str | None = None
) -> None:
    """One approval step on ``ann`` (raises ``ApprovalError`` when not allowed)."""
    new = transition(ann.approval, action)
    if action in ("approve", "reject"):
        ann.approved_by, ann.approved_at = by, now
        ann.approval_comment = (comment or "").strip()[:2000] or None
    elif new == "pending" and ann.approval != "pending":
        ann.submitted_at = now
        ann.approved_by = ann.approved_at = None
    ann.approval = new


def review_emergency(row: Emergency, by: str, now: datetime, comment: str | None) -> None:
    row.needs_review = False
    row.reviewed_by, row.reviewed_at = by, now
    row.review_comment = (comment or "").strip()[:2000] or None

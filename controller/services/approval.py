"""Approval before air as a pure state machine (no database, no clock).

``draft`` -> (submit) ``pending`` -> (approve) ``approved`` | (reject) ``rejected``;
editing sends an approved or rejected item back to ``pending`` (a draft stays a draft).
Communes without "needs approval" create ``not_required`` items, which edits leave alone.
Only ``approved`` and ``not_required`` items may reach any playlist.
"""

from __future__ import annotations

from typing import Literal

Approval = Literal["draft", "pending", "approved", "rejected", "not_required"]
Action = Literal["submit", "approve", "reject", "edit"]

AIRABLE: frozenset[str] = frozenset({"approved", "not_required"})
"""The only states the playlist compiler lets through."""

_MOVES: dict[tuple[str, str], Approval] = {
    ("draft", "submit"): "pending",
    ("rejected", "submit"): "pending",
    ("pending", "approve"): "approved",
    ("pending", "reject"): "rejected",
    ("draft", "edit"): "draft",
    ("pending", "edit"): "pending",
    ("approved", "edit"): "pending",
    ("rejected", "edit"): "pending",
    ("not_required", "edit"): "not_required",
}


class ApprovalError(ValueError):
    """An approval step that is not allowed from the item's state, with the reason."""


def may_air(state: str) -> bool:
    return state in AIRABLE


def initial_state(needs_approval: bool, *, draft: bool = False) -> Approval:
    """State of a new item: ``not_required`` unless its commune needs approval."""
    if not needs_approval:
        return "not_required"
    return "draft" if draft else "pending"


def transition(state: str, action: Action) -> Approval:
    """The state after ``action``; raises ``ApprovalError`` naming the state otherwise."""
    try:
        return _MOVES[(state, action)]
    except KeyError:
        raise ApprovalError(f"cannot {action} an item that is {state}") from None

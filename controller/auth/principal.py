"""Who is calling and what they may do: the roles and the principal every check reads.

Owned by ``auth``: the API layer, the panel and the services read these; ``auth`` imports
nothing of the API.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import IntEnum


class Role(IntEnum):
    """Ordered: a higher role may do everything a lower one may."""

    VIEWER = 1
    OPERATOR = 2
    APPROVER = 3
    """Commune leadership: everything an operator does, plus approving items before air."""
    ADMIN = 4


@dataclass(frozen=True)
class Principal:
    username: str
    role: Role
    communes: frozenset[str] = field(default_factory=frozenset)
    all_communes: bool = False
    token_id: str | None = None
    """The per-user API token the call came with (None: cookie, shared token, local)."""

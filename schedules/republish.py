"""Publishing a node's playlist only when it changed.

Playlists are published retained with QoS 1; republishing an identical one wakes every
agent for nothing and costs the slow village links bandwidth. The gate remembers the last
published ``content_hash`` per node (seed it from the database after a restart).
"""

from __future__ import annotations

from collections.abc import Mapping


class RepublishGate:
    """Says whether a node needs a publish; remembers hashes only once published."""

    def __init__(self, published: Mapping[str, str] | None = None) -> None:
        self._last: dict[str, str] = dict(published or {})

    def needs_publish(self, node_id: str, content_hash: str) -> bool:
        """True when ``content_hash`` differs from what the node last received."""
        return self._last.get(node_id) != content_hash

    def mark_published(self, node_id: str, content_hash: str) -> None:
        """Record a successful publish (call after the broker acknowledged it)."""
        self._last[node_id] = content_hash

    def forget(self, node_id: str) -> None:
        """Force the next publish (node re-provisioned, or its retained message lost)."""
        self._last.pop(node_id, None)

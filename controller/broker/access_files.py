"""Mosquitto password and ACL files rendered from the database.

Each node may read only its own playlist/cmd/ack topics and its zones' command topics, and
write only its own status, heartbeat and events topics. The controller account may do
everything under ``loa/v1/``. Files are replaced atomically and the broker is told to
reload (SIGHUP), which keeps existing sessions; a revoked node loses its line, so its
next publish or delivery is refused.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from protocol import topics
from protocol.private_file import write_private
from protocol.topics import NodeTopicKind

NODE_READS: tuple[NodeTopicKind, ...] = ("playlist", "cmd", "events/ack")
NODE_WRITES: tuple[NodeTopicKind, ...] = ("status", "heartbeat", "events")


@dataclass(frozen=True)
class NodeAccess:
    node_id: str
    username: str
    password_hash: str
    zone_ids: frozenset[str]


def node_reads(n: NodeAccess) -> list[str]:
    """Exact topics the node may subscribe to: own playlist/cmd/ack, its zones' cmd."""
    own = [topics.node_topic(n.node_id, k) for k in NODE_READS]
    return own + [topics.zone_cmd(z) for z in sorted(n.zone_ids)]


def node_writes(n: NodeAccess) -> list[str]:
    """Exact topics the node may publish to: own status, heartbeat and events."""
    return [topics.node_topic(n.node_id, k) for k in NODE_WRITES]


def render_password_file(
    controller_user: str, controller_hash: str, nodes: Iterable[NodeAccess]
) -> str:
    lines = [f"{controller_user}:{controller_hash}"]
    lines += [f"{n.username}:{n.password_hash}" for n in sorted(nodes, key=lambda n: n.username)]
    return "\n".join(lines) + "\n"


def render_acl_file(controller_user: str, nodes: Iterable[NodeAccess]) -> str:
    out = [f"user {controller_user}", f"topic readwrite {topics.PREFIX}/#", ""]
    for n in sorted(nodes, key=lambda n: n.username):
        out.append(f"user {n.username}")
        out += [f"topic read {t}" for t in node_reads(n)]
        out += [f"topic write {t}" for t in node_writes(n)]
        out.append("")
    return "\n".join(out)


def write_atomically(path: Path, text: str) -> None:
    write_private(path, text.encode("utf-8"))  # 0600, atomic: the broker reads it on SIGHUP


@dataclass
class BrokerAccessWriter:
    """Writes both files and asks the broker to reload them."""

    password_file: Path
    acl_file: Path
    reload: Callable[[], None]

    def write(self, controller_user: str, controller_hash: str, nodes: list[NodeAccess]) -> None:
        write_atomically(
            self.password_file, render_password_file(controller_user, controller_hash, nodes)
        )
        write_atomically(self.acl_file, render_acl_file(controller_user, nodes))
        self.reload()

"""MQTT topic names, built in one place (never with f-strings elsewhere).

Node and zone ids are slugs: lower-case ASCII letters, digits and dashes, so they are safe
as single topic levels and cannot smuggle wildcards (``+``/``#``) or separators.
"""

from __future__ import annotations

import re
from typing import Literal

from protocol.errors import InvalidMessage

PREFIX = "loa/v1"
SHARED_GROUP = "controller"
SLUG_RE = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$")

NodeTopicKind = Literal["playlist", "cmd", "status", "heartbeat", "events", "events/ack"]


def check_slug(value: str) -> str:
    """Return ``value`` if it is a valid node/zone id, else raise :class:`InvalidMessage`."""
    if not SLUG_RE.match(value):
        raise InvalidMessage(f"invalid id {value!r}: use a-z, 0-9 and '-' (max 64)")
    return value


def node_topic(node_id: str, kind: NodeTopicKind) -> str:
    return f"{PREFIX}/node/{check_slug(node_id)}/{kind}"


def node_playlist(node_id: str) -> str:
    return node_topic(node_id, "playlist")


def node_cmd(node_id: str) -> str:
    return node_topic(node_id, "cmd")


def node_status(node_id: str) -> str:
    return node_topic(node_id, "status")


def node_heartbeat(node_id: str) -> str:
    return node_topic(node_id, "heartbeat")


def node_events(node_id: str) -> str:
    return node_topic(node_id, "events")


def node_events_ack(node_id: str) -> str:
    return node_topic(node_id, "events/ack")


def zone_cmd(zone_id: str) -> str:
    return f"{PREFIX}/zone/{check_slug(zone_id)}/cmd"


def all_nodes(kind: NodeTopicKind) -> str:
    """Wildcard filter over every node for one kind of message (controller side)."""
    return f"{PREFIX}/node/+/{kind}"


def shared(topic_filter: str, group: str = SHARED_GROUP) -> str:
    """An MQTT 5 shared subscription so controller replicas split the ingestion load."""
    return f"$share/{group}/{topic_filter}"


def parse_node_topic(topic: str) -> tuple[str, str]:
    """Split ``loa/v1/node/{id}/{kind}`` into ``(id, kind)``; raise on anything else."""
    head = f"{PREFIX}/node/"
    if not topic.startswith(head):
        raise InvalidMessage(f"not a node topic: {topic!r}")
    rest = topic[len(head) :]
    node_id, sep, kind = rest.partition("/")
    if not sep or kind not in ("playlist", "cmd", "status", "heartbeat", "events", "events/ack"):
        raise InvalidMessage(f"unknown node topic: {topic!r}")
    return check_slug(node_id), kind

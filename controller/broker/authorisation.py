"""Broker decisions for EMQX's HTTP authentication and authorisation hooks.

The same rules as the Mosquitto files (``access_files.py``), from the same topic lists:
a node may publish only its own status/heartbeat/events and subscribe only to its own
playlist/cmd/ack and its zones' (and their ancestors') cmd topics; the controller account
may do anything under ``loa/v1/``; everyone else nothing. Node subscriptions must name an
exact topic (no wildcards): Mosquitto grants a wildcard but filters every delivery through
the ACL, EMQX checks the filter itself, so refusing wildcards gives the same deliveries.
"""

from __future__ import annotations

import hmac
from typing import Literal

from controller.broker.access_files import NodeAccess, node_reads, node_writes
from controller.broker.passwords import verify_mosquitto_hash
from protocol import topics

Action = Literal["publish", "subscribe"]


def controller_may(topic: str) -> bool:
    return topic == topics.PREFIX or topic.startswith(topics.PREFIX + "/")


def node_may(node: NodeAccess, action: Action, topic: str) -> bool:
    allowed = node_writes(node) if action == "publish" else node_reads(node)
    return topic in allowed


def password_matches(
    password: str, *, stored_hash: str | None = None, plain: str | None = None
) -> bool:
    """Node accounts hold a Mosquitto hash; the controller's password comes from settings."""
    if stored_hash is not None:
        return verify_mosquitto_hash(password, stored_hash)
    if plain is not None:
        return hmac.compare_digest(password.encode(), plain.encode())
    return False

"""Playlist deltas: a new playlist version as edits to the one the node already holds.

Why: when a recurring item rolls into the 48 h window, only one or two items change, yet a
full playlist repeats every item (each with its SHA-256s and URLs). A delta carries the new
header (version, window, hashes: small) and positional edits ``(at, drop, add)`` against the
base version's item list, plus ``result_sha256``: the SHA-256 of the canonical JSON of the
whole resulting playlist payload, exactly what the controller signs as the full playlist.

Safety: the delta is signed like a full playlist. A receiver applies it only to the exact
``base_version`` it holds, to the *raw* payload it verified (unknown fields included), and
keeps the result only if its SHA-256 matches ``result_sha256``; so the result is
byte-for-byte the playlist the controller signed, and anything else (a gap, a bug, a
tampered base) is refused. Edits work on positions, not item ids, so order and duplicate
ids cannot make two sides disagree. See docs/protocol.md.
"""

from __future__ import annotations

import hashlib
from difflib import SequenceMatcher
from typing import Any

from pydantic import Field, model_validator

from protocol.codec import canonical_json
from protocol.errors import InvalidMessage, ProtocolError
from protocol.models import Sha256Hex, Slug, WireModel

MAX_ITEMS = 5000


class DeltaGap(ProtocolError):
    """The delta's base is not the version this node holds: a full snapshot is needed."""

    kind = "gap"

    def __init__(self, reason: str, version: int) -> None:
        super().__init__(reason)
        self.version = version  # the version the delta would have made


class Edit(WireModel):
    """At base position ``at``: skip ``drop`` base items, then insert ``add`` (raw items)."""

    at: int = Field(ge=0, le=MAX_ITEMS)
    drop: int = Field(default=0, ge=0, le=MAX_ITEMS)
    add: list[dict[str, Any]] = Field(default_factory=list, max_length=MAX_ITEMS)


class PlaylistDelta(WireModel):
    """The signed payload of a delta (told from a full playlist by ``base_version``)."""

    node_id: Slug
    base_version: int = Field(ge=0)
    version: int = Field(ge=0)
    result_sha256: Sha256Hex
    head: dict[str, Any]
    """The resulting playlist's fields except ``items`` (validated with the result)."""
    edits: list[Edit] = Field(default_factory=list, max_length=MAX_ITEMS)

    @model_validator(mode="after")
    def _consistent(self) -> PlaylistDelta:
        if self.version <= self.base_version:
            raise ValueError("a delta must move to a newer version")
        if self.head.get("version") != self.version or self.head.get("node_id") != self.node_id:
            raise ValueError("head does not match the delta's version and node")
        if "items" in self.head:
            raise ValueError("head must not carry items")
        end = 0
        for edit in self.edits:
            if edit.at < end:
                raise ValueError("edits must be ordered and not overlap")
            end = edit.at + edit.drop
        return self


def is_delta(payload: dict[str, Any]) -> bool:
    """A verified playlist-topic payload is a delta when it names a base version."""
    return "base_version" in payload


def payload_sha256(payload: dict[str, Any]) -> str:
    """The hash a delta's result must have: over the canonical JSON the signer signs."""
    return hashlib.sha256(canonical_json(payload)).hexdigest()


def _item_key(item: Any) -> bytes:
    return canonical_json(item)


def make_delta(base: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    """The delta payload turning playlist payload ``base`` into ``new`` (both as signed)."""
    old_items: list[Any] = list(base.get("items", []))
    new_items: list[Any] = list(new.get("items", []))
    matcher = SequenceMatcher(
        None, [_item_key(i) for i in old_items], [_item_key(i) for i in new_items], autojunk=False
    )
    edits: list[dict[str, Any]] = []
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            continue
        edit: dict[str, Any] = {"at": i1}
        if i2 > i1:
            edit["drop"] = i2 - i1
        if j2 > j1:
            edit["add"] = new_items[j1:j2]
        edits.append(edit)
    return {
        "node_id": new["node_id"],
        "base_version": base["version"],
        "version": new["version"],
        "result_sha256": payload_sha256(new),
        "head": {k: v for k, v in new.items() if k != "items"},
        "edits": edits,
    }


def apply_delta(base: dict[str, Any], delta: PlaylistDelta) -> dict[str, Any]:
    """The resulting playlist payload; :class:`DeltaGap` or :class:`InvalidMessage` if not."""
    if base.get("version") != delta.base_version or base.get("node_id") != delta.node_id:
        raise DeltaGap(
            f"delta from v{delta.base_version}, this node holds v{base.get('version')}",
            delta.version,
        )
    old_items = base.get("items", [])
    if not isinstance(old_items, list):
        raise InvalidMessage("base playlist items are not a list")
    items: list[Any] = []
    pos = 0
    for edit in delta.edits:
        if edit.at + edit.drop > len(old_items):
            raise InvalidMessage(f"delta edits past the end of the base ({len(old_items)} items)")
        items.extend(old_items[pos : edit.at])
        items.extend(edit.add)
        pos = edit.at + edit.drop
    items.extend(old_items[pos:])
    if len(items) > MAX_ITEMS:
        raise InvalidMessage(f"delta result has {len(items)} items (max {MAX_ITEMS})")
    result = {**delta.head, "items": items}
    if payload_sha256(result) != delta.result_sha256:
        raise InvalidMessage("delta result does not match its signed SHA-256")
    return result

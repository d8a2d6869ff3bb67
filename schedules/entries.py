"""What operators put on the calendar: programme slots and the entries that fill them.

An entry either starts at fixed times (its ``rule`` has a time of day) or is placed into a
named slot such as "Bản tin sáng 05:30–06:00" (``slot``), where it is packed after the
entries before it; its optional ``rule`` then only says on which days it runs.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import AfterValidator, Field, model_validator

from protocol.models import (
    ItemKind,
    LanguagePart,
    LatePolicy,
    MediaRef,
    Priority,
    Slug,
    UtcDatetime,
    Visual,
)
from schedules.rules import ConfigModel, Rule

MAX_DURATION_S = 86_400.0


def _sorted_unique(values: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(sorted(set(values)))


SlugSet = Annotated[tuple[Slug, ...], AfterValidator(_sorted_unique)]
StreamUrl = Annotated[str, Field(max_length=2000, pattern=r"^(https?|rtsp|rtmp|icy)://\S+$")]
NonBlank = Annotated[str, Field(min_length=1, max_length=500, pattern=r"\S")]


class Targets(ConfigModel):
    """Where an entry plays: every node in any of ``zones`` (at any depth) plus ``nodes``."""

    zones: SlugSet = ()
    nodes: SlugSet = ()

    @model_validator(mode="after")
    def _not_empty(self) -> Targets:
        if not self.zones and not self.nodes:
            raise ValueError("targets name no zone and no node: the entry would play nowhere")
        return self

    def reach(self, node_id: str, node_zones: frozenset[str]) -> bool:
        """True if a node with these zones (ancestors included) is targeted."""
        return node_id in self.nodes or not node_zones.isdisjoint(self.zones)


class ScheduleEntry(ConfigModel):
    """One announcement, relay or pause on the calendar (the controller's editable unit).

    ``created_seq`` breaks ties between equal priorities: the earlier-created entry wins and
    is packed first into a slot. ``repeat`` plays the item that many times back to back.
    A ``tts`` entry may lack ``media`` until the controller has synthesised ``text``; its
    occurrences are then reported as bumped ("media not ready").
    """

    id: Slug
    kind: ItemKind
    title: NonBlank
    text: Annotated[str, Field(min_length=1, max_length=20_000, pattern=r"\S")] | None = None
    media: MediaRef | None = None
    stream_url: StreamUrl | None = None
    fallback: MediaRef | None = None
    duration_s: float | None = Field(default=None, gt=0, le=MAX_DURATION_S)
    priority: Priority = Priority.ANNOUNCEMENT
    repeat: int = Field(default=1, ge=1, le=20)
    volume: int | None = Field(default=None, ge=0, le=100)
    valid_from: UtcDatetime | None = None
    valid_until: UtcDatetime | None = None
    targets: Targets
    created_seq: int = Field(default=0, ge=0)
    late_policy: LatePolicy = LatePolicy.JOIN
    rule: Rule | None = None
    slot: Slug | None = None
    languages: list[LanguagePart] | None = None
    """A multilingual bulletin's languages within ``media`` (copied onto its items)."""
    visual: Visual | None = None
    """What an e-board shows while it plays (copied onto its items; None: sound only)."""

    @model_validator(mode="after")
    def _consistent(self) -> ScheduleEntry:
        self._check_content()
        self._check_placement()
        if self.valid_from and self.valid_until and self.valid_until <= self.valid_from:
            raise ValueError("valid_until must be after valid_from")
        return self

    def _check_content(self) -> None:
        kind = self.kind
        if kind is ItemKind.TTS and self.media is None and self.text is None:
            raise ValueError("a tts entry needs text (or synthesised media)")
        if kind is ItemKind.AUDIO and self.media is None:
            raise ValueError("an audio entry needs media")
        if kind in (ItemKind.TTS, ItemKind.AUDIO):
            if self.duration_s is not None:
                raise ValueError(f"a {kind.value} entry takes its duration from its media")
            if self.media is not None and self.media.duration_s <= 0:
                raise ValueError("media duration_s must be above 0")
        if kind is ItemKind.STREAM and not self.stream_url:
            raise ValueError("a stream entry needs stream_url")
        if kind in (ItemKind.STREAM, ItemKind.SILENCE) and self.duration_s is None:
            raise ValueError(f"a {kind.value} entry needs duration_s")
        if kind is not ItemKind.STREAM and (self.stream_url or self.fallback):
            raise ValueError("stream_url and fallback belong to stream entries only")

    def _check_placement(self) -> None:
        if self.slot is None:
            if self.rule is None or self.rule.time is None:
                raise ValueError("an entry needs a rule with a time of day, or a slot")
        elif self.rule is not None and self.rule.time is not None:
            raise ValueError("an entry in a slot takes its time from the slot: drop rule.time")

    @property
    def unit_duration_s(self) -> float | None:
        """Length of one play, or ``None`` while a tts entry awaits its media."""
        if self.media is not None:
            return self.media.duration_s
        return self.duration_s

    @property
    def cuttable(self) -> bool:
        """Streams and silences may be shortened; speech and audio play whole or not at all."""
        return self.kind in (ItemKind.STREAM, ItemKind.SILENCE)

    def valid_at(self, start: datetime) -> bool:
        """True if an occurrence starting at ``start`` (UTC) is inside the validity window."""
        if self.valid_from is not None and start < self.valid_from:
            return False
        return self.valid_until is None or start < self.valid_until


class ProgrammeSlot(ConfigModel):
    """A named, recurring block such as the morning bulletin; entries are packed into it."""

    id: Slug
    title: NonBlank
    rule: Rule
    duration_s: float = Field(gt=0, le=MAX_DURATION_S)
    gap_s: float = Field(default=0, ge=0, le=600, description="pause between packed items")

    @model_validator(mode="after")
    def _timed(self) -> ProgrammeSlot:
        if self.rule.time is None:
            raise ValueError("a slot's rule needs a time of day (when the slot starts)")
        return self


class Programme(ConfigModel):
    """A whole calendar (what the YAML files hold): slots plus entries, ids unique."""

    name: NonBlank
    slots: tuple[ProgrammeSlot, ...] = ()
    entries: tuple[ScheduleEntry, ...] = ()

    @model_validator(mode="after")
    def _references(self) -> Programme:
        _require_unique("slot", [s.id for s in self.slots])
        _require_unique("entry", [e.id for e in self.entries])
        known = {s.id for s in self.slots}
        for entry in self.entries:
            if entry.slot is not None and entry.slot not in known:
                raise ValueError(f"entry {entry.id!r} names unknown slot {entry.slot!r}")
        return self


def _require_unique(what: str, ids: list[str]) -> None:
    seen: set[str] = set()
    for item_id in ids:
        if item_id in seen:
            raise ValueError(f"{what} id {item_id!r} is used twice")
        seen.add(item_id)

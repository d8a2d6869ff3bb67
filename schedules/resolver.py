"""Deciding who keeps the time when pieces overlap: priority first, then creation order.

Pieces are taken in precedence order and laid onto a :class:`Timeline`. A piece that clashes
with something already laid down is, by kind: cut around it (streams and silences, possibly
into several pieces), moved later inside its slot (speech in a slot), or bumped. Whatever
pokes out of the window is clipped (cuttable) or bumped. Every change is reported.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from schedules.millis import from_ms
from schedules.placement import Piece
from schedules.results import Bump, BumpAction, BumpReason
from schedules.timeline import Timeline

MIN_PIECE_MS = 1000
"""A cut stream shorter than this is not worth switching the amplifier on for."""


@dataclass(frozen=True, slots=True)
class Placed:
    """A piece that plays, at its final time and under its final item id."""

    piece: Piece
    item_id: str
    start: int
    end: int


def resolve(
    pieces: Iterable[Piece], window_start: int, window_end: int
) -> tuple[list[Placed], list[Bump]]:
    """Lay pieces out without overlap inside ``[window_start, window_end)`` (milliseconds)."""
    timeline = Timeline()
    placed: list[Placed] = []
    bumps: list[Bump] = []
    for piece in sorted(pieces, key=lambda p: p.rank):
        start, end = piece.start, piece.end
        if start < window_start or end > window_end:
            if not piece.entry.cuttable:
                bumps.append(_bump(piece, BumpAction.BUMPED, BumpReason.WINDOW_EDGE))
                continue
            start, end = max(start, window_start), min(end, window_end)
            if end - start < MIN_PIECE_MS:
                bumps.append(_bump(piece, BumpAction.BUMPED, BumpReason.WINDOW_EDGE))
                continue
            bumps.append(_bump(piece, BumpAction.SHORTENED, BumpReason.WINDOW_EDGE))
        clash = timeline.overlapping(start, end)
        if not clash:
            _accept(timeline, placed, piece, piece.item_id, start, end)
            continue
        winner = clash[0][2]
        if piece.entry.cuttable:
            _cut(timeline, placed, bumps, piece, start, end, winner)
        elif piece.slot_end is not None:
            _move(timeline, placed, bumps, piece, min(piece.slot_end, window_end), winner)
        else:
            bumps.append(_bump(piece, BumpAction.BUMPED, BumpReason.OVERLAP, winner))
    return placed, bumps


def _cut(
    timeline: Timeline,
    placed: list[Placed],
    bumps: list[Bump],
    piece: Piece,
    start: int,
    end: int,
    winner: str,
) -> None:
    parts = [(s, e) for s, e in timeline.free_parts(start, end) if e - s >= MIN_PIECE_MS]
    if not parts:
        bumps.append(_bump(piece, BumpAction.BUMPED, BumpReason.OVERLAP, winner))
        return
    bumps.append(_bump(piece, BumpAction.SHORTENED, BumpReason.OVERLAP, winner))
    for index, (part_start, part_end) in enumerate(parts):
        item_id = piece.item_id if index == 0 else f"{piece.item_id}+{part_start - piece.start}ms"
        _accept(timeline, placed, piece, item_id, part_start, part_end)


def _move(
    timeline: Timeline,
    placed: list[Placed],
    bumps: list[Bump],
    piece: Piece,
    latest_end: int,
    winner: str,
) -> None:
    length = piece.end - piece.start
    start = timeline.first_fit(piece.start, length, latest_end)
    if start is None:
        bumps.append(_bump(piece, BumpAction.BUMPED, BumpReason.OVERLAP, winner))
        return
    bumps.append(_bump(piece, BumpAction.MOVED, BumpReason.OVERLAP, winner))
    _accept(timeline, placed, piece, piece.item_id, start, start + length)


def _accept(
    timeline: Timeline, placed: list[Placed], piece: Piece, item_id: str, start: int, end: int
) -> None:
    timeline.add(start, end, item_id)
    placed.append(Placed(piece, item_id, start, end))


def _bump(piece: Piece, action: BumpAction, reason: BumpReason, winner: str | None = None) -> Bump:
    return Bump(
        piece.item_id,
        piece.entry.id,
        from_ms(piece.start),
        from_ms(piece.end),
        action,
        reason,
        winner,
    )

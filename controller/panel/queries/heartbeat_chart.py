"""Tiny inline SVG line charts of a node's heartbeats (no JS, no chart library)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from controller.db.models import Heartbeat

WIDTH = 300
HEIGHT = 60


@dataclass(frozen=True)
class Series:
    label: str
    points: str  # SVG polyline "x,y x,y"
    low: float
    high: float
    last: float


def series(
    beats: Sequence[Heartbeat], label: str, value: Callable[[dict[str, Any]], float | None]
) -> Series | None:
    """Scale one metric into the chart box; None when no heartbeat carries it."""
    values = [(i, v) for i, hb in enumerate(beats) if (v := value(hb.data)) is not None]
    if not values:
        return None
    low = min(v for _, v in values)
    high = max(v for _, v in values)
    span = (high - low) or 1.0
    step = WIDTH / max(len(beats) - 1, 1)
    points = " ".join(
        f"{i * step:.1f},{HEIGHT - 4 - (v - low) / span * (HEIGHT - 8):.1f}" for i, v in values
    )
    return Series(label, points, low, high, values[-1][1])


def _number(key: str, scale: float = 1.0) -> Callable[[dict[str, Any]], float | None]:
    def pick(data: dict[str, Any]) -> float | None:
        value = data.get(key)
        return float(value) * scale if isinstance(value, int | float) else None

    return pick


def health_series(beats: Sequence[Heartbeat], labels: dict[str, str]) -> list[Series]:
    made = [
        series(beats, labels["uptime"], _number("uptime_s", 1 / 3600)),
        series(beats, labels["temp"], _number("cpu_temp_c")),
        series(beats, labels["link"], _number("link_quality")),
    ]
    return [s for s in made if s is not None]

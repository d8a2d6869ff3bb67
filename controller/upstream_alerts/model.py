"""The parts of a CAP 1.2 alert that decide a broadcast (both input forms produce these)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

Point = tuple[float, float]
"""(latitude, longitude) in WGS 84, as CAP writes them."""


@dataclass(frozen=True)
class CapArea:
    description: str
    geocodes: list[tuple[str, str]] = field(default_factory=list)
    polygons: list[list[Point]] = field(default_factory=list)
    circles: list[tuple[Point, float]] = field(default_factory=list)
    """Centre and radius in kilometres."""


@dataclass(frozen=True)
class CapInfo:
    language: str
    event: str
    urgency: str
    severity: str
    certainty: str
    headline: str = ""
    description: str = ""
    instruction: str = ""
    expires: datetime | None = None
    areas: list[CapArea] = field(default_factory=list)

    @property
    def is_vietnamese(self) -> bool:
        return self.language.lower() in ("vi", "vi-vn")

    @property
    def spoken_text(self) -> str:
        """What the loudspeakers read: headline, description, then what to do."""
        parts = [self.headline or self.event, self.description, self.instruction]
        return "\n".join(p.strip() for p in parts if p and p.strip())


@dataclass(frozen=True)
class CapReference:
    sender: str
    identifier: str
    sent: str


@dataclass(frozen=True)
class CapAlert:
    identifier: str
    sender: str
    sent: datetime
    status: str
    msg_type: str
    scope: str
    references: list[CapReference] = field(default_factory=list)
    infos: list[CapInfo] = field(default_factory=list)

    def expires(self) -> datetime | None:
        """The latest expiry among the Vietnamese info blocks (None: no end given)."""
        ends = [i.expires for i in self.infos if i.is_vietnamese]
        if not ends or any(e is None for e in ends):
            return None
        return max(e for e in ends if e is not None)

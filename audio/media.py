"""What a rendering or an upload produced: a stored file and what is known about it."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True)
class RenderedMedia:
    sha256: str
    ext: str
    size: int
    duration_s: float
    engine: str
    voice: str = ""
    normalised_text: str = ""
    mime: str = "audio/mpeg"
    cached: bool = False
    """True when served from the render cache (no synthesis happened)."""

    @property
    def filename(self) -> str:
        return f"{self.sha256}.{self.ext}"

    def to_record(self) -> dict[str, Any]:
        record = asdict(self)
        record.pop("cached")
        return record

    @classmethod
    def from_record(cls, record: dict[str, Any], cached: bool = False) -> RenderedMedia:
        return cls(
            sha256=str(record["sha256"]),
            ext=str(record["ext"]),
            size=int(record["size"]),
            duration_s=float(record["duration_s"]),
            engine=str(record["engine"]),
            voice=str(record.get("voice", "")),
            normalised_text=str(record.get("normalised_text", "")),
            mime=str(record.get("mime", "audio/mpeg")),
            cached=cached,
        )

"""The agent distribution's manifest: what the controller serves under ``/agent/``.

The controller signs it with the playlist key (same envelope as playlists,
``protocol/signing.py``), so the installer (key pinned by the enrolment token) and an
updating agent (its trusted keys) know every file's SHA-256 before they run any of it.
"""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import Field, model_validator

from protocol.models import AGENT_VERSION_PATTERN, AgentVersion, Sha256Hex, UtcDatetime, WireModel

VERSION_RE = re.compile(AGENT_VERSION_PATTERN)
FileName = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._+-]{0,199}$")]
# agent: the agent wheel; lock: hashed requirements; tool: the release/rollback script;
# unit: the systemd unit; wheel: a dependency wheel for offline installs
FileRole = Literal["agent", "lock", "tool", "unit", "setup", "wheel"]


class DistFile(WireModel):
    name: FileName
    role: FileRole
    path: Annotated[str, Field(pattern=r"^(?:files/[A-Za-z0-9._+-]+|wheels)/[A-Za-z0-9._+-]+$")]
    sha256: Sha256Hex
    size: int = Field(ge=0, le=500_000_000)


class AgentManifest(WireModel):
    """One agent release; ``path`` is relative to the controller's ``/agent/``."""

    version: AgentVersion
    generated_at: UtcDatetime
    files: Annotated[list[DistFile], Field(min_length=1, max_length=500)]

    @model_validator(mode="after")
    def _one_agent_and_lock(self) -> AgentManifest:
        for role in ("agent", "lock", "tool"):
            if sum(1 for f in self.files if f.role == role) != 1:
                raise ValueError(f"a manifest names exactly one {role!r} file")
        return self

    def file(self, role: FileRole) -> DistFile:
        return next(f for f in self.files if f.role == role)

    @property
    def offline_wheels(self) -> list[DistFile]:
        return [f for f in self.files if f.role == "wheel"]

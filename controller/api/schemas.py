"""Request/response bodies of the JSON API (strict: unknown fields are refused)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from protocol.models import Priority
from protocol.quiet_hours import format_quiet_hours, parse_quiet_hours
from protocol.topics import SLUG_RE


def _aware(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError("time must include its UTC offset, e.g. 2026-12-01T07:00:00+07:00")
    return value


AwareDatetime = Annotated[datetime, AfterValidator(_aware)]
Slug = Annotated[str, Field(pattern=SLUG_RE.pattern, max_length=64)]
# A zone or node id, optionally with its kind ("zone:xa-dong-tien", "node:dong-an-1"): the
# kind is needed when a zone and a node share an id.
TargetRef = Annotated[
    str, Field(pattern="^(zone:|node:)?" + SLUG_RE.pattern.removeprefix("^"), max_length=69)
]


class StrictBody(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ZoneIn(StrictBody):
    id: Slug
    name: Annotated[str, Field(min_length=1, max_length=200)]
    kind: Annotated[str, Field(min_length=1, max_length=40)] = "zone"
    parent_id: Slug | None = None


class ZoneOut(BaseModel):
    id: str
    name: str
    kind: str
    parent_id: str | None
    needs_approval: bool = False
    volume_cap: int | None = None
    quiet_hours: str | None = None
    languages: list[str] | None = None
    """Languages aired here in order; None: as the zone above (Vietnamese at the top)."""


def _quiet_text(value: str | None) -> str | None:
    """Normalised quiet hours ("21:30-05:00, 12:00-13:00"); empty means none."""
    windows = parse_quiet_hours(value)
    return format_quiet_hours(windows) or None


class HornSafetyIn(StrictBody):
    """Horn safety of a zone or node (PATCH: only the fields given change; null clears).
    ``quiet_hours`` belongs to zones only."""

    volume_cap: Annotated[int, Field(ge=0, le=100)] | None = None
    quiet_hours: Annotated[str | None, Field(max_length=200), AfterValidator(_quiet_text)] = None


class ZoneSettingsIn(HornSafetyIn):
    """A zone's settings: horn safety, and for a commune whether its items need approval."""

    needs_approval: bool | None = None


class NodeIn(StrictBody):
    id: Slug
    name: Annotated[str, Field(min_length=1, max_length=200)]
    zone_id: Slug
    extra_zone_ids: list[Slug] = []
    lat: Annotated[float, Field(ge=-90, le=90)] | None = None
    lon: Annotated[float, Field(ge=-180, le=180)] | None = None


class NodeOut(BaseModel):
    id: str
    name: str
    zone_id: str
    extra_zone_ids: list[str]
    lat: float | None
    lon: float | None
    online: bool
    status_changed_at: datetime | None
    last_heartbeat_at: datetime | None
    last_heartbeat: dict[str, Any] | None
    revoked: bool
    volume_cap: int | None = None
    effective_volume_cap: int | None = None


class NodeCreatedOut(NodeOut):
    enrol_token: str


class EnrolIn(StrictBody):
    token: Annotated[str, Field(min_length=10, max_length=400)]


class EnrolOut(BaseModel):
    node_id: str
    mqtt_host: str
    mqtt_port: int
    mqtt_username: str
    mqtt_password: str
    signing_keys: list[str]
    zones: list[str]
    ca_pem: str | None = Field(
        None, description="CA certificate agents trust for HTTPS and MQTT (pinned by the token)"
    )
    min_playlist_version: int = Field(
        0, description="refuse playlists older than this (the latest one published to the node)"
    )


class AnnouncementIn(StrictBody):
    text: Annotated[str, Field(max_length=20_000)]
    targets: Annotated[list[str], Field(min_length=1, max_length=1000)]
    start: AwareDatetime | None = None
    title: Annotated[str, Field(max_length=500)] | None = None
    priority: Priority = Priority.ANNOUNCEMENT


class AnnouncementOut(BaseModel):
    id: int
    title: str
    text: str | None
    kind: str
    start: datetime
    duration_s: float
    priority: int
    media_url: str | None
    targets: list[str]
    nodes: list[str]
    created_at: datetime


class PlaybackEventOut(BaseModel):
    node_id: str
    seq: int
    kind: str
    at: datetime
    item_id: str | None
    command_id: str | None
    detail: str
    received_at: datetime

"""Pydantic models for every message on the wire.

Wire models *ignore* unknown fields: controllers and agents are upgraded at different times,
so a newer sender must not break an older receiver. All datetimes are timezone-aware UTC.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from enum import IntEnum, StrEnum
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from protocol.chunks import ChunkedMedia
from protocol.quiet_hours import MAX_WINDOWS, QuietWindow
from protocol.topics import SLUG_RE

Sha256Hex = Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]
Slug = Annotated[str, Field(pattern=SLUG_RE.pattern, max_length=64)]
ShortText = Annotated[str, Field(max_length=500)]
# An agent release, e.g. 1.2.3 or 1.2.3rc1: digits and dots, then letters (no "-": wheel names)
AGENT_VERSION_PATTERN = r"^[0-9]+(?:\.[0-9]+){0,3}(?:[a-z0-9.+]{0,30})$"
AgentVersion = Annotated[str, Field(pattern=AGENT_VERSION_PATTERN, max_length=64)]


def _to_utc(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError("datetime must carry a UTC offset")
    return value.astimezone(UTC)


UtcDatetime = Annotated[datetime, AfterValidator(_to_utc)]


def _quiet_window(value: str) -> str:
    return str(QuietWindow.parse(value))


QuietHoursText = Annotated[str, Field(max_length=11), AfterValidator(_quiet_window)]


class WireModel(BaseModel):
    """Base of all wire messages: tolerant of unknown fields, immutable once parsed."""

    model_config = ConfigDict(extra="ignore", frozen=True)


class Priority(IntEnum):
    """Higher wins when two items overlap."""

    BACKGROUND = 0
    RELAY = 1
    ANNOUNCEMENT = 2
    EMERGENCY = 3


class ItemKind(StrEnum):
    TTS = "tts"
    AUDIO = "audio"
    STREAM = "stream"
    SILENCE = "silence"


class LatePolicy(StrEnum):
    """What the agent does with an item already in progress when it (re)starts."""

    JOIN = "join"
    SKIP = "skip"


MediaExt = Literal["mp3", "opus", "ogg", "wav"]


class MediaAlt(WireModel):
    """The same audio in another encoding (e.g. Opus beside the MP3), same duration."""

    sha256: Sha256Hex
    ext: MediaExt
    size: int = Field(ge=0, le=1_000_000_000)


class MediaRef(WireModel):
    """A content-addressed audio file served at ``/media/{sha256}.{ext}``.

    ``alternatives`` (newer controllers): the same audio in other encodings; an agent that
    can play one of them fetches that instead (older agents ignore the field and fetch the
    main file, so the main file stays the one every agent can play: MP3)."""

    sha256: Sha256Hex
    ext: MediaExt = "mp3"
    size: int = Field(ge=0, le=1_000_000_000)
    duration_s: float = Field(ge=0, le=86_400)
    alternatives: list[MediaAlt] | None = Field(default=None, max_length=4)

    @property
    def filename(self) -> str:
        return f"{self.sha256}.{self.ext}"

    def in_format(self, preferred: Sequence[str]) -> MediaRef:
        """This audio in the first of ``preferred`` (extensions) offered, else as it is."""
        offered = {self.ext: None, **{a.ext: a for a in self.alternatives or []}}
        for ext in preferred:
            if ext in offered:
                alt = offered[ext]
                if alt is None:
                    break
                return MediaRef(
                    sha256=alt.sha256, ext=alt.ext, size=alt.size, duration_s=self.duration_s
                )
        return self


class ImageRef(WireModel):
    """A content-addressed slide (JPEG or PNG; PDF pages are converted on the controller),
    fetched like audio at ``/media/{sha256}.{ext}``."""

    sha256: Sha256Hex
    ext: Literal["png", "jpg"]
    size: int = Field(ge=0, le=20_000_000)

    @property
    def filename(self) -> str:
        return f"{self.sha256}.{self.ext}"


class Slide(WireModel):
    image: ImageRef
    duration_s: float = Field(gt=0, le=3600)


class Visual(WireModel):
    """What a node's screen shows while the item is on: large text, slides in turn, a ticker."""

    text: Annotated[str, Field(max_length=2000)] | None = None
    slides: Annotated[list[Slide], Field(max_length=50)] = []
    ticker: Annotated[str, Field(max_length=500)] | None = None


LanguageCode = Annotated[str, Field(pattern=r"^[a-z]{2,8}$")]


class LanguagePart(WireModel):
    """One language of a multilingual item: where it lies in the item's one media file.

    Informational for the agent (it plays the file as usual); it names the languages in the
    ``started`` event and lets a screen show which language is on the air.
    """

    language: LanguageCode
    offset_s: float = Field(ge=0, le=86_400)
    duration_s: float = Field(gt=0, le=86_400)


class PlaylistItem(WireModel):
    """One thing to play at one time on one node."""

    id: Annotated[str, Field(min_length=1, max_length=128)]
    kind: ItemKind
    start: UtcDatetime
    duration_s: float = Field(gt=0, le=86_400)
    priority: Priority = Priority.ANNOUNCEMENT
    title: ShortText = ""
    volume: int | None = Field(default=None, ge=0, le=100)
    media: MediaRef | None = None
    stream_url: Annotated[str, Field(max_length=2000)] | None = None
    fallback: MediaRef | None = None
    late_policy: LatePolicy = LatePolicy.JOIN
    languages: Annotated[list[LanguagePart], Field(max_length=16)] | None = None
    """The languages of ``media`` in playing order (None: one language, Vietnamese)."""
    visual: Visual | None = None
    """For nodes with a screen (e-boards); None: sound only."""

    @model_validator(mode="after")
    def _content_matches_kind(self) -> PlaylistItem:
        if self.kind in (ItemKind.TTS, ItemKind.AUDIO) and self.media is None:
            raise ValueError(f"a {self.kind.value} item needs media")
        if self.kind is ItemKind.STREAM and not self.stream_url:
            raise ValueError("a stream item needs stream_url")
        return self

    @property
    def end_ts(self) -> float:
        return self.start.timestamp() + self.duration_s


class Playlist(WireModel):
    """A node's compiled programme for a rolling window; ``version`` only ever grows."""

    node_id: Slug
    version: int = Field(ge=0)
    generated_at: UtcDatetime
    window_start: UtcDatetime
    window_end: UtcDatetime
    content_hash: Annotated[str, Field(max_length=128)] = ""
    items: Annotated[list[PlaylistItem], Field(max_length=5000)] = []
    # horn safety (newer controllers): no volume above ``volume_cap``, and no non-emergency
    # item started inside a quiet window ("21:30-05:00", local Asia/Ho_Chi_Minh time)
    volume_cap: int | None = Field(default=None, ge=0, le=100)
    quiet_hours: Annotated[list[QuietHoursText], Field(max_length=MAX_WINDOWS)] = []

    @model_validator(mode="after")
    def _ordered(self) -> Playlist:
        if self.window_end < self.window_start:
            raise ValueError("window_end before window_start")
        starts = [i.start for i in self.items]
        if starts != sorted(starts):
            raise ValueError("items must be ordered by start")
        return self


class CommandAction(StrEnum):
    PLAY_NOW = "play_now"
    STOP = "stop"
    VOLUME = "volume"
    POWER = "power"
    SYNC = "sync"
    REBOOT = "reboot"
    EMERGENCY = "emergency"
    CANCEL_EMERGENCY = "cancel_emergency"
    UPDATE = "update"


class AgentUpdate(WireModel):
    """Install agent release ``version``: its wheel at ``url`` must hash to ``sha256``; the
    rest of the release comes from the signed manifest ``/agent/<version>/manifest.json``."""

    version: AgentVersion
    url: Annotated[str, Field(min_length=1, max_length=2000)]
    sha256: Sha256Hex


class Command(WireModel):
    """A signed order to one node or a whole zone; refused once ``expires_at`` has passed."""

    id: Annotated[str, Field(min_length=1, max_length=128)]
    action: CommandAction
    issued_at: UtcDatetime
    expires_at: UtcDatetime
    node_id: Slug | None = None
    zone_id: Slug | None = None
    item: PlaylistItem | None = None
    volume: int | None = Field(default=None, ge=0, le=100)
    on: bool | None = None
    repeat: int = Field(default=1, ge=1, le=1000)
    # Emergencies: play again every ``repeat_every_s`` seconds (counted from each start)
    # until ``until`` or a cancel; ``repeat`` then caps the number of plays.
    repeat_every_s: float | None = Field(default=None, ge=10, le=86_400)
    until: UtcDatetime | None = None
    update: AgentUpdate | None = None
    # Fresh emergency speech (newer controllers): signed per-chunk hashes of one encoding of
    # ``item.media`` (and its first chunk inline), so an agent can play verified chunks while
    # the rest downloads (protocol.chunks). Older agents ignore it and download the file.
    chunks: ChunkedMedia | None = None

    @model_validator(mode="after")
    def _consistent(self) -> Command:
        if (self.node_id is None) == (self.zone_id is None):
            raise ValueError("a command targets exactly one of node_id or zone_id")
        if self.expires_at <= self.issued_at:
            raise ValueError("expires_at must be after issued_at")
        if self.action in (CommandAction.PLAY_NOW, CommandAction.EMERGENCY) and not self.item:
            raise ValueError(f"{self.action.value} needs an item")
        if self.action is CommandAction.VOLUME and self.volume is None:
            raise ValueError("volume command needs volume")
        if self.action is CommandAction.POWER and self.on is None:
            raise ValueError("power command needs on")
        if self.action is CommandAction.UPDATE and self.update is None:
            raise ValueError("update command needs update (version, url, sha256)")
        return self


class Heartbeat(WireModel):
    """A node's health snapshot, sent every ``heartbeat_interval`` seconds (QoS 0)."""

    node_id: Slug
    sent_at: UtcDatetime
    agent_version: ShortText = ""
    uptime_s: float = Field(default=0, ge=0)
    cpu_temp_c: float | None = None
    load1: float | None = None
    mem_used_pct: float | None = Field(default=None, ge=0, le=100)
    disk_free_mb: float | None = None
    ip: Annotated[str, Field(max_length=64)] | None = None
    link_quality: float | None = None
    volume: int | None = Field(default=None, ge=0, le=100)
    amplifier_on: bool | None = None
    current_item: Annotated[str, Field(max_length=128)] | None = None
    playlist_version: int | None = None
    cache_bytes: int | None = Field(default=None, ge=0)
    cache_items: int | None = Field(default=None, ge=0)
    clock_offset_ms: float | None = None
    # the time daemon's view (newer agents): chrony / timesyncd / unknown, and whether it is
    # synchronised; older agents omit both
    clock_source: Annotated[str, Field(max_length=16)] | None = None
    clock_synced: bool | None = None
    outbox_pending: int | None = Field(default=None, ge=0)
    # newer agents (weak-link work): a delta carries only the fields that changed since the
    # last heartbeat (the controller merges it into the node's last snapshot); absent = a
    # full snapshot, as older agents always send. ``next_within_s``: the longest the agent
    # stays silent when nothing changes (the controller's offline rule allows for it).
    delta: bool | None = None
    # what the agent's player can play, preferred first (newer agents; full snapshots only)
    audio_formats: list[Annotated[str, Field(max_length=8)]] | None = Field(
        default=None, max_length=8
    )
    next_within_s: float | None = Field(default=None, gt=0, le=86400)
    # the agent applies signed playlist deltas (protocol.playlist_delta); older agents: None
    playlist_delta: bool | None = None
    # newer agents number their full and delta heartbeats (1, 2, ... from the agent's start;
    # a sign of life carries none). A delta whose number does not follow the stored snapshot's
    # was merged into a stale snapshot (a heartbeat was lost, or the controller's database was
    # restored from a backup): the controller asks the node for a full one (a ``sync``).
    seq: int | None = Field(default=None, ge=1)


class EventKind(StrEnum):
    STARTED = "started"
    FINISHED = "finished"
    FAILED = "failed"
    SKIPPED = "skipped"
    MISSED = "missed"
    COMMAND_ACK = "command_ack"
    COMMAND_REJECTED = "command_rejected"
    UPDATE_INSTALLED = "update_installed"  # detail: the version now running
    UPDATE_FAILED = "update_failed"  # detail: "<version>: <reason>"
    AMP_DUTY_LIMIT = "amp_duty_limit"  # detail: how long it was on, how long it cools down
    DISPLAYED = "displayed"  # the e-board changed; detail: what it shows now
    # a playlist delta did not fit the version held: please send the full playlist again
    PLAYLIST_RESYNC = "playlist_resync"


class PlaybackEvent(WireModel):
    """One thing that happened on a node; ``seq`` is unique per node and never reused.

    ``at`` is when it happened on the node. For ``command_ack`` and ``command_rejected`` that
    is when the command *arrived* at the node (read off the network), not when the agent's
    workers got round to it: the controller's per-node delivery state reports delivery, and
    what the command then caused has events of its own (``started`` carries its own time).
    """

    seq: int = Field(ge=1)
    kind: EventKind
    at: UtcDatetime
    item_id: Annotated[str, Field(max_length=128)] | None = None
    command_id: Annotated[str, Field(max_length=128)] | None = None
    playlist_version: int | None = None
    detail: ShortText = ""


class EventBatch(WireModel):
    """Events in sequence order, sent at least once until acknowledged."""

    node_id: Slug
    sent_at: UtcDatetime
    events: Annotated[list[PlaybackEvent], Field(min_length=1, max_length=500)]


class EventAck(WireModel):
    """Which sequence numbers the controller has stored; the agent deletes exactly these."""

    node_id: Slug
    seqs: Annotated[list[Annotated[int, Field(ge=1)]], Field(max_length=500)]


StatusPayload = Literal["online", "offline"]

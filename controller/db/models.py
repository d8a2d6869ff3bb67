"""SQLAlchemy 2.x models. All timestamps are stored as timezone-aware UTC.

Zones form a tree of any depth (province → commune → village → groups): Vietnam's 2025
reform changed the levels, so the level is a free ``kind`` label, never a column per level.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    false,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, declared_attr, mapped_column, relationship


class UtcDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes in and out, on SQLite (which has no time zones) and PostgreSQL."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the database")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    type_annotation_map: ClassVar[dict[Any, Any]] = {datetime: UtcDateTime, dict[str, Any]: JSON}


class Zone(Base):
    __tablename__ = "zones"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(40), default="zone")
    parent_id: Mapped[str | None] = mapped_column(
        ForeignKey("zones.id", ondelete="RESTRICT"), index=True
    )
    created_at: Mapped[datetime]
    # Commune setting: operators' drafts wait for an approver before they reach a playlist.
    needs_approval: Mapped[bool] = mapped_column(Boolean, default=False)
    # horn safety (services/horn.py): no node in the zone plays above the cap (0-100), and
    # only emergencies play in the quiet hours ("21:30-05:00, ...", local Vietnam time)
    volume_cap: Mapped[int | None] = mapped_column(Integer)
    quiet_hours: Mapped[str | None] = mapped_column(String(200))
    languages: Mapped[list[str] | None] = mapped_column(JSON)
    """Languages aired here, in order (e.g. ``["vi", "tay"]``); None: as the parent zone."""


class Node(Base):
    __tablename__ = "nodes"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    zone_id: Mapped[str] = mapped_column(ForeignKey("zones.id", ondelete="RESTRICT"), index=True)
    lat: Mapped[float | None] = mapped_column(Float)
    lon: Mapped[float | None] = mapped_column(Float)
    mqtt_username: Mapped[str | None] = mapped_column(String(100), unique=True)
    mqtt_password_hash: Mapped[str | None] = mapped_column(String(300))
    enrol_token_hash: Mapped[str | None] = mapped_column(String(128))
    enrol_token_expires_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]
    online: Mapped[bool] = mapped_column(Boolean, default=False)
    status_changed_at: Mapped[datetime | None]
    last_heartbeat_at: Mapped[datetime | None]
    last_heartbeat: Mapped[dict[str, Any] | None]
    created_at: Mapped[datetime]
    volume_cap: Mapped[int | None] = mapped_column(Integer)  # 0-100; with its zones' caps

    extra_zones: Mapped[list[NodeZone]] = relationship(cascade="all, delete-orphan")


class NodeZone(Base):
    """Extra zone memberships beyond the node's home zone (a node may be in several)."""

    __tablename__ = "node_zones"

    node_id: Mapped[str] = mapped_column(
        ForeignKey("nodes.id", ondelete="CASCADE"), primary_key=True
    )
    zone_id: Mapped[str] = mapped_column(
        ForeignKey("zones.id", ondelete="CASCADE"), primary_key=True
    )


class Media(Base):
    __tablename__ = "media"

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    ext: Mapped[str] = mapped_column(String(8))
    size: Mapped[int] = mapped_column(Integer)
    duration_s: Mapped[float] = mapped_column(Float)
    source: Mapped[str] = mapped_column(String(20))
    engine: Mapped[str | None] = mapped_column(String(40))
    created_at: Mapped[datetime]


class MediaUse(Base):
    """A use of a media file that no column names: a hash inside JSON (an announcement's or
    a programme entry's slides, a programme entry's recording or relay fallback, a command's
    item), or who uploaded or previewed it (``kind="owner"``, not a use: it lets the maker
    hear a file nothing uses yet). Written by :mod:`controller.services.media_uses`; read
    by :mod:`controller.services.media_access` to decide who may fetch the file."""

    __tablename__ = "media_uses"
    __table_args__ = (Index("ix_media_uses_kind_ref", "kind", "ref"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # slide | schedule | command | owner
    ref: Mapped[str] = mapped_column(String(128))  # announcement/entry/command id, username


class Announcement(Base):
    """Something to broadcast: text (rendered to media), an upload, a stream or a pause,
    with a time rule. ``rule`` holds the recurrence spec as JSON (``None`` = once at
    ``start``)."""

    __tablename__ = "announcements"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(20), default="tts")
    title: Mapped[str] = mapped_column(String(500), default="")
    text: Mapped[str | None] = mapped_column(Text)
    media_sha256: Mapped[str | None] = mapped_column(ForeignKey("media.sha256"), index=True)
    stream_url: Mapped[str | None] = mapped_column(String(2000))
    duration_s: Mapped[float] = mapped_column(Float)
    priority: Mapped[int] = mapped_column(Integer, default=2)
    volume: Mapped[int | None] = mapped_column(Integer)
    repeat: Mapped[int] = mapped_column(Integer, default=1)
    start: Mapped[datetime] = mapped_column(index=True)
    rule: Mapped[dict[str, Any] | None]
    valid_until: Mapped[datetime | None]
    created_at: Mapped[datetime]
    created_by: Mapped[str | None] = mapped_column(String(100))
    cancelled_at: Mapped[datetime | None]
    # Bulletin level (Circular 39/2020): normal | priority | emergency.
    level: Mapped[str] = mapped_column(String(10), default="normal")
    # Where it came from: own | upstream | relay | emergency.
    origin: Mapped[str] = mapped_column(String(10), default="own")
    # draft | pending | approved | rejected | not_required; only approved and not_required play.
    approval: Mapped[str] = mapped_column(String(20), default="not_required")
    approved_by: Mapped[str | None] = mapped_column(String(100))
    approved_at: Mapped[datetime | None]
    approval_comment: Mapped[str | None] = mapped_column(Text)
    submitted_at: Mapped[datetime | None]
    bulletin_id: Mapped[int | None] = mapped_column(
        ForeignKey("bulletins.id", ondelete="SET NULL"), index=True
    )
    # Packed into this programme slot on the local date of ``start`` (None: plays at start).
    slot_id: Mapped[str | None] = mapped_column(
        ForeignKey("programme_slots.id", ondelete="SET NULL")
    )
    # Order of priority items at the head of the slot (lower first); None for other items.
    slot_rank: Mapped[int | None] = mapped_column(Integer)
    internal: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    """Kept off the citizens' replay page and feed (public is the default)."""
    visual: Mapped[dict[str, Any] | None]
    """E-board content in the wire form of ``protocol.models.Visual`` (None: sound only)."""

    targets: Mapped[list[AnnouncementTarget]] = relationship(
        cascade="all, delete-orphan", lazy="selectin"
    )
    media: Mapped[Media | None] = relationship(lazy="joined")
    variants: Mapped[list[AnnouncementVariant]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", order_by="AnnouncementVariant.id"
    )
    mixes: Mapped[list[AnnouncementMix]] = relationship(
        cascade="all, delete-orphan", lazy="selectin"
    )


class _AnnouncementRecording:
    """Columns shared by an announcement's extra recordings (variants and joined mixes)."""

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    announcement_id: Mapped[int] = mapped_column(
        ForeignKey("announcements.id", ondelete="CASCADE"), index=True
    )
    media_sha256: Mapped[str] = mapped_column(ForeignKey("media.sha256"), index=True)

    @declared_attr
    def media(cls) -> Mapped[Media]:
        return relationship(Media, lazy="joined")


class AnnouncementVariant(_AnnouncementRecording, Base):
    """A recording of an announcement in another language (the announcement's own media is
    the Vietnamese one)."""

    __tablename__ = "announcement_variants"
    __table_args__ = (
        UniqueConstraint("announcement_id", "language", name="uq_announcement_variant_language"),
    )

    language: Mapped[str] = mapped_column(String(16))
    text: Mapped[str | None] = mapped_column(Text)


class AnnouncementMix(_AnnouncementRecording, Base):
    """An announcement's languages joined into one file, in one zone's order ("vi,tay")."""

    __tablename__ = "announcement_mixes"
    __table_args__ = (
        UniqueConstraint("announcement_id", "languages", name="uq_announcement_mix_languages"),
    )

    languages: Mapped[str] = mapped_column(String(200))
    parts: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    """``[{language, offset_s, duration_s}]``: the wire's ``LanguagePart`` list."""


class Bulletin(Base):
    """A bulletin sent from a zone above communes (province, district) to a set of communes,
    at a level: normal (the commune decides), priority (head of the next slot) or emergency."""

    __tablename__ = "bulletins"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    level: Mapped[str] = mapped_column(String(10), default="normal")
    title: Mapped[str] = mapped_column(String(500), default="")
    text: Mapped[str | None] = mapped_column(Text)
    media_sha256: Mapped[str | None] = mapped_column(ForeignKey("media.sha256"), index=True)
    duration_s: Mapped[float] = mapped_column(Float, default=0.0)
    source: Mapped[str] = mapped_column(String(10), default="user")  # user | cap | json
    upstream_alert_id: Mapped[int | None] = mapped_column(Integer)
    emergency_id: Mapped[str | None] = mapped_column(String(32))
    source_zone_id: Mapped[str | None] = mapped_column(
        ForeignKey("zones.id", ondelete="SET NULL"), index=True
    )
    created_by: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(index=True)
    expires_at: Mapped[datetime | None]

    deliveries: Mapped[list[BulletinDelivery]] = relationship(
        cascade="all, delete-orphan", lazy="selectin"
    )


class BulletinDelivery(Base):
    """One target commune of a bulletin: received -> scheduled | declined -> aired."""

    __tablename__ = "bulletin_deliveries"
    __table_args__ = (Index("ix_bulletin_deliveries_zone_state", "zone_id", "state"),)

    bulletin_id: Mapped[int] = mapped_column(
        ForeignKey("bulletins.id", ondelete="CASCADE"), primary_key=True
    )
    zone_id: Mapped[str] = mapped_column(
        ForeignKey("zones.id", ondelete="CASCADE"), primary_key=True
    )
    state: Mapped[str] = mapped_column(String(10), default="received")
    announcement_id: Mapped[int | None] = mapped_column(
        ForeignKey("announcements.id", ondelete="SET NULL")
    )
    decline_reason: Mapped[str | None] = mapped_column(Text)
    acted_by: Mapped[str | None] = mapped_column(String(100))
    updated_at: Mapped[datetime]


class AnnouncementTarget(Base):
    __tablename__ = "announcement_targets"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    announcement_id: Mapped[int] = mapped_column(
        ForeignKey("announcements.id", ondelete="CASCADE"), index=True
    )
    zone_id: Mapped[str | None] = mapped_column(ForeignKey("zones.id", ondelete="CASCADE"))
    node_id: Mapped[str | None] = mapped_column(ForeignKey("nodes.id", ondelete="CASCADE"))


class PublishedPlaylist(Base):
    """The last playlist published to each node, so unchanged ones are never republished."""

    __tablename__ = "published_playlists"

    node_id: Mapped[str] = mapped_column(
        ForeignKey("nodes.id", ondelete="CASCADE"), primary_key=True
    )
    version: Mapped[int] = mapped_column(BigInteger)
    content_hash: Mapped[str] = mapped_column(String(128))
    item_count: Mapped[int] = mapped_column(Integer)
    payload: Mapped[str] = mapped_column(Text)
    published_at: Mapped[datetime]


class PlaybackEvent(Base):
    """One event from a node; (node_id, seq) is unique so a resent batch is stored once."""

    __tablename__ = "playback_events"
    __table_args__ = (
        UniqueConstraint("node_id", "seq", name="uq_playback_events_node_seq"),
        Index("ix_playback_events_at", "at"),
        Index("ix_playback_events_node_at", "node_id", "at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    node_id: Mapped[str] = mapped_column(String(64))
    seq: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(30))
    at: Mapped[datetime]
    item_id: Mapped[str | None] = mapped_column(String(128))
    command_id: Mapped[str | None] = mapped_column(String(128))
    playlist_version: Mapped[int | None] = mapped_column(BigInteger)
    detail: Mapped[str] = mapped_column(String(500), default="")
    received_at: Mapped[datetime]


class Heartbeat(Base):
    __tablename__ = "heartbeats"
    __table_args__ = (Index("ix_heartbeats_node_sent", "node_id", "sent_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    node_id: Mapped[str] = mapped_column(String(64))
    sent_at: Mapped[datetime]
    received_at: Mapped[datetime]
    data: Mapped[dict[str, Any]]


class HeartbeatHourly(Base):
    """One node's hour of heartbeats rolled up (the retention job makes these from the raw
    rows, which are kept only for a day): how many came, for how long the node was heard
    (``online_s``), and min/max/sum of each measured value (``stats``: field -> [min, max,
    sum, count]). Keeps a year of history in ~9,000 small rows per node."""

    __tablename__ = "heartbeat_hourly"

    node_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    hour: Mapped[datetime] = mapped_column(primary_key=True)
    samples: Mapped[int] = mapped_column(Integer)
    online_s: Mapped[float] = mapped_column(Float)
    stats: Mapped[dict[str, Any]]


class Command(Base):
    __tablename__ = "commands"

    id: Mapped[str] = mapped_column(String(128), primary_key=True)
    action: Mapped[str] = mapped_column(String(30))
    node_id: Mapped[str | None] = mapped_column(String(64))
    zone_id: Mapped[str | None] = mapped_column(String(64))
    payload: Mapped[str] = mapped_column(Text)
    issued_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    created_by: Mapped[str | None] = mapped_column(String(100))


class CommandDelivery(Base):
    """Per-node state of a command: pending → acked / failed / expired."""

    __tablename__ = "command_deliveries"

    command_id: Mapped[str] = mapped_column(
        ForeignKey("commands.id", ondelete="CASCADE"), primary_key=True
    )
    node_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    state: Mapped[str] = mapped_column(String(20), default="pending")
    detail: Mapped[str] = mapped_column(String(500), default="")
    updated_at: Mapped[datetime]


class User(Base):
    """A panel/API user. ``communes`` scopes operators and viewers to zone subtrees."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    username: Mapped[str] = mapped_column(String(100), unique=True)
    full_name: Mapped[str] = mapped_column(String(200), default="")
    password_hash: Mapped[str] = mapped_column(String(300))
    role: Mapped[str] = mapped_column(String(20))
    communes: Mapped[list[str]] = mapped_column(JSON, default=list)
    all_communes: Mapped[bool] = mapped_column(Boolean, default=False)
    must_change_password: Mapped[bool] = mapped_column(Boolean, default=True)
    # when the user last chose their own password (None: still an initial or reset one)
    password_changed_at: Mapped[datetime | None]
    language: Mapped[str] = mapped_column(String(8), default="vi")
    disabled_at: Mapped[datetime | None]
    created_at: Mapped[datetime]


class AuditEntry(Base):
    """Who did what and when: logins, announcements, commands, user changes."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_at", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime]
    username: Mapped[str | None] = mapped_column(String(100))
    action: Mapped[str] = mapped_column(String(60))
    target: Mapped[str | None] = mapped_column(String(200))
    detail: Mapped[str] = mapped_column(Text, default="")
    ip: Mapped[str | None] = mapped_column(String(64))


class Alert(Base):
    """An operational problem (node offline, playback failure, clock drift, disk full)."""

    __tablename__ = "alerts"
    __table_args__ = (Index("ix_alerts_open", "closed_at", "opened_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    node_id: Mapped[str | None] = mapped_column(String(64), index=True)
    kind: Mapped[str] = mapped_column(String(40))
    message: Mapped[str] = mapped_column(String(500))
    opened_at: Mapped[datetime]
    closed_at: Mapped[datetime | None]


class Emergency(Base):
    """One emergency broadcast: what to play, where, how often, and its zone commands.

    ``command_ids`` are the signed EMERGENCY zone commands (one per zone), so per-node
    status comes from their ``CommandDelivery`` rows and the events naming ``item_id``.
    """

    __tablename__ = "emergencies"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    title: Mapped[str] = mapped_column(String(500), default="")
    text: Mapped[str | None] = mapped_column(Text)
    media_sha256: Mapped[str] = mapped_column(ForeignKey("media.sha256"), index=True)
    item_id: Mapped[str] = mapped_column(String(128), unique=True)
    zone_ids: Mapped[list[str]] = mapped_column(JSON, default=list)
    repeat: Mapped[int] = mapped_column(Integer, default=1)
    repeat_every_s: Mapped[float | None] = mapped_column(Float)
    until: Mapped[datetime | None]
    volume: Mapped[int | None] = mapped_column(Integer)
    source: Mapped[str] = mapped_column(String(20), default="operator")
    issued_at: Mapped[datetime] = mapped_column(index=True)
    expires_at: Mapped[datetime]
    created_by: Mapped[str | None] = mapped_column(String(100))
    command_ids: Mapped[list[str]] = mapped_column(JSON, default=list)
    cancelled_at: Mapped[datetime | None]
    cancelled_by: Mapped[str | None] = mapped_column(String(100))
    cancel_command_ids: Mapped[list[str]] = mapped_column(JSON, default=list)
    # Emergencies are never held for approval; they are flagged so an approver reviews them.
    needs_review: Mapped[bool] = mapped_column(Boolean, default=True)
    reviewed_by: Mapped[str | None] = mapped_column(String(100))
    reviewed_at: Mapped[datetime | None]
    review_comment: Mapped[str | None] = mapped_column(Text)

    # Never read: it tells the unit of work that a Media row added in the same session is
    # inserted first (without it, flush order between unrelated mappers is by class name).
    media: Mapped[Media] = relationship(lazy="raise")


class UpstreamAlert(Base):
    """An alert received from upstream (CAP XML or the JSON form), stored once per
    (sender, identifier) so a resent alert never broadcasts twice."""

    __tablename__ = "upstream_alerts"
    __table_args__ = (
        UniqueConstraint("sender", "identifier", name="uq_upstream_alerts_sender_identifier"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    sender: Mapped[str] = mapped_column(String(200))
    identifier: Mapped[str] = mapped_column(String(200))
    sent: Mapped[datetime]
    msg_type: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(20))
    expires: Mapped[datetime | None]
    fmt: Mapped[str] = mapped_column(String(10), default="cap")
    outcome: Mapped[str] = mapped_column(String(20))
    reason: Mapped[str] = mapped_column(String(500), default="")
    emergency_id: Mapped[str | None] = mapped_column(String(32))
    announcement_id: Mapped[int | None] = mapped_column(Integer)
    received_at: Mapped[datetime]


class ZoneGeocode(Base):
    """A CAP ``<geocode>`` (valueName + value, e.g. an administrative unit code) → a zone."""

    __tablename__ = "zone_geocodes"

    value_name: Mapped[str] = mapped_column(String(100), primary_key=True)
    value: Mapped[str] = mapped_column(String(100), primary_key=True)
    zone_id: Mapped[str] = mapped_column(
        ForeignKey("zones.id", ondelete="CASCADE"), primary_key=True
    )


class LeaseRow(Base):
    """A named leader lease (see controller/jobs/lease.py): who holds it and until when."""

    __tablename__ = "leases"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    holder: Mapped[str] = mapped_column(String(128))
    expires_at: Mapped[datetime]


class AgentRollout(Base):
    """A staged agent update: canary nodes first, then waves; halts when too many fail."""

    __tablename__ = "agent_rollouts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    version: Mapped[str] = mapped_column(String(64))
    sha256: Mapped[str] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(20))  # canary | rolling | done | halted
    canary: Mapped[int] = mapped_column(Integer)
    wave: Mapped[int] = mapped_column(Integer)
    max_failed_pct: Mapped[float] = mapped_column(Float)
    zones: Mapped[str] = mapped_column(Text, default="")  # comma-separated; "" = every node
    detail: Mapped[str] = mapped_column(String(500), default="")
    created_by: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime]
    finished_at: Mapped[datetime | None]


class AgentRolloutNode(Base):
    """One node of a rollout: waiting -> sent -> updated / failed."""

    __tablename__ = "agent_rollout_nodes"

    rollout_id: Mapped[int] = mapped_column(
        ForeignKey("agent_rollouts.id", ondelete="CASCADE"), primary_key=True
    )
    node_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    stage: Mapped[str] = mapped_column(String(10))  # canary | main
    position: Mapped[int] = mapped_column(Integer)
    state: Mapped[str] = mapped_column(String(20))
    command_id: Mapped[str | None] = mapped_column(String(128))
    detail: Mapped[str] = mapped_column(String(500), default="")
    sent_at: Mapped[datetime | None]
    updated_at: Mapped[datetime]


class ApiToken(Base):
    """A user's own API token. Only its SHA-256 is stored; the token is shown once."""

    __tablename__ = "api_tokens"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    token_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime]
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]


class RevokedSession(Base):
    """A panel session ended by logout before its cookie expired (kept until it would)."""

    __tablename__ = "revoked_sessions"

    nonce: Mapped[str] = mapped_column(String(64), primary_key=True)
    expires_at: Mapped[datetime] = mapped_column(index=True)


class Pronunciation(Base):
    """An operator's word and how it is read ("Pác Nặm" -> "Pắc Nặm"), for texts sent to a
    province or commune zone and everything below it. Applied at the next render."""

    __tablename__ = "pronunciations"
    __table_args__ = (
        UniqueConstraint("scope_zone_id", "written", name="uq_pronunciations_scope_written"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    written: Mapped[str] = mapped_column(String(100))
    spoken: Mapped[str] = mapped_column(String(300))
    scope_zone_id: Mapped[str] = mapped_column(
        ForeignKey("zones.id", ondelete="CASCADE"), index=True
    )
    created_by: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime]
    updated_by: Mapped[str | None] = mapped_column(String(100))
    updated_at: Mapped[datetime]


class ProgrammeSlotRow(Base):
    """A named recurring block ("Bản tin sáng 05:30–06:00") that entries are packed into."""

    __tablename__ = "programme_slots"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    title: Mapped[str] = mapped_column(String(500))
    rule: Mapped[dict[str, Any]] = mapped_column(JSON)
    duration_s: Mapped[float] = mapped_column(Float)
    gap_s: Mapped[float] = mapped_column(Float, default=0.0)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class ScheduleEntryRow(Base):
    """One programme entry; ``spec`` is ``ScheduleEntry.model_dump(mode="json")``."""

    __tablename__ = "schedule_entries"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    title: Mapped[str] = mapped_column(String(500))
    priority: Mapped[int] = mapped_column(Integer)
    slot_id: Mapped[str | None] = mapped_column(
        ForeignKey("programme_slots.id", ondelete="RESTRICT"), index=True
    )
    created_seq: Mapped[int] = mapped_column(BigInteger)
    spec: Mapped[dict[str, Any]] = mapped_column(JSON)
    valid_until: Mapped[datetime | None]
    cancelled_at: Mapped[datetime | None] = mapped_column(index=True)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    created_by: Mapped[str | None] = mapped_column(String(100))

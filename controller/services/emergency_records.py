"""Tables of the emergency path: emergencies, upstream alerts (CAP/JSON), zone geocodes.

They live on the shared ``Base`` so Alembic and ``compare_metadata`` see them; migration
0004 creates them. Kept apart from ``controller/db/models.py`` because one helper owns that
file; importing this module (the emergency service, the routes and migration 0004 do) is
what registers the tables.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Float, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from controller.db.models import Base


class Emergency(Base):
    """One emergency broadcast: what to play, where, how often, and its zone commands.

    ``command_ids`` are the signed EMERGENCY zone commands (one per zone), so per-node
    status comes from their ``CommandDelivery`` rows and the events naming ``item_id``.
    """

    __tablename__ = "emergencies"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    title: Mapped[str] = mapped_column(String(500), default="")
    text: Mapped[str | None] = mapped_column(Text)
    media_sha256: Mapped[str] = mapped_column(ForeignKey("media.sha256"))
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

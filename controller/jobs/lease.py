"""A leader lease in the database: of all controllers sharing one database, one runs the jobs.

The holder renews ``expires_at`` every few seconds; anyone may take the row over once it has
expired. Taking and renewing are one conditional ``UPDATE`` (or the first ``INSERT``), so two
processes racing for it cannot both win: the database serialises the writes. A holder that
stops cleanly releases the lease so a standby takes over at its next renewal instead of
waiting out the TTL.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from controller.db.models import LeaseRow
from protocol.clock import Clock


class Lease:
    """One named lease as seen by one holder; ``renew()`` both takes and keeps it."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        clock: Clock,
        name: str,
        holder: str,
        ttl: timedelta,
    ) -> None:
        self._sessions = sessions
        self._clock = clock
        self.name = name
        self.holder = holder
        self.ttl = ttl

    def renew(self) -> bool:
        """Take the lease if free or expired, extend it if ours; True while we hold it."""
        now = self._clock.now()
        with self._sessions.begin() as session:
            result = session.execute(
                update(LeaseRow)
                .where(
                    LeaseRow.name == self.name,
                    (LeaseRow.holder == self.holder) | (LeaseRow.expires_at <= now),
                )
                .values(holder=self.holder, expires_at=now + self.ttl)
            )
            if result.rowcount == 1:  # type: ignore[attr-defined]
                return True
            if session.get(LeaseRow, self.name) is not None:
                return False
        try:
            with self._sessions.begin() as session:
                session.add(LeaseRow(name=self.name, holder=self.holder, expires_at=now + self.ttl))
        except IntegrityError:
            return False  # someone else inserted it first
        return True

    def release(self) -> None:
        """Give the lease up at once (only if we hold it)."""
        now = self._clock.now()
        with self._sessions.begin() as session:
            session.execute(
                update(LeaseRow)
                .where(LeaseRow.name == self.name, LeaseRow.holder == self.holder)
                .values(expires_at=now)
            )

    def current_holder(self) -> str | None:
        """Who holds an unexpired lease now (for health pages and tests)."""
        with self._sessions() as session:
            row = session.get(LeaseRow, self.name)
            if row is None or row.expires_at <= self._clock.now():
                return None
            return row.holder

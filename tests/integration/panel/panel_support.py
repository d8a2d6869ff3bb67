"""Panel test helpers: seeded users and a client that switches between their sessions, and
the history a page reads (commands, emergencies, speakers' playback reports) seeded at
chosen times."""

from __future__ import annotations

import hashlib
import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient

from controller.db.models import Command as CommandRow
from controller.db.models import CommandDelivery, Emergency, Media, PlaybackEvent
from protocol.models import Command, CommandAction, ItemKind, MediaRef, PlaylistItem, Priority

PASSWORD = "mat-khau-thu-1"
# role name -> (db role, communes, all_communes)
USERS = {
    "admin": ("admin", [], True),
    "operator": ("operator", ["xa-dong-tien"], False),
    "viewer": ("viewer", ["xa-dong-tien"], False),
    "other": ("operator", ["xa-vi-huong"], False),  # an operator of another commune
}
CSRF = re.compile(r'name="csrf" value="([^"]+)"')


@dataclass
class Panel:
    client: TestClient
    cookies: dict[str, str] = field(default_factory=dict)
    csrf: dict[str, str] = field(default_factory=dict)

    def login(self, username: str, password: str = PASSWORD) -> TestClient:
        self.client.cookies.clear()
        page = self.client.get("/panel/login")
        token = CSRF.search(page.text)
        assert token, page.text
        r = self.client.post(
            "/panel/login",
            data={"username": username, "password": password, "csrf": token.group(1)},
        )
        assert r.status_code == 303, r.text
        return self.client

    def as_(self, role: str | None) -> TestClient:
        """The client carrying ``role``'s session (None: logged out)."""
        self.client.cookies.clear()
        if role is None:
            return self.client
        if role not in self.cookies:
            self.login(role)
            self.cookies[role] = self.client.cookies["loa_session"]
            home = self.client.get("/panel/")
            match = CSRF.search(home.text)
            assert match, home.text
            self.csrf[role] = match.group(1)
        self.client.cookies.set("loa_session", self.cookies[role])
        return self.client


def store_command(ctl: Any, command: Command, delivered_to: list[str] = ()) -> str:  # type: ignore[assignment]
    """A signed command row as ``issue_command`` stores it (and acked deliveries), unpublished:
    for tests that seed history at a chosen time."""
    with ctl.sessions.begin() as session:
        session.add(
            CommandRow(
                id=command.id,
                action=command.action.value,
                node_id=command.node_id,
                zone_id=command.zone_id,
                payload=ctl.signer.sign(command).decode(),
                issued_at=command.issued_at,
                expires_at=command.expires_at,
            )
        )
        session.flush()
        for node in delivered_to:
            session.add(
                CommandDelivery(
                    command_id=command.id, node_id=node, state="acked", updated_at=command.issued_at
                )
            )
    return command.id


def store_ad_hoc(
    ctl: Any,
    action: CommandAction,
    item_id: str,
    at: datetime,
    nodes: Sequence[str],
    seconds: float = 10,
    title: str = "Khẩn",
) -> Command:
    """A play-now or emergency command to xã Đồng Tiến issued at ``at``, acked by ``nodes``;
    its media hash is derived from ``item_id``."""
    media = MediaRef(
        sha256=hashlib.sha256(item_id.encode()).hexdigest(), size=1, duration_s=seconds
    )
    item = PlaylistItem(
        id=item_id,
        kind=ItemKind.TTS,
        start=at,
        duration_s=seconds,
        priority=Priority.EMERGENCY,
        title=title,
        media=media,
    )
    command = Command(
        id=uuid.uuid4().hex,
        action=action,
        issued_at=at,
        expires_at=at + timedelta(minutes=10),
        zone_id="xa-dong-tien",
        item=item,
    )
    store_command(ctl, command, list(nodes))
    return command


def store_emergency(
    ctl: Any,
    emergency_id: str,
    title: str,
    item_id: str,
    at: datetime,
    seconds: float,
    expires_at: datetime,
    **fields: Any,
) -> None:
    """An emergency of xã Đồng Tiến and its media row (hash derived from ``item_id``)."""
    sha = hashlib.sha256(item_id.encode()).hexdigest()
    with ctl.sessions.begin() as session:
        session.add(
            Media(sha256=sha, ext="mp3", size=1, duration_s=seconds, source="tts", created_at=at)
        )
        session.flush()
        session.add(
            Emergency(
                id=emergency_id,
                title=title,
                media_sha256=sha,
                item_id=item_id,
                zone_ids=["xa-dong-tien"],
                issued_at=at,
                expires_at=expires_at,
                **{"command_ids": [], "cancel_command_ids": [], **fields},
            )
        )


@dataclass
class PlaybackReports:
    """Playback events as speakers report them, numbered like one outbox per test module."""

    ctl: Any
    seq: int = 0

    def add(self, node: str, kind: str, item_id: str, at: datetime, detail: str = "") -> None:
        self.seq += 1
        with self.ctl.sessions.begin() as session:
            session.add(
                PlaybackEvent(
                    node_id=node,
                    seq=self.seq,
                    kind=kind,
                    at=at,
                    item_id=item_id,
                    detail=detail,
                    received_at=at,
                )
            )

"""Panel test helpers: seeded users and a client that switches between their sessions."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from fastapi.testclient import TestClient

from controller.db.models import Command as CommandRow
from controller.db.models import CommandDelivery
from protocol.models import Command

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

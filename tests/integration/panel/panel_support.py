"""Panel test helpers: seeded users and a client that switches between their sessions."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from fastapi.testclient import TestClient

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

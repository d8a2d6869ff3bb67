"""Two communes with data, and real logged-in callers of every role, for JSON API auth tests.

Commune A is xã Đồng Tiến (seed nodes dong-an-1, cay-thi-1, khe-ngo-1), commune B is xã Vi
Hương (node vi-huong-1). Each has an announcement, a schedule entry, a command, an
emergency, an open alert and playback events. Callers authenticate exactly as the panel's
JavaScript does (session cookie + ``X-CSRF-Token``) or with the shared bearer token; the
anonymous-admin test switch is off.

Every A object's ids and texts contain ``dong-an`` and every B object's ``vi-huong``, so a
list answer can be checked for leaks by substring.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from fastapi.testclient import TestClient

from controller.auth.principal import Role
from controller.auth.users import create_user, set_password
from controller.broker.process import MosquittoProcess
from controller.config import ControllerSettings
from controller.db.models import Alert, Node, PlaybackEvent, User
from controller.services.container import Controller
from controller.services.seed import seed_demo

PASSWORD = "mat-khau-thu-1"
API_TOKEN = "shared-upstream-token-0123456789abcdef"
BROKER_HOOK_TOKEN = "emqx-hook-token-0123456789abcdef-0123"
CSRF = re.compile(r'name="csrf" value="([^"]+)"')

# identity -> (db role, communes); "admin" is the first admin (all communes).
USERS = {
    "viewer": ("viewer", ["xa-dong-tien"]),
    "operator": ("operator", ["xa-dong-tien"]),
    "other": ("operator", ["xa-vi-huong"]),  # operator of commune B
    "other-viewer": ("viewer", ["xa-vi-huong"]),
    "approver": ("approver", ["xa-dong-tien"]),  # commune A's leadership
    "province": ("operator", ["tinh-bac-ninh"]),  # above commune A: sends bulletins
}
IDENTITIES = ("anonymous", "viewer", "other", "operator", "admin", "token")
ROLE_OF = {
    "viewer": Role.VIEWER,
    "other-viewer": Role.VIEWER,
    "operator": Role.OPERATOR,
    "other": Role.OPERATOR,
    "approver": Role.APPROVER,
    "province": Role.OPERATOR,
    "admin": Role.ADMIN,
    "token": Role.ADMIN,
}


def settings_for(root: Path, broker: MosquittoProcess) -> ControllerSettings:
    return ControllerSettings(
        data_dir=root / "ctl",
        tts_engine_order=["espeak-ng"],
        mqtt_port=broker.port,
        mqtt_client_id=f"ctl-{root.name}",
        immediate_lead_s=2,
        api_anonymous_admin=False,
        api_token=API_TOKEN,
        broker_hook_token=BROKER_HOOK_TOKEN,
        scheduler_enabled=False,
    )


@dataclass
class Communes:
    client: TestClient
    ctl: Controller
    headers: dict[str, dict[str, str]] = field(default_factory=dict)
    ids: dict[str, Any] = field(default_factory=dict)

    def call(self, who: str, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """One request as ``who`` (cookie callers always send their CSRF token)."""
        self.client.cookies.clear()
        headers = {**self.headers.get(who, {}), **kwargs.pop("headers", {})}
        return self.client.request(method, path, headers=headers, **kwargs)

    # -- fresh objects (for routes that consume them: cancel, delete, revoke) -------------

    def announcement(self, commune: str = "a") -> int:
        target, text = (
            ("ban-dong-an", "Thông báo dong-an họp thôn.")
            if commune == "a"
            else ("vi-huong-thon-1", "Thông báo vi-huong họp thôn.")
        )
        start = (self.ctl.clock.now() + timedelta(hours=3)).isoformat()
        r = self.call(
            "admin",
            "POST",
            "/api/v1/announcements",
            json={"text": text, "targets": [target], "start": start},
        )
        assert r.status_code == 201, r.text
        return int(r.json()["id"])

    def schedule(self, commune: str = "a", entry_id: str | None = None) -> str:
        self.ids["seq"] = self.ids.get("seq", 0) + 1
        name = "dong-an" if commune == "a" else "vi-huong"
        entry_id = entry_id or f"{name}-pause-{self.ids['seq']}"
        r = self.call("admin", "POST", "/api/v1/schedules", json=schedule_body(commune, entry_id))
        assert r.status_code == 201, r.text
        return entry_id

    def emergency(self, commune: str = "a") -> str:
        zone = "ban-dong-an" if commune == "a" else "vi-huong-thon-1"
        text = "Khẩn cấp dong-an." if commune == "a" else "Khẩn cấp vi-huong."
        r = self.call("admin", "POST", "/api/v1/emergencies", json={"zones": [zone], "text": text})
        assert r.status_code == 201, r.text
        return str(r.json()["id"])

    def bulletin(self, commune: str = "a", level: str = "normal") -> int:
        """A bulletin from above to commune A (or B), sent by the admin."""
        zone, text = (
            ("xa-dong-tien", "Bản tin dong-an.")
            if commune == "a"
            else ("xa-vi-huong", "Bản tin vi-huong.")
        )
        body = {"level": level, "communes": [zone], "text": text}
        r = self.call("admin", "POST", "/api/v1/bulletins", json=body)
        assert r.status_code == 201, r.text
        return int(r.json()["id"])

    def held(self, commune: str = "a", draft: bool = False) -> int:
        """An announcement held for approval (pending, or a draft) in commune A (or B)."""
        zone, target, text = (
            ("xa-dong-tien", "ban-dong-an", "Chờ duyệt dong-an.")
            if commune == "a"
            else ("xa-vi-huong", "vi-huong-thon-1", "Chờ duyệt vi-huong.")
        )
        start = (self.ctl.clock.now() + timedelta(hours=3)).isoformat()
        on, off = {"needs_approval": True}, {"needs_approval": False}
        assert self.call("admin", "PATCH", f"/api/v1/zones/{zone}", json=on).status_code == 200
        body = {"text": text, "targets": [target], "start": start, "draft": draft}
        r = self.call("admin", "POST", "/api/v1/announcements", json=body)
        assert self.call("admin", "PATCH", f"/api/v1/zones/{zone}", json=off).status_code == 200
        assert r.status_code == 201, r.text
        assert r.json()["approval"] == ("draft" if draft else "pending"), r.text
        return int(r.json()["id"])

    def node(self) -> str:
        self.ids["seq"] = self.ids.get("seq", 0) + 1
        node_id = f"dong-an-new-{self.ids['seq']}"
        body = {"id": node_id, "name": node_id, "zone_id": "ban-dong-an"}
        r = self.call("admin", "POST", "/api/v1/nodes", json=body)
        assert r.status_code == 201, r.text
        return node_id

    def slot(self) -> str:
        self.ids["seq"] = self.ids.get("seq", 0) + 1
        slot_id = f"ban-tin-{self.ids['seq']}"
        r = self.call("admin", "POST", "/api/v1/slots", json=slot_body(slot_id))
        assert r.status_code == 201, r.text
        return slot_id


def schedule_body(commune: str, entry_id: str | None = None, **extra: Any) -> dict[str, Any]:
    name, target = ("dong-an", "ban-dong-an") if commune == "a" else ("vi-huong", "vi-huong-thon-1")
    body: dict[str, Any] = {
        "kind": "silence",
        "title": f"Nghỉ {name}",
        "duration_s": 60,
        "targets": [target],
        "rule": {"freq": "daily", "time": "04:10", "start_date": _today()},
    }
    if entry_id is not None:
        body["id"] = entry_id
    return body | extra


def _today() -> str:
    return datetime.now(UTC).date().isoformat()


def slot_body(slot_id: str) -> dict[str, Any]:
    return {
        "id": slot_id,
        "title": "Bản tin sáng",
        "rule": {"freq": "daily", "time": "05:30", "start_date": _today()},
        "duration_s": 1800,
    }


def login(client: httpx.Client, username: str) -> dict[str, str]:
    """Log ``username`` in through the panel form; the headers a panel page's script sends."""
    client.cookies.clear()
    page = client.get("/panel/login")
    token = CSRF.search(page.text)
    assert token, page.text
    r = client.post(
        "/panel/login", data={"username": username, "password": PASSWORD, "csrf": token.group(1)}
    )
    assert r.status_code == 303, r.text
    cookie = client.cookies["loa_session"]
    home = client.get("/panel/")
    csrf = CSRF.search(home.text)
    assert csrf, home.text
    client.cookies.clear()
    return {"cookie": f"loa_session={cookie}", "x-csrf-token": csrf.group(1)}


def seed(ctl: Controller) -> None:
    """Zones, nodes, users (password ``PASSWORD``), alerts and playback events of A and B."""
    now = ctl.clock.now()
    with ctl.sessions.begin() as session:
        seed_demo(session, now)
        session.add(
            Node(id="vi-huong-1", name="Loa vi-huong", zone_id="vi-huong-thon-1", created_at=now)
        )
        for name, (role, communes) in USERS.items():
            create_user(
                session,
                username=name,
                password=PASSWORD,
                role=role,
                now=now,
                communes=communes,
                must_change_password=False,
            )
        admin = session.query(User).filter_by(username="admin").one()
        set_password(admin, PASSWORD, must_change=False)
        for node_id in ("dong-an-1", "vi-huong-1"):
            session.add(
                Alert(node_id=node_id, kind="offline", message=f"{node_id} im", opened_at=now)
            )
            for seq in (1, 2):
                session.add(
                    PlaybackEvent(
                        node_id=node_id, seq=seq, kind="finished", at=now, received_at=now
                    )
                )
        assert session.get(Node, "dong-an-1") is not None


def build(client: TestClient, ctl: Controller) -> Communes:
    """Seed, log everyone in, and create each commune's objects."""
    seed(ctl)
    env = Communes(client, ctl)
    env.headers["anonymous"] = {}
    env.headers["token"] = {"authorization": f"Bearer {API_TOKEN}"}
    for name in ("admin", *USERS):
        env.headers[name] = login(client, name)
    for commune in ("a", "b"):
        env.ids[f"announcement_{commune}"] = env.announcement(commune)
        env.ids[f"schedule_{commune}"] = env.schedule(commune)
        env.ids[f"emergency_{commune}"] = env.emergency(commune)
        env.ids[f"bulletin_{commune}"] = env.bulletin(commune)
        env.ids[f"held_{commune}"] = env.held(commune)
        node = "dong-an-1" if commune == "a" else "vi-huong-1"
        r = env.call("admin", "POST", "/api/v1/commands", json={"action": "sync", "node_id": node})
        assert r.status_code == 201, r.text
        env.ids[f"command_{commune}"] = r.json()["id"]
    listed = env.call("admin", "GET", "/api/v1/announcements").json()
    (media,) = [a["media_url"] for a in listed if a["id"] == env.ids["announcement_a"]]
    env.ids["media"] = media.rsplit("/", 1)[1]  # commune A's audio
    return env

"""Every JSON API route x every kind of caller, against a declared policy table.

The routes come from the app itself (its OpenAPI document plus the documentation routes it
serves outside it); a route without a row in ``POLICY`` fails ``test_every_route_has_a_policy``,
so nobody adds an endpoint without deciding who may call it. Callers: anonymous, a viewer and
an operator of xã Đồng Tiến (A), an operator of xã Vi Hương (B, "other"), the admin (panel
cookie + CSRF header) and the shared bearer token. Path objects all belong to A.

Outcomes: anonymous -> 401; a role below the minimum -> 403; ``other`` on a scoped route ->
404 (an object addressed in the path) or 403 (targets in the body); lists are "filtered": B's
operator gets 200 without any of A's data, A's callers get A's data and none of B's.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from enum import Enum
from typing import Any

import pytest
from integration.controller.two_communes import (
    BROKER_HOOK_TOKEN,
    IDENTITIES,
    ROLE_OF,
    Communes,
    schedule_body,
    slot_body,
)
from support import images

from controller.app import create_app
from controller.auth.principal import Role
from controller.config import ControllerSettings

pytestmark = pytest.mark.integration


class Scoped(Enum):
    NO = "not commune data"
    PATH = "object in the path: 404 outside the scope"
    BODY = "targets in the body: 403 outside the scope"
    LIST = "list filtered to the scope"


PUBLIC = None  # min role for routes anyone may call


@dataclass(frozen=True)
class Call:
    path: str
    kwargs: dict[str, Any] = field(default_factory=dict)


Maker = Callable[[Communes], Call]


@dataclass(frozen=True)
class Policy:
    role: Role | None
    scoped: Scoped
    make: Maker
    ok: tuple[int, ...] = (200, 201, 204)
    # callers allowed by role and scope whose answer differs for a stated reason
    special: tuple[tuple[str, tuple[int, ...]], ...] = ()


def fixed(path: str, **kwargs: Any) -> Maker:
    return lambda _env: Call(path, kwargs)


def _ann_body(env: Communes) -> dict[str, Any]:
    return {"text": "Họp dong-an matrix.", "targets": ["ban-dong-an"]}


def _tts_body() -> dict[str, Any]:
    return {"text": "Kiểm tra dong-an."}


def _wav() -> bytes:
    import io
    import math
    import struct
    import wave

    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(16000)
        frames = (int(8000 * math.sin(2 * math.pi * 440 * i / 16000)) for i in range(16000))
        w.writeframes(b"".join(struct.pack("<h", f) for f in frames))
    return buf.getvalue()


CAP_JSON = {
    "identifier": "matrix-1",
    "sender": "kttv@example.vn",
    "msgType": "Alert",
    "zones": ["ban-dong-an"],
}

BROKER_AUTHN = {"username": "node-dong-an-1", "password": "x"}
BROKER_AUTHZ = {
    "username": "node-dong-an-1",
    "topic": "loa/v1/node/dong-an-1/playlist",
    "action": "subscribe",
}

V = "/api/v1"
POLICY: dict[tuple[str, str], Policy] = {
    # -- public: agents, load balancers, API readers ------------------------------------
    ("GET", f"{V}/health"): Policy(PUBLIC, Scoped.NO, fixed(f"{V}/health")),
    ("GET", f"{V}/signing-keys"): Policy(PUBLIC, Scoped.NO, fixed(f"{V}/signing-keys")),
    # the one-time token is the credential; a wrong one is refused for everybody
    ("POST", f"{V}/enrol"): Policy(
        PUBLIC, Scoped.NO, fixed(f"{V}/enrol", json={"token": "x" * 43}), ok=(403,)
    ),
    # media: nodes with their own credentials (test_media_access.py), users within scope
    ("GET", "/media/{filename}"): Policy(
        Role.VIEWER, Scoped.PATH, lambda env: Call(f"/media/{env.ids['media']}")
    ),
    # the agents' CA (its hash is pinned in the token); this controller has none: 404
    ("GET", f"{V}/enrol/ca.pem"): Policy(PUBLIC, Scoped.NO, fixed(f"{V}/enrol/ca.pem"), ok=(404,)),
    # the agent distribution: public like /media/, every file checked against a signature
    ("GET", "/agent/install.sh"): Policy(PUBLIC, Scoped.NO, fixed("/agent/install.sh"), ok=(404,)),
    ("GET", "/agent/manifest.json"): Policy(
        PUBLIC, Scoped.NO, fixed("/agent/manifest.json"), ok=(404,)
    ),
    ("GET", "/agent/versions"): Policy(PUBLIC, Scoped.NO, fixed("/agent/versions")),
    ("GET", "/agent/{version}/manifest.json"): Policy(
        PUBLIC, Scoped.NO, fixed("/agent/9.9/manifest.json"), ok=(404,)
    ),
    ("GET", "/agent/files/{version}/{name}"): Policy(
        PUBLIC, Scoped.NO, fixed("/agent/files/9.9/install.sh"), ok=(404,)
    ),
    ("GET", "/agent/wheels/{name}"): Policy(
        PUBLIC, Scoped.NO, fixed("/agent/wheels/x-1.0-py3-none-any.whl"), ok=(404,)
    ),
    # EMQX's hooks take the broker's own bearer secret only: no user, not even an admin
    ("POST", f"{V}/broker/authn"): Policy(
        PUBLIC, Scoped.NO, fixed(f"{V}/broker/authn", json=BROKER_AUTHN), ok=(403,)
    ),
    ("POST", f"{V}/broker/authz"): Policy(
        PUBLIC, Scoped.NO, fixed(f"{V}/broker/authz", json=BROKER_AUTHZ), ok=(403,)
    ),
    # the citizens' replay of a commune: only its public, aired items (test_public_replay.py)
    ("GET", "/public/{commune_id}/"): Policy(PUBLIC, Scoped.NO, fixed("/public/xa-dong-tien/")),
    ("GET", "/public/{commune_id}/feed.xml"): Policy(
        PUBLIC, Scoped.NO, fixed("/public/xa-dong-tien/feed.xml")
    ),
    ("GET", "/public/{commune_id}/poster"): Policy(
        PUBLIC, Scoped.NO, fixed("/public/xa-dong-tien/poster")
    ),
    ("GET", "/public/{commune_id}/media/{filename}"): Policy(
        PUBLIC,
        Scoped.NO,
        lambda env: Call(f"/public/xa-dong-tien/media/e{env.ids['emergency_a']}.mp3"),
    ),
    ("GET", "/openapi.json"): Policy(PUBLIC, Scoped.NO, fixed("/openapi.json")),
    ("GET", "/docs"): Policy(PUBLIC, Scoped.NO, fixed("/docs")),
    ("GET", "/docs/oauth2-redirect"): Policy(PUBLIC, Scoped.NO, fixed("/docs/oauth2-redirect")),
    ("GET", "/redoc"): Policy(PUBLIC, Scoped.NO, fixed("/redoc")),
    # -- viewer reads, filtered or 404 outside the scope ---------------------------------
    ("GET", f"{V}/announcements"): Policy(Role.VIEWER, Scoped.LIST, fixed(f"{V}/announcements")),
    ("GET", f"{V}/schedules"): Policy(Role.VIEWER, Scoped.LIST, fixed(f"{V}/schedules")),
    ("GET", f"{V}/emergencies"): Policy(Role.VIEWER, Scoped.LIST, fixed(f"{V}/emergencies")),
    ("GET", f"{V}/nodes"): Policy(Role.VIEWER, Scoped.LIST, fixed(f"{V}/nodes")),
    ("GET", f"{V}/fleet"): Policy(Role.VIEWER, Scoped.LIST, fixed(f"{V}/fleet")),
    ("GET", f"{V}/alerts"): Policy(Role.VIEWER, Scoped.LIST, fixed(f"{V}/alerts")),
    ("GET", f"{V}/playback-events"): Policy(
        Role.VIEWER, Scoped.LIST, fixed(f"{V}/playback-events")
    ),
    ("GET", f"{V}/zones"): Policy(Role.VIEWER, Scoped.LIST, fixed(f"{V}/zones")),
    # the report upward: a commune (or a province with its communes) the caller manages
    ("GET", f"{V}/reports/upward/{{zone_id}}"): Policy(
        Role.VIEWER, Scoped.PATH, fixed(f"{V}/reports/upward/xa-dong-tien?period=2026-11")
    ),
    ("GET", f"{V}/slots"): Policy(Role.VIEWER, Scoped.NO, fixed(f"{V}/slots")),
    ("GET", f"{V}/schedules/{{entry_id}}"): Policy(
        Role.VIEWER, Scoped.PATH, lambda env: Call(f"{V}/schedules/{env.ids['schedule_a']}")
    ),
    ("GET", f"{V}/schedules/preview/{{node_id}}"): Policy(
        Role.VIEWER, Scoped.PATH, fixed(f"{V}/schedules/preview/dong-an-1")
    ),
    ("GET", f"{V}/emergencies/{{emergency_id}}"): Policy(
        Role.VIEWER, Scoped.PATH, lambda env: Call(f"{V}/emergencies/{env.ids['emergency_a']}")
    ),
    ("GET", f"{V}/commands/{{command_id}}"): Policy(
        Role.VIEWER, Scoped.PATH, lambda env: Call(f"{V}/commands/{env.ids['command_a']}")
    ),
    ("GET", f"{V}/nodes/{{node_id}}"): Policy(
        Role.VIEWER, Scoped.PATH, fixed(f"{V}/nodes/dong-an-1")
    ),
    ("GET", f"{V}/zones/{{zone_id}}"): Policy(
        Role.VIEWER, Scoped.PATH, fixed(f"{V}/zones/ban-dong-an")
    ),
    # -- operator writes inside the scope ------------------------------------------------
    ("POST", f"{V}/announcements"): Policy(
        Role.OPERATOR, Scoped.BODY, lambda env: Call(f"{V}/announcements", {"json": _ann_body(env)})
    ),
    ("DELETE", f"{V}/announcements/{{announcement_id}}"): Policy(
        Role.OPERATOR, Scoped.PATH, lambda env: Call(f"{V}/announcements/{env.announcement()}")
    ),
    ("PUT", f"{V}/announcements/{{announcement_id}}/visibility"): Policy(
        Role.OPERATOR,
        Scoped.PATH,
        lambda env: Call(
            f"{V}/announcements/{env.announcement()}/visibility", {"json": {"internal": True}}
        ),
    ),
    ("POST", f"{V}/schedules"): Policy(
        Role.OPERATOR, Scoped.BODY, lambda env: Call(f"{V}/schedules", {"json": schedule_body("a")})
    ),
    ("PUT", f"{V}/schedules/{{entry_id}}"): Policy(
        Role.OPERATOR,
        Scoped.PATH,
        lambda env: _put_schedule(env),
    ),
    ("DELETE", f"{V}/schedules/{{entry_id}}"): Policy(
        Role.OPERATOR, Scoped.PATH, lambda env: Call(f"{V}/schedules/{env.schedule()}")
    ),
    ("POST", f"{V}/schedules/check"): Policy(
        Role.OPERATOR,
        Scoped.BODY,
        fixed(f"{V}/schedules/check", json=schedule_body("a")),
    ),
    ("POST", f"{V}/commands"): Policy(
        Role.OPERATOR,
        Scoped.BODY,
        fixed(f"{V}/commands", json={"action": "sync", "node_id": "dong-an-1"}),
    ),
    ("POST", f"{V}/emergencies"): Policy(
        Role.OPERATOR,
        Scoped.BODY,
        fixed(f"{V}/emergencies", json={"zones": ["ban-dong-an"], "text": "Khẩn cấp dong-an."}),
    ),
    ("POST", f"{V}/emergencies/{{emergency_id}}/cancel"): Policy(
        Role.OPERATOR, Scoped.PATH, lambda env: Call(f"{V}/emergencies/{env.emergency()}/cancel")
    ),
    # live from the panel: this controller has no Icecast (503), and no broadcast is on air
    ("GET", f"{V}/live"): Policy(Role.VIEWER, Scoped.NO, fixed(f"{V}/live")),
    ("POST", f"{V}/live"): Policy(
        Role.OPERATOR, Scoped.BODY, fixed(f"{V}/live", json={"zones": ["ban-dong-an"]}), ok=(503,)
    ),
    ("POST", f"{V}/live/{{live_id}}/audio"): Policy(
        Role.OPERATOR, Scoped.PATH, fixed(f"{V}/live/abc/audio", content=b"x"), ok=(404,)
    ),
    ("POST", f"{V}/live/{{live_id}}/stop"): Policy(
        Role.OPERATOR, Scoped.PATH, fixed(f"{V}/live/abc/stop"), ok=(404,)
    ),
    ("POST", f"{V}/tts/preview"): Policy(
        Role.OPERATOR, Scoped.NO, fixed(f"{V}/tts/preview", json=_tts_body())
    ),
    ("POST", f"{V}/tts/normalise"): Policy(
        Role.OPERATOR, Scoped.NO, fixed(f"{V}/tts/normalise", json=_tts_body())
    ),
    ("POST", f"{V}/uploads/audio"): Policy(
        Role.OPERATOR,
        Scoped.NO,
        fixed(f"{V}/uploads/audio", files={"file": ("a.wav", _wav(), "audio/wav")}),
    ),
    ("POST", f"{V}/uploads/image"): Policy(
        Role.OPERATOR,
        Scoped.NO,
        fixed(f"{V}/uploads/image", files={"file": ("s.png", images.png(), "image/png")}),
    ),
    ("POST", f"{V}/uploads/pdf"): Policy(
        Role.OPERATOR,
        Scoped.NO,
        fixed(f"{V}/uploads/pdf", files={"file": ("t.pdf", images.pdf(1), "application/pdf")}),
    ),
    # -- admin: shared programme, fleet, users, upstream alerts --------------------------
    ("POST", f"{V}/slots"): Policy(
        Role.ADMIN, Scoped.NO, lambda env: Call(f"{V}/slots", {"json": slot_body(_fresh(env))})
    ),
    ("PUT", f"{V}/slots/{{slot_id}}"): Policy(
        Role.ADMIN,
        Scoped.NO,
        lambda env: (s := env.slot()) and Call(f"{V}/slots/{s}", {"json": slot_body(s)}),
    ),
    ("DELETE", f"{V}/slots/{{slot_id}}"): Policy(
        Role.ADMIN, Scoped.NO, lambda env: Call(f"{V}/slots/{env.slot()}")
    ),
    ("POST", f"{V}/nodes"): Policy(
        Role.ADMIN,
        Scoped.NO,
        lambda env: Call(
            f"{V}/nodes",
            {"json": {"id": f"dong-an-{_fresh(env)}", "name": "x", "zone_id": "ban-dong-an"}},
        ),
    ),
    # over-the-air agent updates: admins start them; progress is filtered to the caller's scope
    ("POST", f"{V}/agent-rollouts"): Policy(
        Role.ADMIN, Scoped.NO, fixed(f"{V}/agent-rollouts", json={"version": "9.9"}), ok=(422,)
    ),
    ("GET", f"{V}/agent-rollouts/latest"): Policy(
        Role.VIEWER, Scoped.NO, fixed(f"{V}/agent-rollouts/latest"), ok=(404,)
    ),
    ("GET", f"{V}/agent-rollouts/{{rollout_id}}"): Policy(
        Role.VIEWER, Scoped.NO, fixed(f"{V}/agent-rollouts/1"), ok=(404,)
    ),
    ("POST", f"{V}/nodes/{{node_id}}/enrolment-token"): Policy(
        Role.ADMIN, Scoped.NO, lambda env: Call(f"{V}/nodes/{env.node()}/enrolment-token")
    ),
    ("POST", f"{V}/nodes/{{node_id}}/revoke"): Policy(
        Role.ADMIN, Scoped.NO, lambda env: Call(f"{V}/nodes/{env.node()}/revoke")
    ),
    ("POST", f"{V}/zones"): Policy(
        Role.ADMIN,
        Scoped.NO,
        lambda env: Call(
            f"{V}/zones",
            {"json": {"id": f"thon-{_fresh(env)}", "name": "Thôn", "parent_id": "xa-dong-tien"}},
        ),
    ),
    # horn safety (volume caps, quiet hours): admin only, they bind every node below
    ("PATCH", f"{V}/zones/{{zone_id}}"): Policy(
        Role.ADMIN, Scoped.NO, fixed(f"{V}/zones/ban-dong-an", json={"volume_cap": 90})
    ),
    ("PATCH", f"{V}/nodes/{{node_id}}"): Policy(
        Role.ADMIN, Scoped.NO, fixed(f"{V}/nodes/dong-an-1", json={"volume_cap": 90})
    ),
    # which languages a zone airs: its commune's operators (404 outside their scope)
    ("PUT", f"{V}/zones/{{zone_id}}/languages"): Policy(
        Role.OPERATOR,
        Scoped.PATH,
        fixed(f"{V}/zones/ban-dong-an/languages", json={"languages": ["vi", "tay"]}),
    ),
    ("GET", f"{V}/users"): Policy(Role.ADMIN, Scoped.NO, fixed(f"{V}/users")),
    ("POST", f"{V}/users"): Policy(
        Role.ADMIN,
        Scoped.NO,
        lambda env: Call(
            f"{V}/users",
            {
                "json": {
                    "username": f"u-{_fresh(env)}",
                    "password": "mat-khau-rat-dai-123",
                    "role": "viewer",
                    "communes": ["xa-dong-tien"],
                }
            },
        ),
    ),
    ("PATCH", f"{V}/users/{{username}}"): Policy(
        Role.ADMIN, Scoped.NO, fixed(f"{V}/users/other-viewer", json={"full_name": "Người xem"})
    ),
    ("GET", f"{V}/upstream-alerts/geocodes"): Policy(
        Role.ADMIN, Scoped.NO, fixed(f"{V}/upstream-alerts/geocodes")
    ),
    ("POST", f"{V}/upstream-alerts/geocodes"): Policy(
        Role.ADMIN,
        Scoped.NO,
        fixed(
            f"{V}/upstream-alerts/geocodes",
            json={"zone_id": "xa-dong-tien", "value_name": "MA_XA", "value": "19765"},
        ),
    ),
    # upstream token or admin; a malformed alert is refused (422) only after the role check
    ("POST", f"{V}/upstream-alerts/cap"): Policy(
        Role.ADMIN,
        Scoped.NO,
        fixed(
            f"{V}/upstream-alerts/cap",
            content=b"<alert/>",
            headers={"content-type": "application/xml"},
        ),
        ok=(422,),
    ),
    ("POST", f"{V}/upstream-alerts/json"): Policy(
        Role.ADMIN, Scoped.NO, fixed(f"{V}/upstream-alerts/json", json=CAP_JSON), ok=(422,)
    ),
    # per-user API tokens: every user manages their own; the shared upstream token is not a
    # user, so it cannot hold tokens (403)
    ("GET", f"{V}/tokens"): Policy(Role.VIEWER, Scoped.NO, fixed(f"{V}/tokens")),
    ("POST", f"{V}/tokens"): Policy(
        Role.VIEWER,
        Scoped.NO,
        lambda env: Call(f"{V}/tokens", {"json": {"name": f"t-{_fresh(env)}"}}),
        special=(("token", (403,)),),
    ),
    ("DELETE", f"{V}/tokens/{{token_id}}"): Policy(
        Role.VIEWER, Scoped.NO, fixed(f"{V}/tokens/not-a-token"), ok=(404,)
    ),
    # the pronunciation dictionary: operators, for their own communes' zones
    ("GET", f"{V}/pronunciations"): Policy(Role.OPERATOR, Scoped.NO, fixed(f"{V}/pronunciations")),
    ("POST", f"{V}/pronunciations"): Policy(
        Role.OPERATOR,
        Scoped.BODY,
        lambda env: Call(f"{V}/pronunciations", {"json": _word(env)}),
    ),
    ("POST", f"{V}/pronunciations/preview"): Policy(
        Role.OPERATOR,
        Scoped.BODY,
        lambda env: Call(
            f"{V}/pronunciations/preview", {"json": {**_word(env), "sample": "Thôn Nà Pồng."}}
        ),
    ),
    ("PATCH", f"{V}/pronunciations/{{entry_id}}"): Policy(
        Role.OPERATOR,
        Scoped.PATH,
        lambda env: Call(f"{V}/pronunciations/{_entry(env)}", {"json": {"spoken": "na pông"}}),
    ),
    ("DELETE", f"{V}/pronunciations/{{entry_id}}"): Policy(
        Role.OPERATOR, Scoped.PATH, lambda env: Call(f"{V}/pronunciations/{_entry(env)}")
    ),
    # -- bulletins from above a commune, the commune inbox, approval before air ----------
    # only a zone above the communes sends (commune A's own operator: 403)
    ("POST", f"{V}/bulletins"): Policy(
        Role.OPERATOR,
        Scoped.BODY,
        fixed(
            f"{V}/bulletins",
            json={"level": "normal", "communes": ["xa-dong-tien"], "text": "Bản tin dong-an."},
        ),
        special=(("operator", (403,)),),
    ),
    ("GET", f"{V}/bulletins"): Policy(Role.VIEWER, Scoped.LIST, fixed(f"{V}/bulletins")),
    ("GET", f"{V}/bulletins/{{bulletin_id}}"): Policy(
        Role.VIEWER, Scoped.PATH, lambda env: Call(f"{V}/bulletins/{env.ids['bulletin_a']}")
    ),
    ("GET", f"{V}/inbox"): Policy(Role.VIEWER, Scoped.LIST, fixed(f"{V}/inbox")),
    ("POST", f"{V}/inbox/{{bulletin_id}}/{{zone_id}}/schedule"): Policy(
        Role.OPERATOR,
        Scoped.PATH,
        lambda env: Call(
            f"{V}/inbox/{env.bulletin()}/xa-dong-tien/schedule", {"json": {"start": _later(env)}}
        ),
    ),
    ("POST", f"{V}/inbox/{{bulletin_id}}/{{zone_id}}/decline"): Policy(
        Role.OPERATOR,
        Scoped.PATH,
        lambda env: Call(
            f"{V}/inbox/{env.bulletin()}/xa-dong-tien/decline", {"json": {"reason": "trùng lịch"}}
        ),
    ),
    # naming an item that is not a priority item of the slot: refused after the checks
    ("POST", f"{V}/inbox/slot-order"): Policy(
        Role.OPERATOR,
        Scoped.BODY,
        lambda env: Call(
            f"{V}/inbox/slot-order",
            {
                "json": {
                    "zone_id": "xa-dong-tien",
                    "slot_id": "ban-tin-sang",
                    "start": _later(env),
                    "announcement_ids": [env.ids["announcement_a"]],
                }
            },
        ),
        ok=(422,),
    ),
    ("GET", f"{V}/approvals"): Policy(Role.VIEWER, Scoped.LIST, fixed(f"{V}/approvals")),
    ("POST", f"{V}/approvals/{{announcement_id}}/approve"): Policy(
        Role.APPROVER,
        Scoped.PATH,
        lambda env: Call(f"{V}/approvals/{env.held()}/approve", {"json": {"comment": "ok"}}),
    ),
    ("POST", f"{V}/approvals/{{announcement_id}}/reject"): Policy(
        Role.APPROVER,
        Scoped.PATH,
        lambda env: Call(f"{V}/approvals/{env.held()}/reject", {"json": {"comment": "sửa"}}),
    ),
    ("POST", f"{V}/announcements/{{announcement_id}}/submit"): Policy(
        Role.OPERATOR,
        Scoped.PATH,
        lambda env: Call(f"{V}/announcements/{env.held(draft=True)}/submit"),
    ),
    ("PATCH", f"{V}/announcements/{{announcement_id}}"): Policy(
        Role.OPERATOR,
        Scoped.PATH,
        lambda env: Call(
            f"{V}/announcements/{env.announcement()}", {"json": {"title": "Sửa dong-an"}}
        ),
    ),
    ("GET", f"{V}/approvals/emergencies"): Policy(
        Role.VIEWER, Scoped.LIST, fixed(f"{V}/approvals/emergencies")
    ),
    ("POST", f"{V}/approvals/emergencies/{{emergency_id}}/review"): Policy(
        Role.APPROVER,
        Scoped.PATH,
        lambda env: Call(
            f"{V}/approvals/emergencies/{env.ids['emergency_a']}/review", {"json": {}}
        ),
    ),
}

# Served by the app but decided elsewhere: the panel's pages (tests/integration/panel/
# test_roles.py is their matrix) and its static files.
ELSEWHERE = ("/panel",)


def _fresh(env: Communes) -> str:
    env.ids["seq"] = env.ids.get("seq", 0) + 1
    return f"m{env.ids['seq']}"


def _later(env: Communes) -> str:
    return (env.ctl.clock.now() + timedelta(hours=3)).isoformat()


def _word(env: Communes) -> dict[str, str]:
    return {"written": f"Nà Pồng {_fresh(env)}", "spoken": "na pông", "zone_id": "xa-dong-tien"}


def _entry(env: Communes) -> int:
    """A dictionary entry of commune A, made by the admin."""
    r = env.call("admin", "POST", f"{V}/pronunciations", json=_word(env))
    assert r.status_code == 201, r.text
    entry_id: int = r.json()["id"]
    return entry_id


def _put_schedule(env: Communes) -> Call:
    entry = env.schedule()
    return Call(
        f"{V}/schedules/{entry}", {"json": schedule_body("a", entry, title="Nghỉ dong-an 2")}
    )


def _app_routes() -> set[tuple[str, str]]:
    app = create_app(ControllerSettings(data_dir="unused"))  # type: ignore[arg-type]
    found = {(m.upper(), p) for p, ops in app.openapi()["paths"].items() for m in ops}
    for route in app.routes:
        path = getattr(route, "path", "")
        for method in getattr(route, "methods", None) or ():
            if method != "HEAD" and not path.startswith(ELSEWHERE):
                found.add((method, path))
    return found


def test_every_route_has_a_policy() -> None:
    routes = _app_routes()
    missing = sorted(routes - POLICY.keys())
    assert not missing, f"routes without a decided policy (add them to POLICY): {missing}"
    stale = sorted(POLICY.keys() - routes)
    assert not stale, f"policies for routes that no longer exist: {stale}"


def _expected(policy: Policy, who: str) -> tuple[int, ...]:
    if policy.role is None:
        return policy.ok
    if who == "anonymous":
        return (401,)
    if ROLE_OF[who] < policy.role:
        return (403,)
    if who in dict(policy.special):
        return dict(policy.special)[who]
    if who == "other" and policy.scoped is Scoped.PATH:
        return (404,)
    if who == "other" and policy.scoped is Scoped.BODY:
        return (403,)
    return policy.ok


@pytest.mark.parametrize("who", IDENTITIES)
@pytest.mark.parametrize("route", sorted(POLICY), ids=lambda r: f"{r[0]} {r[1]}")
def test_route_answers_by_role_and_scope(
    communes: Communes, route: tuple[str, str], who: str
) -> None:
    policy = POLICY[route]
    call = policy.make(communes)
    r = communes.call(who, route[0], call.path, **call.kwargs)
    expected = _expected(policy, who)
    assert r.status_code in expected, f"{who}: {route} -> {r.status_code} {r.text[:300]}"
    if policy.scoped is Scoped.LIST and r.status_code == 200:
        if who == "other":
            assert "dong-an" not in r.text, f"A's data leaks to B's operator: {r.text[:500]}"
            assert "vi-huong" in r.text
        elif who in ("viewer", "operator"):
            assert "dong-an" in r.text and "vi-huong" not in r.text, r.text[:500]
        else:
            assert "dong-an" in r.text and "vi-huong" in r.text, r.text[:500]


def test_broker_hooks_answer_the_broker_token(communes: Communes) -> None:
    """The 403s above are the user identities; the broker's own secret is let in."""
    hook = {"authorization": f"Bearer {BROKER_HOOK_TOKEN}"}
    r = communes.call("anonymous", "POST", f"{V}/broker/authz", json=BROKER_AUTHZ, headers=hook)
    assert r.status_code == 200 and r.json()["result"] in ("allow", "deny"), r.text

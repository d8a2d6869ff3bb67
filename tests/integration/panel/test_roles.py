"""Every panel route × every role: role AND commune scope are checked on each one.

Roles: anonymous, viewer / operator of xã Đồng Tiến, admin (all communes), and ``other``
— an operator of xã Vi Hương, who must not see or touch Đồng Tiến's nodes.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from integration.panel.panel_support import Panel

from controller.auth.principal import Role
from controller.panel import board_preview

pytestmark = pytest.mark.integration

BOARD = board_preview.encode(board_preview.PreviewBoard(text="Họp dân"))
ROLE_OF = {
    "viewer": Role.VIEWER,
    "operator": Role.OPERATOR,
    "other": Role.OPERATOR,
    "admin": Role.ADMIN,
}


@dataclass(frozen=True)
class Route:
    method: str
    path: str
    needs: Role
    data: dict[str, object] | None = None
    scoped: int | None = None  # status for ``other`` when the target is outside its scope
    ok: tuple[int, ...] = (200, 303)


ROUTES = [
    Route("GET", "/panel/", Role.VIEWER),
    Route("GET", "/panel/live", Role.VIEWER),
    Route("GET", "/panel/nodes", Role.VIEWER),
    Route("GET", "/panel/nodes/dong-an-1", Role.VIEWER, scoped=404),
    Route("POST", "/panel/nodes/dong-an-1/command", Role.OPERATOR, {"action": "stop"}, 404),
    Route(
        "POST",
        "/panel/nodes/dong-an-1/command",
        Role.OPERATOR,
        {"action": "volume", "volume": "60"},
        404,
    ),
    Route("GET", "/panel/map", Role.VIEWER),
    Route("GET", "/panel/announcements", Role.VIEWER),
    Route("GET", "/panel/announcements/new", Role.OPERATOR),
    Route(
        "POST",
        "/panel/announcements",
        Role.OPERATOR,
        {"text": "Kiểm tra loa.", "targets": "ban-dong-an", "when": "now"},
        422,
    ),
    Route("GET", "/panel/announcements/conflicts?targets=ban-dong-an", Role.OPERATOR, scoped=422),
    Route("POST", "/panel/announcements/upload-slide", Role.OPERATOR, ok=(422,)),
    Route("GET", f"/panel/announcements/board-preview/{BOARD}/", Role.OPERATOR),
    Route("GET", f"/panel/announcements/board-preview/{BOARD}/state.json", Role.OPERATOR),
    Route("GET", "/panel/schedule", Role.VIEWER),
    Route("GET", "/panel/schedule?zone=xa-dong-tien", Role.VIEWER, scoped=404),
    Route(
        "POST",
        "/panel/schedule/move",
        Role.OPERATOR,
        {"entry": "roles-move", "new_time": "05:45"},
        404,
    ),
    Route("POST", "/panel/schedule/cancel", Role.OPERATOR, {"entry": "roles-cancel"}, 404),
    Route("GET", "/panel/emergency", Role.VIEWER),
    Route("GET", "/panel/emergency/live", Role.VIEWER),
    # step 1 only shows the confirmation; step 2 with a bogus token issues nothing (400)
    Route(
        "POST",
        "/panel/emergency/confirm",
        Role.OPERATOR,
        {"zones": "ban-dong-an", "text": "Kiểm tra."},
        403,
        ok=(200,),
    ),
    Route(
        "POST",
        "/panel/emergency",
        Role.OPERATOR,
        {"zones": "ban-dong-an", "text": "Kiểm tra.", "token": "bogus"},
        403,
        ok=(400,),
    ),
    Route("GET", "/panel/logs", Role.VIEWER),
    Route("GET", "/panel/logs.csv", Role.VIEWER),
    Route("GET", "/panel/reports/monthly", Role.VIEWER),
    Route("GET", "/panel/reports/monthly?commune=xa-dong-tien", Role.VIEWER, scoped=404),
    Route("GET", "/panel/reports/monthly?zone=xa-dong-tien&kind=quarter", Role.VIEWER, scoped=404),
    Route(
        "GET", "/panel/reports/upward.csv?zone=xa-dong-tien&period=2026-11", Role.VIEWER, scoped=404
    ),
    Route(
        "GET",
        "/panel/reports/upward.xlsx?zone=xa-dong-tien&period=2026-Q4",
        Role.VIEWER,
        scoped=404,
    ),
    Route("GET", "/panel/audit", Role.ADMIN),
    Route("GET", "/panel/users", Role.ADMIN),
    Route(
        "POST",
        "/panel/users",
        Role.ADMIN,
        {"username": "moi", "password": "x", "role": "viewer"},
        ok=(422,),
    ),
    # issue 18: the upstream inbox and approval before air (ids that do not exist: 404)
    Route("GET", "/panel/inbox", Role.VIEWER),
    Route("GET", "/panel/approvals", Role.VIEWER),
    # the bulletin form is for users above a commune: here only the all-communes admin
    # (commune operators get 403; test_bulletin_panel covers a province operator)
    Route("GET", "/panel/bulletins/new", Role.ADMIN),
    Route("POST", "/panel/bulletins", Role.ADMIN, {"communes": "xa-dong-tien"}, ok=(422,)),
    Route(
        "POST",
        "/panel/inbox/slot-order",
        Role.OPERATOR,
        {
            "zone_id": "xa-dong-tien",
            "slot_id": "no-such-slot",
            "start": "2026-01-01T00:00:00+00:00",
            "announcement_id": "999999",
            "move": "up",
        },
        404,
        ok=(404,),
    ),
    Route(
        "POST",
        "/panel/inbox/999999/xa-dong-tien/schedule",
        Role.OPERATOR,
        {"start": "2099-01-01T07:00"},
        404,
        ok=(404,),
    ),
    Route(
        "POST",
        "/panel/inbox/999999/xa-dong-tien/decline",
        Role.OPERATOR,
        {"reason": "trùng"},
        404,
        ok=(404,),
    ),
    Route("POST", "/panel/approvals/999999/submit", Role.OPERATOR, {}, 404, ok=(404,)),
    Route("POST", "/panel/approvals/999999/edit", Role.OPERATOR, {"text": "x"}, 404, ok=(404,)),
    Route("POST", "/panel/approvals/999999/approve", Role.APPROVER, {}, ok=(404,)),
    Route("POST", "/panel/approvals/999999/reject", Role.APPROVER, {"comment": "x"}, ok=(404,)),
    Route(
        "POST",
        "/panel/approvals/emergencies/" + "0" * 32 + "/review",
        Role.APPROVER,
        {},
        ok=(404,),
    ),
    Route("GET", "/panel/password", Role.VIEWER),
    Route("GET", "/panel/zones", Role.VIEWER),
    Route("GET", "/panel/broadcast", Role.OPERATOR),
    Route("GET", "/panel/relays", Role.VIEWER),
    Route("GET", "/panel/relays/new", Role.OPERATOR),
    Route(
        "POST",
        "/panel/relays",
        Role.OPERATOR,
        {
            "title": "VOV1",
            "stream_url": "https://vov.example.vn/vov1",
            "time_of_day": "06:00",
            "minutes": "30",
            "start_date": "01/01/2099",
            "zones": "ban-dong-an",
        },
        ok=(303,),
        scoped=422,
    ),
    Route("POST", "/panel/zones/ban-dong-an/safety", Role.ADMIN, {"volume_cap": "95"}),
    # issue 21: a zone's languages (operators of its commune), an announcement's board and
    # recordings in other languages (ids that do not exist: 404)
    Route("GET", "/panel/zones/xa-dong-tien/languages", Role.OPERATOR, scoped=404),
    Route("POST", "/panel/zones/ban-dong-an/languages", Role.OPERATOR, {"inherit": "1"}, 404),
    Route("GET", "/panel/announcements/999999/board", Role.OPERATOR, ok=(404,)),
    Route("POST", "/panel/announcements/999999/board", Role.OPERATOR, {}, 404, ok=(404,)),
    Route("GET", "/panel/announcements/999999/languages", Role.OPERATOR, ok=(404,)),
    Route(
        "POST",
        "/panel/announcements/999999/languages",
        Role.OPERATOR,
        {"language": "tay"},
        404,
        ok=(404,),
    ),
    Route("POST", "/panel/nodes/dong-an-1/safety", Role.ADMIN, {"volume_cap": "95"}),
    Route("GET", "/panel/updates", Role.ADMIN),
    Route("POST", "/panel/updates", Role.ADMIN, {"version": "9.9.9"}, ok=(422,)),
]


def _call(panel: Panel, role: str | None, route: Route, csrf: bool = True) -> int:
    client = panel.as_(role)
    if route.method == "GET":
        return int(client.get(route.path).status_code)
    data = dict(route.data or {})
    if role is not None and csrf:
        data["csrf"] = panel.csrf[role]
    return int(client.post(route.path, data=data).status_code)


@pytest.mark.parametrize("route", ROUTES, ids=lambda r: f"{r.method} {r.path}")
@pytest.mark.parametrize("role", [None, "viewer", "operator", "other", "admin"])
def test_role_and_scope(panel: Panel, route: Route, role: str | None) -> None:
    status = _call(panel, role, route)
    if role is None:
        assert status == 303  # to the login page
        assert (
            panel.client.get(route.path).headers.get("location", "").startswith("/panel/login")
            or route.method == "POST"
        )
    elif ROLE_OF[role] < route.needs:
        assert status == 403
    elif role == "other" and route.scoped is not None:
        assert status == route.scoped
    else:
        assert status in route.ok


@pytest.mark.parametrize("route", [r for r in ROUTES if r.method == "POST"], ids=lambda r: r.path)
def test_every_form_needs_the_csrf_token(panel: Panel, route: Route) -> None:
    assert _call(panel, "admin", route, csrf=False) == 403


def test_api_calls_carry_the_panel_session_and_its_role(panel: Panel) -> None:
    """With a cookie the JSON API sees that user: a viewer cannot preview or send."""
    client = panel.as_("viewer")
    body = {"text": "Xin chào bà con."}
    headers = {"X-CSRF-Token": panel.csrf["viewer"]}
    assert client.post("/api/v1/tts/preview", json=body, headers=headers).status_code == 403
    assert client.get("/api/v1/users").status_code == 403
    client = panel.as_("operator")
    # A cookie without the page's token is refused (cross-site form posts carry the cookie).
    assert client.post("/api/v1/tts/preview", json=body).status_code == 403
    r = client.post(
        "/api/v1/tts/preview", json=body, headers={"X-CSRF-Token": panel.csrf["operator"]}
    )
    assert r.status_code == 200 and r.headers["x-loa-engine"] == "espeak-ng"
    client = panel.as_("admin")
    users = client.get("/api/v1/users").json()
    assert {u["username"] for u in users} >= {"admin", "viewer", "operator", "other"}


def test_lists_show_only_the_users_communes(panel: Panel) -> None:
    other = panel.as_("other").get("/panel/nodes").text
    assert "dong-an-1" not in other
    mine = panel.as_("viewer").get("/panel/nodes").text
    assert "dong-an-1" in mine and "cay-thi-1" in mine
    # the log's node filter lists only nodes in scope
    assert 'value="dong-an-1"' not in panel.as_("other").get("/panel/logs").text

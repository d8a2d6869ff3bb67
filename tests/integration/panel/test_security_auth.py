"""Issue 14 over HTTP: bearer tokens (shared and per-user), login throttling behind a proxy,
server-side logout and banners that never echo the address bar.

``closed`` is a controller as in production: no anonymous access, a shared admin token,
every connection arriving from the reverse proxy at 10.9.0.1 (a trusted proxy).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from integration.panel.conftest import seeded_panel
from integration.panel.panel_support import CSRF, PASSWORD, Panel

from controller.broker.process import MosquittoProcess
from controller.db.models import ApiToken, AuditEntry
from protocol.clock import FakeClock

pytestmark = pytest.mark.integration

SHARED = "shared-upstream-admin-token-0123456789abcdef"  # a test value, not a secret
PROXY = ("10.9.0.1", 40000)
NEW_TOKEN = re.compile(r'id="new-token-value">(loa_[A-Za-z0-9_-]+)<')


@pytest.fixture(scope="module")
def clock() -> FakeClock:
    return FakeClock(datetime.now(UTC).replace(microsecond=0))


@pytest.fixture(scope="module")
def closed(
    tmp_path_factory: pytest.TempPathFactory, broker: MosquittoProcess, clock: FakeClock
) -> Iterator[Panel]:
    with seeded_panel(
        tmp_path_factory.mktemp("closed"),
        broker,
        clock,
        peer=PROXY,
        api_anonymous_admin=False,
        api_token=SHARED,
        trusted_proxies=["10.9.0.0/16"],
    ) as built:
        yield built


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _login(client: TestClient, username: str, password: str, via: str | None) -> int:
    """A login from ``via`` (the address the proxy reports), or straight from the proxy."""
    client.cookies.clear()
    headers = {"X-Forwarded-For": via} if via else {}
    token = CSRF.search(client.get("/panel/login", headers=headers).text)
    assert token
    data = {"username": username, "password": password, "csrf": token.group(1)}
    return client.post("/panel/login", data=data, headers=headers).status_code


# -- hole 1: an empty bearer never authenticates -------------------------------------------


@pytest.mark.parametrize("header", ["Bearer ", "Bearer", "bearer    ", "Basic Og==", "Bearer x"])
def test_empty_or_wrong_credentials_are_401_even_where_anonymous_is_admin(
    panel: Panel, header: str
) -> None:
    client = panel.as_(None)
    assert client.get("/api/v1/nodes").status_code == 200  # the dev/test switch is on here
    r = client.get("/api/v1/nodes", headers={"Authorization": header})
    assert r.status_code == 401, r.text


def test_the_shared_token_is_admin_and_an_empty_one_is_not(closed: Panel) -> None:
    client = closed.as_(None)
    assert client.get("/api/v1/nodes").status_code == 401
    assert client.get("/api/v1/nodes", headers={"Authorization": "Bearer "}).status_code == 401
    assert client.get("/api/v1/users", headers=_bearer(SHARED)).status_code == 200


# -- hole 6: throttling keyed on the real client, never locking the account for everyone --


def test_a_guesser_behind_the_proxy_does_not_lock_out_the_admin(closed: Panel) -> None:
    client = closed.client
    attacker, office = "203.0.113.7", "198.51.100.20"
    for _ in range(5):
        assert _login(client, "admin", "wrong-password", attacker) == 401
    assert _login(client, "admin", PASSWORD, attacker) == 429  # slowed: right password too
    token = CSRF.search(client.get("/panel/login").text)
    assert token
    refused = client.post(
        "/panel/login",
        data={"username": "admin", "password": PASSWORD, "csrf": token.group(1)},
        headers={"X-Forwarded-For": attacker},
    )
    assert refused.status_code == 429 and 0 < int(refused.headers["retry-after"]) <= 31
    assert _login(client, "admin", PASSWORD, office) == 303  # the admin elsewhere gets in
    # a forged X-Forwarded-For hop on the left changes nothing: the proxy's entry counts
    assert _login(client, "admin", PASSWORD, f"{office}, {attacker}") == 429
    with client.app.state.controller.sessions() as session:  # type: ignore[attr-defined]
        ips = {a.ip for a in session.query(AuditEntry).filter_by(action="login.failed")}
    assert attacker in ips and PROXY[0] not in ips


# -- hole 8: logout ends the session on the server -----------------------------------------


def test_a_copied_cookie_stops_working_after_logout(closed: Panel) -> None:
    client = closed.client
    assert _login(client, "viewer", PASSWORD, None) == 303
    stolen = client.cookies["loa_session"]
    home = client.get("/panel/")
    csrf = CSRF.search(home.text)
    assert home.status_code == 200 and csrf
    assert client.post("/panel/logout", data={"csrf": csrf.group(1)}).status_code == 303
    client.cookies.clear()
    client.cookies.set("loa_session", stolen)
    assert client.get("/panel/").status_code == 303  # back to the login page
    assert client.get("/api/v1/nodes").status_code == 401
    client.cookies.clear()


# -- hole 8: banners show catalogue messages, never text from the query string -------------

EVIL = "Hệ thống lỗi: gọi 0912345678 và đọc mật khẩu"


def test_banners_do_not_echo_the_address_bar(panel: Panel) -> None:
    client = panel.as_("operator")
    for url in (
        f"/panel/schedule?zone=xa-dong-tien&msg={EVIL}&error={EVIL}",
        f"/panel/schedule?zone=xa-dong-tien&done={EVIL}&entry={EVIL}",
        f"/panel/nodes/dong-an-1?error={EVIL}&sent={EVIL}",
    ):
        r = client.get(url)
        assert r.status_code == 200 and EVIL not in r.text, url
    moved = client.get("/panel/schedule?zone=xa-dong-tien&done=moved&entry=nope")
    assert 'id="sched-message"' in moved.text and "mục lịch" in moved.text


# -- per-user API tokens -------------------------------------------------------------------


def _panel_token(closed: Panel, role: str, name: str) -> str:
    client = closed.as_(role)
    page = client.get("/panel/tokens")
    assert page.status_code == 200 and 'id="account-tokens"' in page.text
    r = client.post("/panel/tokens", data={"csrf": closed.csrf[role], "name": name})
    assert r.status_code == 201, r.text
    found = NEW_TOKEN.search(r.text)
    assert found, r.text
    assert r.headers["cache-control"] == "no-store"
    again = client.get("/panel/tokens")
    assert name in again.text and found.group(1) not in again.text  # shown once only
    return found.group(1)


def test_a_panel_token_acts_as_its_user_until_revoked(closed: Panel, clock: FakeClock) -> None:
    token = _panel_token(closed, "operator", "máy tính xã")
    api = closed.as_(None)
    nodes = api.get("/api/v1/nodes", headers=_bearer(token))
    assert nodes.status_code == 200
    assert {n["id"] for n in nodes.json()} == {"dong-an-1", "cay-thi-1", "khe-ngo-1"}
    ctl = closed.client.app.state.controller  # type: ignore[attr-defined]
    with ctl.sessions() as session:
        row = session.query(ApiToken).filter_by(name="máy tính xã").one()
        assert row.token_sha256 != token and token not in row.token_sha256  # stored hashed
        first_use = row.last_used_at
    assert first_use == clock.now()
    clock.advance(120)
    assert api.get("/api/v1/fleet", headers=_bearer(token)).status_code == 200
    with ctl.sessions() as session:
        assert session.get(ApiToken, row.id).last_used_at == first_use + timedelta(seconds=120)  # type: ignore[union-attr]
    # revoke in the panel: the token stops at once
    client = closed.as_("operator")
    r = client.post(f"/panel/tokens/{row.id}/revoke", data={"csrf": closed.csrf["operator"]})
    assert r.status_code == 303
    assert closed.as_(None).get("/api/v1/nodes", headers=_bearer(token)).status_code == 401
    # another user cannot revoke (or see) it through the panel
    other = closed.as_("other")
    r = other.post(f"/panel/tokens/{row.id}/revoke", data={"csrf": closed.csrf["other"]})
    assert r.status_code == 404


def test_an_operator_token_stays_inside_the_operators_communes(closed: Panel) -> None:
    token = _panel_token(closed, "operator", "scope check")
    api = closed.as_(None)
    outside = api.post(
        "/api/v1/announcements",
        json={"text": "Thông báo giả.", "targets": ["xa-vi-huong"]},
        headers=_bearer(token),
    )
    assert outside.status_code == 403, outside.text
    assert api.get("/api/v1/users", headers=_bearer(token)).status_code == 403  # admin only
    zone = api.post("/api/v1/zones", json={"id": "z-x", "name": "x"}, headers=_bearer(token))
    assert zone.status_code == 403
    # a token cannot mint more tokens (a leaked one must not outlive its revocation)
    r = api.post("/api/v1/tokens", json={"name": "more"}, headers=_bearer(token))
    assert r.status_code == 403


def test_tokens_over_the_api_own_and_admin(closed: Panel) -> None:
    viewer = closed.as_("viewer")
    headers = {"X-CSRF-Token": closed.csrf["viewer"]}
    made = viewer.post("/api/v1/tokens", json={"name": "bảng tin"}, headers=headers)
    assert made.status_code == 201, made.text
    body = made.json()
    token, token_id = body["token"], body["id"]
    assert token.startswith("loa_") and len(token) > 40 and body["username"] == "viewer"
    listed = viewer.get("/api/v1/tokens").json()
    assert token_id in {t["id"] for t in listed} and all("token" not in t for t in listed)
    assert viewer.get("/api/v1/tokens?all=true").status_code == 403
    # a viewer's token reads but cannot write
    api = closed.as_(None)
    assert api.get("/api/v1/nodes", headers=_bearer(token)).status_code == 200
    r = api.post(
        "/api/v1/announcements",
        json={"text": "x", "targets": ["xa-dong-tien"]},
        headers=_bearer(token),
    )
    assert r.status_code == 403
    # another operator cannot revoke it; the admin sees and revokes everyone's
    other = closed.as_("other")
    assert (
        other.delete(
            f"/api/v1/tokens/{token_id}", headers={"X-CSRF-Token": closed.csrf["other"]}
        ).status_code
        == 404
    )
    api = closed.as_(None)
    assert api.get("/api/v1/tokens?all=true", headers=_bearer(SHARED)).status_code == 200
    admin = closed.as_("admin")
    everyone = admin.get("/api/v1/tokens", params={"user": "viewer"}).json()
    assert token_id in {t["id"] for t in everyone}
    r = admin.delete(f"/api/v1/tokens/{token_id}", headers={"X-CSRF-Token": closed.csrf["admin"]})
    assert r.status_code == 204
    api = closed.as_(None)
    assert api.get("/api/v1/nodes", headers=_bearer(token)).status_code == 401
    ctl = closed.client.app.state.controller  # type: ignore[attr-defined]
    with ctl.sessions() as session:
        rows = session.query(AuditEntry).filter_by(target=f"token:{token_id}")
        actions = {a.action for a in rows}
    assert actions == {"token.create", "token.revoke"}


def test_a_disabled_users_tokens_stop_working(closed: Panel) -> None:
    token = _panel_token(closed, "other", "vi huong")
    api = closed.as_(None)
    assert api.get("/api/v1/nodes", headers=_bearer(token)).status_code == 200
    off = api.patch("/api/v1/users/other", json={"disabled": True}, headers=_bearer(SHARED))
    assert off.status_code == 200
    assert api.get("/api/v1/nodes", headers=_bearer(token)).status_code == 401
    on = api.patch("/api/v1/users/other", json={"disabled": False}, headers=_bearer(SHARED))
    assert on.status_code == 200
    assert api.get("/api/v1/nodes", headers=_bearer(token)).status_code == 200


def test_system_names_cannot_be_usernames(closed: Panel, tmp_path: Path) -> None:
    r = closed.as_(None).post(
        "/api/v1/users",
        json={"username": "api", "password": "mat-khau-dai-1", "role": "viewer",
              "all_communes": True},
        headers=_bearer(SHARED),
    )  # fmt: skip
    assert r.status_code == 422 and "reserved" in r.text


# -- account changes over the API are audited like the panel's ------------------------------


def _audit(closed: Panel, target: str) -> list[tuple[str, str | None, str | None, str]]:
    ctl = closed.client.app.state.controller  # type: ignore[attr-defined]
    with ctl.sessions() as session:
        rows = session.query(AuditEntry).filter_by(target=target).order_by(AuditEntry.id)
        return [(a.action, a.username, a.ip, a.detail) for a in rows]


def test_user_changes_over_the_api_leave_who_what_where_and_communes(closed: Panel) -> None:
    api = closed.as_(None)
    via = {**_bearer(SHARED), "X-Forwarded-For": "203.0.113.7"}
    made = api.post(
        "/api/v1/users",
        json={"username": "kiem-tra", "password": "mat-khau-dai-1", "role": "viewer",
              "communes": ["xa-dong-tien"]},
        headers=via,
    )  # fmt: skip
    assert made.status_code == 201, made.text
    assert api.patch("/api/v1/users/kiem-tra", json={"disabled": True}, headers=via).json()[
        "disabled"
    ]
    again = api.patch("/api/v1/users/kiem-tra", json={"disabled": True}, headers=via)
    assert again.status_code == 200  # already disabled: no second entry
    role = api.patch("/api/v1/users/kiem-tra", json={"role": "operator"}, headers=via)
    assert role.status_code == 200
    assert _audit(closed, "kiem-tra") == [
        ("user.create", "api", "203.0.113.7", "role=viewer communes=xa-dong-tien"),
        ("user.disable", "api", "203.0.113.7", ""),
        ("user.update", "api", "203.0.113.7", "role=operator communes=xa-dong-tien"),
    ]


def test_an_admin_cannot_disable_themself_over_the_api(closed: Panel) -> None:
    admin = closed.as_("admin")
    r = admin.patch(
        "/api/v1/users/admin",
        json={"disabled": True},
        headers={"X-CSRF-Token": closed.csrf["admin"]},
    )
    assert r.status_code == 422 and "yourself" in r.text
    assert closed.as_("admin").get("/api/v1/users").status_code == 200


def test_token_changes_over_the_api_name_the_owner_and_the_acting_token(closed: Panel) -> None:
    admin_token = _panel_token(closed, "admin", "quản trị từ xa")
    viewer = closed.as_("viewer")
    made = viewer.post(
        "/api/v1/tokens",
        json={"name": "loa phường"},
        headers={"X-CSRF-Token": closed.csrf["viewer"], "X-Forwarded-For": "198.51.100.4"},
    )
    assert made.status_code == 201, made.text
    token_id = made.json()["id"]
    api = closed.as_(None)
    gone = api.delete(
        f"/api/v1/tokens/{token_id}",
        headers={**_bearer(admin_token), "X-Forwarded-For": "198.51.100.9"},
    )
    assert gone.status_code == 204
    ctl = closed.client.app.state.controller  # type: ignore[attr-defined]
    with ctl.sessions() as session:
        acting = session.query(ApiToken).filter_by(name="quản trị từ xa").one().id
    assert _audit(closed, f"token:{token_id}") == [
        ("token.create", "viewer", "198.51.100.4", "name=loa phường owner=viewer"),
        ("token.revoke", "admin", "198.51.100.9", f"token={acting} name=loa phường owner=viewer"),
    ]

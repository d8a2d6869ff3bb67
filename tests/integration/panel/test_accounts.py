"""Accounts (issue 16 item 12) on the real app: the password rule on the panel and on the JSON
API, the change-password link and success message, the users form that keeps what was typed,
commune checkboxes with names, and the demo admin that must change its published password."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from integration.panel.panel_support import CSRF, PASSWORD, Panel
from sqlalchemy import select

from cli.commands.demo import prepare_demo_admin
from controller.auth.users import DEMO_ADMIN, change_own_password
from controller.config import ControllerSettings
from controller.db.engine import make_engine, make_session_factory
from controller.db.models import User
from controller.panel.i18n import translate

pytestmark = pytest.mark.integration


def _api_user(panel: Panel, username: str, password: str) -> tuple[int, str]:
    client = panel.as_("admin")
    r = client.post(
        "/api/v1/users",
        json={
            "username": username,
            "password": password,
            "role": "viewer",
            "communes": ["xa-dong-tien"],
            "must_change_password": False,
        },
        headers={"X-CSRF-Token": panel.csrf["admin"]},
    )
    return r.status_code, r.text


def test_the_api_refuses_weak_passwords_with_the_rule(panel: Panel) -> None:
    for password, words in (
        ("Matkhau@123", "too common"),
        ("truyenthanhxa", "two of letters"),
        ("hoa-an-2026-x", "username"),
        ("aaaa1111aaaa", "too few different"),
        ("Ab1-x", "at least 8"),
    ):
        status, body = _api_user(panel, "hoa-an", password)
        assert status == 422 and words in body, (password, body)
    assert _api_user(panel, "hoa-an", "Nghe-loa-7-gio")[0] == 201


def test_every_page_links_to_the_own_password_form(panel: Panel) -> None:
    client = panel.as_("viewer")
    for path in ("/panel/", "/panel/nodes", "/panel/logs", "/panel/password"):
        assert 'href="/panel/password" id="account-password"' in client.get(path).text, path


def test_changing_ones_password_checks_the_rule_and_says_it_worked(panel: Panel) -> None:
    assert _api_user(panel, "doi-mk", PASSWORD)[0] == 201
    client = panel.login("doi-mk")
    token = CSRF.search(client.get("/panel/password").text)
    assert token
    form = {"csrf": token.group(1), "current": PASSWORD}
    weak = client.post("/panel/password", data=form | {"new": "12345678", "confirm": "12345678"})
    assert weak.status_code == 422
    assert translate("vi", "password.weak.common") in weak.text
    ok = client.post(
        "/panel/password", data=form | {"new": "Loa-xa-moi-88", "confirm": "Loa-xa-moi-88"}
    )
    assert ok.status_code == 303 and ok.headers["location"] == "/panel/password?changed=1"
    shown = client.get(ok.headers["location"])
    assert translate("vi", "password.changed") in shown.text
    ctl = client.app.state.controller  # type: ignore[attr-defined]
    with ctl.sessions() as session:
        user = session.scalar(select(User).where(User.username == "doi-mk"))
        assert user is not None and user.password_changed_at is not None
        assert not user.must_change_password


def test_a_refused_new_user_keeps_what_was_typed(panel: Panel) -> None:
    client = panel.as_("admin")
    page = client.get("/panel/users")
    # communes are checkboxes with their names, not a multi-select of ids
    assert "<select" not in page.text.split('id="user-create"')[1].split("role")[0]
    assert 'type="checkbox" id="n-communes-1" name="communes"' in page.text
    assert "Xã Đồng Tiến" in page.text
    r = client.post(
        "/panel/users",
        data={
            "csrf": panel.csrf["admin"],
            "username": "thu-ha",
            "full_name": "Nguyễn Thu Hà",
            "password": "Nghe-loa-2026-x",
            "role": "viewer",
        },
    )
    assert r.status_code == 422, r.text[-3000:]
    assert translate("vi", "users.error_no_commune") in r.text
    assert 'value="thu-ha"' in r.text and 'value="Nguyễn Thu Hà"' in r.text
    assert '<option value="viewer" selected>' in r.text
    assert "Nghe-loa-2026-x" not in r.text  # never echo a password
    r = client.post(
        "/panel/users",
        data={
            "csrf": panel.csrf["admin"],
            "username": "thu-ha",
            "full_name": "Nguyễn Thu Hà",
            "password": "Nghe-loa-2026-x",
            "role": "viewer",
            "communes": "xa-dong-tien",
        },
    )
    assert r.status_code == 200 and 'id="users-message"' in r.text


def test_the_demo_admin_must_change_its_published_password(tmp_path: Path) -> None:
    now = datetime(2026, 12, 1, 9, tzinfo=UTC)
    assert prepare_demo_admin(tmp_path, now) == DEMO_ADMIN
    # the database the demo used (SQLite in tmp_path, or the PostgreSQL pass's)
    engine = make_engine(ControllerSettings(data_dir=tmp_path).resolved_database_url)
    sessions = make_session_factory(engine)
    try:
        with sessions.begin() as session:
            admin = session.scalar(select(User).where(User.username == "admin"))
            assert admin is not None and admin.must_change_password
            change_own_password(admin, "Quan-tri-xa-77", now)
        # a restarted demo on the same data keeps the chosen password, and says so
        assert prepare_demo_admin(tmp_path, now) == ("admin", None)
        with sessions() as session:
            admin = session.scalar(select(User).where(User.username == "admin"))
            assert admin is not None and not admin.must_change_password
    finally:
        engine.dispose()

"""Login, first-run admin, forced password change, throttling, sessions, CSRF, redirects."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from integration.panel.panel_support import CSRF, PASSWORD, Panel

from controller.app import create_app
from controller.auth.rate_limit import LoginRateLimiter
from controller.auth.session_cookie import SessionSigner
from controller.broker.process import MosquittoProcess
from controller.db.models import AuditEntry
from protocol.clock import FakeClock

pytestmark = pytest.mark.integration


def _login(client: TestClient, username: str, password: str, next_url: str = "/panel/") -> int:
    client.cookies.clear()
    token = CSRF.search(client.get("/panel/login").text)
    assert token
    data = {"username": username, "password": password, "csrf": token.group(1), "next": next_url}
    r = client.post("/panel/login", data=data)
    return r.status_code


@pytest.fixture
def fresh(
    tmp_path: Path, broker: MosquittoProcess, caplog: pytest.LogCaptureFixture
) -> Iterator[tuple[TestClient, str]]:
    """A brand-new controller: no users yet, so it makes ``admin`` and logs the password."""
    from integration.panel.conftest import make_settings

    caplog.set_level("WARNING", logger="loa.panel")
    app = create_app(make_settings(tmp_path, broker))
    with TestClient(app, follow_redirects=False) as client:
        match = re.search(r"user 'admin' with password (\S+)", caplog.text)
        assert match, caplog.text
        yield client, match.group(1)


def test_first_admin_must_change_the_printed_password(fresh: tuple[TestClient, str]) -> None:
    client, password = fresh
    assert _login(client, "admin", password) == 303
    # every page sends the admin to the password form until it is changed
    assert client.get("/panel/nodes").headers["location"] == "/panel/password"
    form = client.get("/panel/password")
    token = CSRF.search(form.text)
    assert token
    weak = client.post(
        "/panel/password",
        data={"csrf": token.group(1), "current": password, "new": "short", "confirm": "short"},
    )
    assert weak.status_code == 422
    r = client.post(
        "/panel/password",
        data={
            "csrf": token.group(1),
            "current": password,
            "new": "Loa-moi-2025",
            "confirm": "Loa-moi-2025",
        },
    )
    assert r.status_code == 303
    assert client.get("/panel/nodes").status_code == 200
    # the old password no longer works; the new one does
    assert _login(client, "admin", password) == 401
    assert _login(client, "admin", "Loa-moi-2025") == 303


def test_the_session_key_file_is_private(fresh: tuple[TestClient, str], tmp_path: Path) -> None:
    key = tmp_path / "ctl" / "keys" / "panel-session.key"
    assert key.exists() and key.stat().st_mode & 0o777 == 0o600


def test_wrong_password_then_throttled(panel: Panel) -> None:
    client = panel.client
    for _ in range(5):
        assert _login(client, "viewer", "wrong-password") == 401
    # the sixth try is refused even with the right password (per username + IP)
    assert _login(client, "viewer", PASSWORD) == 429
    assert _login(client, "operator", PASSWORD) == 303  # another username is not affected
    with client.app.state.controller.sessions() as session:  # type: ignore[attr-defined]
        actions = [a.action for a in session.query(AuditEntry).filter_by(target="viewer")]
    assert actions.count("login.failed") >= 5


def test_limiter_forgets_failures_after_the_window() -> None:
    clock = FakeClock(datetime(2025, 1, 1, tzinfo=UTC))
    limiter = LoginRateLimiter(clock, max_failures=2, window_s=300, first_delay_s=30)
    limiter.failed("lan", "1.2.3.4")
    limiter.failed("LAN", "1.2.3.4")
    assert limiter.retry_after_s("lan", "1.2.3.4") == pytest.approx(30)
    assert limiter.retry_after_s("lan", "5.6.7.8") == 0
    clock.advance(29)
    assert limiter.retry_after_s("lan", "1.2.3.4") > 0
    clock.advance(2)
    assert limiter.retry_after_s("lan", "1.2.3.4") == 0


def test_cookies_cannot_be_forged_or_reused_after_expiry() -> None:
    now = datetime(2025, 6, 1, tzinfo=UTC)
    signer = SessionSigner(b"k" * 32, timedelta(hours=12))
    cookie, data = signer.issue(7, "hash", now)
    assert signer.read(cookie, now) == data
    body, _, sig = cookie.partition(".")
    assert signer.read(body + "." + sig[:-2] + "AA", now) is None
    assert SessionSigner(b"x" * 32, timedelta(hours=12)).read(cookie, now) is None
    assert signer.read(cookie, now + timedelta(hours=12, seconds=1)) is None
    assert signer.read("garbage", now) is None
    assert signer.csrf_ok(data.nonce, signer.csrf_token(data.nonce))
    assert not signer.csrf_ok(data.nonce, "0" * 40)


def test_logout_ends_the_session_and_login_rejects_open_redirects(panel: Panel) -> None:
    client = panel.client
    assert _login(client, "operator", PASSWORD, next_url="//evil.example/") == 303
    client.cookies.clear()
    token = CSRF.search(client.get("/panel/login").text)
    assert token
    r = client.post(
        "/panel/login",
        data={
            "username": "operator",
            "password": PASSWORD,
            "csrf": token.group(1),
            "next": "https://evil.example/",
        },
    )
    assert r.headers["location"] == "/panel/"
    home = client.get("/panel/")
    csrf = CSRF.search(home.text)
    assert csrf
    assert client.post("/panel/logout", data={"csrf": csrf.group(1)}).status_code == 303
    assert client.get("/panel/").status_code == 303


def test_login_form_without_its_token_is_refused(panel: Panel) -> None:
    client = panel.as_(None)
    r = client.post("/panel/login", data={"username": "admin", "password": PASSWORD})
    assert r.status_code == 403


def test_english_is_selectable(panel: Panel) -> None:
    client = panel.as_("admin")
    assert "Tổng quan" in client.get("/panel/").text
    client.get("/panel/lang/en?next=/panel/")
    assert "Fleet at a glance" in client.get("/panel/").text
    client.cookies.delete("loa_lang")

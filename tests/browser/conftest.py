"""A real system for browser tests: Mosquitto, ``loa controller``, two simulated agents
(null player, real timing), and Debian's Chromium driven by Playwright (headless).

Never runs ``playwright install``: the browser is /usr/bin/chromium from the OS.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, Page, sync_playwright
from support.processes import AgentProcess, ControllerProcess, wait_until

from controller.broker.process import MosquittoProcess

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
NODES = {"dong-an-1": "ban-dong-an", "cay-thi-1": "ban-cay-thi"}
PASSWORD = "mat-khau-thu-1"


@dataclass
class System:
    url: str
    controller: ControllerProcess
    first_admin_password: str


def _seed(api: httpx.Client) -> None:
    zones = [
        ("xa-dong-tien", "Xã Đồng Tiến", "xã", None),
        ("ban-dong-an", "Bản Đồng An", "bản", "xa-dong-tien"),
        ("ban-cay-thi", "Bản Cây Thị", "bản", "xa-dong-tien"),
    ]
    for zone_id, name, kind, parent in zones:
        r = api.post(
            "/api/v1/zones", json={"id": zone_id, "name": name, "kind": kind, "parent_id": parent}
        )
        assert r.status_code == 201, r.text
    positions = {"dong-an-1": (21.5190, 106.1460), "cay-thi-1": (21.5262, 106.1391)}
    for node, zone in NODES.items():
        lat, lon = positions[node]
        r = api.post(
            "/api/v1/nodes",
            json={"id": node, "name": f"Loa {node}", "zone_id": zone, "lat": lat, "lon": lon},
        )
        assert r.status_code == 201, r.text
    for username, role in (("lan", "operator"), ("minh", "viewer")):
        r = api.post(
            "/api/v1/users",
            json={
                "username": username,
                "password": PASSWORD,
                "role": role,
                "communes": ["xa-dong-tien"],
                "must_change_password": False,
            },
        )
        assert r.status_code == 201, r.text


@pytest.fixture(scope="module")
def controller_settings() -> dict[str, str]:
    """Extra ``loa controller`` settings; a test module overrides this (e.g. Icecast)."""
    return {}


@pytest.fixture(scope="module")
def system(
    tmp_path_factory: pytest.TempPathFactory, controller_settings: dict[str, str]
) -> Iterator[System]:
    root = tmp_path_factory.mktemp("browser")
    broker = MosquittoProcess(root / "mosquitto")
    broker.start()
    ctl = ControllerProcess(
        root / "controller", broker.port, immediate_lead_s="3", **controller_settings
    )
    agents: list[AgentProcess] = []
    try:
        ctl.start()
        match = wait_until(lambda: re.search(r"user 'admin' with password (\S+)", ctl.log()), 10)
        with ctl.api() as api:
            _seed(api)
        keys = ctl.signing_keys()
        for node, zone in NODES.items():
            agent = AgentProcess(
                root / node, node, broker.port, ctl.url, keys, zones=[zone, "xa-dong-tien"]
            )
            agent.start()
            agents.append(agent)
        with ctl.api() as api:
            wait_until(lambda: all(n["online"] for n in api.get("/api/v1/nodes").json()), 30)
        yield System(ctl.url, ctl, match.group(1))
    finally:
        for agent in agents:
            agent.stop()
        ctl.stop()
        broker.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian's chromium is not installed")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        try:
            yield b
        finally:
            b.close()


@contextmanager
def new_tab(browser: Browser, width: int, height: int) -> Iterator[Page]:
    """A fresh context (no cookies shared) and tab of ``width`` x ``height``."""
    context = browser.new_context(
        viewport={"width": width, "height": height}, accept_downloads=True
    )
    tab = context.new_page()
    tab.set_default_timeout(15_000)
    try:
        yield tab
    finally:
        context.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    with new_tab(browser, 1100, 800) as tab:
        yield tab


def login(page: Page, base: str, username: str, password: str = PASSWORD) -> None:
    page.goto(f"{base}/panel/login")
    page.get_by_label("Tên đăng nhập").fill(username)
    page.get_by_label("Mật khẩu").fill(password)
    page.get_by_role("button", name="Đăng nhập").click()
    page.wait_for_load_state()

"""A real controller app (SQLite file, private Mosquitto, espeak-ng) with seeded users.

Module-scoped: argon2 logins and speech rendering are the slow parts, so each test module
builds one app and logs each role in once. ``Panel.as_(role)`` switches the client's cookie.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from integration.panel.panel_support import PASSWORD, USERS, Panel
from sqlalchemy.orm import Session
from support.api_client import controller_settings
from support.postgres import sibling_database_url

from controller.app import create_app
from controller.auth.users import create_user
from controller.broker.process import MosquittoProcess
from controller.config import ControllerSettings
from controller.services.schedule_editing import build_entry
from controller.services.schedule_store import save_entry
from controller.services.seed import seed_demo
from protocol.clock import Clock

# Programme entries of xã Đồng Tiến that the role table moves and cancels.
PROGRAMME = {"roles-move": "05:30", "roles-cancel": "17:00"}


def seed_programme(session: Session, now: datetime) -> None:
    """Daily pauses (no speech to render) targeting the whole commune."""
    for entry_id, at in PROGRAMME.items():
        entry = build_entry(
            {
                "id": entry_id,
                "kind": "silence",
                "title": f"Chương trình {entry_id}",
                "duration_s": 300,
                "targets": {"zones": ["xa-dong-tien"]},
                "rule": {"freq": "daily", "start_date": now.date().isoformat(), "time": at},
            }
        )
        save_entry(session, entry, now, created_by="seed")


@pytest.fixture(scope="module")
def broker(module_broker: MosquittoProcess) -> MosquittoProcess:
    """The module's Mosquitto (tests/conftest.py), under the name panel tests use."""
    return module_broker


def make_settings(root: Path, broker: MosquittoProcess, **overrides: Any) -> ControllerSettings:
    return controller_settings(root, broker, **{"immediate_lead_s": 2, **overrides})


@pytest.fixture(scope="module")
def panel(tmp_path_factory: pytest.TempPathFactory, broker: MosquittoProcess) -> Iterator[Panel]:
    with seeded_panel(tmp_path_factory.mktemp("panel"), broker) as built:
        yield built


@contextmanager
def seeded_panel(
    root: Path,
    broker: MosquittoProcess,
    clock: Clock | None = None,
    peer: tuple[str, int] = ("testclient", 50000),
    **overrides: Any,
) -> Iterator[Panel]:
    """The app with the demo commune and the USERS table, as a logged-out ``Panel``
    (``peer`` is the TCP address the app sees the client at)."""
    # a module may build several panels: each its own database on the PostgreSQL pass
    database = sibling_database_url()
    if database is not None:
        overrides = {"database_url": database, **overrides}
    app = create_app(make_settings(root, broker, **overrides), clock)
    with TestClient(app, follow_redirects=False, client=peer) as client:
        ctl = app.state.controller
        with ctl.sessions.begin() as session:
            seed_demo(session, ctl.clock.now())
            for name, (role, communes, everything) in USERS.items():
                if name == "admin":
                    continue
                create_user(
                    session,
                    username=name,
                    password=PASSWORD,
                    role=role,
                    now=ctl.clock.now(),
                    communes=communes,
                    all_communes=everything,
                    must_change_password=False,
                )
            from controller.auth.users import set_password
            from controller.db.models import User

            admin = session.query(User).filter_by(username="admin").one()
            set_password(admin, PASSWORD, must_change=False)
            seed_programme(session, ctl.clock.now())
        yield Panel(client)

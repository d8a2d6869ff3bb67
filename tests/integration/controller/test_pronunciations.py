"""The pronunciation dictionary over the API: scope, audit, and what a render says.

Real controller (SQLite, Mosquitto, espeak-ng); the province "tinh-lang-son" holds two
communes; operator "op" manages xa-dong-tien only.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from urllib.parse import unquote

import pytest
from fastapi import Request
from fastapi.testclient import TestClient
from sqlalchemy import select

from controller.app import create_app
from controller.auth.principal import Principal, Role
from controller.broker.process import MosquittoProcess
from controller.config import ControllerSettings
from controller.db.models import AuditEntry
from controller.services.container import Controller

pytestmark = pytest.mark.integration

OP = {"x-test-user": "op"}
VIEWER = {"x-test-user": "viewer"}
USERS = {
    "op": Principal("op", Role.OPERATOR, frozenset({"xa-dong-tien"})),
    "viewer": Principal("viewer", Role.VIEWER, frozenset({"xa-dong-tien"})),
}
TEXT = "Bà con bản Nà Pồng họp tại nhà văn hóa."


def header_principal(request: Request, _ctl: Controller) -> Principal | None:
    return USERS.get(request.headers.get("x-test-user", ""))


@pytest.fixture
def client(tmp_path: Path, mosquitto: MosquittoProcess) -> Iterator[TestClient]:
    settings = ControllerSettings(data_dir=tmp_path / "ctl", mqtt_port=mosquitto.port)
    app = create_app(settings)
    app.state.principal_resolvers.insert(0, header_principal)  # tests name their caller
    with TestClient(app) as c:
        for zone in (
            {"id": "tinh-lang-son", "name": "Tỉnh Lạng Sơn", "kind": "tỉnh"},
            {"id": "xa-dong-tien", "name": "Xã Đồng Tiến", "parent_id": "tinh-lang-son"},
            {"id": "xa-vi-huong", "name": "Xã Vi Hương", "parent_id": "tinh-lang-son"},
            {"id": "ban-dong-an", "name": "Bản Đồng An", "parent_id": "xa-dong-tien"},
        ):
            assert c.post("/api/v1/zones", json=zone).status_code == 201
        body = {"id": "dong-an-1", "name": "Loa Đồng An", "zone_id": "ban-dong-an"}
        assert c.post("/api/v1/nodes", json=body).status_code == 201
        yield c


def _add(c: TestClient, written: str, spoken: str, zone: str, headers: dict[str, str]) -> int:
    r = c.post(
        "/api/v1/pronunciations",
        headers=headers,
        json={"written": written, "spoken": spoken, "zone_id": zone},
    )
    assert r.status_code == 201, r.text
    return int(r.json()["id"])


def _said(
    c: TestClient, text: str, targets: list[str], headers: dict[str, str] | None = None
) -> str:
    r = c.post(
        "/api/v1/tts/normalise", headers=headers or {}, json={"text": text, "targets": targets}
    )
    assert r.status_code == 200, r.text
    return str(r.json()["normalised"])


def test_operator_edits_only_own_commune_and_every_change_is_audited(client: TestClient) -> None:
    own = _add(client, "Nà Pồng", "Nà Pồng bản", "xa-dong-tien", OP)
    province = _add(client, "GTNT", "giao thông nông thôn", "tinh-lang-son", {})
    other = _add(client, "Vi Hương", "Vi Hương xã", "xa-vi-huong", {})
    for zone in ("xa-vi-huong", "tinh-lang-son"):
        r = client.post(
            "/api/v1/pronunciations",
            headers=OP,
            json={"written": "X", "spoken": "ích", "zone_id": zone},
        )
        assert r.status_code == 403 and "outside your communes" in r.text
    listed = {e["id"]: e for e in client.get("/api/v1/pronunciations", headers=OP).json()}
    assert set(listed) == {own, province}  # the province's entries apply to the commune
    assert listed[own]["editable"] and not listed[province]["editable"]
    assert (
        client.patch(
            f"/api/v1/pronunciations/{other}", headers=OP, json={"spoken": "a"}
        ).status_code
        == 404
    )
    assert client.delete(f"/api/v1/pronunciations/{province}", headers=OP).status_code == 404
    r = client.patch(f"/api/v1/pronunciations/{own}", headers=OP, json={"spoken": "Na Pông"})
    assert r.status_code == 200 and r.json()["updated_by"] == "op"
    assert client.delete(f"/api/v1/pronunciations/{own}", headers=OP).status_code == 204
    assert client.get("/api/v1/pronunciations", headers=VIEWER).status_code == 403
    ctl: Controller = client.app.state.controller  # type: ignore[attr-defined]
    with ctl.sessions() as session:
        actions = [
            (a.action, a.username)
            for a in session.scalars(
                select(AuditEntry).where(AuditEntry.action.like("pronunciation.%"))
            )
        ]
    assert ("pronunciation.add", "op") in actions
    assert ("pronunciation.update", "op") in actions
    assert ("pronunciation.delete", "op") in actions


def test_bad_entries_are_refused_with_a_reason(client: TestClient) -> None:
    for written, spoken, reason in (
        ("Nà Pồng", "bản 12", "words only"),
        ("Nà Pồng", "<script>", "words only"),
        (" Nà", "na", "must not start or end"),
    ):
        r = client.post(
            "/api/v1/pronunciations",
            json={"written": written, "spoken": spoken, "zone_id": "xa-dong-tien"},
        )
        assert r.status_code == 422 and reason in r.text, r.text
    r = client.post(
        "/api/v1/pronunciations", json={"written": "A", "spoken": "a", "zone_id": "khong-co"}
    )
    assert r.status_code == 422 and "unknown zone" in r.text
    _add(client, "Nà Pồng", "Na Pông", "xa-dong-tien", {})
    r = client.post(
        "/api/v1/pronunciations",
        json={"written": "Nà Pồng", "spoken": "Na Pong", "zone_id": "xa-dong-tien"},
    )
    assert r.status_code == 422 and "already has a reading" in r.text


def test_entries_apply_by_scope_and_commune_overrides_province(client: TestClient) -> None:
    _add(client, "GTNT", "giao thông nông thôn", "tinh-lang-son", {})
    _add(client, "Nà Pồng", "Na Pông", "tinh-lang-son", {})
    _add(client, "Nà Pồng", "Nà Pồng bản Đông", "xa-dong-tien", OP)
    text = "Làm đường GTNT ở Nà Pồng."
    assert _said(client, text, []) == "Làm đường G T N T ở Nà Pồng."
    assert _said(client, text, ["xa-vi-huong"]) == "Làm đường giao thông nông thôn ở Na Pông."
    assert _said(client, text, ["dong-an-1"], OP) == (
        "Làm đường giao thông nông thôn ở Nà Pồng bản Đông."
    )
    r = client.post(
        "/api/v1/tts/normalise", headers=OP, json={"text": text, "targets": ["xa-vi-huong"]}
    )
    assert r.status_code == 403


def test_an_edit_re_renders_the_texts_that_use_the_entry_only(client: TestClient) -> None:
    def media(text: str) -> tuple[str, str]:
        r = client.post("/api/v1/tts/preview", json={"text": text, "targets": ["xa-dong-tien"]})
        assert r.status_code == 200, r.text
        return r.headers["X-Loa-Media"], unquote(r.headers["X-Loa-Normalised-Text"])

    before, said = media(TEXT)
    untouched, _ = media("Họp thôn lúc 8h.")
    entry = _add(client, "Nà Pồng", "Na Pông", "xa-dong-tien", {})
    after, said_after = media(TEXT)
    assert after != before and "Na Pông" in said_after and "Nà Pồng" in said
    assert media("Họp thôn lúc 8h.")[0] == untouched
    client.patch(f"/api/v1/pronunciations/{entry}", json={"spoken": "Nà Pông"})
    assert media(TEXT)[0] not in (before, after)


def test_listen_preview_applies_the_unsaved_entry(client: TestClient) -> None:
    body = {
        "written": "Nà Pồng",
        "spoken": "Na Pông",
        "zone_id": "xa-dong-tien",
        "sample": TEXT,
    }
    r = client.post("/api/v1/pronunciations/preview", headers=OP, json=body)
    assert r.status_code == 200 and r.headers["content-type"] == "audio/mpeg"
    assert unquote(r.headers["X-Loa-Normalised-Text"]).startswith("Bà con bản Na Pông họp")
    assert client.get("/api/v1/pronunciations", headers=OP).json() == []  # nothing saved
    body["zone_id"] = "xa-vi-huong"
    assert client.post("/api/v1/pronunciations/preview", headers=OP, json=body).status_code == 403

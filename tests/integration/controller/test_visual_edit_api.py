"""Changing an announcement's e-board content after creation (``PATCH`` with ``visual``):
operators of its commune only, back through approval like any edit, refused slides change
nothing, and every change is audited."""

from __future__ import annotations

from typing import Any

import pytest
from integration.controller.two_communes import Communes
from sqlalchemy import select
from support import images

from controller.db.models import Announcement, AuditEntry

pytestmark = pytest.mark.integration
V = "/api/v1"


def _image(env: Communes, rgb: tuple[int, int, int]) -> str:
    files = {"file": ("s.png", images.png(rgb=rgb), "image/png")}
    r = env.call("operator", "POST", f"{V}/uploads/image", files=files)
    assert r.status_code == 201, r.text
    sha: str = r.json()["sha256"]
    return sha


def _visual(env: Communes, ann: int) -> Any:
    with env.ctl.sessions() as session:
        return session.get_one(Announcement, ann).visual


def test_visual_edit_is_scoped_audited_and_goes_back_to_approval(communes: Communes) -> None:
    ann = communes.held("a")
    r = communes.call("approver", "POST", f"{V}/approvals/{ann}/approve", json={})
    assert r.json()["approval"] == "approved", r.text
    first, second = _image(communes, (1, 100, 1)), _image(communes, (1, 1, 100))
    body = {
        "visual": {
            "ticker": "Nhà văn hoá thôn Đông",
            "slides": [{"image_sha256": first, "duration_s": 6}, {"image_sha256": second}],
        }
    }
    path = f"{V}/announcements/{ann}"
    assert communes.call("viewer", "PATCH", path, json=body).status_code == 403
    assert communes.call("other", "PATCH", path, json=body).status_code == 404  # commune B
    assert _visual(communes, ann) is None

    r = communes.call("operator", "PATCH", path, json=body)
    assert r.status_code == 200, r.text
    assert r.json()["approval"] == "pending" and r.json()["approved_by"] is None
    shown = r.json()["visual"]
    assert shown["text"] == "Chờ duyệt dong-an."  # board text defaults to the announcement's
    assert shown["ticker"] == "Nhà văn hoá thôn Đông"
    assert [(s["image"]["sha256"], s["duration_s"]) for s in shown["slides"]] == [
        (first, 6.0),
        (second, 10.0),
    ]

    bad = {"visual": {"slides": [{"image_sha256": "0" * 64}]}}
    r = communes.call("operator", "PATCH", path, json=bad)
    assert r.status_code == 422 and "no uploaded image" in r.text
    assert _visual(communes, ann) == shown  # nothing half-written

    r = communes.call("operator", "PATCH", path, json={"title": "Chỉ sửa tiêu đề"})
    assert r.status_code == 200 and r.json()["visual"] == shown  # absent: left alone
    r = communes.call("operator", "PATCH", path, json={"visual": None})
    assert r.status_code == 200 and r.json()["visual"] is None
    with communes.ctl.sessions() as session:
        details = session.scalars(
            select(AuditEntry.detail).where(
                AuditEntry.action == "announcement.edit", AuditEntry.target == f"announcement:{ann}"
            )
        ).all()
    assert details == [
        "approval=pending changed=visual",
        "approval=pending changed=title",
        "approval=pending changed=visual",
    ]

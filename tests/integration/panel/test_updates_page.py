"""The panel's agent updates page: each node's version, starting a rollout, its progress."""

from __future__ import annotations

from pathlib import Path

import pytest
from integration.panel.panel_support import Panel

from controller.agentdist.release import build_release
from controller.db.models import Node

pytestmark = pytest.mark.integration
REPO = Path(__file__).resolve().parents[3]


def test_admin_starts_a_rollout_and_sees_versions_and_progress(panel: Panel) -> None:
    client = panel.as_("admin")
    ctl = client.app.state.controller  # type: ignore[attr-defined]
    build_release(REPO, ctl.settings.resolved_agent_dist_dir, "3.0",
                  REPO / "deploy" / "agent" / "requirements.lock")  # fmt: skip
    with ctl.sessions.begin() as session:
        node = session.get(Node, "dong-an-1")
        node.last_heartbeat = {**(node.last_heartbeat or {}), "agent_version": "2.9"}
    page = client.get("/panel/updates")
    assert page.status_code == 200
    assert '<option value="3.0"' in page.text and "2.9" in page.text
    assert "2.9" in client.get("/panel/nodes").text  # the version column of the node list
    form = {"version": "3.0", "zones": "xa-dong-tien", "canary": "1", "csrf": panel.csrf["admin"]}
    r = client.post("/panel/updates", data=form)
    assert r.status_code == 200, r.text
    assert "Đã bắt đầu cập nhật lên 3.0" in r.text
    assert "Thử nghiệm" in r.text and "Đang cập nhật" in r.text  # canary stage, updating
    again = client.post("/panel/updates", data={"version": "3.0", "csrf": panel.csrf["admin"]})
    assert again.status_code == 422 and "3.0" in again.text  # one rollout at a time
    audit = client.get("/panel/audit").text
    assert "agent.rollout" in audit

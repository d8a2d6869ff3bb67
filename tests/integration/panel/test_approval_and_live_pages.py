"""Two panel pages of issue 18 read as an admin and an operator would: an admin turns a
commune's "needs approval" on and off on the zones page (not only over the API), keeping the
other settings and leaving an audit entry; the live page without Icecast says why."""

from __future__ import annotations

import pytest
from integration.panel.panel_support import Panel

from controller.db.models import AuditEntry, Zone

pytestmark = pytest.mark.integration

COMMUNE = "xa-vi-huong"


def _needs_approval(panel: Panel) -> bool:
    ctl = panel.client.app.state.controller  # type: ignore[attr-defined]
    with ctl.sessions() as session:
        zone = session.get(Zone, COMMUNE)
        assert zone is not None
        return bool(zone.needs_approval)


def _save(panel: Panel, **fields: str) -> None:
    client = panel.as_("admin")
    r = client.post(
        f"/panel/zones/{COMMUNE}/safety",
        data={"csrf": panel.csrf["admin"], "volume_cap": "80", "quiet_hours": "", **fields},
    )
    assert r.status_code == 303, r.text


def test_the_zone_form_switches_approval_on_and_off(panel: Panel) -> None:
    page = panel.as_("admin").get("/panel/zones").text
    assert 'name="needs_approval"' in page and "Cần phê duyệt trước khi phát" in page
    _save(panel, approval_shown="1", needs_approval="1")
    assert _needs_approval(panel)
    assert 'name="needs_approval" value="1" checked' in panel.as_("admin").get("/panel/zones").text
    _save(panel, volume_cap="70")  # an older form without the switch leaves it as it is
    assert _needs_approval(panel)
    _save(panel, approval_shown="1")  # shown and unticked: off
    assert not _needs_approval(panel)
    ctl = panel.client.app.state.controller  # type: ignore[attr-defined]
    with ctl.sessions() as session:
        details = [
            e.detail for e in session.query(AuditEntry).filter_by(target=f"zone:{COMMUNE}").all()
        ]
    assert any("needs_approval=True" in d for d in details)
    assert any("needs_approval=False" in d for d in details)


def test_operators_cannot_switch_approval(panel: Panel) -> None:
    client = panel.as_("operator")
    r = client.post(
        f"/panel/zones/{COMMUNE}/safety",
        data={"csrf": panel.csrf["operator"], "approval_shown": "1", "needs_approval": "1"},
    )
    assert r.status_code in (303, 403) and not _needs_approval(panel)


def test_live_without_icecast_says_why_and_offers_no_start(panel: Panel) -> None:
    """The module's controller has no Icecast: the live page names what is missing and
    its start button and zone choice are disabled (nothing to click that cannot work)."""
    page = panel.as_("operator").get("/panel/broadcast")
    assert page.status_code == 200
    assert 'id="live-unavailable"' in page.text
    assert "máy chủ Icecast chưa được cấu hình" in page.text and "LOA_ICECAST_HOST" in page.text
    assert 'id="live-start" disabled' in page.text and "<fieldset disabled>" in page.text

"""The restore drill: back up a running system with a playlist in force, lose the controller,
restore on a new data dir, start; the agent keeps playing, nothing is lost or played twice,
and the restored controller's playlist versions are above everything published before."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import support.processes as processes
from support.postgres import create_database
from support.processes import AgentProcess, ControllerProcess, wait_until

from controller.broker.process import MosquittoProcess

pytestmark = pytest.mark.integration
NODE = "dong-an-1"


def loa(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cli.main", *args],
        env=processes._clean_env(env),  # looked up now: the PostgreSQL pass patches it
        capture_output=True,
        text=True,
        timeout=120,
    )


def announce(ctl: ControllerProcess, text: str, start: datetime | None = None) -> int:
    body: dict[str, object] = {"text": text, "targets": ["xa-dong-tien"]}
    if start is not None:
        body["start"] = start.isoformat()
    with ctl.api() as api:
        r = api.post("/api/v1/announcements", json=body)
    assert r.status_code == 201, r.text
    return int(r.json()["id"])


def events(ctl: ControllerProcess) -> list[dict[str, object]]:
    with ctl.api() as api:
        found: list[dict[str, object]] = api.get(
            "/api/v1/playback-events", params={"limit": 500}
        ).json()
    return found


def node_state(ctl: ControllerProcess) -> dict[str, object]:
    with ctl.api() as api:
        nodes: list[dict[str, object]] = api.get("/api/v1/nodes").json()
    return next(n for n in nodes if n["id"] == NODE)


def fresh_database(request: pytest.FixtureRequest) -> dict[str, str]:
    """On the PostgreSQL pass the restored controller gets a new, empty database."""
    if os.environ.get("LOA_TEST_POSTGRES") != "1":
        return {}
    server: str = request.getfixturevalue("postgres_server")
    return {"database_url": create_database(server, "restored")}


def test_restore_drill(
    tmp_path: Path, mosquitto: MosquittoProcess, request: pytest.FixtureRequest
) -> None:
    old = ControllerProcess(tmp_path / "old", mosquitto.port, immediate_lead_s="8")
    old.start()
    agent: AgentProcess | None = None
    new: ControllerProcess | None = None
    try:
        with old.api() as api:
            assert api.post("/api/v1/zones", json={"id": "xa-dong-tien", "name": "Đồng Tiến"})
            r = api.post(
                "/api/v1/nodes", json={"id": NODE, "name": NODE, "zone_id": "xa-dong-tien"}
            )
            assert r.status_code == 201, r.text
        agent = AgentProcess(
            tmp_path / NODE,
            NODE,
            mosquitto.port,
            old.url,
            old.signing_keys(),
            zones=["xa-dong-tien"],
        )
        agent.start()
        wait_until(lambda: node_state(old)["online"], 20)
        old_keys = old.signing_keys()
        # one notice plays now; a second is in force for later (it must play after the restore)
        announce(old, "Thông báo thứ nhất: họp thôn.")
        later = datetime.now(UTC) + timedelta(seconds=45)
        announce(old, "Thông báo thứ hai: phát sau khi khôi phục.", later)
        wait_until(lambda: sum(e["kind"] == "finished" for e in events(old)) == 1, 40)
        before_backup = events(old)

        archive = tmp_path / "backup.tar"
        done = loa(["backup", "-o", str(archive)], old.env)  # while running
        assert done.returncode == 0, done.stderr
        assert archive.stat().st_mode & 0o777 == 0o600

        def agent_version(ctl: ControllerProcess) -> int:
            hb = node_state(ctl).get("last_heartbeat")
            return int(hb.get("playlist_version") or 0) if isinstance(hb, dict) else 0

        at_backup = agent_version(old)
        assert at_backup > 0
        # after the backup: a newer playlist reaches the agent, then the controller's disk dies
        announce(old, "Thông báo thứ ba: sau bản sao lưu.", datetime.now(UTC) + timedelta(hours=3))
        newest = wait_until(lambda: agent_version(old) if agent_version(old) > at_backup else 0, 20)
        old.kill()

        # restore onto the fresh data dir of a new controller; start it on the same broker
        new = ControllerProcess(
            tmp_path / "new", mosquitto.port, immediate_lead_s="8", **fresh_database(request)
        )
        damaged = tmp_path / "damaged.tar"
        raw = bytearray(archive.read_bytes())
        raw[len(raw) // 2] ^= 0xFF
        damaged.write_bytes(bytes(raw))
        refused = loa(["restore", str(damaged)], new.env)
        assert refused.returncode == 2, refused.stderr
        assert "restore refused" in refused.stderr
        assert not any((tmp_path / "new").iterdir())  # nothing written
        done = loa(["restore", str(archive)], new.env)
        assert done.returncode == 0, done.stderr
        assert '"playlists_to_republish": 1' in done.stdout
        again = loa(["restore", str(archive)], new.env)
        assert again.returncode == 2 and "not empty" in again.stderr
        new.start()
        assert new.signing_keys() == old_keys  # agents keep trusting the restored controller

        # the agent follows the restored controller: a playlist version above all before
        wait_until(lambda: agent_version(new) > newest, 30)
        # the notice that was in force plays once, reported to the restored controller
        wait_until(lambda: sum(e["kind"] == "finished" for e in events(new)) == 2, 90)
        wait_until(lambda: (node_state(new)["last_heartbeat"] or {}).get("outbox_pending") == 0, 60)
        after = events(new)
        keys = [(e["node_id"], e["seq"]) for e in after]
        assert len(keys) == len(set(keys)), "an event was stored twice"
        assert {(e["node_id"], e["seq"]) for e in before_backup} <= set(keys), "an event was lost"
        plays = [(e["item_id"], e["kind"]) for e in after if e["kind"] in ("started", "finished")]
        assert len(plays) == len(set(plays)) == 4, plays  # two notices, each started+finished once
    finally:
        if agent is not None:
            agent.stop()
        if new is not None:
            new.stop()
        old.stop()

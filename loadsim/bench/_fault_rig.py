"""Real processes for fault scenarios: a private Mosquitto, ``loa controller`` and
``loa agent`` children (tap player), each killable with SIGKILL like a power cut.

Counting happens on the durable files, never on a process's memory: *sent* is each agent's
outbox sequence counter (AUTOINCREMENT, never reused), *stored* is the controller database
grouped by (node_id, seq), *played* is the agent's tap file (one JSON line per start).
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import httpx

from controller.broker.process import MosquittoProcess, free_port
from loadsim.bench._support import wait_for

ZONE = "xa-thu-loi"


POLL_S = 0.2  # each poll asks the controller over HTTP or reads SQLite


class Child:
    """One ``python -m cli.main ...`` child with a private LOA_* environment and a log."""

    def __init__(self, args: list[str], env: dict[str, str], log: Path) -> None:
        self.args, self.env, self.log = args, env, log
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith("LOA_")} | self.env
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "cli.main", *self.args],
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )

    def kill(self) -> None:
        """SIGKILL: no clean-up, no last words (the broker's Last Will speaks)."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self.proc = None

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None


class ControllerChild(Child):
    def __init__(self, root: Path, mqtt_port: int, **settings: str) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.data = root / "controller"
        env = {
            "LOA_DATA_DIR": str(self.data),
            "LOA_HTTP_PORT": str(self.port),
            "LOA_MQTT_PORT": str(mqtt_port),
            "LOA_TTS_ENGINE_ORDER": '["espeak-ng"]',
            "LOA_API_ANONYMOUS_ADMIN": "true",
            "LOA_IMMEDIATE_LEAD_S": "4",
            "LOA_LEASE_TTL_S": "3",
            "LOA_LEASE_RENEW_S": "1",
            "LOA_HORIZON_INTERVAL_MIN": "0.1",
            **{f"LOA_{k.upper()}": v for k, v in settings.items()},
        }
        super().__init__(["controller"], env, root / "controller.log")

    def start(self) -> None:
        super().start()

        def ready() -> bool:
            try:
                return bool(
                    httpx.get(f"{self.url}/api/v1/health", timeout=1).json()["mqtt_connected"]
                )
            except (httpx.HTTPError, ValueError, KeyError):
                return False

        if not wait_for(ready, 60, POLL_S):
            raise RuntimeError(f"controller did not start; see {self.log}")

    def api(self) -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=60)

    def stored(self) -> tuple[int, int]:
        """(rows, distinct (node_id, seq)) of playback events, read from the database file
        (the rig's database holds only the rig's nodes)."""
        with sqlite3.connect(self.data / "loa.sqlite3") as db:
            rows, distinct = db.execute(
                "SELECT COUNT(*), COUNT(DISTINCT node_id || ':' || seq) FROM playback_events"
            ).fetchone()
        return int(rows), int(distinct)


class AgentChild(Child):
    def __init__(
        self, root: Path, node: str, mqtt_port: int, controller_url: str, keys: list[str]
    ) -> None:
        self.node = node
        self.data = root / node
        self.tap = root / f"{node}.tap.jsonl"
        env = {
            "LOA_NODE_ID": node,
            "LOA_ZONES": json.dumps([ZONE]),
            "LOA_DATA_DIR": str(self.data),
            "LOA_CONTROLLER_URL": controller_url,
            "LOA_MQTT_PORT": str(mqtt_port),
            "LOA_TRUSTED_KEYS": json.dumps(keys),
            "LOA_PLAYER": "tap",
            "LOA_TAP_FILE": str(self.tap),
            "LOA_HEARTBEAT_INTERVAL_S": "2",
            "LOA_RECONNECT_MIN_S": "0.2",
            "LOA_RECONNECT_MAX_S": "1",
            "LOA_OUTBOX_RESEND_S": "2",
        }
        super().__init__(["agent"], env, root / f"{node}.log")

    def sent(self) -> int:
        """Events this node ever generated: the outbox's never-reused sequence counter."""
        path = self.data / "outbox.sqlite"
        if not path.exists():
            return 0
        with sqlite3.connect(path) as db:
            row = db.execute("SELECT seq FROM sqlite_sequence WHERE name = 'events'").fetchone()
        return int(row[0]) if row else 0

    def duplicate_plays(self) -> int:
        """Items started from their beginning more than once (a resume mid-item is not)."""
        if not self.tap.exists():
            return 0
        starts = Counter(
            line["item_id"]
            for line in map(json.loads, self.tap.read_text().splitlines())
            if line.get("offset_s", 0) == 0
        )
        return sum(n - 1 for n in starts.values() if n > 1)


class FaultRig:
    """Broker + controller + agents in ``root``; everything stopped by :meth:`close`."""

    def __init__(self, root: Path, agents: int) -> None:
        root.mkdir(parents=True, exist_ok=True)
        self.root = root
        self.broker = MosquittoProcess(root / "mosquitto")
        self.broker.start()
        self.controller = ControllerChild(root, self.broker.port)
        self.controller.start()
        self.nodes = [f"loa-{n + 1}" for n in range(agents)]
        with self.controller.api() as api:
            api.post("/api/v1/zones", json={"id": ZONE, "name": "Xã Thụy Lợi"}).raise_for_status()
            for node in self.nodes:
                body = {"id": node, "name": node, "zone_id": ZONE}
                api.post("/api/v1/nodes", json=body).raise_for_status()
            keys = api.get("/api/v1/signing-keys").json()["keys"]
        self.agents = [
            AgentChild(root, n, self.broker.port, self.controller.url, keys) for n in self.nodes
        ]
        for agent in self.agents:
            agent.start()
        wait_for(self.all_online, 30, POLL_S)

    def all_online(self) -> bool:
        with self.controller.api() as api:
            nodes = api.get("/api/v1/nodes").json()
        return all(n["online"] for n in nodes if n["id"] in self.nodes)

    def announce(self, text: str) -> dict[str, Any] | None:
        """POST an announcement for 'now'; None if the controller died answering."""
        try:
            with self.controller.api() as api:
                r = api.post("/api/v1/announcements", json={"text": text, "targets": [ZONE]})
            r.raise_for_status()
            result: dict[str, Any] = r.json()
            return result
        except httpx.HTTPError:
            return None

    def events(self) -> list[dict[str, Any]]:
        with self.controller.api() as api:
            found: list[dict[str, Any]] = api.get(
                "/api/v1/playback-events", params={"limit": 10000}
            ).json()
        return found

    def settled(self) -> bool:
        """Every event every agent generated is in the database (or we stop waiting)."""
        sent = sum(a.sent() for a in self.agents)
        return sent > 0 and self.controller.stored()[1] >= sent

    def report(self, name: str, announced: int) -> dict[str, Any]:
        """The scenario's counts; every item any node saw must be ended on every node."""
        sent = sum(a.sent() for a in self.agents)
        rows, distinct = self.controller.stored()
        events = [e for e in self.events() if e["node_id"] in self.nodes and e["item_id"]]
        items = {e["item_id"] for e in events}
        ends = {"finished", "failed", "skipped", "missed"}
        done = {(e["node_id"], e["item_id"]) for e in events if e["kind"] in ends}
        unaccounted = sum((n, i) not in done for n in self.nodes for i in items)
        unaccounted += max(0, announced - len(items)) * len(self.nodes)
        return {
            "name": name,
            "sent": sent,
            "stored": distinct,
            "lost": sent - distinct,
            "duplicated": (rows - distinct) + sum(a.duplicate_plays() for a in self.agents),
            "scheduled_items": announced * len(self.nodes),
            "unaccounted_items": unaccounted,
        }

    def close(self) -> None:
        for agent in self.agents:
            agent.stop()
        self.controller.stop()
        self.broker.stop()

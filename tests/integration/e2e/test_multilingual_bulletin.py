"""A bulletin in Vietnamese and Tày, aired in that order on a node of xã Vi Hương (whose zone
airs ``["vi", "tay"]``) and in Vietnamese only on a node of xã Đồng Tiến: real controller,
broker, espeak-ng, ffmpeg and agents (the tap player records which file each one started).

The Tày "recording" is a steady 880 Hz tone, so the played file itself shows the order: the
Tày part of the joined file must be that tone and the Vietnamese part must not.
"""

from __future__ import annotations

import io
import itertools
import json
import math
import struct
import subprocess
import wave
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from support.processes import AgentProcess, wait_until
from support.served_controller import ServedController

from controller.broker.process import MosquittoProcess, free_port
from controller.config import ControllerSettings
from controller.db.models import Zone
from controller.panel.queries import item_names
from controller.services.container import Controller
from controller.services.reports import upward
from controller.services.reports.period import Period
from protocol.clock import SystemClock

pytestmark = pytest.mark.integration

RATE = 16_000
TONE_HZ = 880
NODES = (("xa-vi-huong", "vi-huong-1"), ("xa-dong-tien", "dong-an-1"))


@dataclass
class System:
    url: str
    taps: dict[str, Path]
    ctl: Controller

    def api(self) -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=60)


def _tone_wav(seconds: float) -> bytes:
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(RATE)
        n = int(seconds * RATE)
        w.writeframes(
            b"".join(
                struct.pack("<h", int(9000 * math.sin(2 * math.pi * TONE_HZ * i / RATE)))
                for i in range(n)
            )
        )
    return buf.getvalue()


@pytest.fixture
def system(tmp_path: Path, mosquitto: MosquittoProcess) -> Iterator[System]:
    """The controller in this process (already imported: no start-up wait), agents apart."""
    port = free_port()
    settings = ControllerSettings(
        data_dir=tmp_path / "controller",
        http_port=port,
        mqtt_port=mosquitto.port,
        mqtt_client_id=f"ctl-{tmp_path.name}",
        tts_engine_order=["espeak-ng"],
        immediate_lead_s=4,
        api_anonymous_admin=True,
        scheduler_enabled=False,
    )
    agents: list[AgentProcess] = []
    taps: dict[str, Path] = {}
    with ServedController(settings, SystemClock(), port=port) as served:
        system = System(served.url, taps, served.ctl)
        try:
            with system.api() as api:
                for zone, node in NODES:
                    r = api.post("/api/v1/zones", json={"id": zone, "name": zone, "kind": "xã"})
                    assert r.status_code == 201, r.text
                    body = {"id": node, "name": node, "zone_id": zone}
                    assert api.post("/api/v1/nodes", json=body).status_code == 201
                keys = api.get("/api/v1/signing-keys").json()["keys"]
            for zone, node in NODES:
                taps[node] = tmp_path / f"{node}.tap.jsonl"
                agent = AgentProcess(
                    tmp_path / node,
                    node,
                    mosquitto.port,
                    served.url,
                    keys,
                    zones=[zone],
                    player="tap",
                    tap_file=str(taps[node]),
                )
                agent.start()
                agents.append(agent)
            yield system
        finally:
            for agent in agents:
                agent.stop()


def _zero_crossings_per_s(path: Path, start: float, length: float) -> float:
    window = ["-ss", f"{start:.3f}", "-t", f"{length:.3f}"]
    out = ["-ac", "1", "-ar", str(RATE), "-f", "s16le", "pipe:1"]
    pcm = subprocess.run(
        ["ffmpeg", "-v", "error", *window, "-i", str(path), *out],
        capture_output=True,
        check=True,
    ).stdout
    samples = struct.unpack(f"<{len(pcm) // 2}h", pcm)
    crossings = sum(1 for a, b in itertools.pairwise(samples) if (a < 0) != (b < 0))
    return crossings / (len(samples) / RATE)


def _events(api: Any, node: str) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = api.get("/api/v1/playback-events").json()
    return sorted((e for e in events if e["node_id"] == node), key=lambda e: e["seq"])


def test_vietnamese_then_tay_as_one_item_in_order(system: System) -> None:
    with system.api() as api:
        wait_until(lambda: all(n["online"] for n in api.get("/api/v1/nodes").json()), 90)
        r = api.put("/api/v1/zones/xa-vi-huong/languages", json={"languages": ["vi", "tay"]})
        assert r.status_code == 200 and r.json()["languages"] == ["vi", "tay"], r.text
        bad = api.put("/api/v1/zones/xa-vi-huong/languages", json={"languages": ["vi", "xx"]})
        assert bad.status_code == 422 and "xx" in bad.text
        upload = api.post(
            "/api/v1/uploads/audio", files={"file": ("tay.wav", _tone_wav(2.5), "audio/wav")}
        )
        assert upload.status_code == 201, upload.text
        tay = upload.json()
        r = api.post(
            "/api/v1/announcements",
            json={
                "text": "Mời bà con họp thôn lúc 14 giờ.",
                "targets": ["xa-vi-huong", "xa-dong-tien"],
                "variants": [{"language": "tay", "media_sha256": tay["sha256"]}],
                # time to render, join, publish and fetch even on a loaded CI machine
                "start": (datetime.now(UTC) + timedelta(seconds=25)).isoformat(),
            },
        )
        assert r.status_code == 201, r.text
        ann = r.json()
        assert ann["languages"] == ["vi", "tay"]

        def finished() -> bool:
            return all(any(e["kind"] == "finished" for e in _events(api, n)) for n in system.taps)

        wait_until(finished, 90 + ann["duration_s"])
        vi_huong = _events(api, "vi-huong-1")
        dong_an = _events(api, "dong-an-1")

    # Vi Hương: one item, the joined file, both languages named in its started event
    assert [e["kind"] for e in vi_huong] == ["started", "finished"], vi_huong
    started, ended = vi_huong
    assert started["item_id"].startswith(f"ann-{ann['id']}-vi-tay@"), started
    assert "languages: vi 0.00+" in started["detail"] and ", tay " in started["detail"]
    # Đồng Tiến airs Vietnamese only: the plain entry, no languages
    assert [e["kind"] for e in dong_an] == ["started", "finished"], dong_an
    assert dong_an[0]["item_id"].startswith(f"ann-{ann['id']}@")
    assert "languages" not in dong_an[0]["detail"]

    parts = _parts(started["detail"])
    assert [p[0] for p in parts] == ["vi", "tay"]
    (_, vi_off, vi_len), (_, tay_off, tay_len) = parts
    assert abs(tay_len - tay["duration_s"]) < 0.2, (tay_len, tay["duration_s"])
    assert abs(tay_off - (vi_off + vi_len + 0.8)) < 0.15
    # the node played for the whole joined length (both languages), as one item
    played = (_at(ended["at"]) - _at(started["at"])).total_seconds()
    total = tay_off + tay_len
    assert total - 1.0 < played < total + 2.5, (played, total)

    tap = [json.loads(line) for line in system.taps["vi-huong-1"].read_text().splitlines()]
    assert len(tap) == 1
    media = Path(tap[0]["media"])
    vi_only = [json.loads(x) for x in system.taps["dong-an-1"].read_text().splitlines()]
    assert vi_only[0]["media"] != tap[0]["media"]
    # order: the Tày part is the 880 Hz tone, the Vietnamese part is speech
    tay_rate = _zero_crossings_per_s(media, tay_off + 0.3, tay_len - 0.6)
    vi_rate = _zero_crossings_per_s(media, vi_off + 0.3, min(vi_len - 0.6, 2.0))
    assert abs(tay_rate - 2 * TONE_HZ) < 0.05 * 2 * TONE_HZ, tay_rate
    assert abs(vi_rate - 2 * TONE_HZ) > 0.2 * 2 * TONE_HZ, vi_rate

    # the log names both languages; the monthly report counts the airing as the planned one
    with system.ctl.sessions() as session:
        names = item_names.resolve(session, [], [started["item_id"]], [])
        assert names.items[started["item_id"]].title.endswith("[vi → tay]")
        commune = session.get(Zone, "xa-vi-huong")
        assert commune is not None
        settings = system.ctl.settings
        report = upward.build(
            session,
            commune,
            Period.month_of(_at(started["at"]).date()),
            system.ctl.clock.now(),
            heartbeat_interval_s=settings.heartbeat_interval_s,
            heartbeat_keep=timedelta(days=settings.heartbeat_retention_days),
        )
    (section,) = report.communes
    (row,) = section.nodes
    assert (row.planned, row.played, row.other) == (1, 1, 0)
    (aired,) = section.aired
    assert aired.languages == ("vi", "tay")


def _parts(detail: str) -> list[tuple[str, float, float]]:
    text = detail.split("languages: ", 1)[1].split(";", 1)[0]
    out = []
    for chunk in text.split(", "):
        language, span = chunk.split(" ")
        offset, length = span.removesuffix("s").split("+")
        out.append((language, float(offset), float(length)))
    return out


def _at(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))

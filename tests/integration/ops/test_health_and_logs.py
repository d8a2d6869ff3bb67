"""/api/v1/health in words, /metrics behind the admin role, request ids and JSON log lines."""

from __future__ import annotations

import json
import logging
import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from controller.app import create_app
from controller.broker.process import MosquittoProcess, free_port
from controller.config import ControllerSettings
from controller.ops import logs

pytestmark = pytest.mark.integration
TOKEN = "a-long-random-token-for-the-ops-test"


def test_health_names_what_is_degraded(tmp_path: Path, mosquitto: MosquittoProcess) -> None:
    settings = ControllerSettings(
        data_dir=tmp_path / "ok", mqtt_port=mosquitto.port, tts_engine_order=["espeak-ng"]
    )
    with TestClient(create_app(settings)) as c:
        body = c.get("/api/v1/health").json()
        assert body["status"] == "ok", body
        assert body["degraded"] == []
        assert set(body["checks"]) == {"broker", "database", "disk", "tts"}
        assert "espeak-ng" in body["checks"]["tts"]["detail"]
    # no broker on this port, a disk threshold no disk meets, and no TTS engine that works
    settings = ControllerSettings(
        data_dir=tmp_path / "bad",
        mqtt_port=free_port(),
        health_min_free_disk_mb=10**12,
        piper_voices_dir=tmp_path / "no-voices",
        tts_engine_order=["piper"],
    )
    with TestClient(create_app(settings)) as c:
        body = c.get("/api/v1/health").json()
    assert body["status"] == "degraded"
    reasons = "\n".join(body["degraded"])
    assert "broker" in reasons and "unreachable" in reasons
    assert "disk: only" in reasons and "MB free" in reasons
    assert "tts: no speech engine works: piper unavailable" in reasons
    assert body["checks"]["database"]["ok"] is True


def test_metrics_on_api_port_need_the_admin_role(
    tmp_path: Path, mosquitto: MosquittoProcess
) -> None:
    settings = ControllerSettings(
        data_dir=tmp_path / "ctl",
        mqtt_port=mosquitto.port,
        api_anonymous_admin=False,
        api_token=TOKEN,  # type: ignore[arg-type]
    )
    with TestClient(create_app(settings)) as c:
        assert c.get("/metrics").status_code == 401
        r = c.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
        assert r.status_code == 200
        names = {f.name for f in text_string_to_metric_families(r.text)}
        assert {"loa_nodes", "loa_http_requests", "loa_mqtt_connected"} <= names
        # the refused scrape above is itself counted, by route and status
        second = c.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"}).text
        assert 'loa_http_requests_total{method="GET",route="/metrics",status="401"} 1.0' in second


def test_grafana_dashboard_uses_only_metrics_the_controller_exposes(
    tmp_path: Path, mosquitto: MosquittoProcess
) -> None:
    dashboard = json.loads(
        (Path(__file__).parents[3] / "deploy/monitoring/grafana-dashboard.json").read_text()
    )
    exprs = [t["expr"] for p in dashboard["panels"] for t in p["targets"]]
    used = {re.sub(r"_(total|bucket|count|sum)$", "", m) for e in exprs for m in _names(e)}
    settings = ControllerSettings(data_dir=tmp_path / "ctl", mqtt_port=mosquitto.port)
    with TestClient(create_app(settings)) as c:
        text = c.get("/metrics").text  # the tests' anonymous admin
    exposed = {f.name for f in text_string_to_metric_families(text)}
    assert len(used) >= 12
    assert used <= exposed, used - exposed


def _names(expr: str) -> list[str]:
    return re.findall(r"\bloa_[a-z_]+", expr)


def test_request_ids_are_returned_and_logged_as_json_lines(
    tmp_path: Path, mosquitto: MosquittoProcess, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = ControllerSettings(data_dir=tmp_path / "ctl", mqtt_port=mosquitto.port)
    logs.configure("json")
    try:
        with TestClient(create_app(settings)) as c:
            given = c.get("/api/v1/health", headers={"X-Request-ID": "probe-12345678"})
            assert given.headers["x-request-id"] == "probe-12345678"
            fresh = c.get("/api/v1/health", headers={"X-Request-ID": "bad id\nwith newline"})
            rid = fresh.headers["x-request-id"]
            assert rid != "bad id\nwith newline" and len(rid) == 32
            r = c.post("/api/v1/zones", json={"id": "BAD ID", "name": "x"})
            assert r.status_code == 422
            logging.getLogger("loa.test").warning("inside? no: outside any request")
    finally:
        logging.getLogger().handlers.clear()
    lines = [json.loads(line) for line in capsys.readouterr().err.splitlines() if line]
    assert lines and all({"ts", "level", "logger", "msg"} <= set(x) for x in lines)
    outside = [x for x in lines if x["logger"] == "loa.test"]
    assert outside and "request_id" not in outside[0]
    access = [x for x in lines if x.get("request_id") == "probe-12345678"]
    assert access, lines

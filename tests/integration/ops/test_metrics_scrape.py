"""/metrics of a real controller (child process) with a real broker and one real agent, parsed
with Prometheus' own text parser; the values must move as the system works."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from support.processes import AgentProcess, ControllerProcess, wait_until

from controller.broker.process import MosquittoProcess, free_port

pytestmark = pytest.mark.integration

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def scrape(url: str) -> Samples:
    text = httpx.get(url, timeout=10).text
    out: Samples = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


def total(samples: Samples, name: str, **labels: str) -> float:
    want = set(labels.items())
    return sum(v for (n, lab), v in samples.items() if n == name and want <= set(lab))


@pytest.fixture
def system(tmp_path: Path, mosquitto: MosquittoProcess) -> Iterator[tuple[ControllerProcess, str]]:
    metrics_port = free_port()
    ctl = ControllerProcess(
        tmp_path / "controller",
        mosquitto.port,
        metrics_port=str(metrics_port),
        heartbeat_interval_s="2",
        immediate_lead_s="8",
    )
    ctl.start()
    agent: AgentProcess | None = None
    try:
        with ctl.api() as api:
            r = api.post("/api/v1/zones", json={"id": "xa-a", "name": "Xã A", "kind": "xã"})
            assert r.status_code == 201, r.text
            r = api.post("/api/v1/nodes", json={"id": "a-1", "name": "A 1", "zone_id": "xa-a"})
            assert r.status_code == 201, r.text
        agent = AgentProcess(
            tmp_path / "a-1", "a-1", mosquitto.port, ctl.url, ctl.signing_keys(), zones=["xa-a"]
        )
        agent.start()
        yield ctl, f"http://127.0.0.1:{metrics_port}/metrics"
    finally:
        if agent is not None:
            agent.stop()
        ctl.stop()


def test_metrics_move_with_the_system(system: tuple[ControllerProcess, str]) -> None:
    ctl, url = system
    before = scrape(url)
    assert total(before, "loa_mqtt_connected") == 1
    # the metrics port is the only place: not on the API port
    assert httpx.get(f"{ctl.url}/metrics").status_code == 404

    wait_until(lambda: total(scrape(url), "loa_nodes", commune="xa-a", state="online") == 1, 20)
    with ctl.api() as api:
        r = api.post(
            "/api/v1/announcements",
            json={"text": "Kính thưa bà con, mười giờ họp thôn.", "targets": ["xa-a"]},
        )
        assert r.status_code == 201, r.text
        assert api.get("/api/v1/nodes/nope").status_code == 404

        def played() -> bool:
            events = api.get("/api/v1/playback-events").json()
            return any(e["kind"] == "finished" for e in events)

        wait_until(played, 40)

    def moved() -> Samples | None:
        after = scrape(url)
        grew = all(
            total(after, name) > total(before, name)
            for name in (
                "loa_ingest_heartbeats_total",
                "loa_ingest_events_total",
                "loa_job_runs_total",
            )
        )
        return after if grew and total(after, "loa_ingest_lag_seconds_count") > 0 else None

    after = wait_until(moved, 20)
    assert total(after, "loa_nodes", commune="xa-a", state="online") == 1
    assert total(after, "loa_nodes", commune="xa-a", state="offline") == 0
    # the playlist went out with QoS 1 and the broker confirmed it; event acks likewise
    assert total(after, "loa_mqtt_publish_latency_seconds_count", kind="playlist") >= 1
    assert total(after, "loa_mqtt_publish_latency_seconds_count", kind="ack") >= 1
    assert total(after, "loa_tts_renders_total", engine="espeak-ng", cached="false") == 1
    assert total(after, "loa_tts_render_seconds_count", engine="espeak-ng") == 1
    assert total(after, "loa_tts_render_seconds_sum") > 0
    # HTTP by route template and status, errors included
    assert (
        total(
            after,
            "loa_http_requests_total",
            route="/api/v1/announcements",
            method="POST",
            status="201",
        )
        == 1
    )
    assert total(after, "loa_http_requests_total", route="/api/v1/nodes/{node_id}", status="404")
    assert total(after, "loa_job_runs_total", job="liveness", outcome="ok") >= 1
    # the agent reports its outbox backlog in its heartbeats (0 once everything is acked)
    assert ("loa_agent_outbox_pending", (("commune", "xa-a"),)) in after
    assert total(after, "loa_database_up") == 1

    ctl.stop()  # the agent notices nothing here; the next controller counts from zero

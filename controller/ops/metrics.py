"""Prometheus metrics of one controller: its own registry (tests run many controllers in one
process), counters fed by small hooks, and the fleet read from the database at scrape time.

Counters that already exist elsewhere (ingest totals, MQTT rejects) are not duplicated: a
collector reads them when Prometheus scrapes, so the hot paths pay nothing for them.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from audio.media import RenderedMedia
from controller.db.models import Node, Zone
from controller.services.zones import COMMUNE_KINDS

if TYPE_CHECKING:
    from controller.services.container import Controller

log = logging.getLogger(__name__)

LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)
LAG_BUCKETS = (0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 15, 60, 300, 3600)
RENDER_BUCKETS = (0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 120)


def publish_kind(topic: str) -> str:
    """``loa/v1/node/x/playlist`` → ``playlist``; ``.../events/ack`` → ``ack`` (low cardinality)."""
    last = topic.rsplit("/", 1)[-1]
    return last if last in ("playlist", "cmd", "ack") else "other"


def commune_of(zone_id: str, zones: dict[str, tuple[str | None, str]]) -> str:
    """The nearest ancestor zone of a commune kind (xã, phường...), else the tree's root."""
    seen: set[str] = set()
    current: str | None = zone_id
    root = zone_id
    while current is not None and current in zones and current not in seen:
        seen.add(current)
        parent, kind = zones[current]
        if kind in COMMUNE_KINDS:
            return current
        root = current
        current = parent
    return root


class ControllerMetrics:
    """Everything /metrics shows; ``attach`` wires it to a started controller."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.http_requests = Counter(
            "loa_http_requests", "HTTP requests by route template, method and status",
            ["route", "method", "status"], registry=r,
        )  # fmt: skip
        self.http_seconds = Histogram(
            "loa_http_request_duration_seconds", "HTTP request time by route template",
            ["route"], buckets=LATENCY_BUCKETS, registry=r,
        )  # fmt: skip
        self.publish_seconds = Histogram(
            "loa_mqtt_publish_latency_seconds",
            "QoS 1 publishes confirmed by the broker (playlist, cmd, ack): time to PUBACK",
            ["kind"], buckets=LATENCY_BUCKETS, registry=r,
        )  # fmt: skip
        self.ingest_lag = Histogram(
            "loa_ingest_lag_seconds",
            "age of a heartbeat or event batch (agent sent_at) when committed",
            ["kind"], buckets=LAG_BUCKETS, registry=r,
        )  # fmt: skip
        self.tts_renders = Counter(
            "loa_tts_renders", "speech renders by engine and whether the cache answered",
            ["engine", "cached"], registry=r,
        )  # fmt: skip
        self.tts_seconds = Histogram(
            "loa_tts_render_seconds", "speech render wall time by engine (cache misses)",
            ["engine"], buckets=RENDER_BUCKETS, registry=r,
        )  # fmt: skip
        self.job_runs = Counter(
            "loa_job_runs", "scheduled job runs by job and outcome", ["job", "outcome"],
            registry=r,
        )  # fmt: skip
        self.job_last_run = Gauge(
            "loa_job_last_run_timestamp_seconds", "when each job last finished (Unix time)",
            ["job"], registry=r,
        )  # fmt: skip
        self._fleet: FleetCollector | None = None

    def attach(self, ctl: Controller) -> None:
        """Hook into a built controller; scrapes read its database and counters."""
        ctl.mqtt.publish_observer = self.observe_publish
        ctl.ingestor.observe_lag = self.observe_lag
        ctl.renderer.on_render = self.observe_render
        ctl.scheduler_listeners.append(self.observe_job)  # before create_app starts the jobs
        if self._fleet is not None:
            self.registry.unregister(self._fleet)
        self._fleet = FleetCollector(ctl)
        self.registry.register(self._fleet)

    def observe_http(self, route: str, method: str, status: int, seconds: float) -> None:
        self.http_requests.labels(route, method, str(status)).inc()
        self.http_seconds.labels(route).observe(seconds)

    def observe_publish(self, topic: str, seconds: float) -> None:
        self.publish_seconds.labels(publish_kind(topic)).observe(max(seconds, 0.0))

    def observe_lag(self, kind: str, seconds: float) -> None:
        self.ingest_lag.labels(kind).observe(max(seconds, 0.0))

    def observe_render(self, media: RenderedMedia, seconds: float) -> None:
        self.tts_renders.labels(media.engine, "true" if media.cached else "false").inc()
        if not media.cached:
            self.tts_seconds.labels(media.engine).observe(seconds)

    def observe_job(self, event: Any) -> None:
        """An APScheduler JobExecutionEvent (executed or error)."""
        outcome = "error" if getattr(event, "exception", None) is not None else "ok"
        job = str(getattr(event, "job_id", "unknown"))
        self.job_runs.labels(job, outcome).inc()
        self.job_last_run.labels(job).set_to_current_time()


class FleetCollector(Collector):
    """Read at scrape time: nodes per commune, agents' outbox backlog, ingest and MQTT state."""

    def __init__(self, ctl: Controller) -> None:
        self._ctl = ctl

    def describe(self) -> list[Metric]:
        return []  # dynamic: never checked against other collectors' names

    def collect(self) -> Iterator[Metric]:
        ctl = self._ctl
        stats = ctl.ingestor.stats
        yield _counter("loa_ingest_heartbeats", "heartbeats stored", stats.heartbeats)
        yield _counter("loa_ingest_events", "playback events stored (new)", stats.events)
        yield _counter(
            "loa_ingest_duplicate_events", "resent events already stored", stats.duplicate_events
        )
        yield _counter("loa_ingest_batches", "ingest transactions", stats.batches_committed)
        yield _gauge(
            "loa_ingest_queue_depth", "messages waiting for the writer", ctl.ingestor.backlog()
        )
        yield _gauge("loa_mqtt_connected", "1 when the controller's MQTT session is up",
                     1 if ctl.mqtt.connected.is_set() else 0)  # fmt: skip
        rejects = CounterMetricFamily(
            "loa_mqtt_rejected", "refused MQTT payloads by topic kind and error", labels=["kind"]
        )
        for kind, count in sorted(ctl.rejects.snapshot().items()):
            rejects.add_metric([kind], count)
        yield rejects
        try:
            yield from self._fleet()
        except SQLAlchemyError as exc:
            log.warning("metrics: fleet query failed: %s", str(exc).splitlines()[0][:200])
            yield _gauge("loa_database_up", "1 when the fleet query succeeded", 0)
        else:
            yield _gauge("loa_database_up", "1 when the fleet query succeeded", 1)

    def _fleet(self) -> Iterator[Metric]:
        with self._ctl.sessions() as session:
            zones = {z.id: (z.parent_id, z.kind) for z in session.scalars(select(Zone))}
            rows = session.execute(
                select(Node.zone_id, Node.online, Node.last_heartbeat).where(
                    Node.revoked_at.is_(None)
                )
            ).all()
        nodes = GaugeMetricFamily(
            "loa_nodes", "active nodes by commune and state", labels=["commune", "state"]
        )
        outbox = GaugeMetricFamily(
            "loa_agent_outbox_pending",
            "events waiting in agents' outboxes (sum of their last heartbeats) by commune",
            labels=["commune"],
        )
        outbox_max = GaugeMetricFamily(
            "loa_agent_outbox_pending_max", "the largest single agent outbox by commune",
            labels=["commune"],
        )  # fmt: skip
        counts: dict[tuple[str, str], int] = defaultdict(int)
        pending: dict[str, int] = defaultdict(int)
        biggest: dict[str, int] = defaultdict(int)
        for zone_id, online, heartbeat in rows:
            commune = commune_of(zone_id, zones)
            counts[(commune, "online" if online else "offline")] += 1
            counts[(commune, "online" if not online else "offline")] += 0
            backlog = (heartbeat or {}).get("outbox_pending")
            if isinstance(backlog, int) and backlog >= 0:
                pending[commune] += backlog
                biggest[commune] = max(biggest[commune], backlog)
            else:
                pending[commune] += 0
        for (commune, state), count in sorted(counts.items()):
            nodes.add_metric([commune, state], count)
        for commune, total in sorted(pending.items()):
            outbox.add_metric([commune], total)
            outbox_max.add_metric([commune], biggest[commune])
        yield nodes
        yield outbox
        yield outbox_max


def _counter(name: str, doc: str, value: float) -> CounterMetricFamily:
    return CounterMetricFamily(name, doc, value=value)


def _gauge(name: str, doc: str, value: float) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, doc, value=value)

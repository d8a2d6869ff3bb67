"""``loa bench ingest``: heartbeats and events stored per second, against a bare subscriber.

Publishers are bare paho clients in this process, each speaking for a slice of the
simulated nodes (so 5,000 nodes need no 5,000 sockets). The same load is first received by
a bare subscriber with no project code (``baseline_rate``), then by the controller's
ingestion path, which validates every message and stores it in SQLite in batches.
"""

from __future__ import annotations

import argparse
import multiprocessing
import threading
import time
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select

from controller.db.models import Heartbeat, PlaybackEvent
from loadsim.bench._report import add_json_flag, emit
from loadsim.bench._support import bare_client, bench_env, peak_rss_mb, percentiles, wait_for
from protocol import topics
from protocol.codec import encode
from protocol.models import EventBatch, EventKind
from protocol.models import Heartbeat as HeartbeatMsg
from protocol.models import PlaybackEvent as EventMsg

ZONE = "xa-bench"


def _node_messages(node_ids: list[str], r: int, events_every: int) -> list[tuple[str, bytes, int]]:
    """One round for ``node_ids``: (topic, payload, qos); stamped when built (lag origin)."""
    out: list[tuple[str, bytes, int]] = []
    for i, node in enumerate(node_ids):
        now = datetime.now(UTC)
        hb = HeartbeatMsg(node_id=node, sent_at=now, uptime_s=r * 30.0, volume=70, load1=0.2)
        out.append((topics.node_heartbeat(node), encode(hb), 0))
        if (i + r) % events_every == 0:
            ev = EventMsg(seq=r + 1, kind=EventKind.FINISHED, at=now, item_id="bench")
            batch = EventBatch(node_id=node, sent_at=now, events=[ev])
            out.append((topics.node_events(node), encode(batch), 1))
    return out


def _publisher_main(port: int, node_ids: list[str], rounds: int, events_every: int) -> None:
    """Runs in its own process (own GIL), like a real fleet would be outside the controller."""
    import paho.mqtt.client as mqtt
    from paho.mqtt.enums import CallbackAPIVersion

    client = mqtt.Client(CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
    client.max_inflight_messages_set(1000)
    client.max_queued_messages_set(0)
    client.connect("127.0.0.1", port)
    client.loop_start()
    last = None
    for r in range(rounds):
        for topic, payload, qos in _node_messages(node_ids, r, events_every):
            last = client.publish(topic, payload, qos=qos)
    if last is not None:
        last.wait_for_publish(300)
    client.loop_stop()
    client.disconnect()


def _expected(n_nodes: int, rounds: int, events_every: int) -> tuple[int, int]:
    events = sum(1 for r in range(rounds) for i in range(n_nodes) if (i + r) % events_every == 0)
    return n_nodes * rounds, events


def _publish_all(port: int, node_ids: list[str], args: argparse.Namespace) -> None:
    ctx = multiprocessing.get_context("spawn")
    procs = [
        ctx.Process(
            target=_publisher_main,
            args=(port, node_ids[i :: args.publishers], args.rounds, args.events_every),
        )
        for i in range(args.publishers)
    ]
    for p in procs:
        p.start()
    for p in procs:
        p.join(600)


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = subparsers.add_parser("ingest", help="heartbeat/event ingestion rate vs bare broker")
    parser.add_argument("--agents", type=int, default=5000, help="simulated nodes")
    parser.add_argument("--rounds", type=int, default=6, help="heartbeats per node")
    parser.add_argument("--publishers", type=int, default=2, help="publisher processes")
    parser.add_argument("--events-every", type=int, default=5, help="one event batch per N hbs")
    add_json_flag(parser)
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    node_ids = [f"n-{i:05d}" for i in range(args.agents)]
    with bench_env(ZONE, node_ids) as env:
        # Baseline: a bare subscriber on the same topics, no validation, no database.
        count = [0]
        lock = threading.Lock()

        def tally(_msg: Any) -> None:
            with lock:
                count[0] += 1

        n_hb, n_ev = _expected(len(node_ids), args.rounds, args.events_every)
        sub = bare_client(env.broker, "baseline-sub", tally)
        sub.subscribe([(topics.all_nodes("heartbeat"), 0), (topics.all_nodes("events"), 1)])
        time.sleep(0.5)
        env.ctl.mqtt.stop()  # keep the controller out of the baseline
        t0 = time.perf_counter()
        _publish_all(env.broker.port, node_ids, args)
        wait_for(lambda: count[0] >= n_hb + n_ev, 120)
        baseline_s = time.perf_counter() - t0
        baseline_rate = count[0] / baseline_s
        sub.loop_stop()
        sub.disconnect()

        env.ctl.mqtt.start()
        wait_for(env.ctl.mqtt.connected.is_set, 20)
        time.sleep(0.5)
        stats = env.ctl.ingestor.stats
        t0 = time.perf_counter()
        _publish_all(env.broker.port, node_ids, args)
        wait_for(lambda: stats.heartbeats >= n_hb and stats.events >= n_ev, 300)
        ingest_s = time.perf_counter() - t0
        with env.ctl.sessions() as s:
            stored_hb = s.scalar(select(func.count()).select_from(Heartbeat)) or 0
            stored_ev = s.scalar(select(func.count()).select_from(PlaybackEvent)) or 0
            lags = [
                (r - t).total_seconds() * 1000
                for t, r in s.execute(select(Heartbeat.sent_at, Heartbeat.received_at))
            ]
        rate = (stored_hb + stored_ev) / ingest_s
        report = {
            "agents": args.agents,
            "messages": n_hb + n_ev,
            "heartbeats_stored": stored_hb,
            "heartbeats_sent": n_hb,
            "events_stored": stored_ev,
            "events_sent": n_ev,
            "heartbeats_per_s": round(stored_hb / ingest_s, 1),
            "events_per_s": round(stored_ev / ingest_s, 1),
            "messages_per_s": round(rate, 1),
            "lag_ms_p50": percentiles(lags)["p50"],
            "lag_ms_p99": percentiles(lags)["p99"],
            "baseline_rate": round(baseline_rate, 1),
            "ratio": round(rate / baseline_rate, 3),
            "rejected": env.ctl.rejects.total,
            "batches_committed": stats.batches_committed,
            "controller_peak_rss_mb": peak_rss_mb(),
        }
    emit(report, args.json)
    return 0

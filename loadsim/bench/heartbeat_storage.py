"""``loa bench heartbeat-storage``: database growth per node per month from heartbeats.

The real ``Ingestor`` stores ``--days`` of heartbeats from ``--nodes`` simulated nodes into
a fresh SQLite file on a fake clock, ``--per-day`` each (default 480: the new agent's idle
cadence, one every 180 s; CBOR deltas, a full snapshot each hour), and the real retention
job runs once a day (raw rows kept ``--raw-keep-h``, then rolled up per node and hour).
Bytes are the file after VACUUM minus an empty database's, divided by the nodes. The
baseline is the old scheme in the same run: a full JSON snapshot every 30 s (2,880 a day)
kept raw for 30 days (stored for two days and scaled: it only grows linearly).
"""

from __future__ import annotations

import argparse
import sqlite3
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from loadsim.bench._report import BenchError, add_json_flag, emit

T0 = datetime(2026, 3, 1, tzinfo=UTC)


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = subparsers.add_parser(
        "heartbeat-storage", help="database bytes per node per month from heartbeats"
    )
    add_json_flag(parser)
    parser.add_argument("--nodes", type=int, default=10)
    parser.add_argument("--days", type=int, default=31)
    parser.add_argument("--per-day", type=int, default=480)
    parser.add_argument("--raw-keep-h", type=float, default=24.0)
    parser.set_defaults(handler=run)


def _heartbeat(node: str, at: datetime, n: int, full: bool) -> Any:
    from protocol.models import Heartbeat

    if full:
        return Heartbeat(
            node_id=node, sent_at=at, agent_version="0.1.0", uptime_s=n * 180.0, cpu_temp_c=48.5,
            load1=0.12, mem_used_pct=31.0, disk_free_mb=11800.0, ip="10.64.3.17", volume=80,
            amplifier_on=False, playlist_version=1764560000000, cache_bytes=12_500_000,
            cache_items=42, clock_offset_ms=3.2, clock_source="chrony", clock_synced=True,
            outbox_pending=0, audio_formats=["opus", "mp3"], next_within_s=180,
        )  # fmt: skip
    return Heartbeat(node_id=node, sent_at=at, delta=True, cpu_temp_c=48.5 + n % 7)


def _db_bytes(path: Path) -> int:
    with sqlite3.connect(path) as db:
        db.execute("VACUUM")
    return path.stat().st_size


def _store(root: Path, name: str, nodes: int, days: int, per_day: int, rollup: bool,
           raw_keep_h: float) -> int:  # fmt: skip
    from controller.bridge.ingest import Ingestor
    from controller.bridge.reject_counter import RejectCounter
    from controller.db.engine import make_engine, make_session_factory
    from controller.db.migrate import upgrade
    from controller.jobs.tasks import roll_up_heartbeats
    from protocol import topics
    from protocol.clock import FakeClock
    from protocol.codec import encode
    from protocol.compact import encode_model

    path = root / f"{name}.sqlite3"
    upgrade(f"sqlite:///{path}")
    empty = _db_bytes(path)
    engine = make_engine(f"sqlite:///{path}")
    sessions = make_session_factory(engine)
    clock = FakeClock(T0)
    rejects = RejectCounter()
    ingestor = Ingestor(sessions, lambda *_: None, clock, rejects)
    step = 86400 / per_day
    per_hour = max(1, round(3600 / step))

    class Jobs:  # what the retention task needs of a JobContext
        def __init__(self) -> None:
            self.sessions, self.clock = sessions, clock

    for day in range(days):
        for n in range(per_day):
            at = T0 + timedelta(days=day, seconds=n * step)
            batch = []
            for i in range(nodes):
                hb = _heartbeat(f"node-{i}", at, n, full=not rollup or n % per_hour == 0)
                payload = encode_model(hb, only_set=True) if rollup else encode(hb)
                batch.append((topics.node_heartbeat(hb.node_id), payload))
            clock.advance(max(0.0, (at - clock.now()).total_seconds()))
            ingestor._process(batch)
        clock.advance(max(0.0, (T0 + timedelta(days=day + 1) - clock.now()).total_seconds()))
        if rollup:
            roll_up_heartbeats(Jobs(), raw_keep_h, 400, 30)  # type: ignore[arg-type]
    engine.dispose()
    if rejects.total:
        raise BenchError(f"{rejects.total} heartbeats were rejected")
    return _db_bytes(path) - empty


def run(args: argparse.Namespace) -> int:
    if min(args.nodes, args.days, args.per_day) < 1:
        raise BenchError("--nodes, --days and --per-day must be at least 1")
    with tempfile.TemporaryDirectory(prefix="loa-bench-hb-") as tmp:
        root = Path(tmp)
        new = _store(root, "new", args.nodes, args.days, args.per_day, True, args.raw_keep_h)
        # the old scheme grows linearly (every row kept 30 days): two days, scaled to 30
        old = _store(root, "old", args.nodes, 2, 2880, False, args.raw_keep_h)
    month = 30 / args.days
    emit(
        {
            "nodes": args.nodes,
            "days": args.days,
            "heartbeats_per_day": args.per_day,
            "bytes_per_node_per_month": round(new / args.nodes * month),
            "mb_per_node_per_month": round(new / args.nodes * month / 1e6, 3),
            "baseline_bytes_per_node_30_days": round(old / args.nodes * 15),
            "baseline": "full JSON heartbeat every 30 s kept raw for 30 days (the old scheme)",
        },
        args.json,
    )
    return 0

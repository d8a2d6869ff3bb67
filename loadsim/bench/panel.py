"""``loa bench panel``: the playback-log page and its CSV export over a large SQLite log.

Fills a fresh SQLite database with ``--rows`` playback events (100 nodes in 10 communes,
90 days, mostly ``finished``) using big ``executemany`` transactions, then measures through
the real app (session cookie, scope, query, Jinja2 render, HTTP):

* the filtered first page (one commune, last 30 days, status finished) — median of N;
* an older page reached through the keyset cursor (must cost what page 1 costs);
* the streamed CSV export of that filter, and of the whole log.

The baseline is the bare SQL of the same first page (the same keyset query, no app), so
``ratio`` shows what the app adds on top of the database.
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from loadsim.bench._report import add_json_flag, emit

TARGET_FIRST_PAGE_MS = 300.0
COMMUNES = 10
NODES_PER_COMMUNE = 10
DAYS = 90
BATCH = 100_000


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = subparsers.add_parser("panel", help="playback-log page + CSV over a large log")
    add_json_flag(parser)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=15, help="timed page loads (median)")
    parser.add_argument("--data-dir", type=Path, help="keep the database here (default: temp)")
    parser.add_argument("--skip-full-csv", action="store_true", help="only the filtered CSV")
    parser.set_defaults(handler=run)


def _seed(ctl: Any, now: datetime) -> list[str]:
    from sqlalchemy import select

    from controller.auth.users import ensure_demo_admin
    from controller.db.models import Node, User, Zone

    node_ids: list[str] = []
    with ctl.sessions.begin() as session:
        session.add(Zone(id="tinh-bench", name="Tỉnh thử", kind="tỉnh", created_at=now))
        session.flush()
        for c in range(COMMUNES):
            commune = f"xa-bench-{c}"
            session.add(
                Zone(id=commune, name=f"Xã {c}", kind="xã", parent_id="tinh-bench", created_at=now)
            )
            session.flush()
            for n in range(NODES_PER_COMMUNE):
                village = f"{commune}-thon-{n}"
                session.add(
                    Zone(
                        id=village, name=f"Thôn {n}", kind="thôn", parent_id=commune, created_at=now
                    )
                )
                session.flush()
                node_id = f"{commune}-loa-{n}"
                session.add(Node(id=node_id, name=node_id, zone_id=village, created_at=now))
                node_ids.append(node_id)
        ensure_demo_admin(session, now)
        admin = session.scalar(select(User).where(User.username == "admin"))
        assert admin is not None
        admin.must_change_password = False  # a benchmark, not a person: no first-login form
    return node_ids


def _fill(ctl: Any, node_ids: list[str], rows: int, now: datetime) -> float:
    """Insert ``rows`` events in the format SQLAlchemy stores (UTC text), fast."""
    rng = random.Random(7)
    kinds = (
        ["finished"] * 46
        + ["started"] * 46
        + ["failed", "missed", "skipped"] * 2
        + ["command_ack"] * 2
    )
    span = DAYS * 86_400
    start = now - timedelta(seconds=span)
    seq = dict.fromkeys(node_ids, 0)
    sql = (
        "INSERT INTO playback_events (node_id, seq, kind, at, item_id, command_id,"
        " playlist_version, detail, received_at) VALUES (?, ?, ?, ?, ?, NULL, ?, ?, ?)"
    )
    began = time.perf_counter()
    done = 0
    while done < rows:
        batch = []
        for _ in range(min(BATCH, rows - done)):
            node = node_ids[rng.randrange(len(node_ids))]
            seq[node] += 1
            at = start + timedelta(seconds=rng.randrange(span))
            text = at.strftime("%Y-%m-%d %H:%M:%S.%f")
            kind = kinds[rng.randrange(len(kinds))]
            item = f"ann-{rng.randrange(5000)}@{at:%Y%m%dT%H%M%SZ}"
            detail = "ok" if kind in ("finished", "started") else "player exited 1"
            batch.append((node, seq[node], kind, text, item, 1, detail, text))
        with ctl.engine.begin() as conn:
            conn.exec_driver_sql(sql, batch)
        done += len(batch)
    with ctl.engine.begin() as conn:
        conn.exec_driver_sql("ANALYZE")
    return time.perf_counter() - began


def _median_ms(fn: Any, repeat: int) -> float:
    fn()  # warm caches and compiled templates
    times = []
    for _ in range(repeat):
        began = time.perf_counter()
        fn()
        times.append((time.perf_counter() - began) * 1000)
    return round(statistics.median(times), 2)


def run(args: argparse.Namespace) -> int:
    import logging

    from fastapi.testclient import TestClient
    from sqlalchemy import select

    from controller.app import create_app
    from controller.auth.scope import Scope
    from controller.auth.session_cookie import COOKIE_NAME
    from controller.config import ControllerSettings
    from controller.db.models import PlaybackEvent, User
    from controller.panel.queries import playback_log as log_q
    from controller.panel.timefmt import today_local

    logging.getLogger("loa.panel").setLevel(logging.ERROR)
    logging.getLogger("httpx").setLevel(logging.WARNING)
    with tempfile.TemporaryDirectory(prefix="loa-bench-panel-") as tmp:
        root = args.data_dir or Path(tmp)
        settings = ControllerSettings(data_dir=root / "controller", tts_engine_order=["espeak-ng"])
        app = create_app(settings, start_services=False)
        with TestClient(app) as client:
            ctl = app.state.controller
            now = datetime.now(UTC).replace(microsecond=0)
            node_ids = _seed(ctl, now)
            fill_s = _fill(ctl, node_ids, args.rows, now)
            with ctl.sessions() as session:
                admin = session.scalar(select(User).where(User.username == "admin"))
                assert admin is not None
                cookie, _ = app.state.panel.signer.issue(admin.id, admin.password_hash, now)
            client.cookies.set(COOKIE_NAME, cookie)
            today = today_local(now)
            params = {
                "zone": "xa-bench-3",
                "date_from": (today - timedelta(days=30)).isoformat(),
                "date_to": today.isoformat(),
                "status": "finished",
            }

            def first_page() -> None:
                r = client.get("/panel/logs", params=params)
                assert r.status_code == 200 and r.text.count('class="badge finished"') == 50

            first_ms = _median_ms(first_page, args.repeat)
            flt = log_q.LogFilter(
                zone=params["zone"],
                date_from=today - timedelta(days=30),
                date_to=today,
                status="finished",
            )
            everything = Scope(True, frozenset(), frozenset())
            with ctl.sessions() as session:
                nodes = log_q.node_set(session, everything, flt)
                query = (
                    log_q.base_query(nodes, flt)
                    .order_by(PlaybackEvent.at.desc(), PlaybackEvent.id.desc())
                    .limit(51)
                )
                compiled = query.compile(ctl.engine, compile_kwargs={"literal_binds": True})
            raw_sql = str(compiled)

            def bare() -> None:
                with ctl.engine.connect() as conn:
                    rows = conn.exec_driver_sql(raw_sql).fetchall()
                assert len(rows) == 51

            baseline_ms = _median_ms(bare, args.repeat)
            # Walk 20 pages deep, then time that page: keyset pages cost the same anywhere.
            with ctl.sessions() as session:
                cursor = None
                for _ in range(20):
                    cursor = log_q.page(session, everything, flt, before=cursor).older
            assert cursor is not None
            deep_params = {**params, "before": cursor.encode()}
            deep_ms = _median_ms(
                lambda: client.get("/panel/logs", params=deep_params).raise_for_status(),
                args.repeat,
            )

            began = time.perf_counter()
            r = client.get("/panel/logs.csv", params=params)
            csv_s = time.perf_counter() - began
            csv_rows = r.text.count("\n") - 1
            full: dict[str, Any] = {}
            if not args.skip_full_csv:
                began = time.perf_counter()
                size = 0
                lines = 0
                with client.stream("GET", "/panel/logs.csv") as resp:
                    for chunk in resp.iter_bytes():
                        size += len(chunk)
                        lines += chunk.count(b"\n")
                full = {
                    "csv_export_all_s": round(time.perf_counter() - began, 2),
                    "csv_export_all_rows": lines - 1,
                    "csv_export_all_mb": round(size / 1e6, 1),
                }
    report = {
        "rows": args.rows,
        "fill_s": round(fill_s, 1),
        "filter": "1 commune (10 of 100 nodes), last 30 days, status finished",
        "first_page_ms_median": first_ms,
        "baseline_sql_ms_median": baseline_ms,
        "ratio": round(first_ms / baseline_ms, 1) if baseline_ms else None,
        "page_21_ms_median": deep_ms,
        "csv_export_s": round(csv_s, 2),
        "csv_export_rows": csv_rows,
        **full,
        "target_first_page_ms": TARGET_FIRST_PAGE_MS,
        "meets_target": first_ms < TARGET_FIRST_PAGE_MS,
        "repeat": args.repeat,
    }
    emit(report, args.json)
    return 0

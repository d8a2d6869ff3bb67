"""Heartbeats from old (JSON, full) and new (CBOR, delta) agents on a real SQLite database:
both are stored, a delta is merged into the node's last snapshot, and the liveness rule
allows each node the silence it announced - no more."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker

from controller.bridge.ingest import Ingestor
from controller.bridge.reject_counter import RejectCounter
from controller.db.engine import make_engine, make_session_factory
from controller.db.migrate import upgrade
from controller.db.models import Node, Zone
from controller.jobs.tasks import mark_silent_nodes_offline, silence_allowed_s
from protocol import topics
from protocol.clock import FakeClock
from protocol.codec import encode
from protocol.compact import SIGN_OF_LIFE, encode_model
from protocol.models import Heartbeat

pytestmark = pytest.mark.integration

T0 = datetime(2026, 3, 1, 5, 0, tzinfo=UTC)


class _Jobs:
    """What mark_silent_nodes_offline needs of a JobContext."""

    def __init__(self, sessions: sessionmaker[Session], clock: FakeClock) -> None:
        self.sessions = sessions
        self.clock = clock


@pytest.fixture
def db(tmp_path: Path) -> Iterator[sessionmaker[Session]]:
    url = f"sqlite:///{tmp_path / 'loa.sqlite3'}"
    upgrade(url)
    engine = make_engine(url)
    sessions = make_session_factory(engine)
    with sessions.begin() as s:
        s.add(Zone(id="z", name="z", created_at=T0))
        s.flush()
        s.add_all(Node(id=n, name=n, zone_id="z", created_at=T0) for n in ("old", "new"))
    yield sessions
    engine.dispose()


def _snapshot(sessions: sessionmaker[Session], node: str) -> dict[str, object]:
    with sessions() as s:
        row = s.get(Node, node)
        assert row is not None
        return dict(row.last_heartbeat or {})


def test_json_full_and_cbor_delta_heartbeats_are_merged(db: sessionmaker[Session]) -> None:
    clock = FakeClock(T0)
    rejects = RejectCounter()
    ingestor = Ingestor(db, lambda *_: None, clock, rejects)
    full = Heartbeat(node_id="new", sent_at=T0, volume=70, cache_items=3, next_within_s=150)
    old = Heartbeat(node_id="old", sent_at=T0, volume=50)
    ingestor._process(
        [
            (topics.node_heartbeat("old"), encode(old)),  # an old agent: JSON, full
            (topics.node_heartbeat("new"), encode_model(full, only_set=True)),
        ]
    )
    delta = Heartbeat(node_id="new", sent_at=T0 + timedelta(seconds=5), volume=20, delta=True)
    ingestor._process([(topics.node_heartbeat("new"), encode_model(delta, only_set=True))])
    assert rejects.total == 0
    merged = _snapshot(db, "new")
    assert merged["volume"] == 20 and merged["cache_items"] == 3 and "delta" not in merged
    assert merged["next_within_s"] == 150
    assert _snapshot(db, "old")["volume"] == 50
    ingestor._process([(topics.node_heartbeat("new"), b"\xa1\x61x\xd8\x23\x61a")])  # a tag
    assert rejects.total == 1


def test_liveness_allows_the_announced_silence_and_no_more(db: sessionmaker[Session]) -> None:
    assert silence_allowed_s(None, 30) == 60  # old agents: two intervals, as before
    assert silence_allowed_s({"next_within_s": 150}, 30) == 150 + 18.75  # gap + gap / 8
    clock = FakeClock(T0)
    with db.begin() as s:
        for node_id, snapshot in (("old", {}), ("new", {"next_within_s": 150})):
            node = s.get(Node, node_id)
            assert node is not None
            node.online, node.last_heartbeat_at, node.last_heartbeat = True, T0, snapshot
    jobs = _Jobs(db, clock)
    clock.advance(61)
    assert mark_silent_nodes_offline(jobs, 30) == ["old"]  # type: ignore[arg-type]
    clock.advance(107)  # 168 s: inside the new agent's announced 150 s + its grace
    assert mark_silent_nodes_offline(jobs, 30) == []  # type: ignore[arg-type]
    clock.advance(1)  # 169 s
    assert mark_silent_nodes_offline(jobs, 30) == ["new"]  # type: ignore[arg-type]


def test_a_sign_of_life_keeps_a_node_online_and_its_snapshot(db: sessionmaker[Session]) -> None:
    """The 1-byte heartbeat (an empty CBOR map) is the topic's node, stamped on arrival: it
    moves last_heartbeat_at and leaves the snapshot as it was."""
    clock = FakeClock(T0)
    rejects = RejectCounter()
    ingestor = Ingestor(db, lambda *_: None, clock, rejects)
    full = Heartbeat(node_id="new", sent_at=T0, volume=70, next_within_s=120)
    ingestor._process([(topics.node_heartbeat("new"), encode_model(full, only_set=True))])
    clock.advance(120)
    ingestor._process([(topics.node_heartbeat("new"), SIGN_OF_LIFE)])
    assert rejects.total == 0
    with db() as s:
        node = s.get(Node, "new")
        assert node is not None and node.online
        assert node.last_heartbeat_at is not None
        assert node.last_heartbeat_at.replace(tzinfo=UTC) == T0 + timedelta(seconds=120)
        assert node.last_heartbeat == {**full.model_dump(mode="json", exclude_none=True)} | {
            "sent_at": "2026-03-01T05:02:00Z"
        }
    clock.advance(135)  # 120 + 15 s grace: still fine; one second more is too long
    assert mark_silent_nodes_offline(_Jobs(db, clock), 30) == []  # type: ignore[arg-type]
    clock.advance(1)
    assert mark_silent_nodes_offline(_Jobs(db, clock), 30) == ["new"]  # type: ignore[arg-type]


def test_old_raw_heartbeats_roll_up_into_hours_once(db: sessionmaker[Session]) -> None:
    from sqlalchemy import func, select

    from controller.db.models import Heartbeat as HeartbeatRow
    from controller.db.models import HeartbeatHourly
    from controller.jobs.tasks import roll_up_heartbeats

    clock = FakeClock(T0)
    ingestor = Ingestor(db, lambda *_: None, clock, RejectCounter())
    sent = T0
    for n in range(60):  # three hours at one heartbeat per 3 min; temperature 40..59
        sent = T0 + timedelta(minutes=3 * n)
        hb = (
            Heartbeat(node_id="new", sent_at=sent, cpu_temp_c=40 + n % 20, next_within_s=180)
            if n == 0
            else Heartbeat(node_id="new", sent_at=sent, cpu_temp_c=40 + n % 20, delta=True)
        )
        ingestor._process([(topics.node_heartbeat("new"), encode_model(hb, only_set=True))])
    clock.advance(3 * 3600 + 600)
    jobs = _Jobs(db, clock)
    folded, written, _ = roll_up_heartbeats(jobs, 1, 400, 30)  # type: ignore[arg-type]
    assert (folded, written) == (40, 2)  # the two hours older than an hour ago (05:00, 06:00)
    with db() as s:
        hours = {h.hour: h for h in s.scalars(select(HeartbeatHourly))}
        raw = s.scalar(select(func.count()).select_from(HeartbeatRow))
    assert raw == 20  # the last hour stays raw (the chart)
    first = hours[T0]
    assert first.samples == 20 and first.stats["cpu_temp_c"][:2] == [40, 59]
    assert first.stats["cpu_temp_c"][3] == 20  # merged snapshots: every row had a value
    assert first.online_s == 3600  # heard throughout: 20 heartbeats 3 min apart
    assert roll_up_heartbeats(jobs, 1, 400, 30)[:2] == (0, 0)  # type: ignore[arg-type]
    late = Heartbeat(node_id="new", sent_at=T0 + timedelta(minutes=59), cpu_temp_c=99)
    ingestor._process([(topics.node_heartbeat("new"), encode_model(late, only_set=True))])
    assert roll_up_heartbeats(jobs, 1, 400, 30)[:2] == (1, 1)  # type: ignore[arg-type]
    with db() as s:
        again = s.get(HeartbeatHourly, ("new", T0))
        assert again is not None and again.samples == 21 and again.stats["cpu_temp_c"][1] == 99
    clock.advance(401 * 86400)
    # 05:00-07:00, plus 08:00: the last heartbeat (07:57) is heard past the hour
    assert roll_up_heartbeats(jobs, 1, 400, 30)[2] == 4  # type: ignore[arg-type]


def test_report_availability_is_the_same_before_and_after_the_roll_up(
    db: sessionmaker[Session],
) -> None:
    """The report reads raw heartbeats and hourly roll-ups together: folding the raw rows
    (also in two runs, with one hour still raw) changes no node's figure."""
    from controller.jobs.tasks import roll_up_heartbeats
    from controller.services.reports.availability import availability

    clock = FakeClock(T0)
    ingestor = Ingestor(db, lambda *_: None, clock, RejectCounter())
    outage = (T0 + timedelta(minutes=70), T0 + timedelta(minutes=95))
    for n in range(4 * 120):  # four hours of an old agent every 30 s, with a 25-min outage
        sent = T0 + timedelta(seconds=30 * n)
        if not outage[0] <= sent < outage[1]:
            hb = Heartbeat(node_id="old", sent_at=sent)
            ingestor._process([(topics.node_heartbeat("old"), encode(hb))])
    clock.advance(4 * 3600 + 60)
    now = clock.now()
    start, end = T0 - timedelta(minutes=30), T0 + timedelta(hours=3, minutes=40)

    def figure() -> tuple[float, float]:
        with db() as s:
            node = s.get(Node, "old")
            assert node is not None
            got = availability(s, [node], start, end, now, interval_s=30, keep=timedelta(days=400))[
                "old"
            ]
        return got.measured_s, got.online_s

    measured, online = figure()
    assert measured == (end - T0).total_seconds()  # the node exists from T0
    # silent from the last heartbeat (30 s before the outage) plus its 60 s allowance
    silent = (outage[1] - outage[0]).total_seconds() + 30 - 60
    assert online == pytest.approx(measured - silent)
    jobs = _Jobs(db, clock)
    roll_up_heartbeats(jobs, 2.5, 400, 30)  # type: ignore[arg-type]  # folds 05:00-07:00
    assert figure() == pytest.approx((measured, online))
    roll_up_heartbeats(jobs, 0, 400, 30)  # type: ignore[arg-type]  # the rest
    assert figure() == pytest.approx((measured, online), abs=1.0)


def test_report_counts_a_new_agent_heard_through_its_announced_gap(
    db: sessionmaker[Session],
) -> None:
    """A node that announced 120 s and signs its life every 120 s was available all along:
    the report allows each heartbeat the silence the liveness job allows (not the old
    2 x 30 s, which counted such a node half the time), before and after the roll-up."""
    from controller.jobs.tasks import roll_up_heartbeats
    from controller.services.reports.availability import availability

    clock = FakeClock(T0)
    ingestor = Ingestor(db, lambda *_: None, clock, RejectCounter())
    full = Heartbeat(node_id="new", sent_at=T0, volume=70, next_within_s=120)
    ingestor._process([(topics.node_heartbeat("new"), encode_model(full, only_set=True))])
    for _ in range(3 * 30):  # three hours of signs of life
        clock.advance(120)
        ingestor._process([(topics.node_heartbeat("new"), SIGN_OF_LIFE)])
    clock.advance(60)
    now = clock.now()
    start, end = T0, T0 + timedelta(hours=3)

    def figure() -> tuple[float, float]:
        with db() as s:
            node = s.get(Node, "new")
            assert node is not None
            got = availability(s, [node], start, end, now, interval_s=30, keep=timedelta(days=400))
        return got["new"].measured_s, got["new"].online_s

    assert figure() == (3 * 3600, 3 * 3600)
    roll_up_heartbeats(_Jobs(db, clock), 1, 400, 30)  # type: ignore[arg-type]
    assert figure() == pytest.approx((3 * 3600, 3 * 3600), abs=1.0)


def test_a_delta_out_of_line_asks_the_node_for_a_full_snapshot_once(
    db: sessionmaker[Session],
) -> None:
    """Numbered deltas that follow the stored snapshot ask nothing; a gap (a lost heartbeat,
    or a database restored from a backup holds an older snapshot) asks the node for a full
    one, and a lossy link does not turn that into a stream of asks."""
    clock = FakeClock(T0)
    ingestor = Ingestor(db, lambda *_: None, clock, RejectCounter())
    asked: list[str] = []
    arrived = threading.Semaphore(0)

    def ask(node_id: str) -> None:
        asked.append(node_id)
        arrived.release()

    ingestor.on_stale_snapshot = ask

    def send(seq: int | None, delta: bool = True, **fields: object) -> None:
        clock.advance(30)
        hb = Heartbeat(node_id="new", sent_at=clock.now(), seq=seq, delta=delta or None, **fields)
        ingestor._process([(topics.node_heartbeat("new"), encode_model(hb, only_set=True))])

    send(1, delta=False, volume=70, outbox_pending=0)
    send(2, volume=60)
    ingestor._process([(topics.node_heartbeat("new"), SIGN_OF_LIFE)])  # carries no number
    send(3, outbox_pending=1)
    assert not arrived.acquire(timeout=0.3) and asked == []
    assert _snapshot(db, "new")["seq"] == 3

    send(5, volume=40)  # number 4 never arrived: the snapshot may be missing what it said
    assert arrived.acquire(timeout=5) and asked == ["new"]
    assert _snapshot(db, "new")["volume"] == 40  # merged all the same: better than nothing
    send(7)
    assert not arrived.acquire(timeout=0.3)  # asked again only after stale_ask_every_s
    clock.advance(ingestor.stale_ask_every_s)
    send(9)
    assert arrived.acquire(timeout=5) and asked == ["new", "new"]
    send(1, delta=False, volume=40, outbox_pending=0)  # the full answer (the agent restarted)
    send(2)
    assert not arrived.acquire(timeout=0.3)

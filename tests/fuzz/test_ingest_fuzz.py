"""Controller ingestion under hostile MQTT payloads, stored in a real SQLite database.

Every (topic, payload) goes through ``Ingestor._process`` (parse, store, ack) exactly as
the writer thread runs it. Nothing may raise; a refused message is counted once in the
``RejectCounter``; an acknowledged event is in the database exactly once; a refused batch
leaves no row behind.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fuzz.budget import fuzz_settings
from fuzz.payloads import dumps, json_values, mutated, raw_noise
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from controller.bridge.ingest import Ingestor
from controller.bridge.reject_counter import RejectCounter
from controller.db.engine import make_engine, make_session_factory
from controller.db.migrate import upgrade
from controller.db.models import Heartbeat, PlaybackEvent
from protocol import topics
from protocol.clock import FakeClock
from protocol.codec import decode, encode
from protocol.models import EventAck, EventBatch, EventKind
from protocol.models import Heartbeat as HeartbeatMsg
from protocol.models import PlaybackEvent as EventMsg

T0 = datetime(2026, 3, 1, 5, 0, tzinfo=UTC)
NODE = "fz-1"
HEARTBEAT = HeartbeatMsg(node_id=NODE, sent_at=T0, uptime_s=5, volume=70).model_dump(mode="json")
EVENT = EventMsg(seq=1, kind=EventKind.STARTED, at=T0, item_id="a").model_dump(mode="json")
BATCH = {"node_id": NODE, "sent_at": T0.isoformat(), "events": [EVENT]}
node_ids = itertools.count(1)


class Rig:
    """An ingestor on a real SQLite file, with its acks collected instead of published."""

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self.sessions = sessions
        self.acks: list[EventAck] = []
        self.rejects = RejectCounter()
        self.ingestor = Ingestor(sessions, self._ack, FakeClock(T0), self.rejects)

    def _ack(self, _topic: str, payload: bytes) -> None:
        self.acks.append(decode(EventAck, payload))

    def feed(self, messages: list[tuple[str, bytes]]) -> tuple[int, list[EventAck]]:
        """Process one drained queue; return (new rejects, new acks)."""
        before_rejects, before_acks = self.rejects.total, len(self.acks)
        self.ingestor._process(messages)
        return self.rejects.total - before_rejects, self.acks[before_acks:]

    def event_rows(self, node_id: str) -> dict[int, int]:
        with self.sessions() as s:
            rows = s.execute(
                select(PlaybackEvent.seq, func.count())
                .where(PlaybackEvent.node_id == node_id)
                .group_by(PlaybackEvent.seq)
            ).all()
        return {seq: count for seq, count in rows}

    def heartbeat_count(self) -> int:
        with self.sessions() as s:
            return s.scalar(select(func.count()).select_from(Heartbeat)) or 0


@pytest.fixture(scope="module")
def rig(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Rig]:
    path: Path = tmp_path_factory.mktemp("ingest-fuzz") / "loa.sqlite3"
    url = f"sqlite:///{path}"
    upgrade(url)
    engine = make_engine(url)
    yield Rig(make_session_factory(engine))
    engine.dispose()


heartbeat_payloads = st.one_of(
    raw_noise, mutated(HEARTBEAT, list(HEARTBEAT)), json_values.map(dumps)
)
event_payloads = st.one_of(
    raw_noise,
    mutated(BATCH, list(BATCH)),
    mutated(EVENT, list(EVENT)).map(
        lambda ev: b'{"node_id":"fz-1","sent_at":"2026-03-01T05:00:00Z","events":[' + ev + b"]}"
    ),
    st.integers(501, 800).map(lambda n: dumps({**BATCH, "events": [EVENT] * n})),
)


@fuzz_settings(2500)
@given(heartbeat_payloads)
def test_heartbeat_topic(rig: Rig, payload: bytes) -> None:
    stored_before = rig.heartbeat_count()
    rejected, _ = rig.feed([(topics.node_heartbeat(NODE), payload)])
    stored = rig.heartbeat_count() - stored_before
    assert rejected + stored == 1, (rejected, stored)


@fuzz_settings(2500)
@given(event_payloads)
def test_events_topic(rig: Rig, payload: bytes) -> None:
    rejected, acks = rig.feed([(topics.node_events(NODE), payload)])
    assert rejected + len(acks) == 1, (rejected, acks)
    rows = rig.event_rows(NODE)
    assert all(count == 1 for count in rows.values())
    for ack in acks:
        assert set(ack.seqs) <= set(rows), "acknowledged but not stored"


@fuzz_settings(1500)
@given(st.one_of(raw_noise, st.sampled_from([b"online", b" offline\n", b"ONLINE", b"on"])))
def test_status_topic(rig: Rig, payload: bytes) -> None:
    rejected, _ = rig.feed([(topics.node_status(NODE), payload)])
    valid = payload.decode("utf-8", errors="replace").strip() in ("online", "offline")
    assert rejected == (0 if valid else 1)


@fuzz_settings(1500)
@given(
    st.one_of(
        st.text(max_size=120),
        st.sampled_from(
            [
                topics.node_cmd(NODE),
                topics.node_playlist(NODE),
                topics.node_events_ack(NODE),
                "loa/v1/node/../events",
                "loa/v1/node/+/heartbeat",
                "loa/v1/node/UPPER/heartbeat",
                "loa/v2/node/fz-1/heartbeat",
                "loa/v1/node/fz-1/events/extra",
            ]
        ),
    ),
    st.binary(max_size=64),
)
def test_foreign_topics_are_refused(rig: Rig, topic: str, payload: bytes) -> None:
    rejected, acks = rig.feed([(topic, encode_heartbeat()), (topic, payload)])
    assert (rejected, acks) == (2, [])


def encode_heartbeat() -> bytes:
    return encode(HeartbeatMsg(node_id=NODE, sent_at=T0))


def good_batch(node_id: str, seqs: list[int]) -> bytes:
    events = [EventMsg(seq=s, kind=EventKind.FINISHED, at=T0 + timedelta(seconds=s)) for s in seqs]
    return encode(EventBatch(node_id=node_id, sent_at=T0, events=events))


bad_messages = st.one_of(
    st.binary(max_size=64).map(lambda b: ("events", b"\xff" + b)),
    st.just(("events", dumps({**BATCH, "node_id": "someone-else"}))),
    st.just(("events", dumps({**BATCH, "events": [{**EVENT, "seq": 2**70}]}))),
    st.just(("events", dumps({**BATCH, "events": [{**EVENT, "seq": 0}]}))),
    st.just(("heartbeat", dumps({**HEARTBEAT, "volume": "loud"}))),
    st.just(("status", b"maybe")),
)


@fuzz_settings(400)
@given(
    st.lists(
        st.one_of(
            st.lists(st.integers(1, 40), min_size=1, max_size=8, unique=True).map(
                lambda seqs: ("good", seqs)
            ),
            bad_messages.map(lambda m: ("bad", m)),
        ),
        min_size=1,
        max_size=25,
    )
)
def test_poison_messages_never_cost_good_ones(rig: Rig, plan: list[tuple[str, object]]) -> None:
    """Good batches (replayed, overlapping) mixed with bad ones in one drained queue: every
    good event is stored once and acked; every bad message is one reject, nothing else."""
    node = f"mix-{next(node_ids)}"
    messages: list[tuple[str, bytes]] = []
    good_seqs: set[int] = set()
    bad = 0
    for label, body in plan:
        if label == "good":
            assert isinstance(body, list)
            good_seqs |= set(body)
            messages.append((topics.node_events(node), good_batch(node, body)))
        else:
            assert isinstance(body, tuple)
            kind, payload = body
            payload = payload.replace(b'"fz-1"', f'"{node}"'.encode())
            messages.append((topics.node_topic(node, kind), payload))
            bad += 1
    rejected, acks = rig.feed(messages)
    assert rejected == bad
    assert rig.event_rows(node) == dict.fromkeys(good_seqs, 1)
    assert {s for a in acks if a.node_id == node for s in a.seqs} == good_seqs

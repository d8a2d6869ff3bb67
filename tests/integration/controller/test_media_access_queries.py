"""The media-access queries on the test database (SQLite, or PostgreSQL with
LOA_TEST_POSTGRES=1): the one-query UNION over every use, and a node's zones up the tree by
one recursive query, including an extra zone in another branch."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import create_engine
from sqlalchemy.orm import Session

from controller.auth.scope import Scope
from controller.db.models import (
    Announcement,
    AnnouncementTarget,
    Base,
    Emergency,
    Media,
    Node,
    NodeZone,
    Zone,
)
from controller.services import media_access, media_uses

pytestmark = pytest.mark.integration

NOW = datetime(2026, 12, 2, 1, 0, tzinfo=UTC)
AUDIO, SLIDE, ALARM, FRESH = ("a" * 64, "b" * 64, "c" * 64, "d" * 64)


@pytest.fixture
def session(tmp_path: Path) -> Iterator[Session]:
    engine = create_engine(os.environ.get("LOA_DATABASE_URL") or f"sqlite:///{tmp_path}/t.db")
    Base.metadata.create_all(engine)
    with Session(engine) as s:
        for zone, parent in (
            ("tinh", None), ("xa-a", "tinh"), ("thon-a", "xa-a"), ("xa-b", "tinh"),
            ("thon-b", "xa-b"), ("tinh-2", None), ("xa-c", "tinh-2"),
        ):  # fmt: skip
            s.add(Zone(id=zone, name=zone, parent_id=parent, created_at=NOW))
        s.flush()
        s.add_all(
            [
                Node(id="n-a", name="n-a", zone_id="thon-a", created_at=NOW),
                Node(id="n-b", name="n-b", zone_id="thon-b", created_at=NOW),
                Node(id="n-c", name="n-c", zone_id="xa-c", created_at=NOW),
            ]
        )
        s.flush()
        s.add(NodeZone(node_id="n-c", zone_id="xa-b"))  # n-c also listens to commune B
        for sha in (AUDIO, SLIDE, ALARM, FRESH):
            s.add(Media(sha256=sha, ext="mp3", size=1, duration_s=1, source="t", created_at=NOW))
        s.flush()
        slides = {"slides": [{"image": {"sha256": SLIDE, "ext": "png", "size": 1}}]}
        ann = Announcement(media_sha256=AUDIO, duration_s=1, start=NOW, created_at=NOW)
        ann.visual = slides
        ann.targets = [AnnouncementTarget(zone_id="xa-b")]
        s.add(ann)
        s.add(Emergency(id="e1", media_sha256=ALARM, item_id="emg-e1", zone_ids=["tinh"],
                        issued_at=NOW, expires_at=NOW))  # fmt: skip
        media_uses.record_owner(s, FRESH, "op-a")
        s.commit()
        yield s


def _node(session: Session, node_id: str) -> Node:
    node = session.get(Node, node_id)
    assert node is not None
    return node


def test_a_nodes_zones_are_its_own_its_extra_ones_and_all_above(session: Session) -> None:
    assert media_access.node_zones(session, _node(session, "n-a")) == {"thon-a", "xa-a", "tinh"}
    assert media_access.node_zones(session, _node(session, "n-c")) == {
        "xa-c", "tinh-2", "xa-b", "tinh",
    }  # fmt: skip


def test_every_use_is_found_and_reaches_its_targets_only(session: Session) -> None:
    found = media_access.uses(session, [SLIDE])
    assert found.reaches == [(["xa-b"], [])] and not found.owners
    may = media_access.node_may_fetch
    assert [may(session, _node(session, n), [AUDIO]) for n in ("n-a", "n-b", "n-c")] == [
        False, True, True,
    ]  # fmt: skip
    assert [may(session, _node(session, n), [ALARM]) for n in ("n-a", "n-b", "n-c")] == [
        True, True, True,
    ]  # fmt: skip
    assert not may(session, _node(session, "n-a"), [FRESH])  # nothing uses it
    commune_a = Scope(False, frozenset({"xa-a", "thon-a"}), frozenset({"n-a"}), frozenset({"tinh"}))
    assert not media_access.scope_may_fetch(session, commune_a, "op-b", [SLIDE])
    assert media_access.scope_may_fetch(session, commune_a, "op-b", [ALARM])
    assert media_access.scope_may_fetch(session, commune_a, "op-a", [FRESH])
    assert not media_access.scope_may_fetch(session, commune_a, "op-b", [FRESH])
